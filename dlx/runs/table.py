"""`dlx runs`: one row per run under runs/ (multirun jobs included), newest first; only files are read.

    dlx runs                                        dlx runs --where data=iris --where optim.lr=0.01
    dlx runs --where status=failed                  dlx runs --sort test_acc --json

--where KEY=VALUE (several are ANDed):
  status=completed     the first line of RUN/status
  model=mlp            a config group: the option the run used, from RUN/.hydra/hydra.yaml (runtime.choices;
                       for runs without it, a `group=option` in overrides.yaml, else dlx's default option).
                       List groups (aug, reg, logger) match by the options in config.yaml: reg=l2 matches every
                       run whose reg includes l2, reg=[l2,dropout] both, reg=none a run without any.
  optim.lr=0.001       any other key: its dotted path into RUN/config.yaml (numbers compare as numbers).

A run whose config.yaml, overrides.yaml, .hydra/hydra.yaml or report.json cannot be read is listed with status
`unreadable` (the file and what is wrong in --json's message, and one line on stderr); the others as usual.
"""

import functools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dlx.config.errors import ConfigError
from dlx.config.flat import flatten
from dlx.run_dir import read_status
from dlx.runs.resolve import find_runs, rel, started_at

UNREADABLE = "unreadable"  # the status of a run with a damaged file
COLUMNS = ["best_val_acc", "test_acc", "f1_macro", "wall_seconds"]  # report.json metrics shown for every run
SHOWN_GROUPS = ("data", "model")  # groups with their own column; their overrides are not repeated


@dataclass
class Run:
    """What a run directory holds: a missing file reads as empty, a damaged one is a ConfigError naming it."""

    path: Path
    rel: str  # the path under runs/: what `dlx show` takes
    status: str
    message: str
    started: float
    config: dict
    overrides: list[str]
    choices: dict  # group -> option (None where unset, e.g. experiment)
    report: dict = field(default_factory=dict)

    def group(self, name: str) -> str | None:
        return group_option(name, self.choices, self.config)

    @property
    def name(self) -> str:
        """The run's name, as `dlx train` names its directory: name, else experiment, else <model>-<data>."""
        return (
            self.config.get("name") or self.choices.get("experiment") or f"{self.group('model')}-{self.group('data')}"
        )


def group_option(name: str, choices: dict, config: dict) -> str | None:
    """The option of a config group: `mlp`; a list group's options joined, `l2,dropout`, or `none`."""
    if name in choices:
        return choices[name]
    block = list_group(name, choices, config)
    return (",".join(block) or "none") if block is not None else None


def list_group(name: str, choices: dict, config: dict) -> dict | None:
    """The options in a list group (reg, aug, logger) as config.yaml holds them; else None.

    Hydra records no choice for a list group given as a list, and `reg: []` leaves no key: that is {}."""
    block = config.get(name)
    if block is None and name not in choices and name in config_groups():
        return {}
    return block if is_list_group(block) else None


@functools.cache
def config_groups() -> frozenset[str]:
    """The group names: the folders of the config search path (./conf and dlx's own)."""
    from dlx.config.paths import config_search_dirs

    try:
        dirs = config_search_dirs()
    except (ConfigError, FileNotFoundError):
        return frozenset()
    return frozenset(p.name for d in dirs for p in d.iterdir() if p.is_dir())


def is_list_group(block) -> bool:
    """aug/reg/logger: a mapping of option name -> that option's keys ({} when none is chosen)."""
    return isinstance(block, dict) and "_target_" not in block and all(isinstance(v, dict) for v in block.values())


def read_text(path: Path) -> str | None:
    """None when the file is absent; a ConfigError naming it when it is not text."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as e:
        raise ConfigError(str(path), f"is not text (byte {e.start} is not UTF-8): damaged or not dlx's file") from None
    except OSError as e:
        raise ConfigError(str(path), f"cannot be read: {e.strerror}") from None


def load_yaml(path: Path):
    """The file's YAML content; None when it is absent; a ConfigError naming it when it is not YAML."""
    import yaml

    text = read_text(path)
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        problem, mark = getattr(e, "problem", None) or "unparsable", getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(str(path), f"is not valid YAML ({problem}{where})") from None


def load_json(path: Path) -> dict:
    """A JSON object; {} when the file is absent; a ConfigError naming it when it is damaged."""
    text = read_text(path)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ConfigError(str(path), f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"holds a JSON {type(data).__name__}, expected an object")
    return data


def load_mapping(path: Path) -> dict:
    """A YAML file that must hold keys and values (config.yaml, hydra.yaml); {} when it is absent."""
    data = load_yaml(path)
    if data is not None and not isinstance(data, dict):
        raise ConfigError(str(path), f"holds a {type(data).__name__}, expected keys and values")
    return data or {}


def load_overrides(path: Path) -> list[str]:
    data = load_yaml(path)
    if data is not None and not isinstance(data, list):
        raise ConfigError(str(path), f"holds a {type(data).__name__}, expected a list of overrides")
    return [str(o) for o in data or []]


def load_run(path: Path, runs_root: Path) -> Run:
    """Every file the run's listing needs, read now: a damaged one is a ConfigError naming it."""
    status, message = read_status(path)
    overrides = load_overrides(path / "overrides.yaml")
    return Run(
        path=path,
        rel=rel(path, runs_root),
        status=status,
        message=message,
        started=start_time(path),
        config=load_mapping(path / "config.yaml"),
        overrides=overrides,
        choices=read_choices(path, overrides),
        report=load_json(path / "report.json"),
    )


def unreadable_run(path: Path, runs_root: Path, error: ConfigError) -> Run:
    """A run listed by `dlx runs` though one of its files is damaged: the message names the file."""
    return Run(
        path=path,
        rel=rel(path, runs_root),
        status=UNREADABLE,
        message=str(error),
        started=start_time(path),
        config={},
        overrides=[],
        choices={"data": None, "model": None},  # unknown, not `none`
    )


def start_time(path: Path) -> float:
    try:
        return started_at(path)
    except OSError:
        return float("nan")


def read_choices(path: Path, overrides: list[str]) -> dict:
    """Group -> option: Hydra's record of the run when there is one (for a run of `dlx compress` without one, its
    parent's), else the overrides over dlx's defaults."""
    recorded = recorded_choices(path)
    if recorded is None:
        recorded = parent_choices(path)
    if recorded is not None:
        return recorded
    choices = default_choices()
    for o in overrides:
        key, eq, value = o.lstrip("+~").partition("=")
        if eq and key in choices:
            choices[key] = value
    return choices


def recorded_choices(path: Path) -> dict | None:
    hydra = load_mapping(path / ".hydra" / "hydra.yaml")
    try:
        recorded = hydra["hydra"]["runtime"]["choices"]
        return {k: v for k, v in recorded.items() if not k.startswith("hydra")}
    except (TypeError, KeyError, AttributeError):
        return None


def parent_choices(path: Path) -> dict | None:
    """The options of the run a compressed run was made from (`dlx compress` wrote no record of its own before),
    or None: not a compressed run, or its parent is gone or damaged (that is the parent's listing to say)."""
    config = load_mapping(path / "config.yaml")
    parent = config.get("parent")
    if "compress" not in config or not isinstance(parent, str):
        return None
    try:
        return recorded_choices(Path(parent))
    except ConfigError:
        return None


def default_choices() -> dict:
    """The single-option groups of dlx's own config.yaml defaults list (no composition: a YAML read)."""
    from dlx.config.paths import packaged_conf_dir

    defaults = (load_yaml(packaged_conf_dir() / "config.yaml") or {}).get("defaults", [])
    entries = [d for d in defaults if isinstance(d, dict)]
    return {k: v for d in entries for k, v in d.items() if not k.startswith("override") and not isinstance(v, list)}


def same_value(actual, wanted: str) -> bool:
    """`optim.lr=1e-3` matches 0.001, `trainer.deterministic=true` matches True, `experiment=none` matches null."""
    import yaml

    if actual is None:
        return wanted.lower() in ("null", "none", "~", "")
    if str(actual) == wanted:
        return True
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        try:
            return math.isclose(float(actual), float(wanted), rel_tol=1e-9)
        except ValueError:
            return False
    try:
        return yaml.safe_load(wanted) == actual
    except yaml.YAMLError:
        return False


def option_names(value: str) -> set[str]:
    """`[l2, dropout]` or `l2,dropout` -> {'l2', 'dropout'}; `none` and `[]` -> set()."""
    names = {v.strip() for v in value.strip("[]").split(",") if v.strip()}
    return set() if names == {"none"} else names


def where_matches(run: Run, key: str, wanted: str) -> bool:
    if key == "status":
        return run.status == wanted
    if key in run.choices and same_value(run.choices[key], wanted):
        return True
    block = list_group(key, run.choices, run.config)
    if block is not None:  # aug=flip also matches aug=standard (flip + crop)
        names = option_names(wanted)
        return names <= set(block) if names else not block
    if key in run.choices:
        return False
    config = flatten(run.config)
    return key in config and same_value(config[key], wanted)


def parse_where(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ConfigError("--where", f"{item!r}: expected KEY=VALUE, e.g. model=mlp or optim.lr=0.001")
        out.append((key.strip(), value.strip()))
    return out


def check_keys_exist(runs: list[Run], where: list[tuple[str, str]]) -> None:
    """A key no run has is a typo: say so (with the nearest keys) instead of listing nothing."""
    import difflib

    known = {"status"} | config_groups()
    for r in runs:
        known |= set(r.choices) | set(flatten(r.config)) | set(r.config)
    for key, _ in where:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError("--where", f"{key}: no run has this key{hint}")


def metric(run: Run, name: str) -> float | None:
    """A number of report.json; of a compressed run's report, the compressed model's (its `compressed` block)."""
    compressed = run.report.get("compressed")
    value = run.report.get(name, compressed.get(name) if isinstance(compressed, dict) else None)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    return float(value) if ok else None


def sort_runs(runs: list[Run], name: str) -> list[Run]:
    """Descending by a report.json metric; runs without it keep their order, last."""
    if runs and all(metric(r, name) is None for r in runs):
        numeric = sorted({k for r in runs for k in r.report if metric(r, k) is not None})
        raise ConfigError("--sort", f"{name}: no run's report.json has this number; there are: {', '.join(numeric)}")
    have = [r for r in runs if metric(r, name) is not None]
    return sorted(have, key=lambda r: metric(r, name), reverse=True) + [r for r in runs if metric(r, name) is None]


def load_or_mark(path: Path, runs_root: Path) -> Run:
    """One damaged run must not hide the others: it is listed as unreadable, and named on stderr."""
    try:
        return load_run(path, runs_root)
    except ConfigError as e:
        print(f"dlx runs: {e}; listed as {UNREADABLE}", file=sys.stderr)
        return unreadable_run(path, runs_root, e)


def select(runs_root: Path, where: list[str], sort: str | None) -> list[Run]:
    runs = [load_or_mark(p, runs_root) for p in find_runs(runs_root)]
    conditions = parse_where(where)
    if runs:
        check_keys_exist(runs, conditions)
    runs = [r for r in runs if all(where_matches(r, k, v) for k, v in conditions)]
    return sort_runs(runs, sort) if sort else runs


def key_overrides(run: Run) -> list[str]:
    """The overrides, without the group choices that have a column of their own."""
    return [o for o in run.overrides if o.partition("=")[0] not in SHOWN_GROUPS]


def record(run: Run, extra_metric: str | None = None) -> dict:
    """One run for --json: the table's fields plus run_dir."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(run.started)) if not math.isnan(run.started) else None
    metrics = COLUMNS + ([extra_metric] if extra_metric and extra_metric not in COLUMNS else [])
    return {
        "run": run.rel,
        "run_dir": str(run.path),
        "status": run.status,
        "message": run.message,
        "started": started,
        "name": run.name,
        "experiment": run.choices.get("experiment"),
        "data": run.group("data"),
        "model": run.group("model"),
        "overrides": run.overrides,
        **{m: metric(run, m) for m in metrics},
    }


def fmt_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) and abs(value) >= 1 else f"{value:.4g}"


def print_table(runs: list[Run], runs_root: Path, extra_metric: str | None, where: list[str] = ()) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not runs:
        some = bool(where) and bool(find_runs(runs_root))  # runs there, none of them matching
        print(f"no runs under {runs_root}/ match {' '.join(where)}" if some else f"no runs under {runs_root}/")
        return
    extra = [extra_metric] if extra_metric and extra_metric not in COLUMNS else []
    narrow = console.width < 110  # drop start time (the run's path holds it too) and wall time first
    order = f"by {extra_metric}, highest first" if extra_metric else "newest first"
    title = f"runs under {escape(str(runs_root))}/ ({len(runs)}, {escape(order)})"
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0 if narrow else 1, 0, 0), pad_edge=False)
    table.add_column("status", no_wrap=True)
    if not narrow:
        table.add_column("started", no_wrap=True)
    for col, width in (("run", 16), ("data", 6), ("model", 5), ("overrides", 10)):
        table.add_column(col, overflow="fold", min_width=width)
    for col in ("val acc", "test acc", "F1", *([] if narrow else ["wall"]), *extra):
        table.add_column(col, justify="right", no_wrap=True)
    colours = {"completed": "green", "failed": "red", UNREADABLE: "red", "running": "yellow", "interrupted": "magenta"}
    for run in runs:
        r = record(run, extra_metric)
        started = time.strftime("%m-%d %H:%M", time.localtime(run.started)) if not math.isnan(run.started) else "-"
        table.add_row(
            f"[{colours.get(run.status, 'white')}]{escape(run.status)}[/]",
            *([] if narrow else [started]),
            *[escape(str(x)) for x in (r["run"], r["data"], r["model"], " ".join(key_overrides(run)))],
            *[f"{r[m]:.4f}" if r[m] is not None else "-" for m in ("best_val_acc", "test_acc", "f1_macro")],
            *([] if narrow else [f"{r['wall_seconds']:.1f} s" if r["wall_seconds"] is not None else "-"]),
            *[fmt_number(r[m]) for m in extra],
        )
    console.print(table)


def main(argv: list[str]) -> int:
    from dlx.args import Parser

    p = Parser(prog="dlx runs", description="List the runs under runs/, newest first.")
    p.add_argument("--runs-dir", default="runs", help="where the runs are (default: runs)")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep runs whose status, group option (model=mlp) or config key (optim.lr=0.001) has this value",
    )
    p.add_argument("--sort", metavar="METRIC", help="sort by a report.json metric, descending (runs without it last)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per run")
    args = p.parse_args(argv)
    runs_root = Path(args.runs_dir)
    try:
        runs = select(runs_root, args.where, args.sort)
    except ConfigError as e:
        print(f"dlx runs: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([record(r, args.sort) for r in runs], indent=2))
    else:
        print_table(runs, runs_root, args.sort, args.where)
    return 0
