"""Weight the loss of each class by n / (K * n_class), from the training split's class counts.
dlx train imbalance=class_weights"""

from typing import Annotated

import torch

from dlx.config.schema import Range
from dlx.imbalance import Imbalance, class_counts


class ClassWeights(Imbalance):
    def __init__(self, power: float):
        self.power = power

    def loss_weights(self, y: torch.Tensor, num_classes: int) -> torch.Tensor:
        counts = class_counts(y, num_classes).double().clamp(min=1)
        weights = (len(y) / (num_classes * counts)) ** self.power  # sklearn's "balanced" when power is 1
        return weights.to(torch.float32).to(y.device)


# beyond 4, a 10:1 imbalance already weighs 10,000:1, and large powers overflow the weights to inf
WeightPower = Annotated[float, Range(ge=0, le=4)]


def class_weights(power: WeightPower = 1.0) -> Imbalance:
    """power < 1 softens the weights (0.5: inverse square root of the counts)."""
    return ClassWeights(power)
