"""The speed options do what they say: NHWC weights, a compiled net, fewer optimizer steps, matmul precision."""

from pathlib import Path

import lightning.pytorch as L
import torch

from tests.conftest import build

SMOKE = ["trainer=smoke", "trainer.limit_val_batches=1"]


class Seen(L.Callback):
    """What the speed options had set while the first training batch ran."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == 0:
            self.matmul_precision = torch.get_float32_matmul_precision()


def conv_weights(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p for p in net.parameters() if p.dim() == 4]


def test_channels_last_stores_conv_weights_nhwc_and_the_checkpoint_loads_into_a_plain_net(tmp_path: Path):
    exp = build([*SMOKE, "model=cnn", "trainer.channels_last=true"], tmp_path / "run")
    exp.trainer.fit(exp.module, datamodule=exp.data)
    weights = conv_weights(exp.module.net)
    assert weights and all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    assert not all(w.is_contiguous() for w in weights), "NHWC, not the default layout"
    plain = build([*SMOKE, "model=cnn"], tmp_path / "plain").module
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    plain.load_state_dict(state)
    exp.module.eval(), plain.eval()  # eval first: a training-mode forward would move batch norm's statistics
    x = exp.data.sample_batch(4)
    with torch.no_grad():
        assert torch.allclose(plain(x), exp.module(x), atol=1e-5), "same model, other memory layout"


def test_compile_compiles_the_net_in_place_and_keeps_plain_checkpoint_keys(tmp_path: Path):
    # the eager backend: Dynamo captures the graph without inductor's code generation (40 s here)
    exp = build([*SMOKE, "model=mlp", "model.width=16", "trainer.compile=eager"], tmp_path / "run")
    assert exp.module.net._compiled_call_impl is None
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert exp.module.net._compiled_call_impl is not None, "nn.Module.compile() ran"
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert state and not any("_orig_mod" in k for k in state), sorted(state)


def test_accumulate_grad_batches_steps_the_optimizer_once_every_n_batches(tmp_path: Path):
    overrides = ["trainer.max_epochs=1", "trainer.limit_train_batches=6", "trainer.progress=false"]
    plain = build(overrides, tmp_path / "plain")
    plain.trainer.fit(plain.module, datamodule=plain.data)
    accumulated = build([*overrides, "trainer.accumulate_grad_batches=3"], tmp_path / "acc")
    accumulated.trainer.fit(accumulated.module, datamodule=accumulated.data)
    assert (plain.trainer.global_step, accumulated.trainer.global_step) == (6, 2)


def test_matmul_precision_holds_during_the_fit_and_is_restored_after(tmp_path: Path):
    before = torch.get_float32_matmul_precision()
    exp = build([*SMOKE, "trainer.matmul_precision=medium"], tmp_path / "run")
    seen = Seen()
    exp.trainer.callbacks.append(seen)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert seen.matmul_precision == "medium" != before
    assert torch.get_float32_matmul_precision() == before


def test_benchmark_reaches_cudnn(tmp_path: Path):
    before = torch.backends.cudnn.benchmark
    try:
        build([*SMOKE, "trainer.benchmark=true"], tmp_path / "on")
        assert torch.backends.cudnn.benchmark is True
        build([*SMOKE, "trainer.benchmark=false"], tmp_path / "off")
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.backends.cudnn.benchmark = before
