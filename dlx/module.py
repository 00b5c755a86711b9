"""The LightningModule every classification experiment trains: net + loss + optional batch augmentation.

Lean by design: per-step results accumulate in device tensors and are read once per
epoch (no per-step self.log, no host sync inside the epoch).
"""

from collections.abc import Callable

import lightning.pytorch as L
import torch
from torch import nn


class Classifier(L.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        make_optimizer: Callable,
        make_scheduler: Callable | None,
        augment: nn.Module | None = None,
        label_smoothing: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__()
        self.net, self.augment = net, augment
        self.make_optimizer, self.make_scheduler = make_optimizer, make_scheduler
        self.weight_decay = weight_decay
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.epoch_metrics: dict[str, float] = {}
        self._sums: dict[str, torch.Tensor] = {}
        self.test_logits: list[torch.Tensor] = []
        self.test_targets: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch  # in-memory batches are already on the device

    def _accumulate(self, stage: str, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        step = torch.stack(
            [loss.detach() * len(y), (logits.argmax(1) == y).sum(), loss.new_tensor(len(y))]
        )  # (loss sum, correct, count)
        if stage in self._sums:
            self._sums[stage] += step
        else:  # float64 keeps long sums exact; MPS has no float64
            self._sums[stage] = step.to(torch.float32 if step.device.type == "mps" else torch.float64)

    def _finish(self, stage: str) -> None:
        loss_sum, correct, count = self._sums.pop(stage).tolist()
        self.epoch_metrics[f"{stage}_loss"] = loss_sum / max(count, 1)
        self.epoch_metrics[f"{stage}_acc"] = correct / max(count, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        if self.augment is not None:
            x = self.augment(x)
        logits = self.net(x)
        loss = self.loss_fn(logits, y)
        self._accumulate("train", loss, logits, y)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        self._accumulate("val", self.loss_fn(logits, y), logits, y)

    def on_validation_epoch_end(self):
        if "val" not in self._sums:
            return
        self._finish("val")
        # one log call per epoch: ModelCheckpoint / EarlyStopping read these
        self.log("val/acc", self.epoch_metrics["val_acc"])
        self.log("val/loss", self.epoch_metrics["val_loss"])

    def collect_epoch_metrics(self) -> dict[str, float]:
        """This epoch's averages; callbacks call it because their on_train_epoch_end runs before ours."""
        for stage in list(self._sums):
            self._finish(stage)
        return self.epoch_metrics

    def on_train_epoch_end(self):
        self.collect_epoch_metrics()

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.test_logits.append(self.net(x).float())
        self.test_targets.append(y)

    def configure_optimizers(self):
        decay, no_decay = [], []
        for p in self.net.parameters():
            # weights of linear/conv layers decay; biases and norm scales do not
            (decay if p.dim() > 1 else no_decay).append(p)
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        optimizer = self.make_optimizer(groups)
        if self.make_scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": self.make_scheduler(optimizer), "interval": "epoch"},
        }
