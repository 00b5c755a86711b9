"""data.normalize: standard or minmax per channel (images, signals) or per feature (tables), or none.

Statistics come from the training split only, and travel in every checkpoint
(the data module's state_dict), so evaluation and prediction apply the same ones.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

Method = Literal["standard", "minmax", "none"]


@dataclass
class Normalizer:
    method: str
    shift: torch.Tensor  # (C,) per channel, or (F,) per feature
    scale: torch.Tensor  # same shape; never 0

    @classmethod
    def fit(cls, method: str, x_train: np.ndarray) -> "Normalizer":
        """x_train: (N, C, ...) -> statistics per channel; (N, F) -> per feature."""
        if method == "none":
            return cls.identity(x_train.shape[1])
        moments = Moments(x_train.shape[1])
        for start in range(0, len(x_train), 4096):  # float64 sums, chunked: no float64 copy of the whole set
            moments.add(x_train[start : start + 4096])
        return moments.normalizer(method)

    @classmethod
    def from_moments(cls, method, count, total, total_sq, low, high) -> "Normalizer":
        """From sums (standard) or extremes (minmax) per channel: the streamed data path accumulates these."""
        if method == "standard":
            mean = total / count
            std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
            shift, scale = mean, np.where(std > 1e-8, std, 1.0)  # a constant feature stays constant, not inf
        else:
            shift, span = low, high - low
            scale = np.where(span > 1e-12, span, 1.0)
        return cls(method, torch.as_tensor(shift, dtype=torch.float32), torch.as_tensor(scale, dtype=torch.float32))

    @classmethod
    def identity(cls, channels: int) -> "Normalizer":
        return cls("none", torch.zeros(channels), torch.ones(channels))

    def _view(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return t.to(x.device, x.dtype).view(-1, *[1] * (x.dim() - 2))  # (C,) -> (C, 1, 1) for (B, C, H, W)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: a batch (B, C, ...) or (B, F)."""
        if self.method == "none":
            return x
        return (x - self._view(self.shift, x)) / self._view(self.scale, x)

    def undo(self, x: torch.Tensor) -> torch.Tensor:
        if self.method == "none":
            return x
        return x * self._view(self.scale, x) + self._view(self.shift, x)

    def state_dict(self) -> dict:
        return {"method": self.method, "shift": self.shift.clone(), "scale": self.scale.clone()}

    @classmethod
    def from_state(cls, state: dict) -> "Normalizer":
        return cls(state["method"], torch.as_tensor(state["shift"]), torch.as_tensor(state["scale"]))

    def same_as(self, other: "Normalizer") -> bool:
        return (
            self.method == other.method
            and torch.equal(self.shift, other.shift.to(self.shift))
            and torch.equal(self.scale, other.scale.to(self.scale))
        )


class Moments:
    """Per-channel count, sums and extremes, accumulated batch by batch (streamed data uses this too)."""

    def __init__(self, channels: int):
        self.count = 0
        self.total, self.total_sq = np.zeros(channels), np.zeros(channels)
        self.low, self.high = np.full(channels, np.inf), np.full(channels, -np.inf)

    def add(self, batch) -> None:
        """batch: (B, C, ...) or (B, F), numpy or torch."""
        b = np.asarray(batch, dtype=np.float64)
        flat = np.moveaxis(b, 1, -1).reshape(-1, b.shape[1])  # (B*..., C)
        self.count += len(flat)
        self.total += flat.sum(0)
        self.total_sq += (flat**2).sum(0)
        self.low, self.high = np.minimum(self.low, flat.min(0)), np.maximum(self.high, flat.max(0))

    def normalizer(self, method: str) -> Normalizer:
        if method == "none":
            return Normalizer.identity(len(self.total))
        return Normalizer.from_moments(method, self.count, self.total, self.total_sq, self.low, self.high)
