"""data.clean: non-finite values, exact duplicates and cross-split leakage, each removal counted.

none    keep everything (non-finite values are then an error: nothing can train on them)
drop    drop samples with NaN/inf, duplicates within a split, and val/test samples equal to a
        training sample (leakage), and val samples equal to a test sample
impute  like drop, but fill NaN/inf with the training split's median of that feature
"""

import hashlib
from typing import Literal

import numpy as np

from dlx.data.source import problem

Clean = Literal["none", "drop", "impute"]


def flat_rows(x: np.ndarray) -> np.ndarray:
    """(N, *shape) -> (N, prod(shape)), also for N = 0."""
    return x.reshape(len(x), int(np.prod(x.shape[1:], dtype=np.int64)))


def row_digests(x: np.ndarray) -> list[bytes]:
    """One 16-byte digest per sample: exact equality of samples without holding their bytes."""
    flat = np.ascontiguousarray(flat_rows(x))
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def nonfinite_rows(x: np.ndarray) -> np.ndarray:
    return ~np.isfinite(flat_rows(x)).all(axis=1)


def clean(x: np.ndarray, y: np.ndarray, splits: dict, mode: str, name: str, feature_names=None):
    """-> (x, splits, report). x comes back changed only by imputation; splits lose the removed indices."""
    report = {"mode": mode, "removed": {}, "imputed_values": {}}
    bad = nonfinite_rows(x)
    if bad.any() and mode == "none":
        first = int(np.flatnonzero(bad)[0])
        column = int(np.flatnonzero(~np.isfinite(x[first].reshape(-1)))[0])
        where = f", column {feature_names[column]!r}" if feature_names else ""
        problem(
            f"data={name}",
            f"{int(bad.sum())} samples hold NaN or inf (first: sample {first}{where}); "
            "set data.clean=drop or data.clean=impute",
        )
    if mode == "none":
        return x, splits, report
    if mode == "impute" and bad.any():
        x, report["imputed_values"], report["impute_fill"] = impute(x, splits)
    elif bad.any():
        report["removed"]["nonfinite"] = {s: int(bad[i].sum()) for s, i in splits.items()}
        splits = {s: i[~bad[i]] for s, i in splits.items()}
    digests = row_digests(x)  # once: hashing every sample is the costly part on large sets
    splits, report["removed"]["duplicate"] = drop_duplicates(digests, y, splits)
    splits, leaked = drop_leaked(digests, splits)
    report["removed"].update(leaked)
    report["removed"] = {k: v for k, v in report["removed"].items() if any(v.values())}
    return x, splits, report


def impute(x: np.ndarray, splits: dict) -> tuple[np.ndarray, dict, list[float]]:
    """NaN/inf -> the training split's median of that feature (0 if the feature has no finite training value)."""
    flat = flat_rows(x).astype(np.float32, copy=True)
    train = flat[splits["train"]]
    finite = np.where(np.isfinite(train), train, np.nan)
    with np.errstate(all="ignore"):
        fill = np.nanmedian(finite, axis=0) if len(train) else np.zeros(flat.shape[1])
    fill = np.where(np.isfinite(fill), fill, 0.0).astype(np.float32)
    counts = {s: int((~np.isfinite(flat[i])).sum()) for s, i in splits.items()}
    rows, cols = np.nonzero(~np.isfinite(flat))
    flat[rows, cols] = fill[cols]
    return flat.reshape(x.shape), counts, fill.tolist()


def drop_duplicates(digests: list[bytes], y: np.ndarray, splits: dict) -> tuple[dict, dict]:
    """Keep the first of samples equal in features and label, within each split."""
    kept, removed = {}, {}
    for split, idx in splits.items():
        seen, keep = set(), []
        for i in idx:
            key = (digests[i], int(y[i]))
            keep.append(key not in seen)
            seen.add(key)
        kept[split], removed[split] = idx[np.array(keep, dtype=bool)], int(len(idx) - sum(keep))
    return kept, removed


def drop_leaked(digests: list[bytes], splits: dict) -> tuple[dict, dict]:
    """Evaluation samples whose features equal a sample they are evaluated against (whatever the label).

    Test is compared with train and val together, so its size does not depend on the fold; val with train.
    """
    train = {digests[i] for i in splits["train"]}
    seen = train | {digests[i] for i in splits["val"]}
    keep_val = np.array([digests[i] not in train for i in splits["val"]], dtype=bool)
    keep_test = np.array([digests[i] not in seen for i in splits["test"]], dtype=bool)
    out = {**splits, "val": splits["val"][keep_val], "test": splits["test"][keep_test]}
    removed = {
        "val_equal_to_train": {"val": int((~keep_val).sum())},
        "test_equal_to_train_or_val": {"test": int((~keep_test).sum())},
    }
    return out, removed


def describe(report: dict) -> list[str]:
    """Human lines for what cleaning removed or filled, e.g. 'dropped 3 duplicate samples from train'."""
    why = {
        "nonfinite": "with NaN or inf",
        "duplicate": "duplicate",
        "val_equal_to_train": "equal to a training sample (leakage)",
        "test_equal_to_train_or_val": "equal to a training or val sample (leakage)",
    }
    lines = []
    for reason, per_split in report.get("removed", {}).items():
        for split, n in per_split.items():
            if n and reason == "duplicate":
                lines.append(f"dropped {n} duplicate samples from {split}")
            elif n:
                lines.append(f"dropped {n} {split} samples {why[reason]}")
    for split, n in report.get("imputed_values", {}).items():
        if n:
            lines.append(f"imputed {n} NaN/inf values in {split} with training medians")
    return lines
