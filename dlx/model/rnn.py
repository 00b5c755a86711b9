"""Recurrent nets over a sequence read from the data, classified from the last step's hidden state.

An image (C, H, W) is read row by row: H steps of C*W features; a signal (C, L) is L steps of C features;
a flat vector (F,) is F steps of one feature.
    dlx train model=lstm model.width=64
    dlx train model=gru model.depth=2
"""

import torch
from torch import nn

from dlx.config.schema import PositiveInt, UnitInterval, with_common_options
from dlx.model.common import finish_model
from dlx.model.layers import Net, classifier


def as_sequence(x: torch.Tensor) -> torch.Tensor:
    """(B, *in_shape) -> (B, T, F)."""
    if x.dim() == 4:  # (B, C, H, W) -> (B, H, C*W): one row per step
        return x.permute(0, 2, 1, 3).flatten(2)
    if x.dim() == 3:  # (B, C, L) -> (B, L, C)
        return x.transpose(1, 2)
    return x.unsqueeze(-1)  # (B, F) -> (B, F, 1)


def step_features(in_shape: tuple[int, ...]) -> int:
    return in_shape[0] * in_shape[2] if len(in_shape) == 3 else in_shape[0] if len(in_shape) == 2 else 1


class Recurrent(nn.Module):
    """(B, *in_shape) -> (B, width): the top layer's hidden state after the last step."""

    def __init__(self, rnn: nn.RNNBase):
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(as_sequence(x))  # (B, T, width)
        return out[:, -1]


def recurrent_net(kind: type[nn.RNNBase], in_shape, num_classes, width, depth, dropout) -> Net:
    # nn.LSTM/GRU drop out between stacked layers only; the head's dropout covers the top one
    rnn = kind(
        step_features(in_shape), width, num_layers=depth, dropout=dropout if depth > 1 else 0.0, batch_first=True
    )
    return Net(Recurrent(rnn), classifier(width, num_classes, dropout))


@with_common_options(finish_model)
def lstm(in_shape, num_classes, width: PositiveInt = 128, depth: PositiveInt = 1, dropout: UnitInterval = 0.0) -> Net:
    return recurrent_net(nn.LSTM, in_shape, num_classes, width, depth, dropout)


@with_common_options(finish_model)
def gru(in_shape, num_classes, width: PositiveInt = 128, depth: PositiveInt = 1, dropout: UnitInterval = 0.0) -> Net:
    return recurrent_net(nn.GRU, in_shape, num_classes, width, depth, dropout)
