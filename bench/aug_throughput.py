"""Images/s of dlx's batch augmentations against kornia's, and of `standard` against a per-sample DataLoader.

    .venv/bin/python bench/aug_throughput.py [--quick] [--threads 2] [--ops standard,crop]

Every image option of conf/aug/ is built from its YAML (so the shipped defaults are measured) and
run on a CPU batch of 256 images, 1x28x28 (MNIST) and 3x32x32 (CIFAR), with 2 threads. kornia
gets the same probability and strength. For `standard` (flip + crop) a third path applies the same
flip and pad-and-crop per sample with plain torch ops in a Dataset, batched by a DataLoader
(batch 256, num_workers=0). Paths alternate batch by batch, and each batch is timed on its own; a
path's figure comes from its lower-quartile batch time, since a shared machine only ever adds stalls
(a descheduled OpenMP thread stalls a whole batch). With 2 threads every path needs both cores
idle: on a busy machine compare paths with --threads 1. A report: exit code 0 whatever the ratio.
"""

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import kornia
import kornia.augmentation as K
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save  # noqa: E402

from dlx.aug import compose
from dlx.config.builder import build, options
from dlx.config.paths import packaged_conf_dir

OPS = ("flip", "vflip", "rotate", "zoom", "crop", "brightness", "contrast", "noise", "cutout", "standard")
SHAPES = ((1, 28, 28), (3, 32, 32))
BATCH = 256
TARGET = 2.0  # dlx standard over kornia, and over the per-sample DataLoader


def dlx_ops(name: str) -> list[nn.Module]:
    node = yaml.safe_load((packaged_conf_dir() / "aug" / f"{name}.yaml").read_text())
    return [build(f"aug.{key}", sub) for key, sub in options(node)]


def kornia_op(name: str, op: nn.Module, size: tuple[int, int]) -> nn.Module:
    """kornia's equivalent of dlx's op, with the same p and strength (no [0, 1] clipping: images are normalized)."""
    p = op.p
    if name == "flip":
        return K.RandomHorizontalFlip(p=p)
    if name == "vflip":
        return K.RandomVerticalFlip(p=p)
    if name == "rotate":
        return K.RandomRotation(degrees=op.degrees, p=p)
    if name == "zoom":
        return K.RandomResizedCrop(size, scale=op.scale, ratio=op.ratio, p=p)
    if name == "crop":
        return K.RandomCrop(size, padding=op.padding, p=p)
    if name == "brightness":
        return K.RandomBrightness((1 - op.amount, 1 + op.amount), clip_output=False, p=p)
    if name == "contrast":  # kornia scales about 0, dlx about the image mean: one more reduction for dlx
        return K.RandomContrast((1 - op.amount, 1 + op.amount), clip_output=False, p=p)
    if name == "noise":
        return K.RandomGaussianNoise(std=op.std, p=p)
    if name == "cutout":
        return K.RandomErasing(scale=(op.size**2, op.size**2), ratio=(1.0, 1.0), value=0.0, p=p)
    raise KeyError(name)


class PerSample(Dataset):
    """The `standard` recipe one image at a time, as a torchvision-style transform pipeline would run it."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, flip_p: float, padding: int):
        self.x, self.y, self.flip_p, self.padding = x, y, flip_p, padding

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        img, P = self.x[i], self.padding  # (C, H, W)
        if torch.rand(()) < self.flip_p:
            img = img.flip(-1)
        _, H, W = img.shape
        top, left = torch.randint(0, 2 * P + 1, (2,)).tolist()
        img = F.pad(img, (P, P, P, P))[:, top : top + H, left : left + W]
        return img, self.y[i]


def measure(name: str, shape: tuple[int, int, int], calls: int) -> dict[str, float]:
    """Images/s of each path on one batch shape, from the lower quartile of per-batch times."""
    x, y = torch.randn(BATCH, *shape), torch.randint(0, 10, (BATCH,))
    ops = dlx_ops(name)  # standard: [flip, crop], run as dlx runs them (compose fuses the two)
    kornia_ops = nn.Sequential(*[kornia_op(type(op).__name__.lower(), op, shape[1:]) for op in ops])
    runs = {"dlx": partial(compose(ops), x), "kornia": partial(kornia_ops, x)}
    if name == "standard":
        flip, crop = ops
        loader = DataLoader(PerSample(x, y, flip.p, crop.padding), batch_size=BATCH, shuffle=True, num_workers=0)
        runs["loader"] = lambda: next(iter(loader))
    seconds = {k: [] for k in runs}
    with torch.no_grad():
        for i in range(calls + 3):  # alternate, so drift in machine speed hits every path alike
            for k, run in runs.items():
                t0 = time.perf_counter()
                run()
                if i >= 3:  # the first calls allocate and pick kernels
                    seconds[k].append(time.perf_counter() - t0)
    return {k: BATCH / statistics.quantiles(v, n=4)[0] for k, v in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 timed batches per path instead of 200")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the target machine's cores)")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated subset, e.g. --ops standard")
    args = parser.parse_args()
    calls = 20 if args.quick else 200
    torch.set_num_threads(args.threads)

    print(
        f"images/s on CPU, batch {BATCH}, lower quartile of {calls} timed batches per path, "
        f"torch {torch.__version__}, kornia {kornia.__version__}, {torch.get_num_threads()} threads"
    )
    header = f"{'op':<11} {'shape':<8} {'dlx':>9} {'kornia':>9} {'ratio':>6} {'loader':>9} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    misses, rows = [], []
    for name in args.ops.split(","):
        for shape in SHAPES:
            r = measure(name, shape, calls)
            vs_k = r["dlx"] / r["kornia"]
            rows.append({"op": name, "shape": "x".join(map(str, shape)), "images_per_s": r, "ratio_kornia": vs_k})
            line = f"{name:<11} {'x'.join(map(str, shape)):<8} {r['dlx']:>9.0f} {r['kornia']:>9.0f} {vs_k:>6.2f}"
            if "loader" in r:
                vs_l = r["dlx"] / r["loader"]
                rows[-1]["ratio_loader"] = vs_l
                line += f" {r['loader']:>9.0f} {vs_l:>6.2f}"
                misses += [f"{shape}: {w} {v:.2f}x" for w, v in (("kornia", vs_k), ("loader", vs_l)) if v < TARGET]
            print(line, flush=True)
    print("ratio = dlx images/s over the other path's; loader: per-sample Dataset + DataLoader (standard only).")
    print(f"target: standard >= {TARGET}x kornia and >= {TARGET}x the loader: " + ("ok" if not misses else "MISS"))
    for miss in misses:
        print(f"  below target: standard {miss}")
    save("aug_throughput", rows, notes=f"target: standard >= {TARGET}x kornia and the loader")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
