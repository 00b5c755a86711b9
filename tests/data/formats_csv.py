"""Small CSV tables for tests, whose class follows from the features: the sign of x1 and the colour.

    label = "b" if colour is blue, else "a" if x1 > 0, else "c"     (2 classes, a and c, without colour)

Columns: id (the row's number, so rows stay distinct and a test can find each row in a split),
x1, x2 (noise), colour (red, green, blue), label.  With missing values, x2 is blank or "?" in some
rows and colour is "NA" in others.
"""

import csv
from pathlib import Path

import numpy as np

COLOURS = ("red", "green", "blue")


def write_csv(
    path: Path,
    rows: int = 60,
    with_missing: bool = True,
    with_categorical: bool = True,
    labels: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """labels: renames the classes, e.g. {"a": "10", "b": "2", "c": "1"} for numeric labels."""
    rng = np.random.default_rng(seed)
    names = labels or {}
    header = ["id", "x1", "x2", *(["colour"] if with_categorical else []), "label"]
    lines = [header]
    for i in range(rows):
        colour = COLOURS[i % 3]
        sign = 1 if (i // 3) % 2 == 0 else -1
        x1 = sign * (0.5 + rng.random())
        x2 = f"{rng.normal():.4f}"
        label = "b" if with_categorical and colour == "blue" else "a" if sign > 0 else "c"
        if with_missing and i % 7 == 3:
            x2 = "" if i % 2 else "?"
        if with_missing and i % 11 == 5:
            colour = "NA"
        lines.append([str(i), f"{x1:.4f}", x2, *([colour] if with_categorical else []), names.get(label, label)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(lines)
    return path


def read_back(path: Path) -> list[dict[str, str]]:
    """The rows as written, independent of dlx: one dict per data row."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def smoke_csv(root: Path) -> list[str]:
    """A 60-row, 3-class table with a categorical column and gaps; the overrides that train on it."""
    path = write_csv(Path(root) / "table.csv")
    return [f"data.path={path}", "data.target=label", "model=mlp"]


SMOKE_FILES = {"csv": smoke_csv}
