"""After a multirun: RUN/summary.csv and a rich table, one row per job, the best highlighted."""

import csv
import io
import json
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from dlx.run_dir import read_status, write_atomic

METRICS = ["test_acc", "f1_macro", "best_val_acc", "test_loss", "wall_seconds"]
FAILED_JOBS: list[str] = []  # read by the command to set the exit code


def job_rows(sweep_dir: Path) -> list[dict]:
    rows = []
    jobs = [d for d in sweep_dir.iterdir() if d.is_dir() and d.name.isdigit()]
    for job in sorted(jobs, key=lambda d: int(d.name)):
        status, message = read_status(job)
        overrides = OmegaConf.load(job / "overrides.yaml") if (job / "overrides.yaml").exists() else []
        report = json.loads((job / "report.json").read_text()) if (job / "report.json").exists() else {}
        rows.append(
            {
                "job": job.name,
                "overrides": " ".join(overrides),
                "status": status,
                **{m: report.get(m, "") for m in METRICS},
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
    from rich.table import Table

    done = [r for r in rows if r["status"] == "completed"]
    best = max(done, key=lambda r: r["test_acc"], default=None)
    table = Table(title=f"multirun {sweep_dir}")
    for col in ("job", "overrides", "status", "test acc", "macro F1", "best val acc", "wall s"):
        table.add_column(col)
    for r in rows:
        numbers = [f"{r[m]:.4f}" if r[m] != "" else "-" for m in ("test_acc", "f1_macro", "best_val_acc")]
        wall = f"{r['wall_seconds']:.1f}" if r["wall_seconds"] != "" else "-"
        status = r["status"] if r["status"] != "failed" else f"[red]failed[/red]: {r['error']}"
        table.add_row(r["job"], r["overrides"], status, *numbers, wall, style="bold green" if r is best else None)
    Console().print(table)


class MultirunSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = job_rows(sweep_dir)
        write_atomic(sweep_dir / "summary.csv", to_csv(rows))
        print_table(rows, sweep_dir)
        FAILED_JOBS.extend(r["job"] for r in rows if r["status"] != "completed")
