"""L-infinity attacks and input noise on normalized inputs, kept inside the data's valid range.

Sizes (eps, sigma, step size) are fractions of the input range: the min..max of the training inputs, per
channel for images and signals, per feature for tables. dlx normalizes per channel or feature with an affine
map, so a step of eps * range in normalized units is the same perturbation as eps of the raw range, and
clamping to the normalized min..max keeps every input a value the raw data could hold.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Scores = Callable[[torch.Tensor], torch.Tensor]  # normalized inputs (B, ...) -> class scores (B, K)


@dataclass
class Bounds:
    lower: torch.Tensor  # (1, C, 1, ...) or (1, F): broadcasts over a batch
    upper: torch.Tensor

    @property
    def span(self) -> torch.Tensor:
        return (self.upper - self.lower).clamp_min(1e-12)

    def clamp(self, x: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(x, self.upper), self.lower)

    def to(self, device) -> "Bounds":
        return Bounds(self.lower.to(device), self.upper.to(device))


def input_bounds(x: torch.Tensor) -> Bounds:
    """x: normalized training inputs (N, F) or (N, C, ...): min and max per feature or per channel."""
    dims = [0] if x.dim() == 2 else [0, *range(2, x.dim())]
    return Bounds(x.amin(dim=dims, keepdim=True), x.amax(dim=dims, keepdim=True))


def input_gradient(scores: Scores, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d loss / d x, without touching the parameters' .grad (the training step's gradients stay as they are)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(scores(x), y)
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(scores: Scores, x: torch.Tensor, y: torch.Tensor, eps: float, bounds: Bounds) -> torch.Tensor:
    """One step of eps (a fraction of the range) along the sign of the loss gradient."""
    return bounds.clamp(x + eps * bounds.span * input_gradient(scores, x, y).sign()).detach()


def pgd(
    scores: Scores,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    bounds: Bounds,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient descent in the L-infinity ball of radius eps; step_size defaults to 2.5 eps / steps."""
    radius = eps * bounds.span
    step = (step_size if step_size is not None else 2.5 * eps / steps) * bounds.span
    adv = x.detach()
    if random_start:
        noise = torch.rand(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
        adv = bounds.clamp(x + (2 * noise - 1) * radius)
    for _ in range(steps):
        adv = adv + step * input_gradient(scores, adv, y).sign()
        adv = bounds.clamp(torch.maximum(torch.minimum(adv, x + radius), x - radius)).detach()
    return adv


def gaussian_noise(x: torch.Tensor, sigma: float, bounds: Bounds, generator: torch.Generator | None = None):
    """x plus noise of standard deviation sigma (a fraction of the range), clamped into the range."""
    noise = torch.randn(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
    return bounds.clamp(x + sigma * bounds.span * noise)
