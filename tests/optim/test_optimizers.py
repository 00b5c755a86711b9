"""Every conf/optim option: weight decay reaches weights only, and each optimizer does what its name says."""

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from dlx.config.builder import build
from dlx.config.paths import packaged_conf_dir
from dlx.optim import param_groups

CONF = packaged_conf_dir() / "optim"
OPTIMS = sorted(p.stem for p in CONF.glob("*.yaml"))


def make(name: str, params, **overrides) -> torch.optim.Optimizer:
    """The optimizer conf/optim/<name>.yaml builds, with some options changed."""
    node = {**OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml")), **overrides}
    return build("optim", node, params=params)


class ConvBnLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4)
        self.embed, self.attn, self.ln = nn.Embedding(10, 4), nn.MultiheadAttention(4, 2), nn.LayerNorm(4)
        self.fc = nn.Linear(4, 3)


DECAYED = {"conv.weight", "embed.weight", "attn.in_proj_weight", "attn.out_proj.weight", "fc.weight"}


def group_names(opt: torch.optim.Optimizer, net: nn.Module) -> dict[str, set[str]]:
    name_of = {id(p): n for n, p in net.named_parameters()}
    return {g["name"]: {name_of[id(p)] for p in g["params"]} for g in opt.param_groups}


def test_param_groups_leave_biases_and_norms_out_of_decay():
    net = ConvBnLinear()
    groups = group_names(torch.optim.SGD(param_groups(net), lr=0.1), net)
    assert groups["decay"] == DECAYED
    assert groups["no_decay"] == {n for n, _ in net.named_parameters()} - DECAYED


@pytest.mark.parametrize("name", OPTIMS)
def test_weight_decay_shrinks_weights_but_not_biases_or_norms(name):
    torch.manual_seed(0)
    net = ConvBnLinear()
    opt = make(name, param_groups(net), weight_decay=0.1)
    decay, no_decay = opt.param_groups
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.1, 0.0)
    before = [p.detach().clone() for p in net.parameters()]
    for p in net.parameters():
        p.grad = torch.zeros_like(p)  # only weight decay can move anything
    opt.step()
    for p, b in zip(net.parameters(), before, strict=True):
        if any(p is q for q in decay["params"]):
            assert p.norm() < b.norm()
        else:
            assert torch.equal(p, b)


def regression(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=g)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])


def fit(name: str, steps: int, **overrides) -> tuple[nn.Linear, list[float]]:
    x, y = regression()
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = make(name, param_groups(net), **overrides)
    losses = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return net, losses


@pytest.mark.parametrize("name", OPTIMS)
def test_each_optimizer_reduces_a_regression_loss(name):
    _, losses = fit(name, steps=10)
    assert losses[-1] < losses[0]


def test_sgd_is_plain_so_momentum_first_differs_on_the_second_step():
    assert make("sgd", [nn.Parameter(torch.zeros(1))]).defaults["momentum"] == 0
    one = [fit(name, steps=1, lr=0.01)[0].weight for name in ("sgd", "momentum")]
    two = [fit(name, steps=2, lr=0.01)[0].weight for name in ("sgd", "momentum")]
    assert torch.equal(*one)  # the first momentum step is the gradient itself
    assert not torch.allclose(*two)


def test_nesterov_differs_from_heavy_ball_momentum():
    heavy, nesterov = (fit("momentum", steps=2, nesterov=n)[0].weight for n in (False, True))
    assert not torch.allclose(heavy, nesterov)


KERNEL_OPTIMS = [name for name in OPTIMS if "kernel" in OmegaConf.load(CONF / f"{name}.yaml")]


def test_auto_picks_the_fused_kernel_on_cpu_where_it_is_faster():
    kernels = {name: make(name, [nn.Parameter(torch.zeros(2))]).defaults for name in KERNEL_OPTIMS}
    assert {name: bool(d.get("fused")) for name, d in kernels.items()} == {
        "adagrad": True, "adam": True, "adamw": True, "momentum": True, "sgd": False,
    }  # fmt: skip
    assert make("adam", [nn.Parameter(torch.zeros(2))], kernel="for_loop").defaults["foreach"] is False
    assert make("adam", [nn.Parameter(torch.zeros(2))], kernel="foreach").defaults["foreach"] is True


def test_auto_leaves_parameters_without_a_fused_kernel_to_torch():
    from dlx.optim import fused_supported

    assert fused_supported([nn.Parameter(torch.zeros(2))])
    assert fused_supported(param_groups(ConvBnLinear()))
    assert not fused_supported([nn.Parameter(torch.zeros(2, device="meta"))])  # no fused kernel for this device
    assert not fused_supported([])
    net = nn.Linear(2, 1)
    opt = make("adam", net.parameters())  # a generator: the optimizer still gets every parameter
    assert len(opt.param_groups[0]["params"]) == 2


@pytest.mark.parametrize("name", KERNEL_OPTIMS)
def test_every_kernel_takes_the_same_steps(name):
    fused, _ = fit(name, steps=30, kernel="fused")
    loop, _ = fit(name, steps=30, kernel="for_loop")
    each, _ = fit(name, steps=30, kernel="foreach")
    for other in (loop, each):
        assert torch.allclose(fused.weight, other.weight, rtol=1e-5, atol=1e-6)
        assert torch.allclose(fused.bias, other.bias, rtol=1e-5, atol=1e-6)
    assert not torch.equal(fused.weight, fit(name, steps=29, kernel="fused")[0].weight)  # the steps did move it


def test_an_unknown_kernel_is_refused_naming_the_key_and_the_choices(workdir):
    from tests.conftest import run_in_process

    out = run_in_process("train", "optim=adam", "optim.kernel=turbo", "trainer=smoke", cwd=workdir)
    assert out.returncode == 2 and "optim.kernel" in out.stderr and "fused" in out.stderr, out.stderr
