"""The commands' argument parser: a usage error is one line, as every other dlx error is."""

import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """argparse prints the whole usage block first; one line names the problem and where the usage is."""
        print(f"{self.prog}: error: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(2)


def positive_int(text: str) -> int:
    """An argparse type for counts: 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}, expected an integer >= 1")
    return value
