"""scikit-learn's bundled tables: iris (150 x 4, 3 classes), wine (178 x 13, 3), breast_cancer (569 x 30, 2).

dlx train data=iris model=mlp
"""

from dlx.data.prepare import data_option
from dlx.data.source import Source


def bundled_table(loader_name: str, name: str) -> Source:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)()
    return Source(
        bunch.data.astype("float32"),  # (N, F)
        bunch.target,
        class_names=[str(c) for c in bunch.target_names],
        name=name,
        feature_names=[str(f) for f in bunch.feature_names],
    )


@data_option
def iris() -> Source:
    return bundled_table("load_iris", "iris")


@data_option
def wine() -> Source:
    return bundled_table("load_wine", "wine")


@data_option
def breast_cancer() -> Source:
    return bundled_table("load_breast_cancer", "breast_cancer")
