"""A non-finite loss or gradient stops training before the optimizer applies it: the checkpoints stay good."""

from pathlib import Path

import lightning.pytorch as L
import pytest
import torch

from tests.conftest import build, run_dirs, run_in_process


def test_a_huge_learning_rate_fails_the_run_with_the_step_and_a_hint(workdir: Path):
    out = run_in_process(
        "train", "model=mlp", "optim=sgd", "optim.lr=1e6", "sched=none", "trainer.max_epochs=3", cwd=workdir
    )
    assert out.returncode == 1, out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("dlx train: error: NonFiniteLoss: ") and " at step " in line, line
    assert "optim.lr" in line and "reg=[grad_clip]" in line
    (run,) = run_dirs(workdir / "runs")
    status, message = (run / "status").read_text().split("\n", 1)
    assert status == "failed" and "not finite at step" in message
    assert not (run / "report.json").exists()
    for ckpt in (run / "checkpoints").glob("*.ckpt"):  # whatever was saved before the fault holds no NaN
        weights = torch.load(ckpt, weights_only=True)["state_dict"]
        assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())


class PoisonAt(L.Callback):
    """At the first batch of `epoch`, one weight becomes NaN: the loss of that step is NaN."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == 0:
            with torch.no_grad():
                next(pl_module.net.parameters()).view(-1)[0] = float("nan")


def test_the_last_good_checkpoint_stays_and_no_nan_model_becomes_best(tmp_path: Path):
    from dlx.train.run import fit_and_test
    from dlx.trainer.guard import NonFiniteLoss

    exp = build(["trainer.max_epochs=5", "trainer.progress=false"], tmp_path / "run")
    exp.trainer.callbacks.append(PoisonAt(epoch=2))
    steps_per_epoch = len(exp.data.train_dataloader())
    with pytest.raises(NonFiniteLoss) as stopped:
        fit_and_test(exp)
    assert stopped.value.epoch == 2 and stopped.value.step == 2 * steps_per_epoch, "stopped at that very step"
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.ckpt", weights_only=True)
    assert last["epoch"] == 1 and best["epoch"] <= 1, "nothing saved after the fault"
    for ckpt in (last, best):
        assert all(torch.isfinite(w).all() for w in ckpt["state_dict"].values() if w.is_floating_point())
    rows = (tmp_path / "run" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2, "two good epochs logged, not the faulty one"
    assert not (tmp_path / "run" / "report.json").exists()
    assert str(stopped.value).startswith(f"the loss is not finite at step {stopped.value.step} (epoch 2)")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])  # the fused check, and the norms beside it
def test_the_guard_names_the_loss_or_the_gradient_that_is_not_finite(dtype):
    from types import SimpleNamespace

    from dlx.trainer.guard import NonFiniteLoss, StopOnNonFinite

    weight = torch.nn.Parameter(torch.ones(3, dtype=dtype))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    trainer = SimpleNamespace(global_step=7, current_epoch=1)
    guard = StopOnNonFinite()

    def check(loss: float, grad: list[float]) -> str | None:
        weight.grad = torch.tensor(grad, dtype=dtype)
        module = SimpleNamespace(last_loss=torch.tensor(loss, dtype=dtype))
        try:
            guard.on_before_optimizer_step(trainer, module, optimizer)
        except NonFiniteLoss as e:
            return str(e).split(" at step")[0]
        return None

    assert check(1.0, [0.1, 0.2, 0.3]) is None
    assert check(float("nan"), [0.1, 0.2, 0.3]) == "the loss is not finite"
    assert check(float("inf"), [float("nan")] * 3) == "the loss is not finite"
    assert check(1.0, [0.1, float("inf"), 0.3]) == "a gradient is not finite"
    assert check(1.0, [0.1, 0.2, float("-inf")]) == "a gradient is not finite"
    assert check(0.5, [0.25, 0.5, 2.0]) is None
    assert weight.grad.tolist() == [0.25, 0.5, 2.0], "the check leaves the gradients as they were"
