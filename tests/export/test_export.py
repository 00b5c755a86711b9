"""dlx export: ONNX and TorchScript files that take raw inputs, checked against PyTorch; dlx predict on them."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import run_dlx, run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("export-export")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export")


def trained(work: Path, name: str, *overrides: str) -> Path:
    done = run_in_process("train", f"name={name}", *overrides, cwd=work)
    assert done.returncode == 0, done.stderr
    [run_dir] = (work / "runs" / name).iterdir()
    return run_dir


@pytest.fixture(scope="module")
def run(work) -> Path:
    return trained(work, "cnn-digits", "trainer.max_epochs=3", "trainer.progress=false")


@pytest.fixture(scope="module")
def transformer_run(work) -> Path:
    return trained(work, "transformer-digits", "model=transformer", "model.patch=4", "trainer=smoke")


@pytest.fixture(scope="module")
def lstm_run(work) -> Path:
    return trained(work, "lstm-iris", "data=iris", "model=lstm", "trainer=smoke")


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


@pytest.mark.parametrize("model", ["run", "transformer_run"])  # the fixtures: a CNN and a transformer on digits
@pytest.mark.parametrize(("fmt", "name"), [("onnx", "model.onnx"), ("torchscript", "model.ts")])
def test_the_exported_file_takes_raw_inputs_of_any_batch_size_and_gives_the_runs_probabilities(
    request, model, fmt, name
):
    run = request.getfixturevalue(model)
    done = run_in_process("export", str(run), f"format={fmt}", cwd=run.parents[2])
    assert done.returncode == 0, done.stderr
    path = run / "export" / name
    side = json.loads((run / "export" / f"{name}.json").read_text())
    assert side["class_names"] == [str(i) for i in range(10)]
    assert side["input"]["shape"] == ["batch", 1, 8, 8] and side["preprocessing"]["normalization"] == "standard"
    assert side["parity"]["max_abs_diff"] < 1e-4 and side["parity"]["batch_sizes"] == [1, 64]

    from dlx.export.formats import load_runner

    runner = load_runner(path, fmt)  # the file alone: ONNX Runtime, or torch.jit.load
    for n in (1, 3, 7):  # export traced a batch of 2
        x, _ = raw_digits(n)
        got = runner(x)
        assert got.shape == (n, 10)
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


def file_that_fails_on_one_sample(path, fmt):
    def run(x):
        if len(x) == 1:
            raise RuntimeError("The following operation failed\n  shape '[2, 1, 8, 8]' is invalid for input of size 64")
        return np.full((len(x), 10), 0.1, dtype=np.float32)

    return run


def half_written(model, example, path, fmt):
    path.write_bytes(b"\x08\x07")  # what a full disk or a crash inside the exporter leaves
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    ("target", "fake", "message"),
    [("load_runner", file_that_fails_on_one_sample, "the exported torchscript model fails on a batch of 1"),
     ("write_model", half_written, "torchscript export failed (OSError): [Errno 28] No space left on device")],
)  # fmt: skip
def test_a_failed_export_is_one_line_and_leaves_the_earlier_export_as_it_was(run, monkeypatch, target, fake, message):
    assert run_in_process("export", str(run), "format=torchscript", cwd=run.parents[2]).returncode == 0
    before = {p.name: p.read_bytes() for p in (run / "export").iterdir()}

    monkeypatch.setattr(f"dlx.export.formats.{target}", fake)
    done = run_in_process("export", str(run), "format=torchscript", cwd=run.parents[2])
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"dlx export: {message}") and line.endswith("; nothing was kept")
    assert {p.name: p.read_bytes() for p in (run / "export").iterdir()} == before  # no model.partial.ts either


@pytest.mark.parametrize("model", ["run", "lstm_run"])
def test_onnx_export_prints_nothing_but_its_own_line(request, model):
    # torch's exporter logs through its own handler, bound to the real stderr when torch is imported, and warns
    # from inside torch: only a new process shows what a user sees
    run = request.getfixturevalue(model)
    done = run_dlx("export", str(run), "format=onnx", cwd=run.parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    [line] = done.stdout.splitlines()
    assert line.startswith(f"dlx export: {run / 'export' / 'model.onnx'} (")


@pytest.mark.parametrize(
    ("settings", "message"),
    [(["format=tflite"], "format: got 'tflite'; valid: onnx, torchscript"),
     (["tolerance=0"], "tolerance: got '0'; expected a number above 0"),
     (["opset=17"], "opset=17: dlx export takes format=onnx|torchscript and tolerance=NUMBER")],
)  # fmt: skip
def test_bad_settings_are_one_line(run, settings, message):
    done = run_in_process("export", str(run), *settings, cwd=run.parents[2])
    assert done.returncode == 2 and message in done.stderr


def test_hydra_full_error_shows_the_exporters_own_traceback(run, monkeypatch):
    monkeypatch.setattr("dlx.export.formats.write_model", half_written)
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(Exception, match="torchscript export failed") as raised:
        run_in_process("export", str(run), "format=torchscript", cwd=run.parents[2])
    assert isinstance(raised.value.__cause__, OSError)
    assert not (run / "export" / "model.partial.ts").exists()
