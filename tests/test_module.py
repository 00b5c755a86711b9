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
