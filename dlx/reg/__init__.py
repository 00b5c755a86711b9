"""Regularizers: `reg` is a list (`reg=[l1,mixup,ema]`); each option returns a `Regularizer` saying
what it changes: the loss (a penalty, a criterion, label smoothing), the batch (mixing), the step
(decoupled weight decay, gradient clipping), the model's options, or Lightning callbacks."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlx.config.errors import ConfigError

# callbacks that swap averaged weights in for evaluation: two of them would fight over the model
AVERAGING = {"EMAWeightAveraging", "StochasticWeightAveraging", "EpochWeightAveraging"}


@dataclass
class Regularizer:
    penalties: list[Callable] = field(default_factory=list)  # net -> scalar added to the training loss
    decoupled_weight_decay: float = 0.0
    label_smoothing: float = 0.0
    criterion: Callable | None = None  # replaces cross-entropy: (logits, target probs, class weights) -> loss
    batch_mixers: list[Callable] = field(default_factory=list)  # (x, target probs) -> (x, target probs)
    grad_clip: tuple[float, str] | None = None  # (bound, "norm" | "value")
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)
    adversary: Callable | None = None  # (scores, x, y, input bounds) -> x with adversarial samples in it


def combine(regs: list[Regularizer]) -> Regularizer:
    total = Regularizer()
    for r in regs:
        total.penalties += r.penalties
        total.decoupled_weight_decay += r.decoupled_weight_decay
        total.label_smoothing = max(total.label_smoothing, r.label_smoothing)
        if r.criterion is not None:
            if total.criterion is not None:
                raise ConfigError("reg", "two regularizers replace the loss; keep one of them")
            total.criterion = r.criterion
        total.batch_mixers += r.batch_mixers
        if r.grad_clip is not None:
            total.grad_clip = r.grad_clip
        total.model_kwargs.update(r.model_kwargs)
        total.callbacks += r.callbacks
        if r.adversary is not None:
            total.adversary = r.adversary
    if sum(type(c).__name__ in AVERAGING for c in total.callbacks) > 1:
        raise ConfigError("reg", "ema and swa both average the weights; keep one of them")
    return total


def decayed_weights(net) -> list:
    """Weights of linear/conv/attention layers; biases and normalization parameters are left alone."""
    from dlx.optim import param_groups

    return next(g["params"] for g in param_groups(net) if g["name"] == "decay")
