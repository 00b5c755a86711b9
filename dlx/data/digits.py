"""scikit-learn's bundled handwritten digits: 1,797 images of 8x8, 10 classes.  dlx train data=digits"""

from dlx.config.schema import OpenUnitInterval, PositiveInt
from dlx.data.tensor_data import InMemoryDataModule


def digits(
    batch_size: PositiveInt = 64,
    eval_batch_size: PositiveInt = 512,
    val_fraction: OpenUnitInterval = 0.15,
    test_fraction: OpenUnitInterval = 0.15,
    seed: int = 0,
) -> InMemoryDataModule:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.reshape(-1, 1, 8, 8) / 16.0  # (N, C=1, H=8, W=8), pixel values 0..16
    return InMemoryDataModule(
        x,
        bunch.target,
        name="digits",
        class_names=[str(c) for c in range(10)],
        batch_size=batch_size,
        eval_batch_size=eval_batch_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
