"""A generated table (scikit-learn's make_classification): size, classes, imbalance and label noise on demand.

dlx train data=synthetic data.classes=4 data.imbalance=10 data.label_noise=0.1 model=mlp
"""

import numpy as np

from dlx.config.errors import ConfigError
from dlx.config.schema import NonNegativeInt, PositiveFloat, PositiveInt, UnitInterval
from dlx.data.prepare import data_option
from dlx.data.source import Source


@data_option
def synthetic(
    samples: PositiveInt = 2000,
    features: PositiveInt = 20,
    informative: PositiveInt = 5,
    classes: PositiveInt = 2,
    imbalance: PositiveFloat = 1.0,
    label_noise: UnitInterval = 0.0,
    generator_seed: NonNegativeInt = 0,
) -> Source:
    """imbalance: largest class / smallest class (1 = balanced; class sizes fall geometrically between);
    label_noise: the share of samples given a random class (scikit-learn's flip_y);
    generator_seed: fixed apart from the run's seed, so runs with different seeds see the same data."""
    from sklearn.datasets import make_classification

    if classes < 2:
        raise ConfigError("data.classes", f"needs at least 2 classes, got {classes}")
    if informative > features:
        raise ConfigError("data.informative", f"{informative} informative features > features={features}")
    if classes > 2**informative:
        raise ConfigError("data.informative", f"{informative} informative features cannot separate {classes} classes")
    if imbalance < 1:
        raise ConfigError("data.imbalance", f"is largest/smallest class size, so >= 1; got {imbalance}")
    weights = imbalance ** -(np.arange(classes) / (classes - 1))  # 1 .. 1/imbalance, geometric
    x, y = make_classification(
        n_samples=samples,
        n_features=features,
        n_informative=informative,
        n_redundant=0,
        n_classes=classes,
        n_clusters_per_class=1,
        weights=(weights / weights.sum()).tolist(),
        flip_y=label_noise,
        random_state=generator_seed,
    )
    return Source(
        x.astype(np.float32),  # (N, F)
        y,
        class_names=[str(c) for c in range(classes)],
        name="synthetic",
        feature_names=[f"x{i}" for i in range(features)],
    )
