"""Batch augmentation on the training device: each `conf/aug/<name>.yaml` adds one op to an ordered list.

Ops take and return a whole batch (B, ...) and draw per-sample randomness; the
LightningModule applies them in training_step only, so evaluation is never augmented.
"""

from torch import nn


def compose(ops: list[nn.Module]) -> nn.Module | None:
    return nn.Sequential(*ops) if ops else None
