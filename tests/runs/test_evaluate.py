"""`dlx eval RUN`: the best checkpoint, evaluated again, gives the run's own numbers."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_dirs, run_dlx, run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runs-evaluate")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A digits run with a non-trivial pipeline (dropout, label smoothing) to evaluate; the working directory."""
    work = tmp_path_factory.mktemp("eval")
    args = ["model=mlp", "trainer.max_epochs=3", "trainer.progress=false", "reg=[dropout,label_smoothing]"]
    done = run_in_process("train", *args, cwd=work)
    assert done.returncode == 0, done.stderr
    return work


def test_eval_reproduces_the_runs_test_and_val_metrics(trained: Path):
    (run,) = run_dirs(trained / "runs")
    report = json.loads((run / "report.json").read_text())
    out = run_dlx("eval", "latest", cwd=trained)  # the installed command; the rest run in-process
    assert out.returncode == 0, out.stderr
    again = json.loads((run / "eval" / "test.json").read_text())
    for key in ("test_acc", "test_loss", "f1_macro", "precision_macro", "recall_macro"):
        assert again[key] == pytest.approx(report[key], abs=1e-6), key
    assert again["confusion_matrix"] == report["confusion_matrix"]
    assert f"{report['test_acc']:.4f}" in out.stdout
    val = run_in_process("eval", run.name, "split=val", cwd=trained)  # a unique prefix of the name works too
    assert val.returncode == 0, val.stderr
    on_val = json.loads((run / "eval" / "val.json").read_text())
    assert on_val["val_acc"] == pytest.approx(report["best_val_acc"], abs=1e-6), "val accuracy of the best epoch"
    assert on_val["split"] == "val" and not [key for key in on_val if key.startswith("test_")], "val keys say val"
    assert "val_loss" in on_val and "val_acc" in val.stdout


def test_eval_on_other_data_settings_writes_its_own_file(trained: Path):
    (run,) = run_dirs(trained / "runs")
    out = run_in_process("eval", "latest", "data=digits", "data.test_fraction=0.3", cwd=trained)
    assert out.returncode == 0, out.stderr
    other = json.loads((run / "eval" / "test-digits.json").read_text())
    assert other["samples"] == 540 and other["data"] == "digits"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "RUN: no run named 'nope'"),
        (["latest", "split=train"], "split: got 'train'; valid: test, val"),
        (["latest", "model=cnn"], "model: dlx eval takes split=, data=, data.KEY= and attack=, eps=, sigma="),
        (
            ["latest", "data=iris"],
            "data=iris gives samples of shape (4,) in 3 classes; the run's model takes (1, 8, 8)",
        ),
    ],
)
def test_bad_eval_input_is_one_line_exit_2_and_writes_nothing(args, message, trained: Path, monkeypatch, capsys):
    from dlx.runs.evaluate import main  # in-process: the same entry point the CLI dispatches to

    (run,) = run_dirs(trained / "runs")
    before = sorted(p.name for p in (run / "eval").iterdir()) if (run / "eval").exists() else []
    monkeypatch.chdir(trained)
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlx eval: ") and message in lines[0], lines
    after = sorted(p.name for p in (run / "eval").iterdir()) if (run / "eval").exists() else []
    assert after == before


def test_a_corrupt_checkpoint_is_named(tmp_path: Path, trained: Path):
    import shutil

    (run,) = run_dirs(trained / "runs")
    copy = tmp_path / "runs" / "copy" / run.name
    shutil.copytree(run, copy, symlinks=True)
    best = copy / "checkpoints" / "best.ckpt"
    data = best.read_bytes()
    best.unlink()
    best.write_bytes(data[: len(data) // 3])
    out = run_in_process("eval", str(copy), cwd=tmp_path)
    assert out.returncode == 2 and f"RUN: {best} is damaged or cut short" in out.stderr


def test_a_run_without_checkpoint_is_named(tmp_path: Path, trained: Path, monkeypatch, capsys):
    import shutil

    from dlx.runs.evaluate import main

    (run,) = run_dirs(trained / "runs")
    copy = tmp_path / "runs" / "copy" / run.name
    shutil.copytree(run, copy, symlinks=True, ignore=shutil.ignore_patterns("checkpoints", "eval"))
    monkeypatch.chdir(tmp_path)
    assert main([str(copy)]) == 2
    assert "has no checkpoint (last.ckpt is missing): did it train?" in capsys.readouterr().err
    assert not (copy / "eval").exists()
