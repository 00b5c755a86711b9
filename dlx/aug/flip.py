"""Random horizontal / vertical flip of each image with probability p.  dlx train aug=[flip,vflip] aug.flip.p=0.5"""

import torch

from dlx.aug.op import BatchOp, per_sample
from dlx.config.schema import Probability


# hand-written: 1.2-1.6x kornia's RandomHorizontalFlip images/s (bench/aug_throughput.py, 2 threads)
class Flip(BatchOp):
    dim = -1  # W

    def __init__(self, p: Probability = 0.5):
        super().__init__(p)

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        return torch.where(per_sample(chosen, x), x.flip(self.dim), x)


class VFlip(Flip):
    dim = -2  # H
