"""CIFAR-10 and CIFAR-100 from their Python pickle batches: 50,000 training and 10,000 test colour images of 32x32.

    dlx train data=cifar10 model=resnet
    dlx train data=cifar100 data.labels=coarse data.download=true    # fetch and unpack the archive once

The official test split (test_batch, test) is kept. Batches are unpickled through an allow-list of numpy's
array constructors, so a crafted file cannot run code.
"""

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from dlx.data.download import fetch_archive, url_for
from dlx.data.prepare import data_option
from dlx.data.source import Source, problem

BASE_URL = "https://www.cs.toronto.edu/~kriz/"
CIFAR10_MD5 = {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"}  # published, of the archive
CIFAR100_MD5 = {"cifar-100-python.tar.gz": "eb9058c3a382ffc7106e4002c42a8d85"}
PIXELS = 3 * 32 * 32  # a row of b"data": the red, green and blue 32x32 planes, each row-major


@dataclass(frozen=True)
class CifarSet:
    title: str
    md5: dict[str, str]  # {archive name: MD5}
    folder: str  # what the archive unpacks to, inside root/<option>/
    train: list[str]
    test: str
    meta: str


CIFAR10 = CifarSet(
    "CIFAR-10",
    CIFAR10_MD5,
    "cifar-10-batches-py",
    train=[f"data_batch_{i}" for i in range(1, 6)],
    test="test_batch",
    meta="batches.meta",
)
CIFAR100 = CifarSet("CIFAR-100", CIFAR100_MD5, "cifar-100-python", train=["train"], test="test", meta="meta")


class Labels(NamedTuple):
    key: bytes  # in each batch
    names_key: bytes  # in the meta file
    count: int


@data_option
def cifar10(root: str = "data", download: bool = False, mirror: str | None = None) -> Source:
    """root: the folder holding cifar10/; download: fetch and unpack the archive when files are missing
    (checksum-verified); mirror: a base URL serving cifar-10-python.tar.gz instead of the canonical one."""
    return load_cifar(CIFAR10, "cifar10", Path(root), download, mirror, Labels(b"labels", b"label_names", 10))


@data_option
def cifar100(
    root: str = "data", download: bool = False, mirror: str | None = None, labels: Literal["fine", "coarse"] = "fine"
) -> Source:
    """labels: fine (100 classes) or coarse (the 20 superclasses); root, download and mirror as for cifar10."""
    chosen = Labels(f"{labels}_labels".encode(), f"{labels}_label_names".encode(), 100 if labels == "fine" else 20)
    return load_cifar(CIFAR100, "cifar100", Path(root), download, mirror, chosen)


def load_cifar(spec: CifarSet, name: str, root: Path, download: bool, mirror: str | None, labels: Labels) -> Source:
    (archive,) = spec.md5
    folder = root / name / spec.folder
    missing = [f for f in [*spec.train, spec.test, spec.meta] if not (folder / f).is_file()]
    if missing and download:
        fetch_archive(url_for(mirror or BASE_URL, archive), root / name, spec.md5[archive])
        missing = [f for f in missing if not (folder / f).is_file()]
        if missing:
            problem(str(folder), f"{archive} did not hold {', '.join(missing)}")
    elif missing:
        problem(
            str(folder),
            f"missing {', '.join(missing)}: unpack {archive} (from {url_for(mirror or BASE_URL, archive)}) in "
            f"{(root / name).absolute()}/, or set data.download=true to fetch it",
        )
    class_names = read_class_names(folder / spec.meta, labels) if spec.meta not in missing else None
    train = [read_batch(folder / f, labels) for f in spec.train if f not in missing]
    test = read_batch(folder / spec.test, labels) if spec.test not in missing else None
    parts = [p for p in [*train, test] if p is not None] or [(np.zeros((0, PIXELS), np.uint8), np.zeros(0, int))]
    x = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32).astype(np.float32)  # (N, 3072) -> (N, 3, 32, 32)
    x /= 255.0
    y = np.concatenate([p[1] for p in parts])
    fixed = {"test": np.arange(len(y) - len(test[1]), len(y))} if test is not None else {}
    return Source(x, y, class_names=class_names or [str(c) for c in range(labels.count)], name=name, fixed=fixed)


def read_class_names(path: Path, labels: Labels) -> list[str] | None:
    meta = unpickle(path)
    if meta is None:
        return None
    names = meta.get(labels.names_key)
    if not isinstance(names, list) or len(names) != labels.count:
        expected = f"a list of {labels.count} class names"
        problem(str(path), f"{labels.names_key!r} should be {expected}, found {describe(names)}")
        return None
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def read_batch(path: Path, labels: Labels) -> tuple[np.ndarray, np.ndarray] | None:
    """(pixels uint8 (N, 3072), labels int64 (N,)); the readable part, or None, after a problem."""
    batch = unpickle(path)
    if batch is None:
        return None
    key, k = labels.key, labels.count
    data, stored = batch.get(b"data"), batch.get(key)
    if data is None or stored is None:
        absent = b"data" if data is None else key
        problem(str(path), f"has no {absent!r} entry; its keys are {sorted(batch, key=repr)}")
        return None
    x, y = np.asarray(data), np.asarray(stored)  # arrays, or the lists the Python 2 files hold
    if x.ndim != 2 or x.shape[1] != PIXELS or x.dtype.kind not in "iu" or (x.size and (x.min() < 0 or x.max() > 255)):
        problem(str(path), f"b'data' is {describe(data)}, expected (N, {PIXELS}) bytes 0..255 (3 planes of 32x32)")
        return None
    if y.ndim != 1 or y.dtype.kind not in "iu":
        problem(str(path), f"{key!r} is {describe(stored)}, expected a list of N class indices")
        return None
    if len(x) != len(y):
        problem(str(path), f"{len(y)} labels for {len(x)} images: {key!r} and b'data' must be the same length")
        x, y = x[: min(len(x), len(y))], y[: min(len(x), len(y))]
    bad = np.flatnonzero((y < 0) | (y >= k))
    if len(bad):
        problem(str(path), f"label {y[bad[0]]} of sample {bad[0]} is out of range 0..{k - 1} ({len(bad)} such labels)")
        x, y = np.delete(x, bad, axis=0), np.delete(y, bad)
    return x.astype(np.uint8), y.astype(np.int64)


def describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array {value.shape} of {value.dtype}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__


class Refused(pickle.UnpicklingError):
    pass


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves only the globals numpy arrays pickle to; anything else (os.system, builtins.eval, ...) is refused."""

    def find_class(self, module: str, name: str):
        allowed = numpy_globals().get((module, name))
        if allowed is None:
            raise Refused(
                f"refused to unpickle {module}.{name}: CIFAR batches hold only numpy arrays, lists and bytes; "
                "this is not a published batch: unpack the published archive again"
            )
        return allowed


def numpy_globals() -> dict[tuple[str, str], object]:
    """numpy 1.x pickles name numpy.core, numpy 2.x numpy._core; both resolve to this numpy's functions."""
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric
    found = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core", "numpy._core"):
        found[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct  # protocols 2-4
        found[(f"{core}.multiarray", "scalar")] = multiarray.scalar  # a numpy integer among list labels
        found[(f"{core}.numeric", "_frombuffer")] = numeric._frombuffer  # protocol 5
    return found


def unpickle(path: Path) -> dict | None:
    """The batch's dict (bytes keys, as the Python 2 files were written), or None after a problem."""
    try:
        with path.open("rb") as f:
            loaded = NumpyOnlyUnpickler(f, encoding="bytes").load()
    except Refused as e:
        loaded, error = None, str(e)
    except Exception as e:  # a damaged pickle fails in many ways: EOFError, UnpicklingError, ValueError, ...
        loaded, error = None, f"is not a readable pickle ({type(e).__name__}: {e}); unpack it again"
    else:
        error = None if isinstance(loaded, dict) else f"holds a {type(loaded).__name__}, expected a dict"
    if error:
        problem(str(path), error)
        return None
    return loaded
