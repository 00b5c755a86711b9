"""`dlx eval RUN [split=test|val] [data=OPTION] [data.KEY=VALUE ...]`: a run's best checkpoint, evaluated again.

    dlx eval latest                      # the test split, as the run itself measured it
    dlx eval latest split=val
    dlx eval latest attack=fgsm,pgd,noise eps=0.01,0.05   # robustness: dlx.robust.evaluate
    dlx eval cnn-mnist data=fashion_mnist
    dlx eval shared/runs/x --trust-config   # a run whose config names your own _target_s (not dlx's, torch's, ...)

The data is rebuilt from the run's config (same split from the same seed) and normalized with the
statistics saved in the checkpoint; the metrics are printed and written to RUN/eval/<split>[-<data>].json.
The checkpoint is read as tensors only, and the run's config may name `_target_`s of dlx, torch, lightning and
torchmetrics only (and of the packages in DLX_TRUSTED_PACKAGES), unless --trust-config.
"""

import argparse
import sys
from pathlib import Path

from dlx.config.errors import ConfigError


def parse(argv: list[str]) -> argparse.Namespace:
    from dlx.runs.resolve import run_command_parser

    help_text = "split=test|val, data=OPTION, data.KEY=VALUE"
    return run_command_parser(
        "dlx eval", "Evaluate a run's best checkpoint on a split.", "overrides", help_text
    ).parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        split, data_overrides, attack = split_overrides(args.overrides)
        if attack:
            return robustness(args, split, data_overrides, attack)
        result, out = evaluate_run(args.run, args.overrides, Path(args.runs_dir), trust_config=args.trust_config)
    except ConfigError as e:
        print(f"dlx eval: {e}", file=sys.stderr)
        return 2
    print_metrics(result, out)
    return 0


def robustness(args, split: str, data_overrides: list[str], attack: dict[str, str]) -> int:
    """attack=...: adversarial and noisy accuracy (dlx.robust.evaluate); the settings are checked first."""
    from dlx.robust.evaluate import evaluate_robustness, parse_settings, print_results, write_results

    settings = parse_settings(attack)
    run, data, _ = restored_data(args.run, data_overrides, Path(args.runs_dir), args.trust_config)
    result = evaluate_robustness(run, data, split, settings)
    files = write_results(run.run_dir, result)
    refresh_report(run.run_dir)
    print_results(run.run_dir, result, files)
    return 0


def refresh_report(run_dir: Path) -> None:
    """report.html links what dlx eval and dlx explain wrote since the run ended."""
    if (run_dir / "report.json").is_file():
        from dlx.report.html import write_report

        write_report(run_dir)


def split_overrides(overrides: list[str]) -> tuple[str, list[str], dict[str, str]]:
    """-> (split, data overrides, attack settings); anything else is an error naming it."""
    from dlx.robust.evaluate import KEYS

    split, data, attack = "test", [], {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(item, "expected KEY=VALUE: split=test|val, data=OPTION or data.KEY=VALUE")
        if key in KEYS:
            attack[key] = value
            continue
        if key == "split":
            if value not in ("test", "val"):
                raise ConfigError("split", f"got {value!r}; valid: test, val")
            split = value
        elif key == "data" or key.startswith("data."):
            data.append(item)
        else:
            raise ConfigError(
                key, f"dlx eval takes split=, data=, data.KEY= and {'=, '.join(KEYS)}= (the model is the run's)"
            )
    if attack and "attack" not in attack:
        raise ConfigError(", ".join(attack), "these settings need attack=fgsm|pgd|noise")
    return split, data, attack


def data_node(run, overrides: list[str]) -> tuple[dict, str]:
    """The data config to evaluate on: the run's, or another option (data=X), with data.KEY=VALUE applied."""
    from omegaconf import OmegaConf

    from dlx.config.validate import validate_node

    chosen = [o.partition("=")[2] for o in overrides if o.startswith("data=")]
    if chosen:
        from dlx.config.compose import compose_config

        cfg, _ = compose_config(overrides)
        node, name = cfg["data"], chosen[-1]
    else:
        node = OmegaConf.create(run.cfg["data"])
        for item in overrides:
            key, _, value = item.partition("=")
            if key.removeprefix("data.") not in node:
                raise ConfigError(key, f"unknown key of the run's data config; its keys: {', '.join(node)}")
            OmegaConf.update(node, key.removeprefix("data."), OmegaConf.from_dotlist([f"v={value}"]).v)
        node, name = OmegaConf.to_container(node), run.choices.get("data", "")
    validate_node("data", node)
    return node, name


def evaluate_run(spec: str, overrides: list[str], runs_root: Path, trust_config: bool = False) -> tuple[dict, Path]:
    from dlx.run_dir import write_json
    from dlx.train.report import evaluate_split

    split, data_overrides, _ = split_overrides(overrides)
    run, data, data_name = restored_data(spec, data_overrides, runs_root, trust_config)
    batches = list(data.eval_batches(split))  # one pass over the split (streamed data reads its files once)
    result = {
        "run_dir": str(run.run_dir),
        "checkpoint": str(run.checkpoint),
        "split": split,
        "data": data_name,
        "samples": int(sum(len(y) for _, y in batches)),
        **named_for(split, evaluate_split(run.net, batches, data.num_classes)),  # the run's report's numbers
    }
    changed = bool(data_overrides)
    out = run.run_dir / "eval" / (f"{split}-{data_name}.json" if changed else f"{split}.json")
    out.parent.mkdir(exist_ok=True)
    write_json(out, result)
    return result, out


def named_for(split: str, metrics: dict) -> dict:
    """The report's test_acc / test_loss as val_acc / val_loss on split=val: the keys say which split they measure."""
    return {f"{split}_{key[5:]}" if key.startswith("test_") else key: value for key, value in metrics.items()}


def restored_data(spec: str, data_overrides: list[str], runs_root: Path, trust_config: bool):
    """(the run, restored; its data, rebuilt with the run's normalization; the data option's name)."""
    from dlx.config.builder import build
    from dlx.runs.resolve import resolve_run
    from dlx.runs.restore import restore_run

    run = restore_run(resolve_run(spec, runs_root), trust_config=trust_config)
    node, data_name = data_node(run, data_overrides)
    from dlx.experiment import data_seed

    data = build("data", node, seed=data_seed(run.cfg))
    if tuple(data.in_shape) != run.in_shape or data.num_classes != len(run.class_names):
        raise ConfigError(
            "data",
            f"data={data_name} gives samples of shape {tuple(data.in_shape)} in {data.num_classes} classes; "
            f"the run's model takes {run.in_shape} in {len(run.class_names)} classes",
        )
    data.load_state_dict(run.data_state)  # the run's normalization statistics, not ones refitted here
    return run, data, data_name


def print_metrics(result: dict, out: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"dlx eval {escape(result['run_dir'])} ({result['split']}, {result['samples']} samples)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
    Console().print(table)
    Console().print(f"written to {escape(str(out))}")
