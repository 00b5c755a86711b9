"""The base of every augmentation op: input check, per-sample choice with probability p, identity short cut."""

from abc import ABC, abstractmethod
from typing import Annotated

import torch
from torch import nn

from dlx.config.schema import Range

# A strength given as a fraction of a side, an area or a factor's distance from 1.
Fraction = Annotated[float, Range(ge=0, le=1)]
# The ranks an op can take: images (B, C, H, W), signals (B, C, L), or any batch (B, ...).
SHAPES = {4: "images (B, C, H, W)", 3: "signals (B, C, L)", None: "a batch of samples (B, C, ...)"}


class BatchOp(nn.Module, ABC):
    """Changes each sample of a batch with probability p, with that sample's own random parameters.

    Subclasses set `rank` and implement `augment(x, chosen)`, where chosen (B,) marks the samples
    to change; `strength` names the option whose 0 makes the op the identity (or override
    `identity`). Randomness comes from torch's global RNG, so seed_everything makes a run reproducible.
    """

    rank: int | None = 4
    strength: str | None = None  # the attribute that is 0 when the op changes nothing

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    @property
    def identity(self) -> bool:
        return self.strength is not None and getattr(self, self.strength) == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check(x)
        if self.p == 0 or self.identity:
            return x
        return self.augment(x, self.choose(x))

    def check(self, x: torch.Tensor) -> None:
        if x.dim() != self.rank if self.rank else x.dim() < 2:
            name = type(self).__name__.lower()
            raise ValueError(f"{name} needs {SHAPES[self.rank]}; got a batch of shape {tuple(x.shape)}")

    def choose(self, x: torch.Tensor) -> torch.Tensor:
        """(B,) bool: which samples to change."""
        return torch.rand(x.shape[0], device=x.device) < self.p

    @abstractmethod
    def augment(self, x: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """x with the chosen samples changed (each with its own random parameters)."""

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in vars(self).items() if not k.startswith("_") and k != "training")


def per_sample(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, ..., 1), to broadcast one value per sample over x."""
    return v.view(-1, *([1] * (x.dim() - 1)))


def uniform(lo: float, hi: float, x: torch.Tensor) -> torch.Tensor:
    """One draw per sample from U(lo, hi), in x's dtype and on its device: (B,)."""
    return torch.empty(x.shape[0], device=x.device, dtype=x.dtype).uniform_(lo, hi)


def check_range(name: str, lo_hi, upper: float | None = None) -> tuple[float, float]:
    """A [lo, hi] option: two numbers, lo <= hi (and hi <= upper); ValueError otherwise."""
    if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1] or (upper is not None and lo_hi[1] > upper):
        bound = "" if upper is None else f" <= {upper}"
        raise ValueError(f"{name} must be [low, high] with low <= high{bound}; got {list(lo_hi)}")
    return float(lo_hi[0]), float(lo_hi[1])
