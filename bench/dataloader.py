"""dlx against the usual hand-written loop that feeds a DataLoader from a per-sample Dataset, MNIST-sized.

    .venv/bin/python bench/dataloader.py [--epochs 2]        (or: make bench)

The benchmark makes up 60,000 + 10,000 images of 28x28 (class-dependent blobs plus noise) and writes them as
IDX files, which dlx reads with data=mnist. Both paths train the same MLP (dlx's builder, same seed) with
Adam at the config's lr, batches of 64 reshuffled each epoch, and a validation pass after every epoch. The
hand-written loop is the common one: a Dataset whose __getitem__ scales and normalizes one uint8 image, and
DataLoader(shuffle=True) collating batches of 64 in the main process. dlx keeps the normalized split on the
device and slices batches from a permutation. Target: dlx's time per epoch at most 0.5x the loop's.
"""

import argparse
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save, verdict  # noqa: E402
from train_overhead import compose_cfg, dlx_fit  # noqa: E402

from dlx.config.builder import build  # noqa: E402
from dlx.experiment import quiet_lightning  # noqa: E402
from dlx.optim import param_groups  # noqa: E402
from dlx.train.command import register_resolvers  # noqa: E402

TARGET = 0.5


def write_mnist_sized(root: Path, seed: int = 0) -> None:
    """root/mnist/{train,t10k}-{images,labels}-idx?-ubyte: 60,000 and 10,000 28x28 images in 10 classes."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(6, 22, size=(10, 2))
    yy, xx = np.mgrid[0:28, 0:28]
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 60_000), ("t10k", 10_000)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        cy, cx = centres[labels, 0, None, None], centres[labels, 1, None, None]  # (N, 1, 1)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0)  # (N, 28, 28)
        images = np.clip(255 * blob + rng.normal(0, 40, blob.shape), 0, 255).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())


class PerSample(torch.utils.data.Dataset):
    """What most training scripts write: one uint8 image scaled and normalized per __getitem__."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: float, std: float):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        x = self.images[i].float().div(255).sub(self.mean).div(self.std).unsqueeze(0)  # (1, 28, 28)
        return x, self.labels[i]


def hand_fit(cfg: dict) -> float:
    """Seconds per epoch of the DataLoader loop on dlx's own splits (uint8 again, as they are on disk)."""
    torch.manual_seed(cfg["seed"])
    data = build("data", cfg["data"], seed=cfg["seed"])
    norm = data.normalizer

    def raw(split: str):  # undo dlx's normalization: the loop starts from the uint8 pixels
        x, y = data.splits[split]
        return (norm.undo(x) * 255).round().clamp(0, 255).to(torch.uint8).squeeze(1), y

    (x_tr, y_tr), (x_va, y_va) = raw("train"), raw("val")
    mean, std = float(x_tr.float().div(255).mean()), float(x_tr.float().div(255).std())
    train = torch.utils.data.DataLoader(PerSample(x_tr, y_tr, mean, std), batch_size=data.batch_size, shuffle=True)
    val = torch.utils.data.DataLoader(PerSample(x_va, y_va, mean, std), batch_size=data.eval_batch_size)
    net = build("model", cfg["model"], in_shape=data.in_shape, num_classes=data.num_classes)
    optimizer = build("optim", cfg["optim"], params=param_groups(net))
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = cfg["trainer"]["max_epochs"]
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for x, y in train:
            loss = loss_fn(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        net.eval()
        correct = 0
        with torch.inference_mode():
            for x, y in val:
                correct += int((net(x).argmax(1) == y).sum())
    return (time.perf_counter() - t0) / epochs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(2)
    register_resolvers()
    quiet_lightning()
    with tempfile.TemporaryDirectory(prefix="dlx-bench-") as scratch:
        write_mnist_sized(Path(scratch))
        # the CPU on any machine: the loop it is compared with feeds the CPU, and the target is a CPU figure
        extra = ["data=mnist", f"data.root={scratch}", "sched=none", "trainer.accelerator=cpu"]
        cfg = compose_cfg("mlp", args.epochs, progress=False, extra=extra)
        hand, dlx = [], []
        for _ in range(args.repeats):  # alternate, so drift in machine speed hits both paths alike
            hand.append(hand_fit(cfg))
            dlx.append(dlx_fit(cfg, "mlp", scratch, data="mnist"))
    h, d = min(hand), min(dlx)  # the least disturbed run of each path
    ratio = d / h
    print(f"\nMNIST-sized (60,000 x 28x28), mlp, batch 64, {args.epochs} epochs, fastest of {args.repeats}")
    print(f"  per-sample Dataset + DataLoader  {h:7.3f} s/epoch")
    print(f"  dlx                              {d:7.3f} s/epoch   ratio {ratio:.2f}  target <= {TARGET}: "
          f"{verdict(ratio, TARGET)}")  # fmt: skip
    save("dataloader", [{"name": "mnist-sized mlp", "hand_s_per_epoch": h, "dlx_s_per_epoch": d, "ratio": ratio,
                         "target": f"<= {TARGET}", "verdict": verdict(ratio, TARGET)}])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
