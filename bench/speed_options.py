"""What each speed option does to training throughput: samples/s with and without it, same model and data.

    .venv/bin/python bench/speed_options.py [--epochs 3] [--samples N]      (or: make bench)

Data: a CIFAR-shaped synthetic set written as CIFAR-10 pickle batches (50,000 + 10,000 images of 3x32x32)
and read with data=cifar10; on a CPU only `--samples` training images are used (data.subset), on a GPU all.
Model: model=resnet. Each variant is one dlx `trainer.fit`; its samples/s comes from metrics.csv's
epoch_seconds, leaving out the first epoch (it holds torch.compile's compilation and cuDNN's autotuning).
"""

import argparse
import csv
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save, unused_gpu_warning  # noqa: E402
from train_overhead import compose_cfg  # noqa: E402

from dlx.experiment import build_experiment, quiet_lightning  # noqa: E402
from dlx.train.command import register_resolvers  # noqa: E402
from tests.data.formats_idx_cifar import write_cifar10  # noqa: E402  (the tests' writer of the real format)

CPU_VARIANTS = {
    "baseline (32-true)": [],
    "precision=bf16-mixed": ["trainer.precision=bf16-mixed"],
    "channels_last": ["trainer.channels_last=true"],
    "compile": ["trainer.compile=true"],
    "accumulate_grad_batches=4": ["trainer.accumulate_grad_batches=4"],
    "matmul_precision=medium": ["trainer.matmul_precision=medium"],
    "benchmark": ["trainer.benchmark=true"],
}
GPU_VARIANTS = {
    **CPU_VARIANTS,
    "precision=16-mixed": ["trainer.precision=16-mixed"],
    "bf16-mixed + channels_last + compile": [
        "trainer.precision=bf16-mixed",
        "trainer.channels_last=true",
        "trainer.compile=true",
    ],
}


def samples_per_second(cfg: dict, scratch: str) -> float:
    run_dir = Path(tempfile.mkdtemp(dir=scratch))
    exp = build_experiment(cfg, {"model": "resnet", "data": "cifar10"}, lambda: run_dir)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    with open(run_dir / "metrics.csv") as f:
        seconds = [float(r["epoch_seconds"]) for r in csv.DictReader(f)][1:]  # the first epoch warms up
    return len(exp.data.train_targets()) / statistics.median(seconds)


def chosen_variants(variants: dict[str, list[str]], names: list[str] | None) -> dict[str, list[str]]:
    """--variants: the baseline, which every ratio divides by, and the named ones; an unknown name is an error."""
    if not names:
        return variants
    if unknown := [name for name in names if name not in variants]:
        raise SystemExit(f"speed_options.py: no variant {unknown[0]!r}; valid: {', '.join(map(repr, variants))}")
    baseline = next(iter(variants))
    return {name: extra for name, extra in variants.items() if name == baseline or name in names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per variant; the first is left out")
    parser.add_argument("--samples", type=int, default=2000, help="training images on a CPU (a GPU uses all)")
    parser.add_argument("--variants", nargs="+", metavar="NAME", help="only these variants (the baseline always)")
    parser.add_argument("--written", type=int, default=50_000, help=argparse.SUPPRESS)  # tests: fewer images
    args = parser.parse_args()
    gpu = torch.cuda.is_available()
    if not gpu:
        torch.set_num_threads(2)
    register_resolvers()
    quiet_lightning()
    variants = chosen_variants(GPU_VARIANTS if gpu else CPU_VARIANTS, args.variants)
    device = torch.cuda.get_device_name(0) if gpu else f"CPU, {torch.get_num_threads()} threads"
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlx-bench-") as scratch:
        write_cifar10(Path(scratch), n_train=args.written, n_test=args.written // 5)
        base = ["sched=none", f"data.root={scratch}", "data.batch_size=128", "trainer.limit_test_batches=1"]
        if not gpu:
            base += [f"data.subset={min(1.0, args.samples / (args.written + args.written // 5)):.6f}"]
        for name, extra in variants.items():
            cfg = compose_cfg("resnet", args.epochs, progress=False, extra=["data=cifar10", *base, *extra])
            rate = samples_per_second(cfg, scratch)
            rows.append({"variant": name, "device": device, "samples_per_s": rate})
            print(f"  {name:<38} {rate:9.0f} samples/s", flush=True)
    for row in rows:
        row["ratio"] = row["samples_per_s"] / rows[0]["samples_per_s"]
    print(f"\nresnet on CIFAR-shaped data, batch 128, {device}: samples/s, ratio to the baseline")
    for row in rows:
        print(f"  {row['variant']:<38} {row['samples_per_s']:9.0f}  {row['ratio']:5.2f}x")
    if gpu_warning := unused_gpu_warning():
        print(gpu_warning, file=sys.stderr)
    save("speed_options_gpu" if gpu else "speed_options_cpu", rows, notes=gpu_warning)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
