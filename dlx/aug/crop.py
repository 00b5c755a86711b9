"""Pad each image by `padding` zero pixels, then crop a random window of the original size (a random translation).

dlx train aug=crop aug.crop.padding=4
"""

import torch
import torch.nn.functional as F
from torch import nn

from dlx.aug.flip import Flip
from dlx.aug.op import BatchOp
from dlx.config.schema import NonNegativeInt, Probability


# hand-written: 3.0-6.0x kornia's RandomCrop(padding=4) images/s (bench/aug_throughput.py, 2 threads)
class Crop(BatchOp):
    strength = "padding"

    def __init__(self, p: Probability = 1.0, padding: NonNegativeInt = 4):
        super().__init__(p)
        self.padding = padding

    def offsets(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """(2, B): each sample's (dy, dx) in [-padding, padding]; 0 for unchosen samples."""
        P = self.padding
        return torch.randint(-P, P + 1, (2, x.shape[0]), device=x.device) * chosen

    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        dy, dx = self.offsets(x, chosen)
        return translate(x, dy, dx, self.padding)


class FlipCrop(nn.Module):
    """`flip` then `crop` in one gather: the same random draws and output as the two ops in a row.

    compose() uses it for the `standard` recipe: 1.3-1.5x the images/s of the two ops in a row, 2 threads.
    """

    def __init__(self, flip: Flip, crop: Crop):
        super().__init__()
        self.flip, self.crop = flip, crop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip.p == 0 or self.crop.p == 0 or self.crop.identity:
            return self.crop(self.flip(x))
        self.flip.check(x)
        flipped = self.flip.choose(x)
        dy, dx = self.crop.offsets(x, self.crop.choose(x))
        return translate(x, dy, dx, self.crop.padding, flipped)


def translate(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, padding: int, flip: torch.Tensor | None = None):
    """out[b, :, i, j] = f[b, :, i + dy[b], j + dx[b]], 0 outside the image; |dy|, |dx| <= padding.

    f is x, mirrored along W where flip[b]. One gather over the padded batch, not a copy per sample.
    """
    B, C, H, W = x.shape
    P = padding
    padded = F.pad(x, (P, P, P, P)).view(B, C, -1)  # (B, C, (H+2P)*(W+2P))
    rows = torch.arange(H, device=x.device) + dy[:, None]  # (B, H) in x's rows
    cols = torch.arange(W, device=x.device) + dx[:, None]  # (B, W) in the (maybe mirrored) image's columns
    if flip is not None:
        cols = torch.where(flip[:, None], W - 1 - cols, cols)
    index = (rows + P)[:, :, None] * (W + 2 * P) + (cols + P)[:, None, :]  # (B, H, W) in the padded image
    return padded.gather(2, index.view(B, 1, H * W).expand(B, C, H * W)).view(B, C, H, W)
