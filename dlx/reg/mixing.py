"""Batch mixing shared by mixup and cutmix: each sample is paired with another of the same batch
(a random permutation) and the targets are mixed in the same proportion as the inputs."""

import torch


def mixing_weight(alpha: float) -> float:
    """lam ~ Beta(alpha, alpha): one weight per batch, as in both papers."""
    return torch.distributions.Beta(alpha, alpha).sample().item() if alpha > 0 else 1.0


def partner(n: int, device) -> torch.Tensor:
    return torch.randperm(n, device=device)


def applies(p: float) -> bool:
    return p >= 1 or torch.rand(()).item() < p
