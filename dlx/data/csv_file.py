"""A table a user brings: a CSV file with a header row, one target column, numeric and categorical features.

    dlx train data=csv data.path=table.csv data.target=label model=mlp
    dlx train data=csv data.path=table.csv data.target=species data.features=[age,colour] data.categorical=[colour]

A numeric column is one feature; a missing value there is NaN, for data.clean to impute or drop.
A categorical column (listed in data.categorical, or by default one holding no number at all) is one
0/1 feature per category, named `colour=red`, categories sorted; a missing category is all zeros.
Class names are the target's distinct values, sorted (numerically when all are numbers).

A bad row (wrong field count, text in a numeric column, no target) or a bad column name goes through
`problem()`: an error naming the file line, or inside `collect_problems()` a finding, the row skipped.
A file that cannot be read at all (absent, empty, without the target column) is an error even there.
"""

import csv as stdlib_csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dlx.config.errors import ConfigError
from dlx.data.prepare import data_option
from dlx.data.source import Source, problem

MISSING = ("", "NA", "N/A", "NaN", "nan", "null", "?")
Rows = list[tuple[int, list[str]]]  # (line in the file, cells)


@data_option
def csv(
    path: str,
    target: str,
    features: list[str] | None = None,
    categorical: list[str] | None = None,
    delimiter: str = ",",
    missing: Sequence[str] = MISSING,
    decimal: str = ".",
) -> Source:
    """features: the columns to learn from, in order (default: every column but the target);
    categorical: the columns to one-hot encode (default: the features holding no number at all);
    missing: the cell values that mean "no value"; decimal: "," for numbers written 0,5 (semicolon files)."""
    missing = set(missing)
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if decimal not in (".", ",") or decimal == delimiter:
        raise ConfigError("data.decimal", f"got {decimal!r}; use '.' or ',' (and not the delimiter {delimiter!r})")
    header, rows = read_rows(path, delimiter)
    rows = [(line, [with_decimal_point(c, decimal) for c in cells]) for line, cells in rows]
    columns = feature_columns(path, header, target, features)
    if categorical is None:
        categorical = [c for c in columns if holds_only_text([r[header.index(c)] for _, r in rows], missing)]
        check_decimal_commas(path, header, rows, categorical, missing)
    for c in [c for c in categorical if c not in columns]:
        problem("data.categorical", f"{c!r} is not a feature column of {path}; feature columns: {', '.join(columns)}")
    numeric = [c for c in columns if c not in categorical]
    rows = usable_rows(path, rows, (target, header.index(target)), [(c, header.index(c)) for c in numeric], missing)
    x, names, categories = encode(rows, [(c, header.index(c)) for c in columns], set(categorical), missing)
    class_names, y = sorted_distinct([r[header.index(target)] for _, r in rows])
    if len(class_names) < 2:
        problem("data.target", f"column {target!r} of {path} holds the classes {class_names}; a classifier needs 2+")
    fractional = [c for c in class_names if (v := number(c)) is not None and v != int(v)]
    if fractional and len(class_names) > max(20, len(rows) // 2):  # a measurement, not labels like 1.5 or 2.5
        raise ConfigError("data.target", f"column {target!r} of {path} holds numbers with fractions ({fractional[0]}, "
                          f"{len(class_names)} distinct values in {len(rows)} rows); dlx trains classifiers: the "
                          "target must be a class label")  # fmt: skip
    return Source(
        x,  # (N, F)
        np.asarray(y, dtype=np.int64),
        class_names=class_names,
        name="csv",
        feature_names=names,
        encoding={
            "columns": columns,  # what a new row must hold, in this order
            "categories": categories,  # {categorical column: its categories}, the order of its one-hot features
            "feature_names": names,
            "target": target,
            "missing": sorted(missing),
            "decimal": decimal,
            "delimiter": delimiter,  # dlx predict reads new rows as these were read
        },
        files=[f"{path}:line {line}" for line, _ in rows],
    )


def read_rows(path: str, delimiter: str) -> tuple[list[str], Rows]:
    """The header and every row with as many cells as it, cells stripped; blank lines skipped."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError("data.path", f"no file {path!r} (relative paths start at {Path.cwd()})")
    if len(delimiter) != 1:
        raise ConfigError("data.delimiter", f"must be one character (or tab), got {delimiter!r}")
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:  # -sig: drop the BOM spreadsheets write
            reader = stdlib_csv.reader(f, delimiter=delimiter)
            header = [c.strip() for c in next(reader, [])]
            rows = [(reader.line_num, [c.strip() for c in r]) for r in reader if r]
    except OSError as e:
        raise ConfigError(path, f"cannot be read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, f"is not UTF-8 text (byte {e.start}); save it as UTF-8 CSV") from None
    except stdlib_csv.Error as e:
        raise ConfigError(f"{path}:line {reader.line_num}", f"cannot be read as CSV: {e}") from None
    if not any(header):
        raise ConfigError(path, "is empty or has no header: its first line must name the columns")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ConfigError(path, f"the header names {', '.join(map(repr, repeated))} more than once")
    for line, cells in rows:
        if len(cells) != len(header):
            problem(f"{path}:line {line}", f"has {len(cells)} fields, the header has {len(header)}")
    return header, [(line, cells) for line, cells in rows if len(cells) == len(header)]


def feature_columns(path: str, header: list[str], target: str, features: list[str] | None) -> list[str]:
    if target not in header:
        raise ConfigError("data.target", f"no column {target!r} in {path}; its columns: {', '.join(header)}")
    if features is None:
        return [c for c in header if c != target]
    for c in features:
        if c == target:
            problem("data.features", f"{c!r} is the target, so it cannot be a feature")
        elif c not in header:
            problem("data.features", f"{c!r} is not a column of {path}; its columns: {', '.join(header)}")
    columns = [c for c in features if c in header and c != target]
    if not columns:
        raise ConfigError("data.features", f"no feature column left to learn from in {path}")
    return columns


def number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def with_decimal_point(cell: str, decimal: str) -> str:
    """'0,5' -> '0.5' where decimal="," and the cell is a number so written; any other cell as it is."""
    if decimal == "." or "," not in cell:
        return cell
    pointed = cell.replace(",", ".", 1)
    return pointed if number(pointed) is not None and cell.count(",") == 1 else cell


def check_decimal_commas(path: str, header: list[str], rows: Rows, categorical: list[str], missing: set[str]):
    """A column of numbers written with decimal commas reads as text: one category per value, a feature each."""
    for column in categorical:
        values = [cells[header.index(column)] for _, cells in rows if cells[header.index(column)] not in missing]
        if values and all(number(with_decimal_point(v, ",")) is not None for v in values):
            raise ConfigError(
                "data.decimal",
                f"column {column!r} of {path} holds numbers with decimal commas ({values[0]!r}); "
                "set data.decimal=',' to read them as numbers, or list the column in data.categorical",
            )


def holds_only_text(values: list[str], missing: set[str]) -> bool:
    present = [v for v in values if v not in missing]
    return bool(present) and all(number(v) is None for v in present)


def usable_rows(path: str, rows: Rows, target: tuple[str, int], numeric: list[tuple[str, int]], missing: set[str]):
    """Rows with a target and a number (or a missing mark) in every numeric column; the others are problems."""
    (name, t), kept = target, []
    for line, cells in rows:
        text = [(c, cells[j]) for c, j in numeric if cells[j] not in missing and number(cells[j]) is None]
        if cells[t] in missing:
            problem(f"{path}:line {line}", f"no class in the target column {name!r} ({cells[t]!r}); each row needs one")
        elif text:
            (column, value), *_ = text
            problem(
                f"{path}:line {line}",
                f"column {column!r} holds {value!r}, not a number; if the column is a category list it in "
                f"data.categorical, if {value!r} means no value add it to data.missing",
            )
        else:
            kept.append((line, cells))
    return kept


def sorted_distinct(values: list[str]) -> tuple[list[str], list[int]]:
    """Distinct values, sorted numerically when all are numbers (shown as first written), and each value's index."""
    keys = [float(v) for v in values] if all(number(v) is not None for v in values) else values
    shown = {}
    for k, v in zip(keys, values, strict=True):
        shown.setdefault(k, v)
    position = {k: i for i, k in enumerate(sorted(shown))}
    return [shown[k] for k in sorted(shown)], [position[k] for k in keys]


def encode(rows: Rows, columns: list[tuple[str, int]], categorical: set[str], missing: set[str]):
    """-> x (N, F) float32, feature names, {categorical column: its categories}."""
    blocks, names, categories = [], [], {}
    for column, j in columns:
        values = [cells[j] for _, cells in rows]
        present = np.array([v not in missing for v in values], dtype=bool)
        if column in categorical:
            kinds, index = sorted_distinct([v for v in values if v not in missing])
            onehot = np.zeros((len(values), len(kinds)), dtype=np.float32)
            onehot[np.flatnonzero(present), np.asarray(index, dtype=np.int64)] = 1.0
            blocks.append(onehot)
            names += [f"{column}={k}" for k in kinds]
            categories[column] = kinds
        else:
            numbers = [float(v) if p else np.nan for v, p in zip(values, present, strict=True)]
            blocks.append(np.array(numbers, dtype=np.float32)[:, None])
            names.append(column)
    return np.concatenate(blocks, axis=1), names, categories
