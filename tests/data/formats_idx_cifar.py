"""Small files in the real MNIST (IDX) and CIFAR (pickle batch) formats, written by the tests.

write_mnist(root, n_train=60, n_test=20)     # root/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
SMOKE_FILES["cifar10"](root) -> ["data.root=..."]
"""

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

from dlx.data.idx import FILES, IMAGES, LABELS

CIFAR10_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
CIFAR100_FINE = [f"fine_{i}".encode() for i in range(100)]
CIFAR100_COARSE = [f"coarse_{i}".encode() for i in range(20)]


def balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % k).astype(np.uint8)


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Header (magic, then each size as big-endian int32) and the uint8 data."""
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_file(path: Path, data: bytes, gz: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, compresslevel=1))
    else:
        path.write_bytes(data)


def write_mnist(root: Path, n_train=60, n_test=20, gz=True, name="mnist", rows=28, cols=28, seed=0) -> dict:
    """Random images and balanced labels in root/name/; returns {split: (images uint8 (N, rows, cols), labels)}."""
    rng = np.random.default_rng(seed)
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, rows, cols), dtype=np.uint8)
        labels = balanced_labels(n, 10, rng)
        images_name, labels_name = FILES[split]
        write_file(root / name / images_name, idx_bytes(images, IMAGES), gz)
        write_file(root / name / labels_name, idx_bytes(labels, LABELS), gz)
        written[split] = (images, labels)
    return written


def dump(obj, path: Path, protocol: int = 3) -> None:
    """Up to protocol 3, like the published batches: numpy 2's numpy._core renamed to numpy.core, as numpy 1.x
    names it (safe there: globals are newline-terminated text). Protocols 4 and 5 are kept as numpy 2 writes them."""
    data = pickle.dumps(obj, protocol=protocol)
    if protocol <= 3:
        data = data.replace(b"numpy._core.", b"numpy.core.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def cifar_pixels(n: int, rng: np.random.Generator, as_lists: bool):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return data.tolist() if as_lists else data, data


def write_cifar10(root: Path, n_train=50, n_test=20, as_lists=False, protocol=3, seed=0) -> dict:
    """root/cifar10/cifar-10-batches-py/: five training batches, test_batch, batches.meta.
    Returns {split: (pixels uint8 (N, 3072), labels int64)}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar10" / "cifar-10-batches-py"
    train_y = balanced_labels(n_train, 10, rng).astype(np.int64)
    train_x = []
    for i, part in enumerate(np.array_split(np.arange(n_train), 5), start=1):
        stored, data = cifar_pixels(len(part), rng, as_lists)
        batch = {b"batch_label": b"training batch", b"labels": train_y[part].tolist(), b"data": stored}
        dump(batch, folder / f"data_batch_{i}", protocol)
        train_x.append(data)
    test_y = balanced_labels(n_test, 10, rng).astype(np.int64)
    stored, test_x = cifar_pixels(n_test, rng, as_lists)
    dump({b"labels": test_y.tolist(), b"data": stored}, folder / "test_batch", protocol)
    dump({b"label_names": CIFAR10_NAMES, b"num_vis": 3072}, folder / "batches.meta", protocol)
    return {"train": (np.concatenate(train_x), train_y), "test": (test_x, test_y)}


def write_cifar100(root: Path, n_train=200, n_test=100, as_lists=False, seed=0) -> dict:
    """root/cifar100/cifar-100-python/{train, test, meta}; fine label c belongs to superclass c % 20.
    Returns {split: (pixels uint8 (N, 3072), fine labels, coarse labels)}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar100" / "cifar-100-python"
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        fine = balanced_labels(n, 100, rng).astype(np.int64)
        stored, data = cifar_pixels(n, rng, as_lists)
        batch = {b"data": stored, b"fine_labels": fine.tolist(), b"coarse_labels": (fine % 20).tolist()}
        dump(batch, folder / split)
        written[split] = (data, fine, fine % 20)
    dump({b"fine_label_names": CIFAR100_FINE, b"coarse_label_names": CIFAR100_COARSE}, folder / "meta")
    return written


def smoke(writer, **sizes):
    def write(root: Path) -> list[str]:
        writer(root, **sizes)
        return [f"data.root={root}"]

    return write


# 10 training samples per class, so val_fraction=0.1 leaves one of each for val; 3 test samples per class
SMOKE_FILES = {
    "mnist": smoke(write_mnist, n_train=100, n_test=30),
    "fashion_mnist": smoke(write_mnist, n_train=100, n_test=30, gz=False, name="fashion_mnist"),
    "cifar10": smoke(write_cifar10, n_train=100, n_test=30),
    "cifar100": smoke(write_cifar100, n_train=1000, n_test=300),
}
