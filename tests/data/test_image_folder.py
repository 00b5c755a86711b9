"""data=image_folder: folders of PNG/JPEG per class, in memory or streamed, with the same splits and statistics."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dlx.config.errors import ConfigError
from dlx.data.image_folder import image_folder
from dlx.data.source import Source, collect_problems
from dlx.data.streaming import StreamedImages, StreamingDataModule
from tests.conftest import build, run_dirs, run_dlx
from tests.data.formats_image import COLOURS, SMOKE_FILES, write_image_folder
from tests.test_registry import FAST

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("data-image_folder")

read_source = image_folder.__wrapped__  # the builder alone: a Source (or the streamed file list), before the pipeline


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("images")
    write_image_folder(root, classes=("owl", "cat", "dog"))  # written unsorted: class names come back sorted
    return root


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_images_are_resized_scaled_and_labelled_by_their_folder(fmt, tmp_path: Path):
    write_image_folder(tmp_path, fmt=fmt)
    source = read_source(root=str(tmp_path), size=[6, 5])
    assert isinstance(source, Source) and source.class_names == ["cat", "dog", "owl"]
    assert source.x.shape == (30, 3, 6, 5) and source.x.dtype == np.float32
    assert 0 <= source.x.min() and source.x.max() <= 1 and source.x.max() > 0.5
    assert all(Path(f).suffix == f".{fmt}" for f in source.files)
    assert [Path(f).parent.name for f in source.files] == [source.class_names[c] for c in source.y]
    brightest = source.x.mean(axis=(2, 3)).argmax(1)  # each class was drawn in its own colour
    expected = [int(np.argmax(COLOURS[source.class_names[c]])) for c in source.y]
    assert brightest.tolist() == expected


def test_grey_images_have_one_channel(images: Path):
    source = read_source(root=str(images), size=[12, 10], channels=1)
    assert source.x.shape == (30, 1, 12, 10)
    grey = np.asarray(Image.open(source.files[0]).convert("L"), dtype=np.float32) / 255
    assert np.allclose(source.x[0, 0], grey, atol=1e-6), "same size: resizing changes nothing"


def test_val_and_test_roots_are_kept_as_official_splits(tmp_path: Path):
    write_image_folder(tmp_path / "train")
    write_image_folder(tmp_path / "val", per_class=4, seed=1)
    write_image_folder(tmp_path / "test", classes=("cat", "owl"), per_class=3, seed=2)  # a class may be missing
    roots = {"root": str(tmp_path / "train"), "val_root": str(tmp_path / "val"), "test_root": str(tmp_path / "test")}
    source = read_source(**roots, size=[8, 8])
    for split, n in (("val", 12), ("test", 6)):
        assert len(source.fixed[split]) == n
        assert all(Path(source.files[i]).parts[-3] == split for i in source.fixed[split])
    for in_memory in (True, False):
        data = image_folder(**roots, size=[8, 8], in_memory=in_memory, workers=0, seed=0)
        assert data.info["official_splits"] == ["test", "val"]
        assert data.info["sizes"] == {"train": 30, "val": 12, "test": 6}

    shutil.copytree(tmp_path / "val" / "cat", tmp_path / "val" / "fox")
    with pytest.raises(ConfigError, match=r"val/fox: class folder 'fox' is not a class of data.root .*cat, dog, owl"):
        read_source(**roots)


def with_one_bad_file(root: Path, name: str) -> Path:
    bad = {p.name: p for p in write_image_folder(root, corrupt=True)}
    for other in set(bad) - {name}:
        bad[other].unlink()
    return bad[name]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing root", r"nowhere: data.root is not a folder"),
        ("no class folders", r"images: data.root has no class folders; expected root/CLASS/\*\{.jpeg,.jpg,.png\}"),
        ("empty class folder", r"bat: class folder holds no images \(.jpeg, .jpg, .png\)"),
        ("truncated.png", r"cat/truncated.png: is not a readable image \(the file is cut short\)"),
        ("garbage.jpg", r"cat/garbage.jpg: is not a readable image \(not an image format Pillow recognizes\)"),
        ("one class", r"images: holds images of one class only \(cat\); a classifier needs 2\+ class folders"),
    ],
)
def test_bad_input_is_an_error_naming_the_path(case, message, tmp_path: Path):
    if case == "missing root":
        root = tmp_path / "nowhere"
    elif case == "no class folders":
        write_image_folder(tmp_path)
        (root := tmp_path / "images").mkdir()
        shutil.copy(tmp_path / "cat" / "000.png", root)  # images, but not in class folders
    elif case == "empty class folder":
        write_image_folder(root := tmp_path / "images")
        (root / "bat").mkdir()
    elif case == "one class":
        write_image_folder(root := tmp_path / "images", classes=("cat",))
    else:
        with_one_bad_file(root := tmp_path / "images", case)
    with pytest.raises(ConfigError, match=message):
        read_source(root=str(root))


def test_a_missing_root_key_says_it_is_required():
    with pytest.raises(ConfigError, match=r"^data.root: is required"):
        read_source()


@pytest.mark.parametrize("in_memory", [True, False])
def test_collected_problems_list_every_bad_file_and_the_rest_loads(in_memory, tmp_path: Path):
    bad = write_image_folder(tmp_path, corrupt=True)
    (tmp_path / "bat").mkdir()
    with collect_problems() as found:
        data = image_folder(root=str(tmp_path), size=[8, 8], in_memory=in_memory, workers=1, seed=0)
    assert sorted(p["where"] for p in found) == sorted([str(tmp_path / "bat"), *map(str, bad)])
    assert data.class_names == ["cat", "dog", "owl"]
    assert sum(data.info["sizes"].values()) == 30
    if not in_memory:  # what `dlx data check` reads: the file list, bad files already left out and listed
        with collect_problems() as found:
            source = read_source(root=str(tmp_path), in_memory=False, workers=0)
        assert len(found) == 3 and len(source.files) == 30 and len(set(source.file_digests())) == 30
        assert source.sample_shape == (3, 32, 32)


def test_a_tiny_memory_limit_streams_through_workers_and_trains(tmp_path: Path):
    overrides = SMOKE_FILES["image_folder"](tmp_path / "data")
    # 30 images of 3 x 64 x 64 float32 are 1.4 MiB: over a 1 MiB limit
    exp = build(
        ["data=image_folder", *overrides, "data.size=[64,64]", "data.memory_limit_mb=1", *FAST], tmp_path / "run"
    )
    assert isinstance(exp.data, StreamingDataModule) and exp.data.in_shape == (3, 64, 64)
    loader = exp.data.train_dataloader()
    assert isinstance(loader, torch.utils.data.DataLoader) and loader.num_workers == 2 and loader.persistent_workers
    before = [p.detach().clone() for p in exp.module.net.parameters()]
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.trainer.global_step >= 1
    assert any(not torch.equal(a, b) for a, b in zip(before, exp.module.net.parameters(), strict=True))


@pytest.mark.parametrize("normalize", ["standard", "minmax"])
def test_streamed_statistics_and_batches_equal_the_in_memory_ones(normalize, images: Path):
    options = {"root": str(images), "size": [8, 8], "normalize": normalize, "workers": 0, "seed": 3}
    held, streamed = image_folder(**options, in_memory=True), image_folder(**options, in_memory=False)
    assert isinstance(read_source(root=str(images), in_memory=False), StreamedImages)
    assert torch.allclose(held.normalizer.shift, streamed.normalizer.shift, rtol=1e-6, atol=1e-7)
    assert torch.allclose(held.normalizer.scale, streamed.normalizer.scale, rtol=1e-6, atol=1e-7)
    assert {k: v for k, v in streamed.info.items() if k not in ("streamed", "workers")} == held.info
    assert torch.equal(streamed.train_targets(), held.train_targets())
    x_val = torch.cat([x for x, _ in streamed.eval_batches("val")])
    assert torch.allclose(x_val, held.splits["val"][0], atol=1e-5), "normalized after transfer, as in memory"
    assert torch.allclose(streamed.sample_batch(2), held.sample_batch(2), atol=1e-5)


def batch_labels(data) -> list[list[int]]:
    return [y.tolist() for _, y in data.train_dataloader()]


def test_the_same_seed_gives_the_same_batch_order(images: Path):
    def streamed(seed: int, workers: int):
        return image_folder(root=str(images), size=[8, 8], batch_size=4, in_memory=False, workers=workers, seed=seed)

    first = batch_labels(streamed(0, workers=2))
    assert first == batch_labels(streamed(0, workers=0)), "worker processes do not change the order"
    assert first != batch_labels(streamed(1, workers=0))
    held = image_folder(root=str(images), size=[8, 8], batch_size=4, in_memory=True, seed=0)
    assert first == batch_labels(held), "the order in memory, too"


@pytest.mark.parametrize("in_memory", [True, False])
def test_identical_files_are_dropped_as_duplicates_and_leakage(in_memory, tmp_path: Path):
    write_image_folder(tmp_path / "train")
    write_image_folder(tmp_path / "val", per_class=3, seed=1)
    write_image_folder(tmp_path / "test", per_class=3, seed=2)
    shutil.copy(tmp_path / "train/cat/000.png", tmp_path / "train/cat/copy.png")
    shutil.copy(tmp_path / "train/dog/001.png", tmp_path / "val/dog/copy.png")
    shutil.copy(tmp_path / "train/owl/002.png", tmp_path / "val/owl/copy.png")
    shutil.copy(tmp_path / "train/owl/003.png", tmp_path / "test/owl/copy.png")
    roots = {"root": str(tmp_path / "train"), "val_root": str(tmp_path / "val"), "test_root": str(tmp_path / "test")}
    data = image_folder(**roots, size=[8, 8], in_memory=in_memory, workers=0, seed=0)
    removed = data.info["clean"]["removed"]
    assert removed["duplicate"]["train"] == 1
    leaked = {s: sum(per.get(s, 0) for why, per in removed.items() if why != "duplicate") for s in ("val", "test")}
    assert leaked == {"val": 2, "test": 1}, removed
    assert data.info["sizes"] == {"train": 30, "val": 9, "test": 9}
    if not in_memory:
        assert not any("copy" in f for files in data.files.values() for f in files if "/train/" not in f)


def test_imbalance_on_streamed_data_weights_and_resamples_but_smote_needs_memory(images: Path):
    from dlx.imbalance.class_weights import class_weights
    from dlx.imbalance.resample import oversample
    from dlx.imbalance.smote import smote

    data = image_folder(root=str(images), size=[8, 8], in_memory=False, workers=0, seed=0)
    counts = torch.bincount(data.train_targets())
    assert class_weights().loss_weights(data.train_targets(), 3).argmax() == counts.argmin()
    with pytest.raises(ConfigError, match=r"^imbalance: Smote .* data.in_memory=true"):
        data.use_imbalance(smote())
    data.use_imbalance(oversample())
    assert len(data.train_dataloader().sampler) == 3 * int(counts.max())
    assert sum(len(y) for y in batch_labels(data)) == 3 * int(counts.max())


def test_dlx_train_on_an_image_folder_through_the_cli(images: Path, workdir: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    args = ["data=image_folder", f"data.root={images}", "data.size=[8,8]", "trainer=smoke", f"runs_dir={runs}"]
    done = run_dlx("train", *args, "data.in_memory=false", "data.workers=1", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (run,) = run_dirs(runs)
    assert json.loads((run / "report.json").read_text())["class_names"] == ["cat", "dog", "owl"]


def test_a_16_bit_grey_png_is_scaled_to_0_1_not_clipped_white(tmp_path: Path):
    from dlx.data.image_folder import decode

    ramp = np.linspace(0, 65535, 8 * 8).reshape(8, 8).astype(np.uint16)  # 16-bit greys, black to white
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I"), "written as a 16-bit PNG"
    pixels = decode((tmp_path / "deep.png").read_bytes(), (1, 8, 8))  # (1, 8, 8) in [0, 1]
    assert pixels.shape == (1, 8, 8)
    assert np.allclose(pixels[0], ramp / 65535, atol=1 / 255), "each value scaled, none clipped at 255"
