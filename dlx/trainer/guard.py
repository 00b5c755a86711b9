"""Stop within one step when the loss or a gradient stops being finite, before the optimizer applies it.

The weights are never updated with a NaN, so no checkpoint (best.ckpt included) ever holds a NaN model,
and the last good checkpoint stays as it was. One host sync per step: the price of stopping at once.
"""

import lightning.pytorch as L
import torch


class NonFiniteLoss(RuntimeError):
    def __init__(self, what: str, step: int, epoch: int):
        self.step, self.epoch = step, epoch
        super().__init__(
            f"{what} at step {step} (epoch {epoch}); lower the learning rate (optim.lr=...) "
            "or clip gradients (reg=[grad_clip])"
        )


class StopOnNonFinite(L.Callback):
    def __init__(self, check_gradients: bool = True):
        """check_gradients: False under 16-bit mixed precision, whose grad scaler skips steps with inf itself."""
        self.check_gradients = check_gradients

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        loss = getattr(pl_module, "last_loss", None)
        checks = [] if loss is None else [loss.float()]
        if self.check_gradients:
            grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            if grads:
                checks += torch._foreach_norm(grads)  # one norm per tensor: finite iff all its entries are
        if not checks:
            return
        if bool(torch.stack(checks).isfinite().all()):  # one host sync a step
            return
        loss_bad = loss is not None and not bool(torch.isfinite(loss).all())
        what = "the loss is not finite" if loss_bad else "a gradient is not finite"
        raise NonFiniteLoss(what, trainer.global_step, trainer.current_epoch)
