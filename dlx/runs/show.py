"""`dlx show RUN`: one run: its path and status, what differs from the defaults, its final metrics, its files.

    dlx show latest          dlx show 2026-11-23_15          dlx show runs/mlp-digits/2026-11-23_15-18-26

"The defaults" are dlx's config composed with the run's own group options (model=mlp, data=iris, ...): the
table lists the groups whose option is not dlx's default, then the keys whose value is not that option's
default (optim.lr, model.width, ...), so a run with model=mlp shows `model  cnn  mlp`, not every key of mlp.
A damaged config.yaml, overrides.yaml, report.json or metrics.csv is one line naming it, exit code 2.
"""

import math
import sys
import time
from pathlib import Path

from dlx.config.errors import ConfigError
from dlx.config.flat import flatten
from dlx.runs.resolve import resolve_run
from dlx.runs.table import Run, group_option, is_list_group, load_run

MISSING = object()  # a key one side does not have
REPORT_ORDER = [
    "test_acc",
    "test_loss",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "best_val_acc",
    "best_epoch",
    "epochs_run",
    "train_seconds",
    "wall_seconds",
    "inference_ms_per_sample",
    "eval_batch_size",
    "param_count",
    "checkpoint_bytes",
]
REPORT_SKIP = {"run_dir", "per_class", "confusion_matrix"}  # shown elsewhere, or too big for one line


def group_names(*configs: dict, choices: dict) -> list[str]:
    names = list(choices)
    for config in configs:
        names += [k for k, v in config.items() if is_list_group(v) and k not in names]
    return names


def group_overrides(run: Run) -> list[str]:
    """The run's group options as overrides: composing them gives the defaults this run started from."""
    out = [f"{g}={v}" for g, v in run.choices.items() if v is not None]
    for g, block in run.config.items():
        if g not in run.choices and is_list_group(block) and block:
            out.append(f"{g}=[{','.join(block)}]")
    return out


def differences(run: Run) -> tuple[list[tuple[str, object, object]], str]:
    """(key, default, this run) for each differing group option, then each differing key; and what 'default' is."""
    from dlx.config.compose import compose_config

    try:
        default_config, default_choices = compose_config([])
    except Exception as e:  # a broken ./conf: the overrides printed above are all there is to say
        return [], f"dlx's defaults do not compose here ({e}); the overrides above are what this run changed"
    rows = []
    for g in group_names(default_config, run.config, choices={**default_choices, **run.choices}):
        default, mine = group_option(g, default_choices, default_config), run.group(g)
        if (default or "none") != (mine or "none"):
            rows.append((g, default or "none", mine or "none"))
    note = "default: dlx's config composed with this run's group options"
    try:
        reference, _ = compose_config(group_overrides(run))
    except Exception as e:  # an option that no longer exists, a user conf/ not here: compare with the bare defaults
        reference = default_config
        note = f"default: dlx's default config (this run's group options do not compose here: {e})"
    mine, ref = flatten(run.config), flatten(reference)
    groups = {key for key, _, _ in rows}
    for key in [*mine, *(k for k in ref if k not in mine)]:
        a, b = ref.get(key, MISSING), mine.get(key, MISSING)
        if a != b and key not in groups:  # `aug: {}` against aug.flip.p: the group's row says it already
            rows.append((key, a, b))
    return rows, note


def fmt_value(value) -> str:
    if value is MISSING:
        return "(absent)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fmt_metric(key: str, value) -> str:
    """0.9632 for accuracies, 12.3 s, 0.004 ms, 1.0 MB, 85,002; dicts and lists on one short line."""
    if isinstance(value, bool) or value is None:
        return fmt_value(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if key.endswith("_bytes") and isinstance(value, (int, float)):
        return human_size(value)
    if key.endswith("_seconds") and isinstance(value, (int, float)):
        return f"{value:.1f} s"
    if key.endswith("_ms") or "_ms_" in key:
        return f"{value:.4g} ms" if isinstance(value, (int, float)) else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) if len(value) <= 8 else f"{len(value)} entries"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if len(value) <= 12 else f"{len(value)} values"
    return str(value)


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def last_epoch(run_dir: Path) -> dict | None:
    from dlx.run_dir import read_metrics

    rows = read_metrics(run_dir / "metrics.csv")
    return rows[-1] if rows else None


def short(text: float | str) -> str:
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


def print_run(run: Run, epoch: dict | None = None) -> None:
    """epoch: the last row of metrics.csv, shown for a run without report.json."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    head = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    head.add_row("run", escape(display_path(run.path)))
    status = escape(run.status) + (f": {escape(run.message)}" if run.message else "")
    head.add_row("status", f"[red]{status}[/]" if run.status == "failed" else status)
    if not math.isnan(run.started):
        head.add_row("started", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started)))
    head.add_row("overrides", escape(" ".join(run.overrides)) or "(none)")
    console.print(head)

    rows, note = differences(run)
    diff = Table(title="what differs from the defaults", box=box.SIMPLE_HEAD)
    for col in ("key", "default", "this run"):
        diff.add_column(col, overflow="fold")
    for key, default, mine in rows:
        diff.add_row(escape(key), escape(fmt_value(default)), f"[bold]{escape(fmt_value(mine))}[/]")
    if not rows:
        diff.add_row("(nothing differs)", "", "")
    console.print(diff)
    console.print(f"[dim]{escape(note)}[/]")

    if run.report:
        metrics = Table(title="metrics (report.json)", box=box.SIMPLE_HEAD, show_header=False)
        keys = [k for k in REPORT_ORDER if k in run.report]
        keys += [k for k in run.report if k not in keys and k not in REPORT_SKIP]
        for key in keys:
            metrics.add_row(escape(key), escape(fmt_metric(key, run.report[key])))
        console.print(metrics)
    else:
        line = f"no report: the run did not finish (status {run.status})"
        if epoch:
            cells = ", ".join(f"{k} {short(v)}" for k, v in epoch.items() if v is not None)
            line += "; last row of metrics.csv: " + cells
        console.print(escape(line))

    files = Table(title="files", box=box.SIMPLE_HEAD)
    files.add_column("file")
    files.add_column("size", justify="right")
    total = 0
    for path in sorted(p for p in run.path.rglob("*") if p.is_file()):
        size = path.stat().st_size
        total += size
        files.add_row(escape(str(path.relative_to(run.path))), human_size(size))
    files.add_row("[dim]total[/]", f"[dim]{human_size(total)}[/]")
    console.print(files)


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str]) -> int:
    from dlx.args import Parser

    p = Parser(prog="dlx show", description="One run: differences from the defaults, metrics, files.")
    p.add_argument("run", metavar="RUN", help="a run directory, a unique prefix of its name, or `latest`")
    p.add_argument("--runs-dir", default="runs", help="where to look for RUN (default: runs)")
    args = p.parse_args(argv)
    runs_root = Path(args.runs_dir)
    try:  # every file read before anything is printed: a damaged one is the only line
        run = load_run(resolve_run(args.run, runs_root), runs_root)
        epoch = None if run.report else last_epoch(run.path)
    except ConfigError as e:
        print(f"dlx show: {e}", file=sys.stderr)
        return 2
    print_run(run, epoch)
    return 0
