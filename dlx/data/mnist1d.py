"""MNIST-1D (Greydanus, 2020): 5,000 1-D signals of length 40, 10 classes, generated locally with the
mnist1d package's generator and the paper's default arguments (never downloaded); cached under `root`.
Its official split is kept: 4,000 training and 1,000 test sequences.
    dlx train data=mnist1d model=cnn"""

import io
from pathlib import Path

import numpy as np

from dlx.data.prepare import data_option
from dlx.data.source import Source
from dlx.run_dir import write_atomic_bytes


def generate(cache: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """(x (N, 40), y (N,), n_train): the first n_train samples are the official training split."""
    if cache.is_file():
        with np.load(cache) as saved:
            n_train = int(saved["n_train"]) if "n_train" in saved else 4000  # caches from before n_train was kept
            return saved["x"], saved["y"], n_train
    from mnist1d.data import get_dataset_args, make_dataset

    made = make_dataset(get_dataset_args())  # the paper's defaults, seed 42: the same data everywhere
    x = np.concatenate([made["x"], made["x_test"]]).astype(np.float32)
    y = np.concatenate([made["y"], made["y_test"]]).astype(np.int64)
    n_train = len(made["x"])
    cache.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y, n_train=n_train)
    write_atomic_bytes(cache, buffer.getvalue())
    return x, y, n_train


@data_option
def mnist1d(root: str = "data") -> Source:
    x, y, n_train = generate(Path(root) / "mnist1d" / "mnist1d.npz")
    return Source(
        x[:, None, :],  # (N, L=40) -> (N, C=1, L=40): one channel, for 1-D convolutions
        y,
        class_names=[str(c) for c in range(10)],
        name="mnist1d",
        fixed={"test": np.arange(n_train, len(y))},
    )
