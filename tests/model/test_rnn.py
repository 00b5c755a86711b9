import pytest
import torch

from dlx.model.rnn import as_sequence, gru, lstm


def test_an_image_is_read_row_by_row():
    x = torch.randn(2, 3, 5, 4)  # (B, C, H, W)
    seq = as_sequence(x)
    assert seq.shape == (2, 5, 12)  # H steps of C*W features
    assert torch.equal(seq[:, 1], x[:, :, 1, :].flatten(1))  # step 1 is row 1 of every channel


def test_signals_are_steps_of_channels_and_vectors_steps_of_one_value():
    assert torch.equal(as_sequence(torch.arange(6.0).reshape(1, 2, 3))[0, 1], torch.tensor([1.0, 4.0]))
    assert as_sequence(torch.randn(2, 7)).shape == (2, 7, 1)


@pytest.mark.parametrize("builder", [lstm, gru])
def test_the_recurrence_runs_over_the_rows(builder):
    net = builder(in_shape=(1, 8, 8), num_classes=10, width=16).eval()
    seen = []
    net.backbone.rnn.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape))
    x = torch.randn(2, 1, 8, 8)
    net(x)
    assert seen == [(2, 8, 8)]  # (B, T=H, C*W)
    # the same weights read every step: only the order of the rows can tell x from its flip
    assert not torch.allclose(net(x), net(x.flip(2)), atol=1e-4)


def test_depth_stacks_layers_with_dropout_between():
    net = gru(in_shape=(1, 40), num_classes=10, depth=2, dropout=0.2)
    assert net.backbone.rnn.num_layers == 2 and net.backbone.rnn.dropout == 0.2
