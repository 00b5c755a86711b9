"""The LightningModule every classification experiment trains: net + loss + batch augmentation + regularizers.

Lean by design: per-step results accumulate in device tensors and are read once per
epoch (no per-step self.log, no host sync inside the epoch). A whole epoch is one Lightning training step:
dlx.trainer.batches.BatchLoop loops over its batches (manual optimization, so Lightning's per-batch machinery
stays out of the way).
"""

from collections.abc import Callable

import lightning.pytorch as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlx.reg import Regularizer

# Set on every step or hook call: Lightning sets _current_fx_name around each hook, about 45 times a step
# (38,000 calls through nn.Module.__setattr__'s parameter/buffer/module bookkeeping in a 40-epoch digits fit,
# the largest Python cost under cProfile after autograd). They hold plain values, never parameters or modules.
PLAIN_ATTRIBUTES = frozenset({"_current_fx_name", "batches_done", "last_loss"})


class Classifier(L.LightningModule):
    def __setattr__(self, name: str, value) -> None:
        if name in PLAIN_ATTRIBUTES:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def __init__(
        self,
        net: nn.Module,
        make_optimizer: Callable,
        make_scheduler: Callable | None,
        augment: nn.Module | None = None,
        reg: Regularizer | None = None,
        imbalance=None,
        teacher=None,
    ):
        """teacher: a dlx.distill.Teacher whose softened outputs join the loss (knowledge distillation)."""
        super().__init__()
        self.net, self.augment = net, augment
        self.make_optimizer, self.make_scheduler = make_optimizer, make_scheduler
        self.reg = reg or Regularizer()
        self.imbalance = imbalance
        self.teacher = teacher
        self.class_weights: torch.Tensor | None = None  # from the training split's class counts, at fit start
        self.epoch_metrics: dict[str, float] = {}
        self._sums: dict[str, torch.Tensor] = {}
        self.test_logits: list[torch.Tensor] = []
        self.test_targets: list[torch.Tensor] = []
        self.batches_done = 0  # training batches of this epoch so far
        self.saving_mid_epoch = False  # set by StopOnSignal just before it saves last.ckpt mid-epoch
        self.last_loss: torch.Tensor | None = None
        self.memory_format: torch.memory_format | None = None  # torch.channels_last under trainer.channels_last
        self.automatic_optimization = False  # the BatchLoop steps the optimizer and the per-step schedules
        self.resumed_epoch: int | None = None  # the epoch a mid-epoch checkpoint resumes into

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The net's scores; the steps call this, not self(x), to skip nn.Module's call machinery per batch."""
        if self.memory_format is not None and x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)  # (B, C, H, W) stored as NHWC
        return self.net(x)

    def on_fit_start(self):
        if self.teacher is not None:
            self.teacher.to(self.device)
        if self.reg.adversary is not None:  # the valid input range adversarial examples are kept in
            from dlx.robust.attacks import input_bounds

            self.input_bounds = input_bounds(self.trainer.datamodule.sample_batch(4096)).to(self.device)
        if self.imbalance is not None:
            y = self.trainer.datamodule.train_targets()
            self.class_weights = self.imbalance.loss_weights(y, self.trainer.datamodule.num_classes)

    # ---- random state in checkpoints: a resumed run draws what the uninterrupted one would ---------------

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Saved at an epoch's end; augmentation, dropout and mixing draw from these generators next."""
        import random

        checkpoint["dlx_rng"] = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            # as tensors, not lists of 624 ints: torch.save calls back into Python once per object (0.25 ms a save)
            "numpy": numpy_state_as_tensor(np.random.get_state()),  # loadable with weights_only=True
            "python": python_state_as_tensor(random.getstate()),
        }
        if self.saving_mid_epoch:  # resume skips the batches done and keeps adding to the epoch's sums
            sums = self._sums.get("train")
            checkpoint["dlx_mid_epoch"] = {
                "epoch": self.trainer.current_epoch,
                "batches_done": self.batches_done,
                "train_sums": None if sums is None else sums.as_tensor(),
            }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        import random

        state = checkpoint.get("dlx_rng")
        if state is None:
            return
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
        name, keys, pos, has_gauss, cached = state["numpy"]  # keys: a tensor, or a list (checkpoints before 12-02)
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(int(v) for v in internal), gauss))
        mid = checkpoint.get("dlx_mid_epoch")
        if mid is not None:
            self.batches_done, self.resumed_epoch = mid["batches_done"], mid["epoch"]
            if mid["train_sums"] is not None:
                self._sums["train"] = EpochSums.from_tensor(mid["train_sums"], self.device)
            self.trainer.datamodule.resume_at = (mid["epoch"], mid["batches_done"])

    def on_train_epoch_start(self):
        if self.resumed_epoch != self.trainer.current_epoch:  # resumed mid-epoch: keep the batches done
            self.batches_done = 0
        self.resumed_epoch = None

    # ---- loss ------------------------------------------------------------------------------------------

    def training_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """target: class indices (B,) or probabilities (B, K) after mixing."""
        if self.reg.criterion is not None:
            if target.dim() == 1:
                target = F.one_hot(target, logits.shape[1]).to(logits.dtype)
            smoothing = self.reg.label_smoothing
            target = target * (1 - smoothing) + smoothing / logits.shape[1]
            return self.reg.criterion(logits, target, self.class_weights)
        return F.cross_entropy(logits, target, weight=self.class_weights, label_smoothing=self.reg.label_smoothing)

    def mix(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """With mixup and cutmix both on, each batch uses one of them, picked at random."""
        mixers = self.reg.batch_mixers
        if not mixers:
            return x, y
        mixer = mixers[torch.randint(len(mixers), ()).item()] if len(mixers) > 1 else mixers[0]
        return mixer(x, F.one_hot(y, self.trainer.datamodule.num_classes).to(x.dtype))

    # ---- steps -----------------------------------------------------------------------------------------

    def _accumulate(self, stage: str, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        sums = self._sums.get(stage)
        if sums is None:
            sums = self._sums[stage] = EpochSums.zeros(loss.device)
        # in place, on the device: 22 us a batch here, against 50 us for stacking a (3,) tensor per batch
        sums.loss.add_(loss.detach(), alpha=len(y))
        sums.correct.add_((logits.argmax(1) == y).sum())
        sums.count += len(y)

    def _finish(self, stage: str) -> None:
        sums = self._sums.pop(stage)
        if self._trainer is not None and self.trainer.world_size > 1:  # every process has a shard: their total
            loss_sum, correct, count = self.trainer.strategy.reduce(sums.as_tensor(self.device), reduce_op="sum")
            loss_sum, correct, count = loss_sum.item(), correct.item(), int(count.item())
        else:
            loss_sum, correct, count = sums.loss.item(), sums.correct.item(), sums.count
        self.epoch_metrics[f"{stage}_loss"] = loss_sum / max(count, 1)
        self.epoch_metrics[f"{stage}_acc"] = correct / max(count, 1)

    def training_step(self, batch, batch_idx):
        """batch: on one device, the OneEpoch Lightning hands over as its one batch of this epoch; under a
        distributed strategy, one real batch."""
        from dlx.trainer.batches import OneEpoch, batch_loop

        loop = batch_loop(self.trainer)
        if isinstance(batch, OneEpoch):
            loop.run(self, batch)
        else:
            loop.run_batch(self, batch, batch_idx)

    def train_batch_loss(self, batch) -> torch.Tensor:
        """The loss to minimize for one batch; its data loss and accuracy join the epoch's sums."""
        x, y = batch
        if self.augment is not None:
            x = self.augment(x)
        if self.reg.adversary is not None:
            x = self.reg.adversary(self.logits, x, y, self.input_bounds)
        x, target = self.mix(x, y)
        logits = self.logits(x)
        loss = self.training_loss(logits, target)
        # train_loss is the data loss; penalties are added only to what is minimized
        self._accumulate("train", loss, logits, target if target.dim() == 1 else target.argmax(1))
        if self.teacher is not None:  # train_loss above stays the data loss, comparable with runs without one
            loss = self.teacher.loss(loss, logits, x)
        for penalty in self.reg.penalties:
            loss = loss + penalty(self.net)
        self.last_loss = loss.detach()  # StopOnNonFinite checks it before the optimizer steps
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.logits(x)
        if self.trainer.world_size > 1:  # a shard padded to the others' length: its padding is labelled -1
            real = y >= 0
            logits, y = logits[real], y[real]
            if not len(y):
                return
        self._accumulate("val", F.cross_entropy(logits, y), logits, y)

    def on_validation_epoch_end(self):
        if "val" not in self._sums:
            return
        self._finish("val")
        # what ModelCheckpoint / EarlyStopping read, set directly: self.log's result bookkeeping cost about 1 ms
        # an epoch here (4% of a digits MLP epoch), for two numbers already reduced
        metrics = self.trainer.callback_metrics
        metrics["val/acc"] = torch.tensor(self.epoch_metrics["val_acc"])
        metrics["val/loss"] = torch.tensor(self.epoch_metrics["val_loss"])

    def collect_epoch_metrics(self) -> dict[str, float]:
        """This epoch's averages; callbacks call it because their on_train_epoch_end runs before ours."""
        for stage in list(self._sums):
            self._finish(stage)
        return self.epoch_metrics

    def on_train_epoch_end(self):
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == "epoch":  # after the callbacks' epoch end, as Lightning steps them
                config.scheduler.step()
        self.collect_epoch_metrics()

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.test_logits.append(self.logits(x).float())
        self.test_targets.append(y)

    # ---- optimization ----------------------------------------------------------------------------------

    def on_before_optimizer_step(self, optimizer):
        self.configure_gradient_clipping(optimizer)  # manual optimization: Lightning does not clip

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        if self.reg.grad_clip is not None:
            bound, mode = self.reg.grad_clip
            self.clip_gradients(optimizer, gradient_clip_val=bound, gradient_clip_algorithm=mode)

    def configure_optimizers(self):
        from dlx.optim import param_groups

        optimizer = self.make_optimizer(param_groups(self.net))
        if self.reg.decoupled_weight_decay:
            optimizer.register_step_post_hook(decoupled_decay(self.reg.decoupled_weight_decay))
        if self.make_scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": self.make_scheduler(optimizer, self.steps_per_epoch())}

    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch, for schedules stepped per batch."""
        from dlx.trainer.batches import batch_loop

        loader = type(self.trainer.datamodule).train_dataloader(self.trainer.datamodule)  # the real batches
        return batch_loop(self.trainer).steps_per_epoch(len(loader))


class EpochSums:
    """An epoch's running (loss sum, correct, count) of one stage; float64 keeps long sums exact."""

    def __init__(self, loss: torch.Tensor, correct: torch.Tensor, count: int):
        self.loss, self.correct, self.count = loss, correct, count

    @classmethod
    def zeros(cls, device: torch.device) -> "EpochSums":
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        return cls(torch.zeros((), dtype=dtype, device=device), torch.zeros((), dtype=torch.long, device=device), 0)

    def as_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """(3,): loss sum, correct, count; on the CPU as mid-epoch checkpoints store it, or for a reduction."""
        count = torch.tensor(float(self.count), dtype=torch.float64)
        parts = [self.loss.double().cpu(), self.correct.double().cpu(), count]
        return torch.stack(parts).to(device)

    @classmethod
    def from_tensor(cls, saved: torch.Tensor, device: torch.device) -> "EpochSums":
        sums = cls.zeros(device)
        sums.loss.fill_(float(saved[0]))
        sums.correct.fill_(int(saved[1]))
        sums.count = int(saved[2])
        return sums


def decoupled_decay(rate: float) -> Callable:
    """Optimizer step hook: w <- w * (1 - lr * rate) for the decayed group, after the update (AdamW-style)."""

    @torch.no_grad()
    def hook(optimizer, args, kwargs):
        for group in optimizer.param_groups:
            if group.get("name") == "decay":
                for p in group["params"]:
                    p.mul_(1 - group["lr"] * rate)

    return hook


def numpy_state_as_tensor(state: tuple) -> tuple:
    name, keys, pos, has_gauss, cached = state
    return name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)


def python_state_as_tensor(state: tuple) -> tuple:
    """random.getstate(): (version, 625 ints below 2**32, gauss_next); the ints as one int64 tensor."""
    version, internal, gauss = state
    return version, torch.tensor(internal, dtype=torch.int64), gauss
