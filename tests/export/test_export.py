"""dlx export: ONNX and TorchScript files that take raw inputs, checked against PyTorch; dlx predict on them."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("export-export")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("export")
    done = run_in_process("train", "trainer.max_epochs=3", "trainer.progress=false", cwd=work)
    assert done.returncode == 0, done.stderr
    [run_dir] = (work / "runs" / "cnn-digits").iterdir()
    return run_dir


def raw_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images[:n].reshape(n, 1, 8, 8).astype(np.float32), d.target[:n]


def reference(run: Path, x: np.ndarray) -> np.ndarray:
    """The run's own model on the same raw inputs: restored, normalized by hand, softmax."""
    from dlx.runs.restore import restore_run

    restored = restore_run(run)
    with torch.no_grad():
        return torch.softmax(restored.net(restored.normalizer(torch.as_tensor(x))), 1).numpy()


@pytest.mark.parametrize(("fmt", "name"), [("onnx", "model.onnx"), ("torchscript", "model.ts")])
def test_the_exported_file_takes_raw_inputs_of_any_batch_size_and_gives_the_runs_probabilities(run, fmt, name):
    done = run_in_process("export", str(run), f"format={fmt}", cwd=run.parents[2])
    assert done.returncode == 0, done.stderr
    path = run / "export" / name
    side = json.loads((run / "export" / f"{name}.json").read_text())
    assert side["class_names"] == [str(i) for i in range(10)]
    assert side["input"]["shape"] == ["batch", 1, 8, 8] and side["preprocessing"]["normalization"] == "standard"
    assert side["parity"]["max_abs_diff"] < 1e-4 and side["parity"]["batch_sizes"] == [1, 64]

    from dlx.export.formats import load_runner

    x, _ = raw_digits(7)  # a batch size export never saw
    got = load_runner(path, fmt)(x)  # the file alone: ONNX Runtime, or torch.jit.load
    assert got.shape == (7, 10)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, reference(run, x), atol=1e-4)


def test_dlx_predict_on_an_exported_model_gives_what_it_gives_on_the_run(run, tmp_path: Path):
    assert run_in_process("export", str(run), "format=onnx", cwd=run.parents[2]).returncode == 0
    x, _ = raw_digits(5)
    np.save(tmp_path / "five.npy", x)
    out = {}
    for what in (str(run / "export" / "model.onnx"), str(run)):
        done = run_in_process("predict", what, str(tmp_path / "five.npy"), "--json", cwd=run.parents[2])
        assert done.returncode == 0, done.stderr
        out[what] = json.loads(done.stdout)
    exported, direct = out.values()
    assert [p["class"] for p in exported] == [p["class"] for p in direct]
    for a, b in zip(exported, direct, strict=True):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-4)


def test_an_export_that_misses_the_tolerance_keeps_nothing(run):
    (run / "export" / "model.onnx").unlink(missing_ok=True)
    done = run_in_process("export", str(run), "format=onnx", "tolerance=1e-12", cwd=run.parents[2])
    if done.returncode == 0:  # bit-exact on this machine: nothing to show
        pytest.skip("ONNX Runtime matched PyTorch exactly here")
    assert done.returncode == 1
    assert "onnx output differs from PyTorch's by" in done.stderr and "nothing was kept" in done.stderr
    assert not (run / "export" / "model.onnx").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [(["format=tflite"], "format: got 'tflite'; valid: onnx, torchscript"),
     (["tolerance=0"], "tolerance: got '0'; expected a number above 0"),
     (["opset=17"], "opset=17: dlx export takes format=onnx|torchscript and tolerance=NUMBER")],
)  # fmt: skip
def test_bad_settings_are_one_line(run, settings, message):
    done = run_in_process("export", str(run), *settings, cwd=run.parents[2])
    assert done.returncode == 2 and message in done.stderr
