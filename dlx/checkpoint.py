"""Checkpoints are read as tensors and plain values only (torch.load with weights_only=True), never as code.

    ckpt = read_checkpoint(Path("runs/cnn-digits/2026-11-23_15-20-01/checkpoints/best.ckpt"), key="RUN")

A file whose unpickling would call a function (os.system, ...) is refused; one that is cut short, empty
or not a checkpoint at all is named with what is wrong: a ConfigError under `key` either way.
"""

import pickle
import re
import warnings
from pathlib import Path

from dlx.config.errors import ConfigError


def read_checkpoint(path: Path, key: str):
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the pickle protocol; the error below says more
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ConfigError(key, f"{path} {why_unreadable(e)}") from None


def why_unreadable(e: Exception) -> str:
    """What a failed weights_only load means for the user (torch's own first line advises weights_only=False)."""
    called = re.search(r"GLOBAL ([\w.]+)", str(e))
    if called:
        return (
            f"is refused: loading it would call {called.group(1)}, and a checkpoint may hold only tensors and plain "
            "values; do not load it unless you made it"
        )
    if isinstance(e, pickle.UnpicklingError):
        return "is not a checkpoint: it holds something other than tensors and plain values, or is damaged"
    if isinstance(e, EOFError):
        return "is empty or cut short: not a whole checkpoint"
    first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
    return f"is damaged or cut short ({first.split('. ')[0]})"
