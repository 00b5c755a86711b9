"""`dlx compare`: runs side by side (differing config keys, metrics, learning curves in one PNG), or a sweep's
settings as mean ± std over their seeds / folds.

    dlx compare latest mlp-digits/2026-11-23_15-18-26          dlx compare RUN RUN RUN --out curves.png
    dlx compare runs/multirun/2026-11-23_15-19-44               (also writes compare.csv next to the PNG)
"""

import csv
import io
import math
import statistics
import sys
from pathlib import Path

from dlx.config.errors import ConfigError
from dlx.config.flat import flatten
from dlx.run_dir import write_atomic, write_atomic_bytes
from dlx.runs.resolve import resolve_run
from dlx.runs.show import MISSING, REPORT_ORDER, fmt_metric, fmt_value, group_names
from dlx.runs.table import Run, load_run

HIGHER_IS_BETTER = ("acc", "f1", "precision", "recall", "auc")
LOWER_IS_BETTER = ("loss", "seconds", "_ms", "bytes", "param_count", "error")


def direction(metric: str) -> int:
    """+1 when a larger value is better (accuracy, F1), -1 when smaller is (loss, time, size), 0 when neither."""
    if any(w in metric for w in LOWER_IS_BETTER):
        return -1
    return 1 if any(w in metric for w in HIGHER_IS_BETTER) else 0


def best_indices(values: list[float | None], sign: int) -> set[int]:
    """Where the best value is (ties included); nothing when there is no order or nothing to choose between."""
    numbers = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if sign == 0 or len(numbers) < 2 or len({v for _, v in numbers}) == 1:
        return set()
    best = max(sign * v for _, v in numbers)
    return {i for i, v in numbers if sign * v == best}


def number(value) -> float | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_curves(run_dir: Path, label: str) -> dict[str, list[float]]:
    """metrics.csv as columns of floats (a blank cell is nan)."""
    from dlx.run_dir import read_metrics

    if not (run_dir / "metrics.csv").is_file():
        raise ConfigError("RUN", f"{label}: no metrics.csv in {run_dir}; it has no learning curves to compare")
    rows = read_metrics(run_dir / "metrics.csv")
    if not rows:
        raise ConfigError("RUN", f"{label}: metrics.csv in {run_dir} has no epoch yet")
    columns = {k: [math.nan if r[k] is None else r[k] for r in rows] for k in rows[0]}
    columns.setdefault("epoch", list(range(len(rows))))
    return columns


def config_rows(runs: list[Run]) -> list[tuple[str, list]]:
    """(key, one value per run) for each group option, then each config key, that is not the same in all runs."""
    rows = []
    for g in group_names(*(r.config for r in runs), choices={k: None for r in runs for k in r.choices}):
        values = [r.group(g) or "none" for r in runs]
        if len(set(values)) > 1:
            rows.append((g, values))
    flat = [flatten(r.config) for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    for key in keys:
        if key in {g for g, _ in rows}:  # `aug: {}` against aug.flip.p: the group's row says it already
            continue
        values = [f.get(key, MISSING) for f in flat]
        if any(v != values[0] for v in values[1:]):
            rows.append((key, values))
    return rows


def metric_names(runs: list[Run]) -> list[str]:
    """report.json's numbers: the known ones in their order, then any other (reports gain keys over time)."""
    have = {k for r in runs for k, v in r.report.items() if number(v) is not None}
    return [k for k in REPORT_ORDER if k in have] + sorted(have - set(REPORT_ORDER))


def print_runs(runs: list[Run]) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    labels = [escape(r.rel) for r in runs]
    diff = Table(title="config keys that differ", box=box.SIMPLE_HEAD)
    diff.add_column("key", overflow="fold")
    for label in labels:
        diff.add_column(label, overflow="fold")
    rows = config_rows(runs)
    for key, values in rows:
        diff.add_row(escape(key), *[escape(fmt_value(v)) for v in values])
    if not rows:
        diff.add_row("(none: the configs are identical)", *[""] * len(runs))
    console.print(diff)

    metrics = Table(title="metrics (report.json; best in bold green)", box=box.SIMPLE_HEAD)
    metrics.add_column("metric")
    for label in labels:
        metrics.add_column(label, justify="right", overflow="fold")
    for name in metric_names(runs):
        raw = [r.report.get(name) for r in runs]
        best = best_indices([number(v) for v in raw], direction(name))
        cells = ["-" if v is None else escape(fmt_metric(name, v)) for v in raw]
        metrics.add_row(name, *[f"[bold green]{c}[/]" if i in best else c for i, c in enumerate(cells)])
    if not any(r.report for r in runs):
        metrics.add_row("(no report.json: no run finished)", *[""] * len(runs))
    console.print(metrics)


def plot_runs(labels: list[str], curves: list[dict]) -> bytes:
    """Validation accuracy, and train (dashed) / validation (solid) loss, by epoch: one colour per run."""
    fig, (acc, loss) = figure("learning curves")
    for i, (label, c) in enumerate(zip(labels, curves, strict=True)):
        style = {"color": colour(i, len(labels)), "marker": "o" if len(c["epoch"]) <= 30 else None, "markersize": 3}
        acc.plot(c["epoch"], c.get("val_acc", [math.nan] * len(c["epoch"])), label=label, **style)
        loss.plot(c["epoch"], c.get("val_loss", [math.nan] * len(c["epoch"])), **style)
        loss.plot(c["epoch"], c.get("train_loss", [math.nan] * len(c["epoch"])), linestyle="--", **style)
    fit_epochs([acc, loss], [e for c in curves for e in c["epoch"]])
    acc.set(title="validation accuracy", xlabel="epoch", ylabel="val_acc")
    loss.set(title="loss (solid: val, dashed: train)", xlabel="epoch", ylabel="cross-entropy")
    acc.legend(fontsize="small")
    return png_bytes(fig)


# ---- a sweep: settings as mean ± std


def is_sweep_dir(path: Path) -> bool:
    """A multirun directory: numbered job directories, no status of its own."""
    if not path.is_dir() or (path / "status").is_file():
        return False
    return any(d.is_dir() and d.name.isdigit() and (d / "status").is_file() for d in path.iterdir())


def sweep_groups(sweep_dir: Path) -> tuple[list[dict], list[dict]]:
    """(one row per setting: swept values, jobs, mean and std of each metric; the jobs that did not complete).

    Jobs differing only in seed or data.fold form one setting (dlx.train.summary.setting); a setting run once
    has its value as the mean and no std."""
    from dlx.train.summary import METRICS, job_rows, mean_std_rows, setting

    rows = job_rows(sweep_dir)
    for r in rows:  # a completed job without its numbers (no report.json) cannot be averaged
        if r["status"] == "completed" and number(r["test_acc"]) is None:  # best_val_acc is none without validation
            r["status"] = "completed, no report.json"
    done = [r for r in rows if r["status"] == "completed"]
    if not done:
        raise ConfigError("SWEEP", f"{sweep_dir}: no job completed; `dlx runs` shows their status")
    repeated = {r["setting"]: r for r in mean_std_rows(rows)}
    members: dict[str, list[dict]] = {}
    for r in done:
        members.setdefault(setting(r["overrides"]), []).append(r)
    # overrides every job shares, failed ones included: not swept (one job left still shows its swept value)
    common = set.intersection(*(set(setting(r["overrides"]).split()) for r in rows))
    groups = []
    for name, jobs in members.items():
        row = repeated.get(name or "(defaults)")
        if row is None:
            row = {**{f"{m}_mean": number(jobs[0][m]) for m in METRICS}, **{f"{m}_std": None for m in METRICS}}
        swept = " ".join(o for o in name.split() if o not in common) or "(all jobs)"
        stats = {f"{m}_{k}": number(row[f"{m}_{k}"]) for m in METRICS for k in ("mean", "std")}  # "" -> None
        groups.append({"setting": swept, "jobs": len(jobs), "job_dirs": " ".join(j["job"] for j in jobs), **stats})
    return groups, [r for r in rows if r["status"] != "completed"]


def mean_curves(sweep_dir: Path, job_dirs: list[str], column: str) -> tuple[list[int], list[float], list[float]]:
    """Per epoch: mean and std of a metrics.csv column over the jobs that reached that epoch."""
    by_epoch: dict[int, list[float]] = {}
    for job in job_dirs:
        try:
            c = read_curves(sweep_dir / job, job)
        except ConfigError:
            continue
        for e, v in zip(c["epoch"], c.get(column, []), strict=False):
            if not math.isnan(v):
                by_epoch.setdefault(int(e), []).append(v)
    epochs = sorted(by_epoch)
    means = [statistics.fmean(by_epoch[e]) for e in epochs]
    stds = [statistics.stdev(by_epoch[e]) if len(by_epoch[e]) > 1 else 0.0 for e in epochs]
    return epochs, means, stds


def plot_sweep(sweep_dir: Path, groups: list[dict]) -> bytes:
    """Mean validation accuracy (± std shaded) and mean validation loss by epoch, one colour per setting."""
    fig, (acc, loss) = figure(f"sweep {sweep_dir.name}: mean over seeds / folds")
    for i, g in enumerate(groups):
        style = {"color": colour(i, len(groups))}
        for ax, column in ((acc, "val_acc"), (loss, "val_loss")):
            epochs, means, stds = mean_curves(sweep_dir, g["job_dirs"].split(), column)
            label = f"{g['setting']} ({g['jobs']} job{'s' if g['jobs'] > 1 else ''})"
            ax.plot(epochs, means, marker="o" if len(epochs) <= 30 else None, markersize=3, label=label, **style)
            if g["jobs"] > 1 and len(epochs) > 1:
                lo = [m - s for m, s in zip(means, stds, strict=True)]
                hi = [m + s for m, s in zip(means, stds, strict=True)]
                ax.fill_between(epochs, lo, hi, alpha=0.15, **style)
            elif g["jobs"] > 1:  # one epoch: a band would be a line nobody sees
                ax.errorbar(epochs, means, yerr=stds, capsize=4, linestyle="none", **style)
    fit_epochs([acc, loss], [e for line in acc.get_lines() for e in line.get_xdata()])
    acc.set(title="mean validation accuracy (± std)", xlabel="epoch", ylabel="val_acc")
    loss.set(title="mean validation loss (± std)", xlabel="epoch", ylabel="cross-entropy")
    acc.legend(fontsize="small")
    return png_bytes(fig)


def sweep_csv(groups: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(groups[0]))
    writer.writeheader()
    writer.writerows(groups)
    return out.getvalue()


def print_sweep(sweep_dir: Path, groups: list[dict], not_done: list[dict]) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from dlx.train.summary import METRICS

    headings = {"test_acc": "test acc", "f1_macro": "macro F1", "best_val_acc": "best val acc", "wall_seconds": "wall"}
    table = Table(title=f"{escape(str(sweep_dir))}: mean ± std over seeds / folds", box=box.SIMPLE_HEAD)
    table.add_column("swept values", overflow="fold")
    table.add_column("jobs", justify="right")
    for m in METRICS:
        table.add_column(headings.get(m, m.replace("_", " ")), justify="right")
    best = {m: best_indices([g[f"{m}_mean"] for g in groups], direction(m)) for m in METRICS}
    for i, g in enumerate(groups):
        cells = []
        for m in METRICS:
            mean, std = g[f"{m}_mean"], g[f"{m}_std"]
            text = "-" if mean is None else fmt_metric(m, mean) + ("" if std is None else f" ± {fmt_metric(m, std)}")
            cells.append(f"[bold green]{text}[/]" if i in best[m] else text)
        table.add_row(escape(g["setting"]), str(g["jobs"]), *cells)
    console = Console()
    console.print(table)
    if not_done:
        listed = ", ".join(f"{r['job']} ({r['status']})" for r in not_done)
        console.print(escape(f"left out: {len(not_done)} job(s) that did not complete: {listed}"))


# ---- plotting helpers


def figure(title: str):
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig, axes


def fit_epochs(axes, epochs: list[float]) -> None:
    """A run of one or two epochs would get a fractional axis around a dot: show whole epochs, half a step apart."""
    epochs = [e for e in epochs if not math.isnan(e)]
    if epochs and max(epochs) - min(epochs) < 2:
        for ax in axes:
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)


def colour(i: int, n: int):
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return cmap(i % cmap.N)


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


# ---- the command


def find_sweep(spec: str, runs_root: Path) -> Path | None:
    for path in (Path(spec), runs_root / spec):
        if is_sweep_dir(path):
            return path
    return None


def compare_runs(specs: list[str], runs_root: Path, out: Path) -> None:
    if any(find_sweep(s, runs_root) for s in specs):
        raise ConfigError("RUN", "a sweep directory is compared on its own: dlx compare SWEEP_DIR")
    paths = list(dict.fromkeys(resolve_run(s, runs_root) for s in specs))
    if len(paths) < 2:
        raise ConfigError("RUN", f"{specs[0]!r} and {specs[1]!r} are the same run; give two different runs")
    runs = [load_run(p, runs_root) for p in paths]
    curves = [read_curves(r.path, r.rel) for r in runs]  # all read before anything is written
    print_runs(runs)
    write_atomic_bytes(out, plot_runs([r.rel for r in runs], curves))
    print(f"learning curves of {len(runs)} runs: {out}")


def compare_sweep(sweep_dir: Path, out: Path) -> None:
    groups, not_done = sweep_groups(sweep_dir)
    print_sweep(sweep_dir, groups, not_done)
    table = out.with_suffix(".csv")
    png = plot_sweep(sweep_dir, groups)
    write_atomic(table, sweep_csv(groups))
    write_atomic_bytes(out, png)
    print(f"mean ± std per setting: {table}; mean val accuracy per setting: {out}")


def main(argv: list[str]) -> int:
    from dlx.args import Parser

    p = Parser(
        prog="dlx compare",
        description="Runs side by side (differing config keys, metrics, learning curves in one PNG), "
        "or one sweep directory as mean ± std per setting.",
    )
    p.add_argument(
        "runs", nargs="+", metavar="RUN", help="two or more runs (directory, unique prefix, latest), or one SWEEP_DIR"
    )
    p.add_argument(
        "--out", default="compare.png", help="the PNG to write (default: compare.png); a sweep's CSV goes next to it"
    )
    p.add_argument("--runs-dir", default="runs", help="where to look for RUN (default: runs)")
    args = p.parse_args(argv)
    runs_root, out = Path(args.runs_dir), Path(args.out)
    try:
        if not out.parent.is_dir():
            raise ConfigError("--out", f"{out.parent} is not a directory")
        sweep = find_sweep(args.runs[0], runs_root) if len(args.runs) == 1 else None
        if sweep is not None:
            compare_sweep(sweep, out)
        elif len(args.runs) == 1:
            raise ConfigError("RUN", "give two or more runs to compare, or one sweep directory (runs/multirun/<stamp>)")
        else:
            compare_runs(args.runs, runs_root, out)
    except ConfigError as e:
        print(f"dlx compare: {e}", file=sys.stderr)
        return 2
    return 0
