"""dlx command line: parse and dispatch only; each command imports what it needs when it runs.

dlx train model=resnet aug=flip
"""

import argparse
import sys

from dlx.args import Parser

COMMANDS = {
    "train": "compose an experiment from config groups and train it (Hydra overrides; -m for a sweep)",
    "search": "hyperparameter search with Optuna: dlx search search=NAME [OVERRIDES] | dlx search resume=SWEEP_DIR",
    "runs": "list the runs under runs/, newest first: dlx runs [--where KEY=VALUE] [--sort METRIC] [--json]",
    "show": "one run: what differs from the defaults, its metrics, its files: dlx show RUN",
    "compare": "runs side by side, learning curves in one PNG: dlx compare RUN RUN ... | dlx compare SWEEP_DIR",
    "eval": "evaluate a run's best checkpoint again: dlx eval RUN [split=test|val] [data=...] [attack=fgsm|pgd|noise]",
    "predict": "classes and probabilities for new inputs: dlx predict RUN INPUT... [--json]",
    "explain": "why the model decides: dlx explain RUN method=saliency|integrated_gradients|occlusion|gradcam|"
    "permutation|shap|lime|rules",
    "compress": "prune or quantize a run's model into a new run: dlx compress RUN method=prune|quantize [...]",
    "ensemble": "several runs' models as one: dlx ensemble RUN RUN ... [method=mean_prob|vote]",
    "export": "the model for deployment, parity-checked: dlx export RUN format=onnx|torchscript",
    "data": "inspect a data set: dlx data check data=X [--strict] (counts, NaN, duplicates, leakage)",
    "list": "list every config group and option with its description (dlx list model: one group)",
}

# each command's entry point, imported only when it runs (so `dlx --help` stays instant)
ENTRY_POINTS = {
    "train": "dlx.train.command",
    "search": "dlx.search.command",
    "runs": "dlx.runs.table",
    "show": "dlx.runs.show",
    "compare": "dlx.runs.compare",
    "eval": "dlx.runs.evaluate",
    "predict": "dlx.runs.predict",
    "explain": "dlx.explain.command",
    "compress": "dlx.compress.command",
    "ensemble": "dlx.runs.ensemble",
    "export": "dlx.export.command",
    "data": "dlx.data.check",
    "list": "dlx.catalogue",
}


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="dlx",
        description="Config-driven deep-learning experiments.",
        epilog="`dlx train --help` lists the config groups and their options.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


SIGINT_SEEN: list[int] = []  # Ctrl-C in this process: dlx.train.errors reports any failure after it as the stop


def watch_for_ctrl_c() -> None:
    """Ctrl-C while the libraries import raises KeyboardInterrupt inside an import, and what surfaces may be a
    half-initialized module's error instead (RecursionError, AttributeError, 'cannot load module more than
    once'); noting the signal lets the command still say it was interrupted. Training replaces this handler
    with its own (dlx.trainer.signals) and puts it back."""
    import signal

    def note_and_stop(signum, frame):
        SIGINT_SEEN.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note_and_stop)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the installed command, not a call from a test or another program
        watch_for_ctrl_c()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ENTRY_POINTS:
        import importlib

        return importlib.import_module(ENTRY_POINTS[argv[0]]).main(argv[1:])
    args = parser().parse_args(argv)
    if args.version:
        from dlx import __version__

        print(f"dlx {__version__}")
        return 0
    parser().print_help()
    return 0 if args.command is None else 2
