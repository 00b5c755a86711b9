"""Batch augmentation on the training device: each `conf/aug/<name>.yaml` adds one op to an ordered list.

Ops take and return a whole batch (B, ...) and draw per-sample randomness; the
LightningModule applies them in training_step only, so evaluation is never augmented.
"""

from torch import nn

from dlx.aug.crop import Crop, FlipCrop
from dlx.aug.flip import Flip


def compose(ops: list[nn.Module]) -> nn.Module | None:
    """The ops in order; a flip followed by a crop (the `standard` recipe) runs fused, with identical results."""
    chain: list[nn.Module] = []
    for op in ops:
        if type(op) is Crop and chain and type(chain[-1]) is Flip:
            chain[-1] = FlipCrop(chain[-1], op)
        else:
            chain.append(op)
    return nn.Sequential(*chain) if chain else None
