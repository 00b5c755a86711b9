"""RUN/report.json: test metrics from the best checkpoint plus cost (time, latency, size) and provenance.

`evaluate_split(net, batches, num_classes)` gives every number that depends on the net and a split:
`dlx train` calls it on the test split for report.json, `dlx eval RUN` calls it again and gets the same numbers.

Units: latencies in ms (per batch at the eval batch size, and per sample = batch time / batch size), throughput in
samples/s; noise sigmas are in units of the normalized input (training-set standard deviations); epochs are
0-based as in metrics.csv, except `epochs_to_best_val_acc`, a count (best epoch + 1).
"""

import itertools
import math
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import torch

TOP_K = (3, 5)  # top-k accuracy, for each k < num_classes
NOISE_SIGMAS = (0.0, 0.1, 0.2, 0.5)
CONVERGED = 0.95  # a run has converged at the first epoch whose val accuracy reaches this fraction of the best


def classification_metrics(logits: torch.Tensor, y: torch.Tensor, num_classes: int) -> dict:
    """test_loss is plain cross-entropy (no smoothing or class weights), comparable across runs, like val_loss.
    Weighted averages weight each class by its support (its count in y)."""
    from torchmetrics.functional import classification as tmc

    kw = {"num_classes": num_classes}
    scores = (
        ("precision", tmc.multiclass_precision),
        ("recall", tmc.multiclass_recall),
        ("f1", tmc.multiclass_f1_score),
    )
    averaged = {
        f"{name}_{average}": fn(logits, y, average=average, **kw).item()
        for average in ("macro", "weighted")
        for name, fn in scores
    }
    return {
        "test_acc": tmc.multiclass_accuracy(logits, y, average="micro", **kw).item(),
        **{
            f"top{k}_acc": tmc.multiclass_accuracy(logits, y, average="micro", top_k=k, **kw).item()
            for k in TOP_K
            if k < num_classes
        },
        "test_loss": torch.nn.functional.cross_entropy(logits, y).item(),
        **averaged,
        "per_class": {name: fn(logits, y, average="none", **kw).tolist() for name, fn in scores},
        "confusion_matrix": tmc.multiclass_confusion_matrix(logits, y, **kw).tolist(),
    }


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@torch.no_grad()
def inference_latency(net: torch.nn.Module, xs: list[torch.Tensor], min_timed: int = 30) -> dict:
    """Per-batch forward times over the split's batches (passes repeated until min_timed batches are timed).

    Warm-up first: one forward per distinct batch shape (first-call allocations, cuDNN autotuning are not
    inference cost). Throughput is samples / total timed seconds.
    """
    net.eval()
    device = xs[0].device
    for x in {tuple(x.shape): x for x in xs}.values():
        net(x)
    synchronize(device)
    batch_ms, sample_ms, samples = [], [], 0
    for _ in range(-(-min_timed // len(xs))):
        for x in xs:
            t0 = time.perf_counter()
            net(x)
            synchronize(device)
            ms = (time.perf_counter() - t0) * 1000
            batch_ms.append(ms)
            sample_ms.append(ms / len(x))
            samples += len(x)
    return {
        "latency_ms_per_batch_p50": percentile(batch_ms, 50),
        "latency_ms_per_batch_p95": percentile(batch_ms, 95),
        "latency_ms_per_sample_p50": percentile(sample_ms, 50),
        "latency_ms_per_sample_p95": percentile(sample_ms, 95),
        "throughput_samples_per_s": samples / (sum(batch_ms) / 1000),
        "inference_ms_per_sample": percentile(sample_ms, 50),  # the older key: the median per-sample latency
    }


@torch.no_grad()
def noise_robustness(net: torch.nn.Module, batches: list, sigmas=NOISE_SIGMAS, seed: int = 0) -> dict[str, float]:
    """Accuracy with N(0, sigma^2) noise added to the normalized input (sigma in training-set standard deviations).

    The same seeded noise (drawn on the CPU, so every device sees the same) is scaled by each sigma.
    Inputs that are not floats (token ids) get {}.
    """
    if not batches[0][0].is_floating_point():
        return {}
    net.eval()
    correct = dict.fromkeys(sigmas, 0)
    g = torch.Generator().manual_seed(seed)
    for x, y in batches:
        noise = torch.randn(x.shape, generator=g).to(x.device, x.dtype)
        for sigma in sigmas:
            noisy = x + sigma * noise if sigma else x
            correct[sigma] += (net(noisy).argmax(1) == y).sum().item()
    n = sum(len(y) for _, y in batches)
    return {str(float(sigma)): c / n for sigma, c in correct.items()}


@torch.no_grad()
def evaluate_split(net: torch.nn.Module, batches, num_classes: int) -> dict:
    """Classification metrics, inference latency and noise robustness of net on (x, y) batches (normalized, on
    the net's device). The net is left in eval mode."""
    net.eval()
    dtype = next(net.parameters()).dtype  # trainer.precision=64-true, bf16-true: the net's, not float32
    # several passes: a data module's eval_batches may be a generator
    batches = [(x.to(dtype) if x.is_floating_point() else x, y) for x, y in batches]
    logits = torch.cat([net(x).float() for x, _ in batches])
    y = torch.cat([y for _, y in batches])
    return {
        **classification_metrics(logits, y, num_classes),
        **inference_latency(net, [x for x, _ in batches]),
        "noise_robustness": noise_robustness(net, batches),
    }


def limit_batches(batches, limit: int | float) -> list:
    """The trainer's limit_test_batches applied to a split's batches: a count, or a fraction of them."""
    if isinstance(limit, int):
        return list(itertools.islice(batches, limit))
    batches = list(batches)
    return batches[: max(1, int(len(batches) * limit))]


def model_bytes(net: torch.nn.Module) -> int:
    """Size on disk of model.pt = the net's state_dict alone, torch.save'd (no optimizer or callback state).
    The file name matters by a few bytes: it names the records inside the zip archive."""
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(net.state_dict(), Path(tmp) / "model.pt")
        return (Path(tmp) / "model.pt").stat().st_size


def convergence(val_accs: list[float], fraction: float = CONVERGED) -> dict:
    """From the per-epoch val accuracies (epoch 0 first): the first epoch reaching fraction * best, 0-based, and
    the number of epochs trained up to the best one (ties: the first)."""
    if not val_accs:
        return {"epoch_at_95pct_best_val_acc": None, "epochs_to_best_val_acc": None}
    best = max(val_accs)
    return {
        "epoch_at_95pct_best_val_acc": next(i for i, a in enumerate(val_accs) if a >= fraction * best),
        "epochs_to_best_val_acc": val_accs.index(best) + 1,
    }


def read_val_accs(metrics_csv: Path | None) -> list[float]:
    """The val_acc column of RUN/metrics.csv ([] without the file, or for epochs without validation)."""
    from dlx.run_dir import read_metrics

    rows = read_metrics(metrics_csv) if metrics_csv is not None else []
    return [row["val_acc"] for row in rows if row.get("val_acc") is not None]


def git_commit(cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def provenance(device: torch.device) -> dict:
    import lightning

    import dlx

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    return {
        "versions": {
            "dlx": dlx.__version__,
            "torch": torch.__version__,
            "lightning": lightning.__version__,
            "python": platform.python_version(),
        },
        "device": f"{device.type}: {name}",
        "torch_threads": torch.get_num_threads(),
        "git_commit": git_commit(Path.cwd()),
    }
