"""The one pipeline every data option goes through: split -> clean -> check -> normalize -> data module.

Its options are every data option's options (`with_common_options`), so each `conf/data/*.yaml`
takes batch_size, val_fraction, test_fraction, subset, folds, fold, clean and normalize.
"""

import numpy as np

from dlx.config.schema import NonNegativeInt, OpenUnitInterval, PositiveFloat, PositiveInt, with_common_options
from dlx.data.clean import Clean, clean
from dlx.data.normalize import Method, Normalizer
from dlx.data.source import Source
from dlx.data.splits import check_every_class_present, split_with_options


def finish_data(
    source,
    batch_size: PositiveInt = 64,
    eval_batch_size: PositiveInt = 512,
    val_fraction: OpenUnitInterval = 0.15,
    test_fraction: OpenUnitInterval = 0.15,
    subset: PositiveFloat | None = None,
    folds: PositiveInt = 1,
    fold: NonNegativeInt = 0,
    clean: Clean = "drop",
    normalize: Method = "standard",
    seed: int = 0,
):
    """source: a Source held in memory, or a streamed source that finishes itself the same way."""
    options = {k: v for k, v in locals().items() if k != "source"}
    if not isinstance(source, Source):
        return source.finish(**options)
    return in_memory(source, **options)


def in_memory(source: Source, **o):
    splits = split_with_options(source.y, source.fixed, o)
    x, splits, cleaning = clean(source.x, source.y, splits, o["clean"], source.name, source.feature_names)
    check_every_class_present(source.y, splits, source.class_names, fixed=set(source.fixed))
    normalizer = Normalizer.fit(o["normalize"], x[splits["train"]])
    encoding = {**source.encoding, "impute_fill": cleaning.pop("impute_fill", None)}
    from dlx.data.tensor_data import InMemoryDataModule  # imports Lightning: only once the data is known good

    return InMemoryDataModule(
        {s: (x[i], source.y[i]) for s, i in splits.items()},
        name=source.name,
        class_names=source.class_names,
        normalizer=normalizer,
        batch_size=o["batch_size"],
        eval_batch_size=o["eval_batch_size"],
        seed=o["seed"],
        info=data_info(source, splits, cleaning, o),
        encoding=encoding,
        feature_names=source.feature_names,
    )


def data_info(source, splits: dict, cleaning: dict, options: dict) -> dict:
    """What RUN/data.json records: sizes, class counts, cleaning, the options that shaped the splits."""
    k = len(source.class_names)
    return {
        "name": source.name,
        "sample_shape": list(source.sample_shape),  # a Source, or streamed files
        "official_splits": sorted(source.fixed),
        "sizes": {s: int(len(i)) for s, i in splits.items()},
        "class_counts": {s: np.bincount(source.y[i], minlength=k).tolist() for s, i in splits.items()},
        "clean": cleaning,
        "options": {key: options[key] for key in ("subset", "folds", "fold", "clean", "normalize", "seed")},
    }


def data_option(builder):
    """Decorator for a data option's builder: it returns a Source; the pipeline's options join its signature."""
    return with_common_options(finish_data)(builder)
