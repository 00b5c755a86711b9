"""What every data loader returns: raw samples and labels, before cleaning, splitting and normalization.

    source = read_idx_pair(images, labels)      # a format reader
    data = prepare(source, val_fraction=0.1)    # dlx.data.prepare: the same pipeline for every format

Loaders report bad input through `problem()`: an error naming the file (exit code 2) when
training, a list of findings when `dlx data check` asks for them all.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dlx.config.errors import ConfigError


@dataclass
class Source:
    x: np.ndarray  # (N, *sample_shape) float32: images (C, H, W) scaled to [0, 1], signals (C, L), tables (F,)
    y: np.ndarray  # (N,) int64 class indices in [0, len(class_names))
    class_names: list[str]
    name: str  # the data option, for messages
    # official splits the format ships, as indices into x: {"test": ..., "val": ...};
    # every other sample is the pool that val_fraction / test_fraction / folds split
    fixed: dict[str, np.ndarray] = field(default_factory=dict)
    feature_names: list[str] | None = None  # tables: one name per column of x
    encoding: dict = field(default_factory=dict)  # what predict needs to encode raw inputs (csv categories, image size)
    files: list[str] | None = None  # per sample, where it came from (image folders), for messages

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def __post_init__(self):
        self.y = np.asarray(self.y, dtype=np.int64)
        if len(self.x) != len(self.y):
            raise ConfigError("data", f"data={self.name}: {len(self.x)} samples but {len(self.y)} labels")
        check_labels(self.y, len(self.class_names), f"data={self.name}")


def check_labels(y: np.ndarray, num_classes: int, where: str) -> None:
    bad = np.flatnonzero((y < 0) | (y >= num_classes))
    if len(bad):
        i = int(bad[0])
        problem(
            where,
            f"label {int(y[i])} of sample {i} is out of range 0..{num_classes - 1} ({len(bad)} such labels)",
        )


_collected: list[list[dict]] = []


def problem(where: str, message: str) -> None:
    """Bad input at `where` (a file, column or key): raise, or record it inside `collect_problems()`."""
    if _collected:
        _collected[-1].append({"where": where, "problem": message})
        return
    raise ConfigError(where, message)


@contextlib.contextmanager
def collect_problems() -> Iterator[list[dict]]:
    """Loaders inside this block skip what they cannot read and list it, instead of stopping at the first."""
    found: list[dict] = []
    _collected.append(found)
    try:
        yield found
    finally:
        _collected.pop()


def collecting() -> bool:
    return bool(_collected)
