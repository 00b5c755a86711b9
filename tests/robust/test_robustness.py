"""dlx eval RUN attack=...: attacks order as theory says, accuracy falls with eps, adversarial training helps."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from dlx.robust.attacks import fgsm, gaussian_noise, input_bounds, pgd
from tests.conftest import run_dirs, run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("robust-robustness")

QUIET = ["trainer.progress=false", "trainer.checkpoint_every_s=0"]
EPS = [0.02, 0.05, 0.1, 0.2]


def train(workdir: Path, *args: str) -> Path:
    out = run_in_process("train", *args, *QUIET, cwd=workdir)
    assert out.returncode == 0, out.stderr
    return run_dirs(workdir / "runs")[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """digits MLP, the same seed and epochs, without and with adversarial training."""
    plain = train(tmp_path_factory.mktemp("plain"), "model=mlp", "trainer.max_epochs=10")
    robust = train(tmp_path_factory.mktemp("robust"), "model=mlp", "trainer.max_epochs=10", "reg=[adversarial]")
    return {"plain": plain, "robust": robust}


def evaluate(run: Path, *settings: str):
    return run_in_process("eval", str(run), *settings, cwd=run.parent.parent.parent)


def test_pgd_is_at_most_fgsm_is_at_most_clean_and_accuracy_falls_with_eps(runs):
    run = runs["plain"]
    out = evaluate(run, "attack=fgsm,pgd,noise", f"eps={','.join(map(str, EPS))}", "sigma=0.1,0.3,0.6")
    assert out.returncode == 0, out.stderr
    result = json.loads((run / "robustness.json").read_text())
    clean, fgsm_acc = result["clean_acc"], [p["acc"] for p in result["attacks"]["fgsm"]]
    pgd_acc = [p["acc"] for p in result["attacks"]["pgd"]]
    assert clean > 0.9
    for f, p in zip(fgsm_acc, pgd_acc, strict=True):
        assert p <= f <= clean, (clean, fgsm_acc, pgd_acc)
    assert pgd_acc == sorted(pgd_acc, reverse=True) and pgd_acc[-1] < pgd_acc[0] - 0.2, pgd_acc
    assert fgsm_acc[-1] < fgsm_acc[0], fgsm_acc
    noise = [p["acc"] for p in result["attacks"]["noise"]]
    assert noise[-1] < noise[0] <= clean + 0.02, noise
    assert (run / "robustness.png").stat().st_size > 1000
    assert "pgd" in out.stdout and "eps 0.2" in out.stdout


def test_adversarial_training_raises_fgsm_accuracy_at_a_small_eps(runs):
    acc = {}
    for name, run in runs.items():
        out = evaluate(run, "attack=fgsm", "eps=0.05")
        assert out.returncode == 0, out.stderr
        acc[name] = json.loads((run / "robustness.json").read_text())["attacks"]["fgsm"][0]["acc"]
    assert acc["robust"] > acc["plain"] + 0.03, acc  # measured: 0.856 -> 0.904


def test_attacks_stay_in_the_valid_range_and_in_the_eps_ball():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    x = torch.rand(32, 1, 4, 4) * 2 - 1  # normalized inputs in [-1, 1]
    y = torch.randint(0, 3, (32,))
    bounds = input_bounds(x)
    for adv in (fgsm(net, x, y, 0.1, bounds), pgd(net, x, y, 0.1, bounds, steps=5), gaussian_noise(x, 0.5, bounds)):
        assert adv.shape == x.shape
        assert (adv >= bounds.lower - 1e-6).all() and (adv <= bounds.upper + 1e-6).all()
    radius = 0.1 * bounds.span
    assert ((pgd(net, x, y, 0.1, bounds, steps=5) - x).abs() <= radius + 1e-6).all()
    assert not torch.equal(fgsm(net, x, y, 0.1, bounds), x)


def test_bad_settings_are_one_line_before_any_work(runs, tmp_path: Path):
    run = runs["plain"]
    for settings, message in (
        (["attack=fgsm", "eps=-0.1"], "eps: got -0.1; every eps must be >= 0"),
        (["attack=cw"], "attack: got 'cw'; valid: fgsm, pgd, noise"),
        (["attack=pgd", "steps=0"], "steps: got 0"),
        (["eps=0.1"], "eps: these settings need attack=fgsm|pgd|noise"),
        (["attack=noise", "eps=0.1"], "eps: attack=noise takes sigma="),
    ):
        out = evaluate(run, *settings)
        assert out.returncode == 2 and message in out.stderr, (settings, out.stderr)
    bare = tmp_path / "runs" / "x" / "bare"
    shutil.copytree(run, bare, ignore=shutil.ignore_patterns("checkpoints", "robustness*"))
    out = run_in_process("eval", str(bare), "attack=fgsm", cwd=tmp_path)
    assert out.returncode == 2 and "has no checkpoint" in out.stderr, out.stderr
    assert not (bare / "robustness.json").exists()


def test_explain_refuses_gradcam_on_an_mlp_and_shap_on_images_without_patches(runs):
    run = runs["plain"]
    out = run_in_process("explain", str(run), "method=gradcam", cwd=run.parent.parent.parent)
    assert out.returncode == 2 and "model=mlp has no convolution layer" in out.stderr, out.stderr
    out = run_in_process("explain", str(run), "method=lime", cwd=run.parent.parent.parent)
    assert out.returncode == 2 and "give patch=N" in out.stderr, out.stderr
