"""After a multirun: RUN/summary.csv and a rich table, one row per job, the best highlighted."""

import csv
import io
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from dlx.run_dir import read_status, write_atomic

METRICS = ["test_acc", "f1_macro", "best_val_acc", "test_loss", "wall_seconds"]
REPEATS = ("data.fold", "seed")  # overrides that repeat one setting: jobs differing only in these are averaged
FAILED_JOBS: list[str] = []  # read by the command to set the exit code


def job_rows(sweep_dir: Path) -> list[dict]:
    """One row per job; a job with a damaged overrides.yaml or report.json is `unreadable`, its error names the file."""
    from dlx.config.errors import ConfigError
    from dlx.runs.table import UNREADABLE, load_json, load_overrides

    rows = []
    jobs = [d for d in sweep_dir.iterdir() if d.is_dir() and d.name.isdigit()]
    for job in sorted(jobs, key=lambda d: int(d.name)):
        status, message = read_status(job)
        try:
            overrides, report = load_overrides(job / "overrides.yaml"), load_json(job / "report.json")
        except ConfigError as e:
            overrides, report, status, message = [], {}, UNREADABLE, str(e)
        rows.append(
            {
                "job": job.name,
                "overrides": " ".join(overrides),
                "status": status,
                **{m: "" if report.get(m) is None else report[m] for m in METRICS},  # "": none (no validation)
                "error": message,
            }
        )
    return rows


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["job", "overrides", "status", *METRICS, "error"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def print_table(rows: list[dict], sweep_dir: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    done = [r for r in rows if r["status"] == "completed"]
    best = max(done, key=lambda r: r["test_acc"], default=None)
    table = Table(title=f"multirun {sweep_dir}")
    for col in ("job", "overrides", "status", "test acc", "macro F1", "best val acc", "wall s"):
        table.add_column(col)
    for r in rows:
        numbers = [f"{r[m]:.4f}" if r[m] != "" else "-" for m in ("test_acc", "f1_macro", "best_val_acc")]
        wall = f"{r['wall_seconds']:.1f}" if r["wall_seconds"] != "" else "-"
        status = escape(r["status"]) if r["status"] != "failed" else f"[red]failed[/red]: {escape(r['error'])}"
        overrides = escape(r["overrides"])  # reg=[l2] is text, not a rich style tag
        table.add_row(r["job"], overrides, status, *numbers, wall, style="bold green" if r is best else None)
    Console().print(table)


def setting(overrides: str) -> str:
    """The overrides without the repeat keys: 'model=mlp data.fold=3' -> 'model=mlp'."""
    return " ".join(o for o in overrides.split() if o.split("=", 1)[0].lstrip("+~") not in REPEATS)


def mean_std_rows(rows: list[dict]) -> list[dict]:
    """Per setting with two or more completed jobs (k folds, several seeds): mean and std of each metric."""
    import statistics

    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["status"] == "completed":
            groups.setdefault(setting(r["overrides"]), []).append(r)
    out = []
    for name, members in groups.items():
        if len(members) < 2:
            continue
        row = {"setting": name or "(defaults)", "jobs": len(members)}
        for m in METRICS:
            values = [float(r[m]) for r in members if r[m] != ""]
            enough = len(values) >= 2
            row[f"{m}_mean"] = statistics.fmean(values) if enough else ""
            row[f"{m}_std"] = statistics.stdev(values) if enough else ""
        out.append(row)
    return out


def write_and_print_mean_std(rows: list[dict], sweep_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(sweep_dir / "summary_mean_std.csv", out.getvalue())
    from rich.markup import escape

    table = Table(title="mean ± std over folds / seeds")
    for col in ("setting", "jobs", "test acc", "macro F1", "best val acc"):
        table.add_column(col)
    for r in rows:
        cells = [
            f"{r[f'{m}_mean']:.4f} ± {r[f'{m}_std']:.4f}" if r[f"{m}_mean"] != "" else "-"
            for m in ("test_acc", "f1_macro", "best_val_acc")
        ]
        table.add_row(escape(r["setting"]), str(r["jobs"]), *cells)
    Console().print(table)


class MultirunSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = job_rows(sweep_dir)
        write_atomic(sweep_dir / "summary.csv", to_csv(rows))
        print_table(rows, sweep_dir)
        write_and_print_mean_std(mean_std_rows(rows), sweep_dir)
        FAILED_JOBS.extend(r["job"] for r in rows if r["status"] != "completed")
