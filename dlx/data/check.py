"""`dlx data check data=X [--strict] [--out FILE]`: what a data set holds and what is wrong with it.

    dlx data check data=csv data.path=patients.csv data.target=outcome --strict

Reads the data as training would (same loader, same split from the seed) but removes nothing:
it counts samples and classes per split, NaN/inf, duplicates within and across splits,
constant features and unreadable files, prints a table and writes data_check.json.
--strict exits 1 when it finds a problem; a bad config exits 2.
"""

import argparse
import inspect
import sys
from pathlib import Path

import numpy as np

from dlx.args import Parser

PIPELINE_KEYS = ("val_fraction", "test_fraction", "subset", "folds", "fold")


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="dlx data", description="Inspect a data set: dlx data check data=X [OVERRIDES]")
    p.add_argument("action", choices=["check"])
    p.add_argument("--strict", action="store_true", help="exit 1 when a problem is found")
    p.add_argument("--out", default="data_check.json", help="where to write the findings (default: %(default)s)")
    p.add_argument("--config-dir", "-cd", default=None, help="a directory of your own configs, searched first")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=csv data.path=t.csv")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    import os

    args = parse(argv)
    out = Path(args.out)
    try:  # its folder first, as runs_dir's: a check of a large set should not fail only at its end
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"dlx data check: --out: cannot make the folder {out.parent}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        findings = check_from_config(args.overrides, args.config_dir)
    except Exception as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        from dlx.config.paths import config_search_dirs
        from dlx.train.errors import describe

        code, line = describe(e, args.overrides, config_search_dirs(args.config_dir))
        print(f"dlx data check: {line}", file=sys.stderr)
        return code
    from dlx.run_dir import write_json

    try:
        write_json(out, findings)
    except OSError as e:  # a full disk, a read-only folder: write_atomic names the file
        print(f"dlx data check: --out: {e}", file=sys.stderr)
        return 1
    print_findings(findings, args.out)
    return 1 if args.strict and findings["problems"] else 0


def check_from_config(overrides: list[str], config_dir: str | None) -> dict:
    from dlx.config.compose import compose_config
    from dlx.config.validate import validate_node

    cfg, choices = compose_config(overrides, config_dir)
    node = cfg["data"]
    validate_node("data", node)
    return check_data(node, seed=cfg["seed"], name=choices.get("data", "?"))


def check_data(node: dict, seed: int, name: str) -> dict:
    """Load with the option's own loader (problems collected, not raised), split as training would, count."""
    from dlx.config.errors import ConfigError
    from dlx.config.validate import import_target
    from dlx.data.source import collect_problems
    from dlx.data.splits import split_indices

    builder = import_target(str(node["_target_"]), "data._target_")
    loader = getattr(builder, "__wrapped__", builder)  # the loader before the shared pipeline
    own = inspect.signature(loader).parameters
    with collect_problems() as unreadable:
        source = loader(**{k: v for k, v in node.items() if k in own})
    problems = [f"{p['where']}: {p['problem']}" for p in unreadable]
    try:
        splits = split_indices(source.y, source.fixed, seed=seed, **{k: node[k] for k in PIPELINE_KEYS if k in node})
    except ConfigError as e:
        problems.append(f"split: {e}")
        splits = {"train": np.arange(len(source.y)), "val": np.array([], int), "test": np.array([], int)}
    findings = {"data": name, "seed": seed, **describe_samples(source), "unreadable": unreadable}
    findings.update(count_splits(source.y, splits, source.class_names))
    if hasattr(source, "x"):
        findings.update(count_values(source.x, source.y, splits, source.feature_names))
    else:  # streamed files: equality of files stands in for equality of samples
        findings.update(count_duplicates(source.file_digests(), source.y, splits))
    return {**findings, "problems": problems + list_problems(findings, source)}


def describe_samples(source) -> dict:
    if not hasattr(source, "x"):
        return {"samples": int(len(source.y)), "sample_shape": list(source.sample_shape), "x_dtype": "uint8 files"}
    finite = source.x[np.isfinite(source.x)]
    return {
        "samples": int(len(source.y)),
        "sample_shape": list(source.x.shape[1:]),
        "x_dtype": str(source.x.dtype),
        "y_dtype": str(source.y.dtype),
        "value_range": [float(finite.min()), float(finite.max())] if finite.size else None,
        "classes": list(source.class_names),
        "official_splits": sorted(source.fixed),
    }


def count_splits(y: np.ndarray, splits: dict, class_names: list[str]) -> dict:
    out = {}
    for split, idx in splits.items():
        counts = np.bincount(y[idx], minlength=len(class_names))
        ratio = float(counts.max() / counts.min()) if len(idx) and counts.min() > 0 else None
        out[split] = {"samples": int(len(idx)), "class_counts": counts.tolist(), "imbalance_ratio": ratio}
    return {"splits": out}


def count_values(x: np.ndarray, y: np.ndarray, splits: dict, feature_names) -> dict:
    from dlx.data.clean import flat_rows, nonfinite_rows, row_digests

    flat = flat_rows(x)
    nonfinite = {
        s: {"samples": int(nonfinite_rows(x[i]).sum()), "values": int((~np.isfinite(flat[i])).sum())}
        for s, i in splits.items()
    }
    train = flat[splits["train"]].astype(np.float64)
    with np.errstate(all="ignore"):
        spread = np.nanmax(train, axis=0) - np.nanmin(train, axis=0) if len(train) else np.zeros(flat.shape[1])
    constant = np.flatnonzero(~(spread > 0))
    names = [feature_names[i] if feature_names else str(i) for i in constant[:20]]
    return {
        "nonfinite": nonfinite,
        "constant_features": {"count": int(len(constant)), "first": names, "of": int(flat.shape[1])},
        **count_duplicates(row_digests(x), y, splits),
    }


def count_duplicates(digests: list[bytes], y: np.ndarray, splits: dict) -> dict:
    """Within a split: repeats of (sample, label) and samples seen with another label; across: eval equal to train."""
    within, conflicting, members = {}, {}, {}
    for split, idx in splits.items():
        labels: dict[bytes, set] = {}
        repeats = 0
        for i in idx:
            seen = labels.setdefault(digests[i], set())
            repeats += int(y[i]) in seen
            seen.add(int(y[i]))
        within[split] = repeats
        conflicting[split] = sum(1 for s in labels.values() if len(s) > 1)
        members[split] = set(labels)
    across = {  # as clean=drop sees them: test against train and val, val against train
        "val_equal_to_train": sum(digests[i] in members["train"] for i in splits["val"]),
        "test_equal_to_train_or_val": sum(digests[i] in members["train"] | members["val"] for i in splits["test"]),
    }
    return {"duplicates": {"within": within, "conflicting_labels": conflicting, "across": across}}


def list_problems(f: dict, source) -> list[str]:
    """The findings a user must act on (what --strict fails for), as lines."""
    out = []
    for split, s in f["splits"].items():
        empty = [source.class_names[c] for c, n in enumerate(s["class_counts"]) if n == 0]
        if s["samples"] and empty:
            out.append(f"{split}: no sample of class {empty[0]!r} ({len(empty)} classes empty)")
    for split, n in f.get("nonfinite", {}).items():
        if n["samples"]:
            out.append(f"{split}: {n['samples']} samples hold NaN or inf ({n['values']} values)")
    dup = f["duplicates"]
    for split, n in dup["within"].items():
        if n:
            out.append(f"{split}: {n} duplicate samples")
    for split, n in dup["conflicting_labels"].items():
        if n:
            out.append(f"{split}: {n} samples appear with more than one label")
    for kind, n in dup["across"].items():
        if n:
            out.append(f"leakage: {n} samples {kind.replace('_', ' ')}")
    const = f.get("constant_features", {})
    if const.get("count") and len(f["sample_shape"]) == 1:  # a constant pixel (an image border) is normal
        out.append(f"{const['count']} constant features: {', '.join(const['first'])}")
    return out


def print_findings(f: dict, out_path: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"data={f['data']}: {f['samples']} samples of shape {tuple(f['sample_shape'])}, {f['x_dtype']}")
    for col in ("split", "samples", "class counts", "imbalance", "NaN/inf samples", "duplicates"):
        table.add_column(col)
    for split, s in f["splits"].items():
        counts = s["class_counts"]
        shown = " ".join(map(str, counts)) if len(counts) <= 12 else f"min {min(counts)}, max {max(counts)}"
        ratio = f"{s['imbalance_ratio']:.2f}" if s["imbalance_ratio"] else "-"
        nonfinite = str(f.get("nonfinite", {}).get(split, {}).get("samples", "-"))
        table.add_row(split, str(s["samples"]), shown, ratio, nonfinite, str(f["duplicates"]["within"][split]))
    console.print(table)
    for line in f["problems"]:
        console.print(f"[red]problem[/red] {escape(line)}")
    const = f.get("constant_features", {})
    if const.get("count") and len(f["sample_shape"]) != 1:
        console.print(f"note: {const['count']} of {const['of']} values are constant over the training split")
    verdict = f"{len(f['problems'])} problems" if f["problems"] else "no problems found"
    console.print(f"{verdict}; written to {escape(out_path)}")


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)
