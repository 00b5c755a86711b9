"""Cutout: set a random square-ish box, `size` x each side, of each chosen image to 0 (the mean, once normalized).

dlx train aug=[standard,cutout] aug.cutout.size=0.5
"""

import torch

from dlx.aug.op import BatchOp, Fraction, per_sample
from dlx.config.schema import Probability


# hand-written: 1.6-2.1x kornia's RandomErasing images/s (bench/aug_throughput.py, 2 threads)
class Cutout(BatchOp):
    strength = "size"

    def __init__(self, p: Probability = 0.5, size: Fraction = 0.5):
        super().__init__(p)
        self.size = size

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        h, w = round(self.size * H), round(self.size * W)
        # the box lies inside the image, so every chosen image loses exactly h * w pixels
        top = (torch.rand(B, device=x.device) * (H - h + 1)).long()
        left = (torch.rand(B, device=x.device) * (W - w + 1)).long()
        rows = torch.arange(H, device=x.device) - top[:, None]  # (B, H)
        cols = torch.arange(W, device=x.device) - left[:, None]  # (B, W)
        box = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]  # (B, H, W)
        return x.masked_fill(box[:, None] & per_sample(chosen, x), 0)
