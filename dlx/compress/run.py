"""The compressed run: its directory, the compressed net, fine-tuning, and the side-by-side measurements."""

import copy
import time
from pathlib import Path

import torch

from dlx.compress.methods import apply_pruning, counts, make_permanent, quantize


def compress(spec: str, method: str, chosen: dict, runs_root: Path, trust_config: bool = False) -> dict:
    from omegaconf import OmegaConf

    from dlx.run_dir import create_unique_dir, update_latest, write_atomic, write_json, write_status
    from dlx.runs.evaluate import restored_data

    run, data, _ = restored_data(spec, [], runs_root, trust_config)
    model_name = run.choices.get("model", "?")
    parent_counts = counts(run.net)
    test = list(data.eval_batches("test"))
    if method == "quantize":  # refused layers are said before anything is written
        calibration = [x for x, _ in list(data.train_dataloader())[: chosen["calibration_batches"]]]
        compressed = quantize(run.net, chosen["scheme"], calibration, model_name)
    run_dir = create_unique_dir(runs_root / f"{run.run_dir.parent.name}-{method}")
    cfg = {**run.cfg, "parent": str(run.run_dir), "compress": {"method": method, **chosen}}
    write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(cfg)))
    write_status(run_dir, "running")
    if method == "prune":
        compressed = copy.deepcopy(run.net)
        apply_pruning(compressed, chosen["sparsity"], chosen["structure"])
        if chosen["finetune_epochs"]:
            compressed = finetune(compressed, run, chosen, run_dir)
        make_permanent(compressed)
        compressed.eval()
        save_checkpoint(run, compressed, run_dir / "checkpoints" / "best.ckpt")
        new_counts = counts(compressed)
    else:
        save_quantized(compressed, test[0][0][:2], run_dir / "model.ts")
        new_counts = parent_counts  # the same weights, stored in 8 bits
    report = {
        "run_dir": str(run_dir),
        "parent_run": str(run.run_dir),
        "method": method,
        "settings": chosen,
        "parent": measure(run.net, test, data.num_classes, parent_counts),
        "compressed": measure(compressed, test, data.num_classes, new_counts),
    }
    p, c = report["parent"], report["compressed"]
    measured = ("params", "nonzero", "bytes", "gzip_bytes", "latency_ms_per_batch_p50")
    report["ratios"] = {k: c[k] / p[k] for k in measured if p[k]}
    report["test_acc_change"] = c["test_acc"] - p["test_acc"]
    write_json(run_dir / "report.json", report)
    write_status(run_dir, "completed")
    update_latest(runs_root, run_dir)
    return report


def measure(net: torch.nn.Module, test: list, num_classes: int, param_counts: tuple[int, int]) -> dict:
    from dlx.train.report import classification_metrics, inference_latency, model_bytes

    net = net.cpu().eval()
    with torch.inference_mode():
        logits = torch.cat([net(x.cpu()).float() for x, _ in test])
        latency = inference_latency(net, [x.cpu() for x, _ in test])
    metrics = classification_metrics(logits, torch.cat([y.cpu() for _, y in test]), num_classes)
    params, nonzero = param_counts
    return {
        "test_acc": metrics["test_acc"],
        "f1_macro": metrics["f1_macro"],
        "params": params,
        "nonzero": nonzero,
        "bytes": model_bytes(net),
        "gzip_bytes": gzip_bytes(net),  # what pruning saves on disk: runs of zeros compress
        "latency_ms_per_batch_p50": latency["latency_ms_per_batch_p50"],
    }


def gzip_bytes(net: torch.nn.Module) -> int:
    import gzip
    import io

    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return len(gzip.compress(buffer.getvalue(), compresslevel=6))


def save_checkpoint(run, net: torch.nn.Module, path: Path) -> None:
    """The parent's checkpoint with the compressed weights: what dlx eval / predict / export read."""
    import io

    from dlx.run_dir import write_atomic_bytes

    ckpt = torch.load(run.checkpoint, map_location="cpu", weights_only=True)
    ckpt["state_dict"] = {f"net.{k}": v for k, v in net.state_dict().items()}
    for key in ("optimizer_states", "lr_schedulers", "loops", "callbacks"):  # a finished model, not a fit
        ckpt.pop(key, None)
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_bytes(path, buffer.getvalue())


def save_quantized(net: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    """TorchScript: the format that runs int8 eager kernels outside Python (torch.jit says it is deprecated in
    favour of torch.export, which does not take these modules)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated.*")
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(net, example.cpu(), check_trace=False), str(path))


def finetune(net: torch.nn.Module, run, chosen: dict, run_dir: Path) -> torch.nn.Module:
    """finetune_epochs of the run's own training (data, optimizer, regularizers) on the masked net: pruned
    weights stay zero. The learning rate is a tenth of the run's unless finetune_lr is given."""
    from dlx.experiment import build_experiment
    from dlx.train.run import fit

    cfg = copy.deepcopy(run.cfg)
    cfg["trainer"].update(max_epochs=chosen["finetune_epochs"], progress=False)
    cfg["optim"]["lr"] = chosen["finetune_lr"] or cfg["optim"]["lr"] / 10
    exp = build_experiment(cfg, run.choices, lambda: run_dir)
    exp.module.net = net.train()
    started = time.perf_counter()
    fit(exp)
    (run_dir / "checkpoints" / "last.ckpt").unlink(missing_ok=True)  # masked weights: best.ckpt is rewritten
    print(f"dlx compress: fine-tuned {chosen['finetune_epochs']} epochs in {time.perf_counter() - started:.1f} s")
    return exp.module.net.cpu()
