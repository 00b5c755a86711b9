"""Random resized crop: take a random box of `scale` x the area and `ratio` aspect, resize it back to the image size.

dlx train aug=zoom aug.zoom.scale=[0.6,1.0] aug.zoom.ratio=[0.75,1.333]
"""

import math

import torch
import torch.nn.functional as F

from dlx.aug.op import BatchOp, Fraction, check_range, per_sample, uniform
from dlx.config.schema import PositiveFloat, Probability


# hand-written: 3.3-6.4x kornia's RandomResizedCrop images/s (bench/aug_throughput.py, 2 threads)
class Zoom(BatchOp):
    def __init__(
        self,
        p: Probability = 0.5,
        scale: tuple[Fraction, Fraction] = (0.6, 1.0),
        ratio: tuple[PositiveFloat, PositiveFloat] = (3 / 4, 4 / 3),
    ):
        super().__init__(p)
        self.scale, self.ratio = check_range("scale", scale, upper=1), check_range("ratio", ratio)
        if self.scale[0] <= 0 or self.ratio[0] <= 0:
            raise ValueError(f"scale and ratio must be > 0; got scale={list(scale)}, ratio={list(ratio)}")

    @property
    def identity(self) -> bool:
        return self.scale == (1, 1) and self.ratio == (1, 1)

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        area = uniform(*self.scale, x)
        aspect = uniform(*map(math.log, self.ratio), x).exp()  # log-uniform, so r and 1/r are equally likely
        # box sides as fractions of the image sides, clipped to the image
        w, h = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)
        cx, cy = (1 - w) * uniform(-1, 1, x), (1 - h) * uniform(-1, 1, x)  # box center in [-1, 1] coordinates
        return torch.where(per_sample(chosen, x), resized_crop(x, w, h, cx, cy), x)


def resized_crop(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor):
    """Box b of x (B, C, H, W) (sides w[b], h[b] of the image's, center (cx, cy) in [-1, 1]) resized to (H, W)."""
    zero = torch.zeros_like(w)
    theta = torch.stack([w, zero, cx, zero, h, cy], 1).view(-1, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
