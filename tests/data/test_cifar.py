"""CIFAR-10 / CIFAR-100 from pickle batches the tests write: what is read, what is refused."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.data.cifar import cifar10, cifar100
from dlx.data.source import collect_problems
from tests.conftest import build
from tests.data.formats_idx_cifar import CIFAR10_NAMES, dump, write_cifar10, write_cifar100

C10 = Path("cifar10") / "cifar-10-batches-py"
C100 = Path("cifar100") / "cifar-100-python"


def source10(root: Path):
    return cifar10.__wrapped__(root=str(root))  # the builder's Source, before the pipeline


def pixels(x: np.ndarray) -> np.ndarray:
    return np.rint(x * 255).astype(np.uint8).reshape(len(x), -1)  # (N, 3, 32, 32) in [0, 1] -> (N, 3072) bytes


# protocol 3 names numpy.core (as the published files, pickled by numpy 1.x); 5 names numpy._core._frombuffer
@pytest.mark.parametrize(("as_lists", "protocol"), [(False, 3), (True, 3), (False, 5)])
def test_cifar10_reads_batches_as_written(as_lists, protocol, tmp_path: Path):
    written = write_cifar10(tmp_path, n_train=50, n_test=20, as_lists=as_lists, protocol=protocol)
    source = source10(tmp_path)
    assert source.x.shape == (70, 3, 32, 32) and source.x.dtype == np.float32 and source.y.dtype == np.int64
    assert 0 <= source.x.min() and source.x.max() <= 1
    assert np.array_equal(pixels(source.x), np.concatenate([written["train"][0], written["test"][0]]))
    assert source.y.tolist() == [*written["train"][1].tolist(), *written["test"][1].tolist()]
    assert source.fixed["test"].tolist() == list(range(50, 70)), "test_batch is the test split"
    assert source.class_names == [n.decode() for n in CIFAR10_NAMES]


def test_channels_are_the_red_green_blue_planes_of_each_row(tmp_path: Path):
    write_cifar10(tmp_path, n_train=10, n_test=10)
    row = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.full(1024, 30)]).astype(np.uint8)
    dump({b"labels": list(range(10)), b"data": np.tile(row, (10, 1))}, tmp_path / C10 / "test_batch")
    x = source10(tmp_path).x[-1]
    assert [round(float(x[c].mean()) * 255) for c in range(3)] == [10, 20, 30]


@pytest.mark.parametrize(("labels", "k"), [("fine", 100), ("coarse", 20)])
def test_cifar100_fine_or_coarse_labels(labels, k, tmp_path: Path):
    written = write_cifar100(tmp_path, n_train=200, n_test=100)
    source = cifar100.__wrapped__(root=str(tmp_path), labels=labels)
    column = 1 if labels == "fine" else 2
    assert source.y.tolist() == [*written["train"][column].tolist(), *written["test"][column].tolist()]
    assert len(source.class_names) == k and source.class_names[1] == f"{labels}_1"
    assert source.x.shape == (300, 3, 32, 32) and len(source.fixed["test"]) == 100
    assert np.array_equal(pixels(source.x[:200]), written["train"][0])


class CreatesFile:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return open, (str(self.target), "w")  # unpickling would call open(target, "w")


def test_a_pickle_that_would_create_a_file_is_refused(tmp_path: Path):
    write_cifar10(tmp_path)
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(CreatesFile(proof))).close()
    assert proof.exists(), "a plain unpickler runs it: the payload is real"
    target = tmp_path / "pwned"
    dump({b"labels": [0], b"data": CreatesFile(target)}, tmp_path / C10 / "data_batch_3")
    with pytest.raises(ConfigError, match=r"data_batch_3: refused to unpickle (io|_io|builtins)\.open"):
        source10(tmp_path)
    assert not target.exists()


def write_batch(root: Path, data, labels) -> None:
    dump({b"data": data, b"labels": labels}, root / C10 / "data_batch_2")


BAD = {
    "wrong shape": (
        lambda r: write_batch(r, np.zeros((10, 1024), np.uint8), [0] * 10),
        "b'data' is an array (10, 1024)",
    ),
    "count mismatch": (lambda r: write_batch(r, np.zeros((10, 3072), np.uint8), [0] * 9), "9 labels for 10 images"),
    "label out of range": (
        lambda r: write_batch(r, np.zeros((10, 3072), np.uint8), [0] * 9 + [10]),
        "label 10 of sample 9 is out of range 0..9",
    ),
    "no labels": (lambda r: dump({b"data": []}, r / C10 / "data_batch_2"), "has no b'labels' entry"),
    "not a pickle": (lambda r: (r / C10 / "data_batch_2").write_bytes(b"\x00garbage"), "is not a readable pickle"),
    "meta names": (lambda r: dump({b"label_names": [b"cat"]}, r / C10 / "batches.meta"), "a list of 10 class names"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_batch_is_one_error_naming_it(case, tmp_path: Path):
    write_cifar10(tmp_path)
    spoil, words = BAD[case]
    spoil(tmp_path)
    with pytest.raises(ConfigError) as e:
        source10(tmp_path)
    assert str(e.value).startswith(str(tmp_path / C10) + "/") and words in str(e.value)


def test_collecting_problems_skips_bad_batches_and_reads_the_rest(tmp_path: Path):
    write_cifar10(tmp_path, n_train=50, n_test=20)
    BAD["not a pickle"][0](tmp_path)  # data_batch_2: its 10 samples are lost
    (tmp_path / C10 / "data_batch_5").unlink()
    with collect_problems() as found:
        source = source10(tmp_path)
    assert [Path(p["where"]).name for p in found] == ["cifar-10-batches-py", "data_batch_2"]
    assert len(source.y) == 30 + 20 and len(source.fixed["test"]) == 20


def test_missing_files_name_the_folder_the_archive_and_the_download_option(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("touched the network"))
    with pytest.raises(ConfigError) as e:
        cifar100.__wrapped__(root=str(tmp_path))
    message = str(e.value)
    assert message.startswith(str(tmp_path / C100)) and "missing train, test, meta" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz" in message and "data.download=true" in message


def test_cifar100_trains_a_smoke_step(tmp_path: Path):
    write_cifar100(tmp_path, n_train=1000, n_test=300)
    exp = build(["data=cifar100", f"data.root={tmp_path}", "trainer=smoke"], tmp_path / "run")
    assert exp.data.num_classes == 100 and len(exp.data.splits["test"][1]) == 300
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.global_step >= 1 and all(torch.isfinite(p).all() for p in exp.module.net.parameters())
