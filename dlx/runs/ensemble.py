"""`dlx ensemble RUN RUN [...] [method=mean_prob|vote] [split=test|val]`: several runs' models as one.

    dlx ensemble runs/multirun/2026-12-02_10-00-00/{0,1,2,3,4} method=mean_prob

The runs must share their data and split (the same data config and data seed: `dlx train -m seed=0,1,2,3,4
data_seed=0` trains five seeds of one split); the split is rebuilt once, and each
member normalizes its raw inputs with its own checkpoint's statistics. mean_prob averages the members'
probabilities; vote takes the class most members predict (ties: the higher mean probability). Prints each
member's and the ensemble's metrics and writes them to runs/ensembles/<stamp>/ensemble.json.
"""

import argparse
import sys
from pathlib import Path

from dlx.args import Parser
from dlx.config.errors import ConfigError
from dlx.config.trust import FLAG_HELP

METHODS = ("mean_prob", "vote")


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="dlx ensemble", description="Evaluate several runs' models as one ensemble.")
    p.add_argument("items", nargs="+", help="two or more runs, then method=mean_prob|vote and split=test|val")
    p.add_argument("--runs-dir", default="runs", help="where runs are found (default: %(default)s)")
    p.add_argument("--trust-config", action="store_true", help=FLAG_HELP)
    return p.parse_args(argv)


def settings(items: list[str]) -> tuple[list[str], str, str]:
    runs, method, split = [], "mean_prob", "test"
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            runs.append(item)
        elif key == "method":
            if value not in METHODS:
                raise ConfigError("method", f"got {value!r}; valid: {', '.join(METHODS)}")
            method = value
        elif key == "split":
            if value not in ("test", "val"):
                raise ConfigError("split", f"got {value!r}; valid: test, val")
            split = value
        else:
            raise ConfigError(key, "dlx ensemble takes runs, method= and split=")
    if len(runs) < 2:
        raise ConfigError("RUN", f"an ensemble needs two runs or more; got {len(runs)}")
    return runs, method, split


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        runs, method, split = settings(args.items)
        result = ensemble(runs, method, split, Path(args.runs_dir), args.trust_config)
    except ConfigError as e:
        print(f"dlx ensemble: {e}", file=sys.stderr)
        return 2
    print_result(result)
    return 0


def check_same_data(members) -> None:
    from dlx.experiment import data_seed

    first = members[0]
    for other in members[1:]:
        differ = sorted(k for k in {*first.cfg["data"], *other.cfg["data"]}
                        if first.cfg["data"].get(k) != other.cfg["data"].get(k))  # fmt: skip
        if data_seed(first.cfg) != data_seed(other.cfg) and not differ:
            differ = ["the seed of the split (seed, or data_seed when set; train the members with one data_seed)"]
        if differ:
            pair = f"{other.run_dir} and {first.run_dir} differ in {', '.join(differ)}"
            raise ConfigError("RUN", f"{pair}: an ensemble's members must share their data and split "
                              "(the same data config and seed)")  # fmt: skip
        if other.class_names != first.class_names:
            raise ConfigError(
                "RUN", f"{other.run_dir} has classes {other.class_names}, {first.run_dir} {first.class_names}"
            )


def ensemble(specs: list[str], method: str, split: str, runs_root: Path, trust_config: bool = False) -> dict:
    import torch

    from dlx.config.builder import build
    from dlx.experiment import data_seed
    from dlx.run_dir import create_unique_dir, write_json
    from dlx.runs.resolve import resolve_run
    from dlx.runs.restore import restore_run
    from dlx.train.report import classification_metrics

    members = [restore_run(resolve_run(s, runs_root), trust_config=trust_config) for s in specs]
    check_same_data(members)
    data = build("data", members[0].cfg["data"], seed=data_seed(members[0].cfg))
    raw = [(data.normalizer.undo(x), y) for x, y in data.eval_batches(split)]  # the split in the data's own units
    y = torch.cat([b[1] for b in raw])
    probs = []  # (members, N, K)
    with torch.no_grad():
        for m in members:
            norm = m.normalizer
            probs.append(torch.cat([torch.softmax(m.net(norm(x)).float(), 1) for x, _ in raw]))
    probs = torch.stack(probs)
    k = probs.shape[2]
    rows = []
    for m, p in zip(members, probs, strict=True):
        rows.append({"run": str(m.run_dir), **summary(classification_metrics(p.clamp_min(1e-12).log(), y, k))})
    mean = probs.mean(0)
    if method == "mean_prob":
        scores = mean.clamp_min(1e-12).log()
    else:  # votes per class; the mean probability (below 1) only breaks ties
        votes = torch.nn.functional.one_hot(probs.argmax(2), k).sum(0).float()
        scores = votes + mean
    combined = summary(classification_metrics(scores, y, k))
    if method == "vote":
        combined.pop("test_loss")  # votes are not probabilities
    member_acc = [r["test_acc"] for r in rows]
    result = {
        "method": method,
        "split": split,
        "samples": len(y),
        "members": rows,
        "ensemble": combined,
        "mean_member_acc": sum(member_acc) / len(member_acc),
        "best_member_acc": max(member_acc),
    }
    out = create_unique_dir(runs_root / "ensembles") / "ensemble.json"
    write_json(out, result)
    result["file"] = str(out)
    return result


def summary(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("test_acc", "f1_macro", "test_loss")}


def print_result(result: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"dlx ensemble ({result['method']}, {result['split']} split, {result['samples']} samples)")
    for column in ("model", "accuracy", "macro F1", "loss"):
        table.add_column(column)
    for row in result["members"]:
        table.add_row(escape(row["run"]), f"{row['test_acc']:.4f}", f"{row['f1_macro']:.4f}", f"{row['test_loss']:.4f}")
    e = result["ensemble"]
    loss = f"{e['test_loss']:.4f}" if "test_loss" in e else "-"
    table.add_row("[bold]ensemble", f"[bold]{e['test_acc']:.4f}", f"{e['f1_macro']:.4f}", loss)
    Console().print(table)
    print(
        f"mean member accuracy {result['mean_member_acc']:.4f}, best {result['best_member_acc']:.4f}; {result['file']}"
    )
