"""init, init_from and freeze: the options every model has."""

import math

import pytest
import torch
from torch import nn

from dlx.config.errors import ConfigError
from dlx.model.cnn import cnn
from dlx.model.mlp import mlp

SHAPE = (1, 8, 8)


def first_linear(init: str) -> nn.Linear:
    torch.manual_seed(0)
    net = mlp(in_shape=(256,), num_classes=10, width=512, depth=1, init=init)  # a wide 256 -> 512 layer
    return net.backbone[1]


@pytest.mark.parametrize(
    ("init", "std"),
    [("kaiming", math.sqrt(2 / 256)), ("xavier", math.sqrt(2 / (256 + 512))), ("default", 1 / math.sqrt(3 * 256))],
)
def test_init_draws_weights_with_the_schemes_std(init, std):
    layer = first_linear(init)
    assert layer.weight.std().item() == pytest.approx(std, rel=0.03)
    if init != "default":
        assert torch.count_nonzero(layer.bias) == 0


def test_orthogonal_init_gives_orthonormal_columns():
    w = first_linear("orthogonal").weight  # (512, 256)
    assert torch.allclose(w.T @ w, torch.eye(256), atol=1e-4)
    assert not torch.allclose(
        first_linear("default").weight.T @ first_linear("default").weight, torch.eye(256), atol=0.1
    )


def test_init_reaches_convs_with_their_fan_in():
    torch.manual_seed(0)
    conv = cnn(in_shape=SHAPE, num_classes=10, init="kaiming").backbone[2][0]  # 32 -> 64 channels, 3x3
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.05)


def save_lightning_checkpoint(net: nn.Module, path) -> None:
    """What Lightning writes for dlx's Classifier: the model's weights under 'net.'."""
    torch.save({"epoch": 3, "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()}}, path)


def test_init_from_loads_every_matching_tensor(tmp_path, capsys):
    source = cnn(in_shape=SHAPE, num_classes=10)
    save_lightning_checkpoint(source, tmp_path / "a.ckpt")
    torch.save(source.state_dict(), tmp_path / "plain.pt")  # a plain state_dict works too
    for file in ("a.ckpt", "plain.pt"):
        net = cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path / file))
        for (name, theirs), ours in zip(source.state_dict().items(), net.state_dict().values(), strict=True):
            assert torch.equal(theirs, ours), name
    out = capsys.readouterr().out.splitlines()
    n = len(source.state_dict())  # weights and BatchNorm buffers
    assert out[0] == f"model.init_from: loaded {n} of {n} tensors from {tmp_path / 'a.ckpt'}"
    assert len(out) == 2  # nothing skipped: no second line per load


def test_a_different_class_count_gets_a_new_head(tmp_path, capsys):
    source = cnn(in_shape=SHAPE, num_classes=10)
    save_lightning_checkpoint(source, tmp_path / "a.ckpt")
    torch.manual_seed(1)
    fresh = cnn(in_shape=SHAPE, num_classes=3)
    torch.manual_seed(1)
    net = cnn(in_shape=SHAPE, num_classes=3, init_from=str(tmp_path / "a.ckpt"))
    assert torch.equal(net.backbone[0][0].weight, source.backbone[0][0].weight)
    assert torch.equal(net.head[1].weight, fresh.head[1].weight)  # the new head keeps its fresh init
    assert capsys.readouterr().out.splitlines()[-1] == (
        "model.init_from: skipped 2 (shape differs: head.1.weight, head.1.bias)"
    )


def test_init_from_a_run_directory(tmp_path, capsys):
    from tests.conftest import build

    smoke = ["trainer=smoke", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]
    exp = build(smoke, tmp_path / "run")
    exp.trainer.fit(exp.module, datamodule=exp.data)
    net = cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path / "run"))
    trained = exp.module.net.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in net.state_dict().items())
    assert f"tensors from {tmp_path / 'run'}" in capsys.readouterr().out
    # as a user runs it: dlx train model.init_from=RUN model.freeze=backbone
    tuned = build([*smoke, f"model.init_from={tmp_path / 'run'}", "model.freeze=backbone"], tmp_path / "tuned")
    tuned.trainer.fit(tuned.module, datamodule=tuned.data)
    after = tuned.module.net.state_dict()
    assert all(torch.equal(after[k], v) for k, v in trained.items() if k.startswith("backbone."))
    assert not torch.equal(after["head.1.weight"], trained["head.1.weight"])


def test_init_from_errors(tmp_path):
    with pytest.raises(ConfigError, match="model.init_from: '.*nope' does not exist; expected a dlx run directory"):
        cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="has no checkpoints/best.ckpt or last.ckpt"):
        cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path))
    torch.save({"state_dict": {"net.other.weight": torch.zeros(2)}}, tmp_path / "other.ckpt")
    with pytest.raises(ConfigError, match="holds no weights matching this model"):
        cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path / "other.ckpt"))
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(ConfigError, match=r"model.init_from: .*junk.pt is not a checkpoint"):
        cnn(in_shape=SHAPE, num_classes=10, init_from=str(tmp_path / "junk.pt"))


def test_frozen_backbone_stays_put_while_the_head_trains():
    net = cnn(in_shape=SHAPE, num_classes=10, freeze="backbone").train()
    before = {k: v.clone() for k, v in net.state_dict().items()}  # weights and BatchNorm running stats
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)  # the Classifier hands it every parameter
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(torch.randn(16, *SHAPE) + 3), torch.randint(0, 10, (16,))).backward()
        optimizer.step()
    after = net.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items() if k.startswith("backbone."))
    assert not torch.equal(after["head.1.weight"], before["head.1.weight"])
    assert not any(p.requires_grad for p in net.backbone.parameters())
    assert all(p.requires_grad for p in net.head.parameters())
