"""Rotate each image by a random angle in [-degrees, degrees] (bilinear, zeros outside).

dlx train aug=[flip,rotate] aug.rotate.degrees=15
"""

import math

import torch
import torch.nn.functional as F

from dlx.aug.op import BatchOp, per_sample, uniform
from dlx.config.schema import NonNegativeFloat, Probability


# hand-written: 1.7-1.9x kornia's RandomRotation images/s (bench/aug_throughput.py, 2 threads)
class Rotate(BatchOp):
    strength = "degrees"

    def __init__(self, p: Probability = 0.5, degrees: NonNegativeFloat = 15.0):
        super().__init__(p)
        self.degrees = degrees

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        angles = uniform(-self.degrees, self.degrees, x)
        return torch.where(per_sample(chosen, x), rotate(x, angles), x)


def rotate(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate image b of x (B, C, H, W) counterclockwise by degrees[b] about its center."""
    B, C, H, W = x.shape
    a = degrees * (math.pi / 180)
    cos, sin, zero = a.cos(), a.sin(), torch.zeros_like(a)
    # affine_grid maps output to input in [-1, 1] coordinates; H/W, W/H keep non-square images undistorted
    theta = torch.stack([cos, -sin * (H / W), zero, sin * (W / H), cos, zero], 1).view(B, 2, 3)
    grid = F.affine_grid(theta, [B, C, H, W], align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
