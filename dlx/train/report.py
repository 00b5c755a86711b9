"""RUN/report.json: test metrics from the best checkpoint plus cost (time, latency, size) and provenance."""

import platform
import subprocess
import time
from pathlib import Path

import torch


def classification_metrics(logits: torch.Tensor, y: torch.Tensor, num_classes: int) -> dict:
    """test_loss is plain cross-entropy (no smoothing or class weights), comparable across runs, like val_loss."""
    from torchmetrics.functional import classification as tmc

    kw = {"num_classes": num_classes}
    per_class = {
        name: fn(logits, y, average="none", **kw).tolist()
        for name, fn in (
            ("precision", tmc.multiclass_precision),
            ("recall", tmc.multiclass_recall),
            ("f1", tmc.multiclass_f1_score),
        )
    }
    return {
        "test_acc": tmc.multiclass_accuracy(logits, y, average="micro", **kw).item(),
        "test_loss": torch.nn.functional.cross_entropy(logits, y).item(),
        "precision_macro": tmc.multiclass_precision(logits, y, average="macro", **kw).item(),
        "recall_macro": tmc.multiclass_recall(logits, y, average="macro", **kw).item(),
        "f1_macro": tmc.multiclass_f1_score(logits, y, average="macro", **kw).item(),
        "per_class": per_class,
        "confusion_matrix": tmc.multiclass_confusion_matrix(logits, y, **kw).tolist(),
    }


@torch.no_grad()
def inference_ms_per_sample(net: torch.nn.Module, batches, repeats: int = 3) -> float:
    """Median over repeats of the time for one pass over the split, per sample (eval batch size)."""
    net.eval()
    batches = [x for x, _ in batches]
    net(batches[0])  # warm-up: first-call allocations are not inference cost
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for x in batches:
            net(x)
        if batches[0].is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1000 / sum(len(x) for x in batches)


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
        "git_commit": git_commit(Path.cwd()),
    }
