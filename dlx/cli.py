"""dlx command line: parse and dispatch only; each command imports what it needs when it runs.

dlx train model=resnet aug=flip
"""

import argparse
import sys

COMMANDS = {
    "train": "compose an experiment from config groups and train it (Hydra overrides; -m for a sweep)",
    "data": "inspect a data set: dlx data check data=X [--strict] (counts, NaN, duplicates, leakage)",
    "list": "list every config group and option with its description (dlx list model: one group)",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dlx",
        description="Config-driven deep-learning experiments.",
        epilog="`dlx train --help` lists the config groups and their options.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "train":
        from dlx.train.command import main as train

        return train(argv[1:])
    if argv and argv[0] == "data":
        from dlx.data.check import main as data_command

        return data_command(argv[1:])
    if argv and argv[0] == "list":
        from dlx.catalogue import main as list_options

        return list_options(argv[1:])
    args = parser().parse_args(argv)
    if args.version:
        from dlx import __version__

        print(f"dlx {__version__}")
        return 0
    parser().print_help()
    return 0 if args.command is None else 2
