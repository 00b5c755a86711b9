"""MNIST / Fashion-MNIST from IDX files the tests write: what is read, and a one-line error per bad file."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.data.idx import FASHION_CLASSES, LABELS, load_idx_set, mnist
from dlx.data.source import collect_problems
from tests.conftest import build
from tests.data.formats_idx_cifar import idx_bytes, write_mnist


@pytest.mark.parametrize("gz", [True, False])
def test_images_labels_and_official_test_split_are_read_as_written(gz, tmp_path: Path):
    written = write_mnist(tmp_path, n_train=40, n_test=20, gz=gz, rows=5, cols=7)  # sizes from the header
    source = load_idx_set("mnist", tmp_path, download=False, mirror=None)
    assert source.x.shape == (60, 1, 5, 7) and source.x.dtype == np.float32 and source.y.dtype == np.int64
    assert 0 <= source.x.min() and source.x.max() <= 1
    images = np.concatenate([written["train"][0], written["test"][0]])
    assert np.array_equal(np.rint(source.x[:, 0] * 255).astype(np.uint8), images)
    assert source.y.tolist() == [*written["train"][1].tolist(), *written["test"][1].tolist()]
    assert source.fixed["test"].tolist() == list(range(40, 60)), "the t10k files are the test split"
    assert source.class_names == [str(d) for d in range(10)]


def test_data_module_keeps_the_t10k_files_as_test_and_cuts_val_from_train(tmp_path: Path):
    write_mnist(tmp_path, n_train=100, n_test=30)
    dm = mnist(root=str(tmp_path), normalize="none", val_fraction=0.1, test_fraction=0.2)
    sizes = {s: len(y) for s, (_, y) in dm.splits.items()}
    assert sizes == {"train": 90, "val": 10, "test": 30}, "test_fraction is unused: the official split is kept"
    assert dm.in_shape == (1, 28, 28) and dm.num_classes == 10


def test_fashion_mnist_reads_its_folder_and_names_its_classes(tmp_path: Path):
    write_mnist(tmp_path, gz=False, name="fashion_mnist")
    (tmp_path / "fashion_mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not read: the raw file is preferred")
    source = load_idx_set("fashion_mnist", tmp_path, download=False, mirror=None)
    assert source.class_names[0] == "T-shirt/top" and source.class_names[-1] == "Ankle boot"
    assert source.class_names == FASHION_CLASSES and len(source.class_names) == 10
    assert len(source.y) == 80 and len(source.fixed["test"]) == 20


def test_missing_files_name_the_folder_the_files_and_the_download_option(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("touched the network"))
    write_mnist(tmp_path)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ConfigError) as e:
        load_idx_set("mnist", tmp_path, download=False, mirror=None)
    message = str(e.value)
    assert str((tmp_path / "mnist").absolute()) in message and "t10k-labels-idx1-ubyte" in message
    assert "train-images" not in message, "only what is missing"
    assert "data.download=true" in message and "ossci-datasets.s3.amazonaws.com/mnist" in message


def damage(folder: Path, case: str) -> tuple[str, str]:
    """Break one written file; (the file named in the error, words the error must hold)."""
    train_images, train_labels = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
    labels = np.arange(60, dtype=np.uint8) % 10
    if case == "wrong magic":  # labels where images belong
        train_images.write_bytes(gzip.compress(idx_bytes(labels, LABELS)))
        return train_images.name, "magic number 0x00000801, expected 0x00000803"
    if case == "truncated":
        data = gzip.decompress(train_images.read_bytes())
        train_images.write_bytes(gzip.compress(data[:-100]))
        return train_images.name, "is truncated: its header promises 60 x 28 x 28 = 47040 bytes of data, found 46940"
    if case == "count mismatch":
        train_labels.write_bytes(gzip.compress(idx_bytes(labels[:50], LABELS)))
        return train_labels.name, "50 labels for the 60 images of train-images-idx3-ubyte.gz"
    if case == "label out of range":
        labels[7] = 10
        train_labels.write_bytes(gzip.compress(idx_bytes(labels, LABELS)))
        return train_labels.name, "label 10 of sample 7 is out of range 0..9 (1 such labels)"
    assert case == "unreadable gzip"
    train_images.write_bytes(b"\x1f\x8b but not gzip")
    return train_images.name, "cannot be read"


CASES = ["wrong magic", "truncated", "count mismatch", "label out of range", "unreadable gzip"]


@pytest.mark.parametrize("case", CASES)
def test_each_bad_file_is_one_error_naming_it(case, tmp_path: Path):
    write_mnist(tmp_path)
    name, words = damage(tmp_path / "mnist", case)
    with pytest.raises(ConfigError) as e:
        load_idx_set("mnist", tmp_path, download=False, mirror=None)
    assert str(e.value).startswith(str(tmp_path / "mnist" / name) + ": ") and words in str(e.value)


def test_collecting_problems_lists_them_all_and_keeps_what_is_readable(tmp_path: Path):
    write_mnist(tmp_path)
    damage(tmp_path / "mnist", "truncated")  # 100 bytes short: the last whole image is lost
    test_labels = np.zeros(20, np.uint8)
    test_labels[[3, 5]] = 12
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(test_labels, LABELS)))
    with collect_problems() as found:
        source = load_idx_set("mnist", tmp_path, download=False, mirror=None)
    assert [Path(p["where"]).name for p in found] == ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert "2 such labels" in found[1]["problem"]
    assert len(source.y) == 59 + 18 and len(source.fixed["test"]) == 18, "whole records kept, bad labels dropped"


def test_fashion_mnist_trains_a_smoke_step(tmp_path: Path):
    write_mnist(tmp_path, n_train=100, n_test=30, gz=False, name="fashion_mnist")
    exp = build(["data=fashion_mnist", f"data.root={tmp_path}", "trainer=smoke"], tmp_path / "run")
    assert exp.data.class_names == FASHION_CLASSES
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.global_step >= 1 and all(torch.isfinite(p).all() for p in exp.module.net.parameters())
