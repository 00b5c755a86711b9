"""Random horizontal flip of each image with probability p.  dlx train aug=flip aug.flip.p=0.5"""

import torch
from torch import nn

from dlx.config.schema import Probability


class Flip(nn.Module):
    def __init__(self, p: Probability = 0.5):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, H, W)
        flip = torch.rand(x.shape[0], device=x.device) < self.p
        mask = flip.view(-1, *([1] * (x.dim() - 1)))  # (B, 1, 1, 1)
        return torch.where(mask, x.flip(-1), x)
