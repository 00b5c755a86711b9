"""The table of targets from bench/results.json, as Markdown (the README's "Benchmarks" table).

.venv/bin/python bench/table.py          (make bench ends with it)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import results_path  # noqa: E402


def target_rows(data: dict) -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) for every figure that has a target."""
    out = []
    for row in data.get("train_overhead", {}).get("rows", []):
        measured = f"{row['dlx_s_per_epoch']:.4f} vs {row['hand_s_per_epoch']:.4f} s/epoch = {row['ratio']:.2f}x"
        if "paired_median_ratio" in row:
            measured += f" (paired median {row['paired_median_ratio']:.2f}x)"
        if "same_kernel_ratio" in row:
            measured += f"; framework alone {row['same_kernel_ratio']:.2f}x"
        what = f"overhead vs hand-written loop, {row['name']}"
        if row["target"] == "none":  # the CIFAR ResNet: a recorded figure, whose device and size say what it is
            what += f" ({row['device']}, {row['epochs']} epochs)"
        out.append((what, measured, row["target"], row["verdict"]))
    for row in data.get("dataloader", {}).get("rows", []):
        measured = f"{row['dlx_s_per_epoch']:.3f} vs {row['hand_s_per_epoch']:.3f} s/epoch = {row['ratio']:.2f}x"
        out.append(("vs per-sample DataLoader loop, MNIST-sized, mlp", measured, row["target"], row["verdict"]))
    for row in data.get("aug_throughput", {}).get("rows", []):
        if row["op"] == "standard":
            measured = f"{row['ratio_kornia']:.2f}x kornia, {row['ratio_loader']:.2f}x DataLoader"
            ok = "ok" if min(row["ratio_kornia"], row["ratio_loader"]) >= 2 else "MISS"
            out.append((f"aug=standard throughput, {row['shape']}", measured, ">= 2x both", ok))
    for row in data.get("default_run", {}).get("rows", []):
        if "seconds" in row and "test_acc" not in row:
            out.append((row["name"], f"{row['seconds']:.2f} s", row["target"], row["verdict"]))
        elif "test_acc" in row:
            measured = f"{row['test_acc']:.4f} in {row['seconds']:.1f} s"
            out.append(("time to accuracy, default dlx train", measured, row["target"], row["verdict"]))
        else:
            measured = f"{row['dlx_mib']:.0f} vs {row['hand_mib']:.0f} MiB = {row['ratio']:.2f}x"
            out.append((row["name"], measured, row["target"], row["verdict"]))
    return out


def main() -> int:
    path = results_path()
    if not path.exists():
        print(f"no {path} yet: run make bench", file=sys.stderr)
        return 1
    data = json.loads(path.read_text())
    print("| figure | measured | target | |\n|---|---|---|---|")
    for row in target_rows(data):
        print("| " + " | ".join(row) + " |")
    for section in ("speed_options_cpu", "speed_options_gpu"):
        rows = data.get(section, {}).get("rows", [])
        if rows:
            print(f"\n{section} ({rows[0]['device']}): resnet, CIFAR-shaped, batch 128")
            print("| option | samples/s | vs baseline |\n|---|---|---|")
            for row in rows:
                print(f"| {row['variant']} | {row['samples_per_s']:.0f} | {row['ratio']:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
