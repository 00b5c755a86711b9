"""MNIST-1D (Greydanus, 2020): 5,000 1-D signals of length 40, 10 classes, generated locally with the
mnist1d package's generator and the paper's default arguments (never downloaded); cached under `root`.
    dlx train data=mnist1d model=cnn"""

import io
from pathlib import Path

import numpy as np

from dlx.config.schema import OpenUnitInterval, PositiveInt
from dlx.data.tensor_data import InMemoryDataModule
from dlx.run_dir import write_atomic_bytes


def generate(cache: Path) -> tuple[np.ndarray, np.ndarray]:
    if cache.is_file():
        with np.load(cache) as saved:
            return saved["x"], saved["y"]
    from mnist1d.data import get_dataset_args, make_dataset

    made = make_dataset(get_dataset_args())  # the paper's defaults, seed 42: the same data everywhere
    x = np.concatenate([made["x"], made["x_test"]]).astype(np.float32)
    y = np.concatenate([made["y"], made["y_test"]]).astype(np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y)
    write_atomic_bytes(cache, buffer.getvalue())
    return x, y


def mnist1d(
    root: str = "data",
    batch_size: PositiveInt = 64,
    eval_batch_size: PositiveInt = 512,
    val_fraction: OpenUnitInterval = 0.1,
    test_fraction: OpenUnitInterval = 0.2,
    seed: int = 0,
) -> InMemoryDataModule:
    x, y = generate(Path(root) / "mnist1d" / "mnist1d.npz")
    return InMemoryDataModule(
        x[:, None, :],  # (N, L=40) -> (N, C=1, L=40): one channel, for 1-D convolutions
        y,
        name="mnist1d",
        class_names=[str(c) for c in range(10)],
        batch_size=batch_size,
        eval_batch_size=eval_batch_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
