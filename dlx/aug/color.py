"""Random brightness (add a per-image offset) and contrast (scale about the image mean) of normalized images.

    dlx train aug=[brightness,contrast] aug.brightness.amount=0.2 aug.contrast.amount=0.2

Images are already normalized, so there is no [0, 1] range to clip to: brightness adds
b ~ U(-amount, amount) standard deviations, contrast multiplies deviations from the image's
own mean by c ~ U(1 - amount, 1 + amount).
"""

import torch

from dlx.aug.op import BatchOp, Fraction, per_sample, uniform
from dlx.config.schema import NonNegativeFloat, Probability


# hand-written: 3.6-4.5x kornia's RandomBrightness images/s (bench/aug_throughput.py, 2 threads)
class Brightness(BatchOp):
    strength = "amount"

    def __init__(self, p: Probability = 0.5, amount: NonNegativeFloat = 0.2):
        super().__init__(p)
        self.amount = amount

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        offset = uniform(-self.amount, self.amount, x) * chosen  # 0 leaves unchosen images exactly as they were
        return x + per_sample(offset, x)


# hand-written: 1.7-2.0x kornia's RandomContrast images/s (which scales about 0, not the mean), 2 threads
class Contrast(BatchOp):
    strength = "amount"

    def __init__(self, p: Probability = 0.5, amount: Fraction = 0.2):
        super().__init__(p)
        self.amount = amount

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        factor = per_sample(uniform(1 - self.amount, 1 + self.amount, x).where(chosen, 1), x)  # 1: unchanged
        mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
        return torch.addcmul(mean * (1 - factor), x, factor)  # (x - mean) * factor + mean, in one pass
