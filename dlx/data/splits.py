"""Leakage-free splits: stratified train/val/test from the seed, official splits kept, subsets, k folds.

Everything here works on labels and indices only, so in-memory and streamed data split alike.
"""

import numpy as np

from dlx.config.errors import ConfigError

SPLITS = ("train", "val", "test")


def stratified_split(y: np.ndarray, val_fraction: float, test_fraction: float, seed: int):
    """Indices (train, val, test) of y, each stratified by class; val and test are fractions of the whole."""
    if val_fraction + test_fraction >= 1:
        raise ConfigError(
            "data.val_fraction", f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction}"
        )
    rest, test = cut(np.arange(len(y)), y, test_fraction, seed, "test_fraction")
    train, val = cut(rest, y, val_fraction / (1 - test_fraction), seed, "val_fraction")
    return np.sort(train), np.sort(val), np.sort(test)


def cut(idx: np.ndarray, y: np.ndarray, fraction: float, seed: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(kept, taken): `fraction` of idx taken out, stratified; a clear error when a class cannot be shared."""
    from sklearn.model_selection import train_test_split  # here, not at the top: validation imports this module

    try:
        kept, taken = train_test_split(idx, test_size=fraction, stratify=y[idx], random_state=seed)
    except ValueError as e:
        raise ConfigError(f"data.{key}", f"{fraction:g} of {len(idx)} samples cannot be stratified: {e}") from None
    return kept, taken


def subsample(idx: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A stratified `fraction` of idx (data.subset)."""
    if fraction >= 1 or len(idx) == 0:
        return idx
    from sklearn.model_selection import train_test_split

    try:
        kept, _ = train_test_split(idx, train_size=fraction, stratify=y[idx], random_state=seed)
    except ValueError as e:
        message = f"a {fraction:.3g} share of {len(idx)} samples cannot keep every class: {e}"
        raise ConfigError("data.subset", message) from None
    return np.sort(kept)


def subset_fraction(subset: float | None, n: int) -> float:
    """data.subset: a fraction (<= 1) or a count of samples (> 1), as a fraction of n."""
    if subset is None:
        return 1.0
    if subset <= 1:
        return float(subset)
    if subset != int(subset) or subset > n:
        raise ConfigError("data.subset", f"{subset} is not a count of at most {n} samples, nor a fraction <= 1")
    return subset / n


def split_indices(
    y: np.ndarray,
    fixed: dict[str, np.ndarray],
    *,
    val_fraction: float,
    test_fraction: float,
    subset: float | None = None,
    folds: int = 1,
    fold: int = 0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """{"train", "val", "test"} -> sorted indices into y. `fixed` holds a format's official splits."""
    unknown = set(fixed) - {"val", "test"}
    if unknown:
        raise ValueError(f"official splits can be val and test only, got {sorted(unknown)}")
    taken = np.concatenate([np.asarray(v, dtype=np.int64) for v in fixed.values()]) if fixed else np.array([], int)
    pool = np.setdiff1d(np.arange(len(y)), taken)
    share = subset_fraction(subset, len(y))
    pool = subsample(pool, y, share, seed)
    fixed = {k: subsample(np.sort(np.asarray(v, dtype=np.int64)), y, share, seed) for k, v in fixed.items()}

    if folds > 1:
        return fold_split(y, pool, fixed, test_fraction, folds, fold, seed)
    if fold != 0:
        raise ConfigError("data.fold", f"fold={fold} needs data.folds > {fold} (k-fold cross-validation)")
    if not fixed:
        # the whole pool: the same draws as a plain stratified split, so results stay comparable
        train, val, test = (pool[i] for i in stratified_split(y[pool], val_fraction, test_fraction, seed))
        return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
    if "test" in fixed:
        test = fixed["test"]
    else:
        pool, test = cut(pool, y, test_fraction, seed, "test_fraction")
    if "val" in fixed:
        train, val = pool, fixed["val"]
    else:
        train, val = cut(pool, y, val_fraction, seed, "val_fraction")
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def fold_split(y, pool, fixed, test_fraction, folds, fold, seed) -> dict[str, np.ndarray]:
    """k-fold cross-validation: the test split is held out; fold `fold` of the rest is val, the others train."""
    if not 0 <= fold < folds:
        raise ConfigError("data.fold", f"fold={fold} is not one of 0..{folds - 1} for data.folds={folds}")
    if "val" in fixed:
        raise ConfigError("data.folds", "this data set has an official val split; k folds need val made from train")
    if "test" in fixed:
        test = fixed["test"]
    else:
        pool, test = cut(pool, y, test_fraction, seed, "test_fraction")
    smallest = int(np.bincount(y[pool], minlength=int(y.max()) + 1).min()) if len(pool) else 0
    if smallest < folds:
        message = f"folds={folds} needs at least {folds} samples of every class; one has {smallest}"
        raise ConfigError("data.folds", message)
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    train, val = list(splitter.split(pool, y[pool]))[fold]
    return {"train": np.sort(pool[train]), "val": np.sort(pool[val]), "test": np.sort(test)}


def check_every_class_present(y: np.ndarray, splits: dict, class_names: list[str], fixed: set[str]) -> None:
    """A split made by a fraction must hold every class; say which class and which fraction to change."""
    for split in SPLITS:
        if split in fixed and split != "train":
            continue
        counts = np.bincount(y[splits[split]], minlength=len(class_names))
        empty = [class_names[c] for c in np.flatnonzero(counts == 0)]
        if empty:
            key = {"train": "subset", "val": "val_fraction", "test": "test_fraction"}[split]
            total = np.bincount(y, minlength=len(class_names))
            raise ConfigError(
                f"data.{key}",
                f"the {split} split has no sample of class {empty[0]!r} ({len(empty)} classes empty; "
                f"that class has {int(total[class_names.index(empty[0])])} samples in all): "
                f"change data.{key} or add samples",
            )


def split_with_options(y: np.ndarray, fixed: dict[str, np.ndarray], options: dict) -> dict[str, np.ndarray]:
    """split_indices with the data option's pipeline options (val_fraction, ..., seed) as given to finish_data."""
    keys = ("val_fraction", "test_fraction", "subset", "folds", "fold", "seed")
    return split_indices(y, fixed, **{k: options[k] for k in keys})
