"""SMOTE (imbalanced-learn): synthesize minority samples by interpolating between a sample and one of its
k nearest same-class neighbours, once, until every class is as large as the largest. Works on feature vectors;
images and signals are interpolated as flattened vectors.  dlx train imbalance=smote imbalance.k_neighbors=5"""

import torch

from dlx.config.errors import ConfigError
from dlx.config.schema import PositiveInt
from dlx.imbalance import Imbalance


class Smote(Imbalance):
    def __init__(self, k_neighbors: int):
        self.k_neighbors = k_neighbors

    def prepare(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        from imblearn.over_sampling import SMOTE

        smallest = int(torch.bincount(y).masked_fill(torch.bincount(y) == 0, len(y)).min())
        if smallest <= self.k_neighbors:
            raise ConfigError(
                "imbalance.k_neighbors",
                f"is {self.k_neighbors} but the smallest training class has {smallest} samples; "
                f"use k_neighbors <= {max(smallest - 1, 1)}",
            )
        flat = x.reshape(len(x), -1).cpu().numpy()  # (N, C, H, W) -> (N, C*H*W)
        new_x, new_y = SMOTE(k_neighbors=self.k_neighbors, random_state=seed).fit_resample(flat, y.cpu().numpy())
        shaped = torch.as_tensor(new_x, dtype=x.dtype).reshape(-1, *x.shape[1:])
        return shaped.to(x.device), torch.as_tensor(new_y, dtype=y.dtype, device=y.device)


def smote(k_neighbors: PositiveInt = 5) -> Imbalance:
    return Smote(k_neighbors)
