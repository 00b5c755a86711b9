"""`dlx predict RUN INPUT... [--json] [--top K]`: class and probabilities for new inputs.

    dlx predict latest cat.png dog.jpg              # images, for a run trained on images
    dlx predict latest new_rows.csv --json          # CSV rows with the training columns
    dlx predict latest batch.npy                    # raw samples (N, *shape) or one sample (*shape)
    dlx predict shared/runs/x a.png --trust-config  # a run whose config names your own _target_s
    dlx predict runs/x/export/model.onnx a.png      # a model from `dlx export` (ONNX Runtime / TorchScript)

Inputs are encoded as the run's data was (image size and channels, CSV columns and categories)
and normalized with the statistics saved in its checkpoint. Prints a table, or JSON with --json.
The checkpoint is read as tensors only, and the run's config may name `_target_`s of dlx, torch, lightning and
torchmetrics only (and of the packages in DLX_TRUSTED_PACKAGES), unless --trust-config.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dlx.args import Parser, positive_int
from dlx.config.errors import ConfigError
from dlx.config.trust import FLAG_HELP

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="dlx predict", description="Predict classes for new inputs with a run's model.")
    p.add_argument("run", help="a run directory, a unique prefix of its name, latest, or an exported .onnx / .ts")
    p.add_argument("inputs", nargs="+", help="image files, CSV files (one prediction per row) or .npy arrays")
    p.add_argument("--json", action="store_true", help="print JSON: one object per prediction")
    p.add_argument("--top", type=positive_int, default=3, help="classes shown per input (default: %(default)s)")
    p.add_argument("--runs-dir", default="runs", help="where runs are found (default: %(default)s)")
    p.add_argument("--trust-config", action="store_true", help=FLAG_HELP)
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        predictions = predict(args.run, args.inputs, Path(args.runs_dir), trust_config=args.trust_config)
    except ConfigError as e:
        print(f"dlx predict: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(predictions, indent=2))
    else:
        print_table(predictions, args.top)
    return 0


def predict(spec: str, inputs: list[str], runs_root: Path, trust_config: bool = False) -> list[dict]:
    import torch

    from dlx.export.deployable import EXPORTED_SUFFIXES, ExportedModel
    from dlx.runs.resolve import resolve_run
    from dlx.runs.restore import restore_run

    exported = Path(spec).suffix in EXPORTED_SUFFIXES and Path(spec).is_file()
    run = (
        ExportedModel.load(Path(spec))
        if exported
        else restore_run(resolve_run(spec, runs_root), trust_config=trust_config)
    )
    samples, names = [], []
    for item in inputs:  # every input is read and checked before anything is predicted
        x, labels = read_input(Path(item), run)
        samples.append(x)
        names += labels
    x = torch.as_tensor(np.concatenate(samples), dtype=torch.float32)  # (N, *in_shape)
    if exported:  # raw inputs in, probabilities out: its normalization is inside the file
        probs = torch.as_tensor(run.runner(x.numpy()))
    else:
        with torch.no_grad():
            probs = torch.softmax(run.net(run.normalizer(x)), dim=1)
    out = []
    for name, p in zip(names, probs.tolist(), strict=True):
        best = int(np.argmax(p))
        out.append(
            {
                "input": name,
                "class": run.class_names[best],
                "probability": p[best],
                "probabilities": dict(zip(run.class_names, p, strict=True)),
            }
        )
    return out


def read_input(path: Path, run) -> tuple[np.ndarray, list[str]]:
    """-> (samples (n, *in_shape) float32 before normalization, a label per sample for the output)."""
    if not path.is_file():
        raise ConfigError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = read_npy(path, run.in_shape)
        return array, [str(path)] if len(array) == 1 else [f"{path}[{i}]" for i in range(len(array))]
    if suffix == ".csv":
        rows = read_csv(path, run)
        return rows, [f"{path}:row {i + 1}" for i in range(len(rows))]
    if suffix in IMAGE_SUFFIXES:
        return read_image(path, run.in_shape)[None], [str(path)]
    raise ConfigError(
        str(path), f"unknown input type {suffix!r}; give images ({', '.join(sorted(IMAGE_SUFFIXES))}), .csv or .npy"
    )


def read_npy(path: Path, in_shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as e:
        raise ConfigError(str(path), f"is not a readable .npy array: {str(e).splitlines()[0]}") from None
    if not np.issubdtype(array.dtype, np.number):
        raise ConfigError(str(path), f"holds {array.dtype} values; the model takes numbers")
    if tuple(array.shape) == in_shape:
        array = array[None]
    if tuple(array.shape[1:]) != in_shape:
        raise ConfigError(
            str(path),
            f"has shape {tuple(array.shape)}; the run's model takes {in_shape} or (N, {', '.join(map(str, in_shape))})",
        )
    if len(array) == 0:
        raise ConfigError(str(path), f"holds no samples (shape {tuple(array.shape)})")
    array = array.astype(np.float32)
    finite = np.isfinite(array).reshape(len(array), -1).all(1)  # (N,): a sample with a NaN or inf is refused
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ConfigError(f"{path}[{bad}]", "holds NaN or inf; the model takes finite numbers")
    return array


def read_image(path: Path, in_shape: tuple[int, ...]) -> np.ndarray:
    from dlx.data.image_folder import decode

    if len(in_shape) != 3 or in_shape[0] not in (1, 3):
        raise ConfigError(str(path), f"is an image, but the run's model takes samples of shape {in_shape}, not images")
    try:
        return decode(path.read_bytes(), in_shape)  # (C, H, W) in [0, 1], resized to the training size
    except Exception as e:
        reason = str(e).splitlines()[0]
        if reason.startswith("cannot identify image file"):  # PIL's message names its in-memory buffer, not the file
            reason = "PIL cannot identify it as an image file"
        raise ConfigError(str(path), f"cannot be read as an image: {reason}") from None


def read_csv(path: Path, run) -> np.ndarray:
    """Rows -> features encoded as in training: numeric columns, one-hot categories, training medians for gaps."""
    import csv

    from dlx.data.csv_file import with_decimal_point

    encoding = run.data_state.get("encoding") or {}
    columns = encoding.get("columns") or run.data_state.get("feature_names")
    if not columns or len(run.in_shape) != 1:
        raise ConfigError(str(path), f"is a table, but the run's model takes samples of shape {run.in_shape}")
    categories = encoding.get("categories", {})
    missing = set(encoding.get("missing", ["", "NA", "NaN", "nan"]))
    if path.stat().st_size == 0:
        raise ConfigError(str(path), f"is empty; expected a header row with columns {', '.join(columns)}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=encoding.get("delimiter", ","))
        absent = [c for c in columns if c not in (reader.fieldnames or [])]
        if absent:
            raise ConfigError(
                str(path), f"has no column {absent[0]!r}; the run was trained on columns {', '.join(columns)}"
            )
        rows = list(reader)
    if not rows:
        raise ConfigError(str(path), "holds no rows")
    features = []
    for line, row in enumerate(rows, start=2):
        vector = []
        for column in columns:
            value = with_decimal_point((row[column] or "").strip(), encoding.get("decimal", "."))
            if column in categories:
                if value not in categories[column] and value not in missing:  # a gap is all zeros, as in training
                    known = ", ".join(map(repr, categories[column]))
                    raise ConfigError(f"{path}:line {line}", f"column {column!r} holds {value!r}, a category the "
                                      f"run never saw in training; it knows {known}")  # fmt: skip
                vector += [float(value == c) for c in categories[column]]
            elif value in missing:
                vector.append(np.nan)
            else:
                try:
                    vector.append(float(value))
                except ValueError:
                    raise ConfigError(
                        f"{path}:line {line}", f"column {column!r} holds {value!r}, not a number"
                    ) from None
        features.append(vector)
    x = np.asarray(features, dtype=np.float32)
    return fill_gaps(x, encoding.get("impute_fill"), path)


def fill_gaps(x: np.ndarray, fill, path: Path) -> np.ndarray:
    gaps = ~np.isfinite(x)
    if not gaps.any():
        return x
    if fill is None:
        row = int(np.flatnonzero(gaps.any(1))[0]) + 2
        raise ConfigError(
            f"{path}:line {row}", "has a missing value, and the run was not trained with data.clean=impute"
        )
    rows, cols = np.nonzero(gaps)
    x[rows, cols] = np.asarray(fill, dtype=np.float32)[cols]
    return x


def print_table(predictions: list[dict], top: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="dlx predict")
    for col in ("input", "class", "probability", f"top {top}"):
        table.add_column(col)
    for p in predictions:
        ranked = sorted(p["probabilities"].items(), key=lambda kv: -kv[1])[:top]
        shown = ", ".join(f"{escape(name)} {prob:.3f}" for name, prob in ranked)
        table.add_row(escape(p["input"]), escape(p["class"]), f"{p['probability']:.4f}", shown)
    Console().print(table)
