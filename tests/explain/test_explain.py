"""dlx explain on data with known answers: only feature f2 decides a table; only a corner patch decides an image."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_dirs, run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("explain-explain")

QUIET = ["trainer.progress=false", "trainer.checkpoint_every_s=0"]


def train(workdir: Path, *args: str) -> Path:
    out = run_in_process("train", *args, *QUIET, cwd=workdir)
    assert out.returncode == 0, out.stderr
    return run_dirs(workdir / "runs")[-1]


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> Path:
    """600 rows of six standard-normal features; the class is f2 > 0, the other five are noise."""
    workdir = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6))
    with open(workdir / "table.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"f{i}" for i in range(6)] + ["label"])
        for row in x:
            writer.writerow([f"{v:.5f}" for v in row] + ["pos" if row[2] > 0 else "neg"])
    return train(workdir, "data=csv", "data.path=table.csv", "data.target=label", "model=mlp", "trainer.max_epochs=15")


@pytest.fixture(scope="module")
def corner_images(tmp_path_factory) -> Path:
    """12x12 grey images of noise over the whole range; the class is only in the top-left 6x6 patch (a quarter of
    the image): white (on) or black (off)."""
    root = tmp_path_factory.mktemp("corner") / "images"
    rng = np.random.default_rng(0)
    for label in ("on", "off"):
        (root / label).mkdir(parents=True)
        for i in range(300):
            img = rng.integers(0, 256, size=(12, 12)).astype(np.uint8)
            img[:6, :6] = 255 if label == "on" else 0
            Image.fromarray(img).save(root / label / f"{i}.png")
    return root


IMAGES = ["data=image_folder", "data.size=[12,12]", "data.channels=1", "trainer.max_epochs=12"]


@pytest.fixture(scope="module")
def corner_run(corner_images: Path, tmp_path_factory) -> Path:
    """A sparse MLP (L1): the weights on pixels that carry nothing go to zero, so the known answer is sharp."""
    workdir = tmp_path_factory.mktemp("corner_mlp")
    return train(workdir, *IMAGES, f"data.root={corner_images}", "model=mlp", "reg=[l1]", "reg.l1.strength=0.001")


@pytest.fixture(scope="module")
def corner_cnn(corner_images: Path, tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("corner_cnn"), *IMAGES, f"data.root={corner_images}", "model=cnn")


def explain(run: Path, *settings: str):
    return run_in_process("explain", str(run), *settings, cwd=run.parent.parent.parent)


def ranking(run: Path, method: str) -> list[str]:
    with open(run / "explain" / method / "importance.csv") as f:
        return [row["feature"] for row in csv.DictReader(f)]


@pytest.mark.parametrize("method", ["permutation", "shap", "lime"])
def test_the_deciding_feature_ranks_first(table_run: Path, method: str):
    out = explain(table_run, f"method={method}", "n=24")
    assert out.returncode == 0, out.stderr
    assert ranking(table_run, method)[0] == "f2", ranking(table_run, method)
    summary = json.loads((table_run / "explain" / method / "summary.json").read_text())
    assert (
        summary["top"][0]["feature"] == "f2" and summary["top"][0]["importance"] > 2 * summary["top"][1]["importance"]
    )
    assert (table_run / "explain" / method / "importance.png").stat().st_size > 1000
    assert "f2" in out.stdout


def test_permutation_is_repeated_with_a_seed_and_reports_the_spread(table_run: Path):
    first = explain(table_run, "method=permutation", "repeats=4", "seed=3")
    kept = (table_run / "explain" / "permutation" / "importance.csv").read_text()
    again = explain(table_run, "method=permutation", "repeats=4", "seed=3")
    assert first.returncode == again.returncode == 0
    assert (table_run / "explain" / "permutation" / "importance.csv").read_text() == kept, "same seed, same numbers"
    with open(table_run / "explain" / "permutation" / "importance.csv") as f:
        rows = {r["feature"]: r for r in csv.DictReader(f)}
    assert float(rows["f2"]["importance"]) > 0.3 and float(rows["f2"]["std"]) >= 0
    assert abs(float(rows["f0"]["importance"])) < 0.05, "shuffling noise costs (almost) nothing"


def test_rules_are_readable_and_faithful_above_chance(table_run: Path):
    out = explain(table_run, "method=rules", "depth=2")
    assert out.returncode == 0, out.stderr
    summary = json.loads((table_run / "explain" / "rules" / "summary.json").read_text())
    assert summary["depth"] <= 2 and summary["fidelity"] > max(0.9, summary["chance"])
    text = (table_run / "explain" / "rules" / "rules.txt").read_text()
    assert text.startswith("if f2 ") and " then " in text, text
    assert "fidelity" in out.stdout


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_gradient_attributions_sit_in_the_patch_that_decides(corner_run: Path, method: str):
    out = explain(corner_run, f"method={method}", "n=16")
    assert out.returncode == 0, out.stderr
    attr = np.abs(np.load(corner_run / "explain" / method / "attributions.npy"))  # (16, 1, 12, 12)
    share = attr[:, :, :6, :6].sum() / attr.sum()
    assert share > 0.5, f"{share:.2f} of the attribution in the corner patch, a quarter of the image"
    assert (corner_run / "explain" / method / "attributions.png").stat().st_size > 1000


def test_occlusion_gradcam_and_patch_importance_find_the_corner(corner_run: Path, corner_cnn: Path):
    # Grad-CAM's map comes from the last convolution's coarse grid (3x3 here), upsampled: a looser bound
    for run, method, factor in ((corner_run, "occlusion", 2.0), (corner_cnn, "gradcam", 1.2)):
        out = explain(run, f"method={method}", "n=8", "window=3")
        assert out.returncode == 0, out.stderr
        attr = np.abs(np.load(run / "explain" / method / "attributions.npy"))
        assert attr[:, :, :6, :6].mean() > factor * attr[:, :, 6:, 6:].mean(), method
        assert (run / "explain" / method / "attributions.png").is_file()
    out = explain(corner_run, "method=permutation", "patch=6")
    assert out.returncode == 0, out.stderr
    assert ranking(corner_run, "permutation")[0] == "r0c0", "the top-left patch decides"
    assert (corner_run / "explain" / "permutation" / "importance_map.png").is_file()
    assert "explain/permutation/importance.png" in (corner_run / "report.html").read_text(), "the report links it"


def test_what_does_not_fit_is_one_line_before_any_work(table_run: Path, corner_run: Path, tmp_path: Path):
    cases = [
        (table_run, ["method=gradcam"], "gradcam needs images or signals"),
        (corner_run, ["method=shap"], "patch: method=shap ranks groups of pixels"),
        (corner_run, ["method=magic"], "method: got 'magic'; valid: saliency"),
        (corner_run, [], "method: missing; give method=NAME, one of: saliency"),
        (corner_run, ["method=saliency", "n=0"], "n: got 0"),
    ]
    for run, settings, message in cases:
        out = explain(run, *settings)
        assert out.returncode == 2 and message in out.stderr, (settings, out.stderr)
        assert "Traceback" not in out.stderr
    bare = tmp_path / "runs" / "x" / "bare"
    shutil.copytree(table_run, bare, ignore=shutil.ignore_patterns("checkpoints", "explain"))
    out = run_in_process("explain", str(bare), "method=saliency", cwd=tmp_path)
    assert out.returncode == 2 and "has no checkpoint" in out.stderr, out.stderr
    assert not (bare / "explain").exists()


def test_signals_get_line_plots_with_the_attribution_as_shading(tmp_path: Path):
    run = train(tmp_path, "data=mnist1d", "data.subset=600", "model=cnn", "trainer.max_epochs=2")
    out = explain(run, "method=integrated_gradients", "n=4")
    assert out.returncode == 0, out.stderr
    attr = np.load(run / "explain" / "integrated_gradients" / "attributions.npy")
    assert attr.shape == (4, 1, 40) and np.abs(attr).sum() > 0
    assert (run / "explain" / "integrated_gradients" / "attributions.png").stat().st_size > 1000
    summary = json.loads((run / "explain" / "integrated_gradients" / "summary.json").read_text())
    assert summary["kind"] == "signal"


def test_gradcam_refuses_a_model_whose_only_convolution_embeds_patches_for_attention():
    """A vision transformer's convolution is its patch embedding: a Grad-CAM map there shows the input, not the
    decision. A CNN's last convolution is taken."""
    import torch

    from dlx.config.errors import ConfigError
    from dlx.explain.inputs import convolution_layer

    embed = torch.nn.Conv2d(1, 8, kernel_size=4, stride=4)
    vit = torch.nn.ModuleDict({"embed": embed, "attend": torch.nn.MultiheadAttention(8, 2, batch_first=True)})
    with pytest.raises(ConfigError, match="in model=transformer that is the patch embedding, before any attention"):
        convolution_layer(vit, "transformer")
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3))
    assert convolution_layer(cnn, "cnn") is cnn[2]
