"""The LightningModule: augmentation touches training batches only; metrics are real averages."""

from pathlib import Path

import torch

from tests.conftest import build


class Spy(torch.nn.Module):
    """Wraps the net and records every input batch with the mode it was seen in."""

    def __init__(self, net):
        super().__init__()
        self.net, self.seen = net, []

    def forward(self, x):
        self.seen.append((self.training, x.detach().clone()))
        return self.net(x)


def test_validation_and_test_batches_are_never_augmented(tmp_path: Path):
    exp = build(["aug=flip", "aug.flip.p=1.0", "trainer.max_epochs=1", "trainer.progress=false"], tmp_path)
    exp.module.net = spy = Spy(exp.module.net)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    train_x, val_x = exp.data.splits["train"][0], exp.data.splits["val"][0]
    train_seen = torch.cat([x for training, x in spy.seen if training])
    val_seen = torch.cat([x for training, x in spy.seen if not training])
    assert torch.equal(val_seen, val_x), "validation saw the raw val split"
    # every training input is a mirrored training image: flipping it back finds it in the split
    originals = {tuple(x.flatten().tolist()) for x in train_x}
    assert all(tuple(x.flip(-1).flatten().tolist()) in originals for x in train_seen)
    assert not any(torch.equal(a, b) for a, b in zip(train_seen[:20], train_x[:20], strict=True))


def test_epoch_metrics_are_sample_weighted_averages(tmp_path: Path):
    exp = build(["trainer.max_epochs=1", "trainer.progress=false"], tmp_path)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    x, y = exp.data.splits["val"]
    with torch.no_grad():
        exp.module.eval()
        logits = exp.module(x)
    m = exp.module.epoch_metrics
    assert abs(m["val_acc"] - (logits.argmax(1) == y).double().mean().item()) < 1e-9
    assert abs(m["val_loss"] - torch.nn.functional.cross_entropy(logits, y).item()) < 1e-5


def test_checkpointed_random_state_restores_the_next_draws_in_both_saved_forms():
    """Python and NumPy states are saved as tensors (one object each for torch.save); checkpoints from before,
    which hold them as lists, restore the same draws."""
    import io
    import random

    import numpy as np

    from dlx.module import Classifier

    module = Classifier(torch.nn.Linear(2, 2), make_optimizer=None, make_scheduler=None)
    random.seed(3), np.random.seed(4), torch.manual_seed(5)
    saved: dict = {}
    module.on_save_checkpoint(saved)
    expected = (random.random(), np.random.rand(), torch.rand(()).item())
    assert isinstance(saved["dlx_rng"]["python"][1], torch.Tensor) and isinstance(
        saved["dlx_rng"]["numpy"][1], torch.Tensor
    )

    buffer = io.BytesIO()
    torch.save(saved, buffer)
    buffer.seek(0)
    new_form = torch.load(buffer, weights_only=True)
    name, keys, pos, has_gauss, cached = new_form["dlx_rng"]["numpy"]
    version, internal, gauss = new_form["dlx_rng"]["python"]
    old_form = {"dlx_rng": {**new_form["dlx_rng"], "numpy": (name, keys.tolist(), pos, has_gauss, cached),
                            "python": (version, tuple(internal.tolist()), gauss)}}  # fmt: skip
    for state in (new_form, old_form):
        random.seed(0), np.random.seed(0), torch.manual_seed(0)
        module.on_load_checkpoint(state)
        assert (random.random(), np.random.rand(), torch.rand(()).item()) == expected
