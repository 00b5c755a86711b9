"""Imbalanced classes: `conf/imbalance/<name>.yaml` names a builder returning an `Imbalance`, which may
weight the loss, rebuild the training split once (SMOTE), or redraw the training indices every epoch
(over- and undersampling). Validation and test data are never touched."""

import torch


class Imbalance:
    def loss_weights(self, y: torch.Tensor, num_classes: int) -> torch.Tensor | None:
        """Per-class weights for the training loss, from the training labels y; None for unweighted."""
        return None

    def prepare(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The training split to use, built once before training."""
        return x, y

    def epoch_indices(self, y: torch.Tensor, seed: int, epoch: int) -> torch.Tensor | None:
        """Indices into the training split for this epoch (repeats allowed); None for every sample once."""
        return None


def class_counts(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.bincount(y.cpu(), minlength=num_classes)


def epoch_seed(seed: int, epoch: int) -> int:
    # a fresh draw per epoch, reproducible from seed and epoch alone (a resumed run draws the same)
    return (seed * 1_000_003 + epoch) % 2**32
