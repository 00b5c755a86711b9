"""MNIST and Fashion-MNIST from their IDX files: 60,000 training and 10,000 test images of 28x28, 10 classes.

    dlx train data=mnist
    dlx train data=fashion_mnist data.download=true     # fetch the four files once into data/fashion_mnist/

Files are read from root/<option>/, gzipped or not (the raw file when both are there). The official test
split (the t10k files) is kept; val is cut from the 60,000 training images.
"""

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlx.data.download import fetch, url_for
from dlx.data.prepare import data_option
from dlx.data.source import Source, problem

IMAGES = 0x00000803  # 0x00 0x00, type 0x08 (unsigned byte), 3 dimensions: N x rows x cols
LABELS = 0x00000801  # the same, 1 dimension: N

# the canonical base URLs (data.mirror replaces them) and the published MD5 of each file
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # yann.lecun.com often refuses downloads
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_CLASSES = [
    *("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"),
    *("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
]

# split -> (images, labels), file names without .gz
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class IdxSet:
    title: str
    url: str  # base URL of the .gz files; data.mirror replaces it
    md5: dict[str, str]
    class_names: list[str]


SETS = {
    "mnist": IdxSet("MNIST", MNIST_URL, MNIST_MD5, [str(d) for d in range(10)]),
    "fashion_mnist": IdxSet("Fashion-MNIST", FASHION_MNIST_URL, FASHION_MNIST_MD5, FASHION_CLASSES),
}


@data_option
def mnist(root: str = "data", download: bool = False, mirror: str | None = None) -> Source:
    """root: the folder holding mnist/; download: fetch missing files (checksum-verified); mirror: a base URL
    serving the same file names instead of the canonical one."""
    return load_idx_set("mnist", Path(root), download, mirror)


@data_option
def fashion_mnist(root: str = "data", download: bool = False, mirror: str | None = None) -> Source:
    """root: the folder holding fashion_mnist/; download and mirror as for mnist."""
    return load_idx_set("fashion_mnist", Path(root), download, mirror)


def load_idx_set(name: str, root: Path, download: bool, mirror: str | None) -> Source:
    spec, folder = SETS[name], root / name
    missing = [stem for pair in FILES.values() for stem in pair if find(folder, stem) is None]
    if missing and download:
        for stem in missing:
            fetch(url_for(mirror or spec.url, f"{stem}.gz"), folder / f"{stem}.gz", spec.md5[f"{stem}.gz"])
        missing = []
    if missing:
        problem(
            str(folder),
            f"missing {', '.join(f'{stem}[.gz]' for stem in missing)}: put the {spec.title} files from "
            f"{mirror or spec.url} in {folder.absolute()}/ (gzipped or not), or set data.download=true to fetch them",
        )
    parts = {}
    for split, (images, labels) in FILES.items():
        if images not in missing and labels not in missing:
            part = read_pair(find(folder, images), find(folder, labels), len(spec.class_names))
            if part is not None:
                parts[split] = part
    return to_source(parts, spec, name)


def to_source(parts: dict[str, tuple[np.ndarray, np.ndarray]], spec: IdxSet, name: str) -> Source:
    """Training images first, then the official test images."""
    if not parts:  # nothing readable; only reached while collecting problems
        return Source(np.zeros((0, 1, 28, 28), np.float32), np.zeros(0), spec.class_names, name)
    images = np.concatenate([images for images, _ in parts.values()])
    x = images[:, None].astype(np.float32)  # (N, rows, cols) -> (N, C=1, rows, cols)
    x /= 255.0
    y = np.concatenate([labels for _, labels in parts.values()])
    n_train = len(parts["train"][0]) if "train" in parts else 0
    fixed = {"test": np.arange(n_train, len(y))} if "test" in parts else {}
    return Source(x, y, class_names=spec.class_names, name=name, fixed=fixed)


def find(folder: Path, stem: str) -> Path | None:
    """The file as shipped (stem.gz) or unpacked (stem); the unpacked one when both are there."""
    for path in (folder / stem, folder / f"{stem}.gz"):
        if path.is_file():
            return path
    return None


def read_pair(images_path: Path, labels_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(images uint8 (N, rows, cols), labels uint8 (N,)); the readable part, or None, after a problem."""
    images, labels = read_idx(images_path, IMAGES), read_idx(labels_path, LABELS)
    if images is None or labels is None:
        return None
    (images, n_images), (labels, n_labels) = images, labels
    if n_images != n_labels:  # the headers' counts: a truncated file is its own problem
        problem(
            str(labels_path),
            f"{n_labels} labels for the {n_images} images of {images_path.name}: the two files must come "
            "from the same release",
        )
    n = min(len(images), len(labels))
    images, labels = images[:n], labels[:n]
    bad = np.flatnonzero(labels >= num_classes)
    if len(bad):
        problem(
            str(labels_path),
            f"label {labels[bad[0]]} of sample {bad[0]} is out of range 0..{num_classes - 1} ({len(bad)} such labels)",
        )
        keep = labels < num_classes
        images, labels = images[keep], labels[keep]
    return images, labels


def read_idx(path: Path, magic: int) -> tuple[np.ndarray, int] | None:
    """(the uint8 array an IDX file holds, shaped by its header, the header's count N); after a problem,
    the whole records there are, or None."""
    data = read_bytes(path)
    if data is None:
        return None
    ndim = magic & 0xFF
    what = "images (N x rows x cols)" if magic == IMAGES else "labels (N)"
    found = int.from_bytes(data[:4], "big")
    if len(data) < 4 or found != magic:
        problem(
            str(path),
            f"magic number 0x{found:08x}, expected 0x{magic:08x} (IDX {what} of unsigned bytes): "
            "not an IDX file of this kind, or the images and labels files are swapped",
        )
        return None
    header = 4 + 4 * ndim
    if len(data) < header:
        problem(str(path), f"is truncated: {len(data)} bytes, shorter than its {header}-byte header")
        return None
    shape = struct.unpack(f">{ndim}I", data[4:header])  # big-endian uint32 sizes
    body = np.frombuffer(data, np.uint8, offset=header)
    record = int(np.prod(shape[1:]))  # bytes per image (rows * cols) or per label (1)
    expected = shape[0] * record
    if len(body) != expected:
        state = "is truncated" if len(body) < expected else "has trailing bytes"
        problem(
            str(path),
            f"{state}: its header promises {' x '.join(map(str, shape))} = {expected} bytes of data, found {len(body)}",
        )
        n = min(shape[0], len(body) // max(record, 1))
        return body[: n * record].reshape(n, *shape[1:]), shape[0]
    return body.reshape(shape), shape[0]


def read_bytes(path: Path) -> bytes | None:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError; a cut-off stream an EOFError
        problem(str(path), f"cannot be read: {e}; fetch it again (data.download=true after removing it)")
        return None
