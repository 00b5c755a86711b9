"""Add Gaussian noise of standard deviation `std` to each chosen sample; any shape (images or signals).

dlx train aug=[standard,noise] aug.noise.std=0.1
"""

import torch

from dlx.aug.op import BatchOp, per_sample
from dlx.config.schema import NonNegativeFloat, Probability


# hand-written: 1.3x kornia's RandomGaussianNoise images/s (bench/aug_throughput.py, 2 threads)
class Noise(BatchOp):
    rank = None
    strength = "std"

    def __init__(self, p: Probability = 0.5, std: NonNegativeFloat = 0.1):
        super().__init__(p)
        self.std = std

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        scale = per_sample(chosen.to(x.dtype) * self.std, x)  # 0 for unchosen samples
        return torch.addcmul(x, torch.randn_like(x), scale)
