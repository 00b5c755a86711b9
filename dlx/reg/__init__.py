"""Regularizers: `reg` is a list (`reg=[l2,label_smoothing]`); each option returns a `Regularizer`
saying what it changes: the optimizer's weight decay, the loss, the model's options, or callbacks."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Regularizer:
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)


def combine(regs: list[Regularizer]) -> Regularizer:
    total = Regularizer()
    for r in regs:
        total.weight_decay += r.weight_decay
        total.label_smoothing = max(total.label_smoothing, r.label_smoothing)
        total.model_kwargs.update(r.model_kwargs)
        total.callbacks += r.callbacks
    return total
