"""`dlx compress RUN method=prune|quantize [...]`: a smaller, faster copy of a run's model, as a new run.

    dlx compress latest method=prune sparsity=0.8                       # global magnitude pruning
    dlx compress latest method=prune structure=channels sparsity=0.5 finetune_epochs=3
    dlx compress latest method=quantize scheme=dynamic                  # int8 Linear / LSTM / GRU
    dlx compress latest method=quantize scheme=static calibration_batches=8   # int8 convolutions too

The result is a new run directory, runs/<parent name>-<method>/<stamp>/, whose config.yaml names its `parent:`.
Its report.json and the printed table put the parent and the compressed model side by side on the parent's
test split: accuracy, macro F1, parameters, non-zero parameters, size on disk (the state_dict, torch.save'd),
CPU latency per batch (p50), and the size gzipped (what pruning's zeros save when the file is compressed).
- A pruned model is a float model: checkpoints/best.ckpt (pruning made permanent), so dlx eval / predict /
  export take the new run as they take any.
- A quantized one is saved as model.ts (TorchScript, int8 kernels; normalized inputs in, logits out).
A compression that fails after its directory is made leaves it marked failed, with the one line printed.
"""

import argparse
import sys
from pathlib import Path

from dlx.config.errors import ConfigError

KEYS = {
    "prune": {"sparsity": 0.5, "structure": "unstructured", "finetune_epochs": 0, "finetune_lr": None},
    "quantize": {"scheme": "dynamic", "calibration_batches": 8},
}
CHOICES = {"structure": ("unstructured", "channels"), "scheme": ("dynamic", "static")}


def parse(argv: list[str]) -> argparse.Namespace:
    from dlx.runs.resolve import run_command_parser

    description = "Prune or quantize a run's model into a new run."
    p = run_command_parser("dlx compress", description, "settings", "method=prune|quantize and its KEY=VALUE settings")
    return p.parse_args(argv)


def settings(items: list[str]) -> tuple[str, dict]:
    given = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(item, "expected KEY=VALUE, e.g. method=prune sparsity=0.5")
        given[key] = value
    method = given.pop("method", None)
    if method not in KEYS:
        raise ConfigError("method", f"got {method!r}; valid: {', '.join(KEYS)}")
    chosen = dict(KEYS[method])
    for key, value in given.items():
        if key not in chosen:
            raise ConfigError(key, f"method={method} takes {', '.join(chosen)}")
        chosen[key] = typed(key, value)
    if method == "prune" and not 0 <= chosen["sparsity"] < 1:
        raise ConfigError("sparsity", f"got {chosen['sparsity']}; expected a fraction with 0 <= x < 1 (0.8: 80% zeros)")
    return method, chosen


def typed(key: str, value: str):
    if key in CHOICES:
        if value not in CHOICES[key]:
            raise ConfigError(key, f"got {value!r}; valid: {', '.join(CHOICES[key])}")
        return value
    try:
        number = float(value) if key in ("sparsity", "finetune_lr") else int(value)
    except ValueError:
        raise ConfigError(key, f"got {value!r}, expected a number") from None
    if key in ("finetune_epochs",) and number < 0 or key == "calibration_batches" and number < 1:
        raise ConfigError(key, f"got {number}; expected {'0 or more' if key == 'finetune_epochs' else '1 or more'}")
    if key == "finetune_lr" and not number > 0:
        raise ConfigError(key, f"got {number}; expected a learning rate above 0")
    return number


def main(argv: list[str]) -> int:
    """0, or one line on stderr: exit 2 for a config error, 1 for a failure (HYDRA_FULL_ERROR=1: its traceback)."""
    import os

    from dlx.trainer.interrupt import RunInterrupted

    args = parse(argv)
    try:
        method, chosen = settings(args.settings)
        from dlx.compress.run import compress

        report = compress(args.run, method, chosen, Path(args.runs_dir), args.trust_config)
    except ConfigError as e:
        print(f"dlx compress: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, RunInterrupted) as e:
        print(f"dlx compress: interrupted ({str(e) or 'Ctrl-C'})", file=sys.stderr)
        return e.exit_code if isinstance(e, RunInterrupted) else 130
    except Exception as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        from dlx.train.errors import runtime_message

        print(f"dlx compress: error: {runtime_message(e)}", file=sys.stderr)
        return 1
    print_report(report)
    return 0


ROWS = (
    ("test accuracy", "test_acc", "{:.4f}"),
    ("macro F1", "f1_macro", "{:.4f}"),
    ("parameters", "params", "{:,}"),
    ("non-zero parameters", "nonzero", "{:,}"),
    ("size on disk (bytes)", "bytes", "{:,}"),
    ("size gzipped (bytes)", "gzip_bytes", "{:,}"),
    ("CPU latency per batch p50 (ms)", "latency_ms_per_batch_p50", "{:.3f}"),
)


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    parent, new = report["parent"], report["compressed"]
    shown = " ".join(f"{k}={v}" for k, v in report["settings"].items() if v is not None)
    table = Table(title=f"dlx compress: method={report['method']} {shown}")
    for column in ("", "parent", "compressed", "compressed / parent"):
        table.add_column(column)
    for label, key, fmt in ROWS:
        ratio = new[key] / parent[key] if parent[key] else float("nan")
        table.add_row(label, fmt.format(parent[key]), fmt.format(new[key]), f"{ratio:.3f}")
    Console().print(table)
    print(f"parent {escape(report['parent_run'])}\nnew run {escape(report['run_dir'])}")
