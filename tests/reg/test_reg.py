"""Each regularizer changes what it says it changes, measured against the same run without it."""

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dlx.reg import decayed_weights
from tests.conftest import build

FAST = ["trainer.limit_val_batches=1", "trainer.progress=false"]


def fit(overrides: list[str], tmp_path: Path):
    exp = build([*overrides, *FAST], tmp_path)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    return exp


def weights(net: torch.nn.Module) -> torch.Tensor:
    """All linear/conv weights, flattened (biases and norm parameters excluded)."""
    return torch.cat([w.detach().ravel() for w in decayed_weights(net)])


def test_l1_makes_weights_sparser(tmp_path: Path):
    common = ["model=mlp", "trainer.max_epochs=4", "sched=none"]
    plain = fit(common, tmp_path / "plain")
    sparse = fit([*common, "reg=[l1]", "reg.l1.strength=1e-3"], tmp_path / "l1")
    near_zero = lambda net: (weights(net).abs() < 1e-3).float().mean().item()  # noqa: E731
    assert near_zero(sparse.module.net) > 3 * near_zero(plain.module.net)


def test_l2_penalty_is_half_strength_times_squared_weights(tmp_path: Path):
    exp = build(["model=mlp", "reg=[l2]", "reg.l2.strength=0.01", *FAST], tmp_path)
    (penalty,) = exp.module.reg.penalties
    expected = 0.5 * 0.01 * weights(exp.module.net).pow(2).sum()
    assert penalty(exp.module.net).item() == pytest.approx(expected.item(), rel=1e-5)
    with torch.no_grad():  # biases are not penalized: changing them leaves the penalty alone
        for name, p in exp.module.net.named_parameters():
            if name.endswith("bias"):
                p.add_(10.0)
    assert penalty(exp.module.net).item() == pytest.approx(expected.item(), rel=1e-5)


def test_l2_shrinks_the_weights(tmp_path: Path):
    common = ["model=mlp", "trainer.max_epochs=3", "sched=none"]
    plain = fit(common, tmp_path / "plain")
    decayed = fit([*common, "reg=[l2]", "reg.l2.strength=0.05"], tmp_path / "l2")
    assert weights(decayed.module.net).norm() < 0.8 * weights(plain.module.net).norm()


def test_decoupled_weight_decay_scales_weights_not_biases(tmp_path: Path):
    exp = build(["model=mlp", "optim=sgd", "optim.lr=0.1", "sched=none", "reg=[weight_decay]"] + FAST, tmp_path)
    exp.module.reg.decoupled_weight_decay = 0.5
    optimizer = exp.module.configure_optimizers()
    net = exp.module.net
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    for p in net.parameters():
        p.grad = torch.zeros_like(p)  # no gradient: any change is the decay alone
    optimizer.step()
    decayed = {id(w) for w in decayed_weights(net)}
    for name, p in net.named_parameters():
        factor = 1 - 0.1 * 0.5 if id(p) in decayed else 1.0
        assert torch.allclose(p, before[name] * factor), name


def test_dropout_sets_the_models_dropout(tmp_path: Path):
    exp = build(["model=mlp", "reg=[dropout]", "reg.dropout.p=0.4", *FAST], tmp_path)
    ps = [m.p for m in exp.module.net.modules() if isinstance(m, torch.nn.Dropout)]
    assert ps and all(p == 0.4 for p in ps)


@pytest.mark.parametrize("enabled", [True, False])
def test_batchnorm_switches_the_models_normalization(enabled: bool, tmp_path: Path):
    exp = build(["model=cnn", "reg=[batchnorm]", f"reg.batchnorm.enabled={str(enabled).lower()}", *FAST], tmp_path)
    has_bn = any(isinstance(m, torch.nn.BatchNorm2d) for m in exp.module.net.modules())
    assert has_bn == enabled


def test_label_smoothing_gives_the_closed_form_loss(tmp_path: Path):
    exp = build(["reg=[label_smoothing]", "reg.label_smoothing.smoothing=0.3", *FAST], tmp_path)
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    target = torch.tensor([0])
    q = torch.tensor([0.7 + 0.1, 0.1, 0.1])  # 1 - s on the label plus s / K everywhere
    expected = -(q * F.log_softmax(logits, 1)[0]).sum()
    assert exp.module.training_loss(logits, target).item() == pytest.approx(expected.item(), rel=1e-6)


def test_grad_clip_bounds_the_gradient_norm(tmp_path: Path):
    def norms_seen(overrides: list[str], path: Path) -> list[float]:
        exp = build(
            ["optim=sgd", "optim.lr=0.5", "trainer.max_epochs=1", "trainer.limit_train_batches=6", *overrides, *FAST],
            path,
        )
        seen: list[float] = []
        clip = exp.module.configure_gradient_clipping

        def clip_then_measure(optimizer, *args, **kwargs):  # Lightning calls this right before optimizer.step
            clip(optimizer, *args, **kwargs)
            grads = [p.grad.norm() for p in exp.module.net.parameters() if p.grad is not None]
            seen.append(torch.linalg.vector_norm(torch.stack(grads)).item())

        exp.module.configure_gradient_clipping = clip_then_measure
        exp.trainer.fit(exp.module, datamodule=exp.data)
        return seen

    unclipped = norms_seen([], tmp_path / "plain")
    clipped = norms_seen(["reg=[grad_clip]", "reg.grad_clip.max=0.1"], tmp_path / "clip")
    assert max(unclipped) > 0.1, "the bound must bind for this test to mean anything"
    assert clipped and max(clipped) <= 0.1 * (1 + 1e-4)


def test_grad_clip_by_value_bounds_every_entry(tmp_path: Path):
    exp = build(["reg=[grad_clip]", "reg.grad_clip.max=0.01", "reg.grad_clip.mode=value", *FAST], tmp_path)
    net = exp.module.net
    loss = F.cross_entropy(net(exp.data.sample_batch(16)), torch.arange(16) % 10) * 1000
    loss.backward()
    exp.module.clip_gradients = lambda opt, gradient_clip_val, gradient_clip_algorithm: torch.nn.utils.clip_grad_value_(
        net.parameters(), gradient_clip_val
    )  # the Lightning call needs a running trainer; its arguments are what we check
    exp.module.configure_gradient_clipping(None)
    assert max(p.grad.abs().max().item() for p in net.parameters()) <= 0.01


def test_early_stopping_stops_on_a_plateau(tmp_path: Path):
    # a learning rate of 1e-9 leaves val accuracy flat: stop after patience epochs without improvement
    exp = fit(
        [
            "optim.lr=1e-9",
            "sched=none",
            "reg=[early_stopping]",
            "reg.early_stopping.patience=2",
            "trainer.max_epochs=20",
        ]
        + ["trainer.limit_train_batches=2"],
        tmp_path,
    )
    assert exp.trainer.current_epoch == 3  # epoch 0 sets the baseline, then 2 epochs without improvement


def one_hot(y: torch.Tensor, k: int = 10) -> torch.Tensor:
    return F.one_hot(y, k).float()


def test_mixup_targets_are_convex_combinations():
    from dlx.reg.mixup import Mixup

    torch.manual_seed(0)
    x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 10
    mixed_x, target = Mixup(alpha=0.4, p=1.0)(x, one_hot(y))
    assert torch.allclose(target.sum(1), torch.ones(32))
    assert (target >= 0).all() and not torch.equal(mixed_x, x)
    # each row: lam on its own label, 1 - lam on its partner's; inputs mixed with the same lam
    lam = target[torch.arange(32), y]
    partner = (mixed_x - lam.view(-1, 1, 1, 1) * x).flatten(1)
    rows_with_other = lam < 1 - 1e-6
    assert rows_with_other.any()
    for i in torch.nonzero(rows_with_other).ravel():
        j = torch.argmin(((x.flatten(1) * (1 - lam[i]) - partner[i]) ** 2).sum(1))
        assert torch.allclose(partner[i], (1 - lam[i]) * x[j].ravel(), atol=1e-5)


def test_cutmix_targets_follow_the_pasted_area():
    from dlx.reg.cutmix import CutMix

    torch.manual_seed(1)
    x = torch.arange(16).float().view(16, 1, 1, 1).expand(16, 1, 8, 8).clone()  # sample i is all i
    y = torch.arange(16) % 10
    mixed, target = CutMix(alpha=1.0, p=1.0)(x, one_hot(y))
    assert torch.allclose(target.sum(1), torch.ones(16))
    for i in range(16):
        own = (mixed[i] == i).float().mean().item()  # share of pixels still from sample i
        if own < 1:
            assert target[i, y[i]].item() == pytest.approx(own, abs=1e-6) or y[i] == int(mixed[i].max()) % 10
    pasted = [(mixed[i] != i).float().mean().item() for i in range(16)]
    assert 0 < max(pasted) < 1


def test_cutmix_works_on_signals():
    from dlx.reg.cutmix import CutMix

    torch.manual_seed(2)
    x = torch.arange(8).float().view(8, 1, 1).expand(8, 1, 40).clone()
    mixed, target = CutMix(alpha=1.0, p=1.0)(x, one_hot(torch.arange(8)))
    own = torch.stack([(mixed[i] == i).float().mean() for i in range(8)])
    assert torch.allclose(target[torch.arange(8), torch.arange(8)], own, atol=1e-6)


def test_ema_evaluates_and_saves_the_averaged_weights(tmp_path: Path):
    exp = fit(["reg=[ema]", "reg.ema.decay=0.9", "trainer.max_epochs=2", "sched=none"], tmp_path)
    ckpt = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)
    averaged, raw = ckpt["state_dict"], ckpt["current_model_state"]
    assert any(not torch.equal(averaged[k], raw[k]) for k in averaged if k.startswith("net."))
    # the best score was measured with the averaged weights
    exp.module.load_state_dict(averaged)
    exp.module.eval()
    x, y = exp.data.splits["val"]
    with torch.no_grad():
        acc = (exp.module.net(x[:512]).argmax(1) == y[:512]).float().mean().item()
    best = exp.trainer.checkpoint_callback.best_model_score.item()
    assert acc == pytest.approx(best, abs=1e-6)


def test_swa_ends_with_the_average_of_epoch_end_weights(tmp_path: Path):
    import lightning.pytorch as L

    snapshots: list[dict[str, torch.Tensor]] = []

    class Snapshot(L.Callback):
        def on_train_epoch_end(self, trainer, module):
            snapshots.append({k: v.detach().clone() for k, v in module.net.named_parameters()})

    exp = build(["model=mlp", "reg=[swa]", "reg.swa.start=0.5", "trainer.max_epochs=4", "sched=none", *FAST], tmp_path)
    exp.trainer.callbacks.append(Snapshot())
    exp.trainer.fit(exp.module, datamodule=exp.data)
    start = math.floor(0.5 * 4)
    for name, p in exp.module.net.named_parameters():
        expected = torch.stack([s[name] for s in snapshots[start:]]).mean(0)
        assert torch.allclose(p, expected, atol=1e-6), name
    assert not torch.allclose(p, snapshots[-1][name])  # it is not just the last epoch's weights


def noisy_digits(seed: int, rate: float = 0.4, **options):
    """digits with `rate` of the training labels flipped to another class (val and test stay clean)."""
    from dlx.data.digits import digits

    data = digits(seed=seed, **options)
    x, y = data.splits["train"]
    g = torch.Generator().manual_seed(seed)
    flipped = torch.rand(len(y), generator=g) < rate
    other = (y + torch.randint(1, 10, (len(y),), generator=g)) % 10
    data.splits["train"] = (x, torch.where(flipped, other, y))
    return data


def test_bootstrapping_beats_cross_entropy_on_noisy_labels(tmp_path: Path):
    def test_accuracy(reg: list[str], path: Path) -> float:
        common = ["model=mlp", "trainer.max_epochs=30", "sched=none", "data._target_=tests.reg.test_reg.noisy_digits"]
        exp = fit([*common, *reg], path)  # 30 epochs: long enough for cross-entropy to memorize the noise
        x, y = exp.data.splits["test"]
        exp.module.eval()
        with torch.no_grad():
            return (exp.module.net(x).argmax(1) == y).float().mean().item()

    plain = test_accuracy([], tmp_path / "ce")
    boot = test_accuracy(["reg=[bootstrapping]", "reg.bootstrapping.mode=hard", "reg.bootstrapping.beta=0.6"], tmp_path)
    assert boot > plain + 0.05, (plain, boot)
