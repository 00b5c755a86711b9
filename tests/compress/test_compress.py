"""dlx compress: pruning and int8 quantization into a new run, measured against its parent."""

import json
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("compress-compress")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A digits CNN (6 epochs), an MLP (4), an LSTM and a transformer (a smoke step), trained once for the module."""
    work = tmp_path_factory.mktemp("compress")
    trained = {}
    for name, args in {
        "cnn": ["model=cnn", "trainer.max_epochs=6"],
        "mlp": ["model=mlp", "trainer.max_epochs=4"],
        "lstm": ["model=lstm", "trainer=smoke"],
        "transformer": ["model=transformer", "trainer=smoke"],
    }.items():
        done = run_in_process("train", *args, "trainer.progress=false", f"name={name}", cwd=work)
        assert done.returncode == 0, done.stderr
        [trained[name]] = (work / "runs" / name).iterdir()
    trained["work"] = work
    return trained


def compress(runs: dict, parent: str, *settings: str) -> tuple[dict, Path]:
    done = run_in_process("compress", str(runs[parent]), *settings, cwd=runs["work"])
    assert done.returncode == 0, done.stderr
    report_line = done.stdout.strip().splitlines()[-1]
    run_dir = Path(runs["work"], report_line.removeprefix("new run ").strip())
    return json.loads((run_dir / "report.json").read_text()), run_dir


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    return {k: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}


def prunable(state: dict) -> list[torch.Tensor]:
    return [v for k, v in state.items() if k.endswith(".weight") and v.dim() >= 2]


def test_global_pruning_zeroes_that_share_of_the_weights_for_good(runs):
    before = weights(runs["cnn"])
    report, new = compress(runs, "cnn", "method=prune", "sparsity=0.8")
    after = weights(new)
    assert not [k for k in after if k.endswith(("_orig", "_mask"))], "pruning made permanent: plain weight names"
    assert after.keys() == before.keys()
    zero = sum(int((w == 0).sum()) for w in prunable(after)) / sum(w.numel() for w in prunable(after))
    assert zero == pytest.approx(0.8, abs=0.001)
    assert report["compressed"]["nonzero"] < 0.35 * report["parent"]["nonzero"]
    assert report["compressed"]["gzip_bytes"] < report["parent"]["gzip_bytes"], "the zeros compress"
    assert report["compressed"]["test_acc"] < report["parent"]["test_acc"] + 1e-9
    cfg = yaml.safe_load((new / "config.yaml").read_text())
    assert cfg["parent"] == str(runs["cnn"]) and cfg["compress"]["sparsity"] == 0.8
    assert (new / "status").read_text().startswith("completed")
    assert weights(runs["cnn"]).keys() == before.keys(), "the parent is left as it was"
    # the new run is a run: dlx eval measures what the report says
    evaluated = run_in_process("eval", str(new), cwd=runs["work"])
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads((new / "eval" / "test.json").read_text())["test_acc"] == pytest.approx(
        report["compressed"]["test_acc"]
    )


def test_channel_pruning_zeroes_whole_channels_and_fine_tuning_wins_accuracy_back(runs):
    plain, plain_dir = compress(runs, "cnn", "method=prune", "structure=channels", "sparsity=0.5")
    tuned, tuned_dir = compress(runs, "cnn", "method=prune", "structure=channels", "sparsity=0.5",
                                "finetune_epochs=3")  # fmt: skip
    for run_dir in (plain_dir, tuned_dir):
        state = weights(run_dir)
        convs = [k for k, v in state.items() if k.endswith(".weight") and v.dim() == 4]
        for key in convs:  # every conv (the output Linear keeps all classes): half its output channels gone
            w, b = state[key], state.get(key.removesuffix("weight") + "bias")
            dead = w.flatten(1).abs().sum(1) == 0
            assert int(dead.sum()) == round(0.5 * len(dead)), key
            if b is not None:
                assert torch.all(b[dead] == 0), "a pruned channel's bias goes too"
    assert (tuned_dir / "metrics.csv").is_file(), "fine-tuning is a fit: its epochs are recorded"
    assert tuned["compressed"]["test_acc"] > plain["compressed"]["test_acc"]
    print(f"channels 50%: {plain['compressed']['test_acc']:.4f} -> fine-tuned {tuned['compressed']['test_acc']:.4f}")


def test_static_int8_shrinks_a_cnn_and_keeps_its_accuracy(runs):
    report, new = compress(runs, "cnn", "method=quantize", "scheme=static", "calibration_batches=4")
    p, c = report["parent"], report["compressed"]
    assert c["bytes"] < 0.5 * p["bytes"]
    assert abs(c["test_acc"] - p["test_acc"]) <= 0.02
    model = torch.jit.load(str(new / "model.ts"))
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert "quantized::conv2d" in str(model.inlined_graph), "int8 convolution kernels"


def test_dynamic_int8_shrinks_an_mlp_and_keeps_its_accuracy(runs):
    report, new = compress(runs, "mlp", "method=quantize", "scheme=dynamic")
    p, c = report["parent"], report["compressed"]
    assert c["bytes"] < 0.5 * p["bytes"]
    assert abs(c["test_acc"] - p["test_acc"]) <= 0.02
    # the quantized run holds model.ts, no checkpoint: the commands that restore a run say so and name the parent
    for command in ("eval", "explain"):
        done = run_in_process(command, str(new), *(["method=saliency"] if command == "explain" else []),
                              cwd=runs["work"])  # fmt: skip
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert f"{new} is a quantized model (model.ts, from dlx compress)" in lines[0]
        assert f"such as its parent {runs['mlp']}" in lines[0]


BAD = [
    (["method=prune", "sparsity=1.0"], "sparsity: got 1.0; expected a fraction with 0 <= x < 1"),
    (["method=prune", "sparsity=-0.1"], "sparsity: got -0.1; expected a fraction with 0 <= x < 1"),
    (["method=shrink"], "method: got 'shrink'; valid: prune, quantize"),
    (["method=prune", "scheme=static"], "scheme: method=prune takes sparsity, structure, finetune_epochs"),
    (["method=quantize", "scheme=float4"], "scheme: got 'float4'; valid: dynamic, static"),
]


@pytest.mark.parametrize(("settings", "message"), BAD, ids=[" ".join(s) for s, _ in BAD])
def test_bad_settings_are_one_line_and_write_nothing(runs, settings, message):
    before = sorted((runs["work"] / "runs").rglob("*"))
    done = run_in_process("compress", str(runs["cnn"]), *settings, cwd=runs["work"])
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted((runs["work"] / "runs").rglob("*")) == before


def test_static_int8_names_the_layers_it_cannot_convert(runs):
    before = sorted((runs["work"] / "runs").rglob("status"))
    done = run_in_process("compress", str(runs["lstm"]), "method=quantize", "scheme=static", cwd=runs["work"])
    assert done.returncode == 2
    assert "scheme: static: model=lstm has layers static int8 cannot convert (LSTM); use scheme=dynamic" in done.stderr
    assert sorted((runs["work"] / "runs").rglob("status")) == before, "no run directory for a refused compression"


def test_dynamic_int8_of_a_transformer_takes_any_batch_size(runs):
    """Its encoder layers' int8 Linears run layer by layer (the fused attention path reads float weights)."""
    report, new = compress(runs, "transformer", "method=quantize", "scheme=dynamic")
    model = torch.jit.load(str(new / "model.ts"))
    for batch in (1, 5):
        assert model(torch.zeros(batch, 1, 8, 8)).shape == (batch, 10)
    assert "quantized::linear_dynamic" in str(model.inlined_graph)
    assert report["compressed"]["bytes"] < report["parent"]["bytes"]


class BatchSizeAsNumber(torch.nn.Module):
    """A forward whose trace fixes the batch size: len(x) is a Python int to torch.jit.trace."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(len(x), *x.shape[1:]))


def test_a_model_traced_for_one_batch_size_is_refused_before_any_directory(runs, monkeypatch):
    import dlx.compress.run

    monkeypatch.setattr(dlx.compress.run, "quantize", lambda net, *_: BatchSizeAsNumber(net))
    before = sorted((runs["work"] / "runs").rglob("status"))
    done = run_in_process("compress", str(runs["mlp"]), "method=quantize", cwd=runs["work"])
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "method: quantize: the int8 model=mlp cannot be saved as TorchScript for every batch size" in done.stderr
    assert sorted((runs["work"] / "runs").rglob("status")) == before


def test_a_failure_in_the_new_run_marks_it_failed_in_one_line(runs, monkeypatch):
    def full_disk(*_):
        raise OSError(28, "No space left on device", "model.ts")

    monkeypatch.setattr(torch.jit, "save", full_disk)
    latest = (runs["work"] / "runs" / "latest").resolve()
    done = run_in_process("compress", str(runs["mlp"]), "method=quantize", cwd=runs["work"])
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    disk_full = "the disk is full: free some space, or set runs_dir to a folder on another disk"
    assert line == f"dlx compress: error: cannot write model.ts: No space left on device ({disk_full})"
    [new] = [p for p in (runs["work"] / "runs" / "mlp-quantize").iterdir() if "failed" in (p / "status").read_text()]
    assert (new / "status").read_text().splitlines() == ["failed", line.removeprefix("dlx compress: error: ")]
    assert not (new / "report.json").exists() and not (new / "model.ts").exists()
    assert (runs["work"] / "runs" / "latest").resolve() == latest, "latest still names a finished run"


def test_dlx_runs_shows_a_compressed_run_with_its_data_model_and_metrics(runs):
    report, new = compress(runs, "lstm", "method=quantize", "scheme=dynamic")
    done = run_in_process("runs", "--where", "model=lstm", "--json", cwd=runs["work"])
    assert done.returncode == 0, done.stderr
    [row] = [r for r in json.loads(done.stdout) if r["run_dir"] == str(new)]
    assert (row["name"], row["data"], row["model"]) == ("lstm-quantize", "digits", "lstm")
    assert row["test_acc"] == report["compressed"]["test_acc"] and row["f1_macro"] == report["compressed"]["f1_macro"]
    assert row["wall_seconds"] > 0
    assert row["overrides"] == yaml.safe_load((runs["lstm"] / "overrides.yaml").read_text()), "the parent's"
