"""A model whose every forward pass sleeps: a batch that takes long enough to signal twice inside it.

conf/model/slow.yaml: _target_: tests.trainer.slow_net.slow_linear
"""

import time

from torch import nn


class Sleep(nn.Module):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


def slow_linear(in_shape, num_classes, seconds: float = 0.5) -> nn.Module:
    features = 1
    for n in in_shape:
        features *= n
    return nn.Sequential(nn.Flatten(), nn.Linear(features, num_classes), Sleep(seconds))
