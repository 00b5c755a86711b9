"""The compressed run: its directory, the compressed net, fine-tuning, and the side-by-side measurements."""

import copy
import time
from pathlib import Path

import torch

from dlx.compress.methods import apply_pruning, counts, layer_by_layer_attention, make_permanent, quantize
from dlx.config.errors import ConfigError
from dlx.run_dir import write_atomic, write_json, write_status
from dlx.train.errors import runtime_message


def compress(spec: str, method: str, chosen: dict, runs_root: Path, trust_config: bool = False) -> dict:
    from dlx.run_dir import update_latest, write_failed_status
    from dlx.runs.evaluate import restored_data

    started = time.perf_counter()
    run, data, _ = restored_data(spec, [], runs_root, trust_config)
    test = list(data.eval_batches("test"))
    int8 = None
    if method == "quantize":  # refused layers, and a net TorchScript cannot trace, are said before anything is written
        model_name = run.choices.get("model", "?")
        calibration = [x for x, _ in list(data.train_dataloader())[: chosen["calibration_batches"]]]
        net = quantize(run.net, chosen["scheme"], calibration, model_name)
        int8 = (net, traced(net, test[0][0].cpu(), model_name))
    run_dir = open_run_dir(run, method, chosen, runs_root)
    try:
        report = compress_into(run_dir, run, data.num_classes, test, method, chosen, int8)
        report["wall_seconds"] = time.perf_counter() - started
        write_json(run_dir / "report.json", report)
        write_status(run_dir, "completed")
    except BaseException as e:  # a run that did not finish says so, with the one line the command prints
        write_failed_status(run_dir, "interrupted" if isinstance(e, KeyboardInterrupt) else runtime_message(e))
        raise
    update_latest(runs_root, run_dir)
    return report


def open_run_dir(run, method: str, chosen: dict, runs_root: Path) -> Path:
    """runs/<parent name>-<method>/<stamp>/ with the files `dlx train` writes: the parent's config (naming the
    parent and the settings), overrides and group options, so `dlx runs` shows its data and model."""
    from omegaconf import OmegaConf

    from dlx.run_dir import create_unique_dir
    from dlx.runs.table import load_overrides

    name = f"{run.run_dir.parent.name}-{method}"
    run_dir = create_unique_dir(runs_root / name)
    cfg = {**run.cfg, "name": name, "parent": str(run.run_dir), "compress": {"method": method, **chosen}}
    overrides = load_overrides(run.run_dir / "overrides.yaml")
    hydra = {"hydra": {"runtime": {"choices": dict(run.choices)}, "overrides": {"task": overrides}}}
    write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(cfg)))
    write_atomic(run_dir / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(overrides)))
    (run_dir / ".hydra").mkdir()
    write_atomic(run_dir / ".hydra" / "hydra.yaml", OmegaConf.to_yaml(OmegaConf.create(hydra)))
    write_status(run_dir, "running")
    return run_dir


def compress_into(run_dir: Path, run, num_classes: int, test: list, method: str, chosen: dict, int8) -> dict:
    """The compressed model written into run_dir, and the report of parent and compressed side by side.
    int8: (the quantized net, its TorchScript) for method=quantize."""
    parent_counts = counts(run.net)
    if method == "prune":
        compressed = copy.deepcopy(run.net)
        apply_pruning(compressed, chosen["sparsity"], chosen["structure"])
        if chosen["finetune_epochs"]:
            compressed = finetune(compressed, run, chosen, run_dir)
        make_permanent(compressed)
        compressed.eval()
        save_checkpoint(run, compressed, run_dir / "checkpoints" / "best.ckpt")
        measured = measure(compressed, test, num_classes, counts(compressed))
    else:
        compressed, scripted = int8
        save_scripted(scripted, run_dir / "model.ts")
        with layer_by_layer_attention():
            measured = measure(compressed, test, num_classes, parent_counts)  # the same weights, in 8 bits
    report = {
        "run_dir": str(run_dir),
        "parent_run": str(run.run_dir),
        "method": method,
        "settings": chosen,
        # the compressed model's, under the names dlx train's report.json gives them (dlx runs, compare, show)
        "test_acc": measured["test_acc"],
        "f1_macro": measured["f1_macro"],
        "parent": measure(run.net, test, num_classes, parent_counts),
        "compressed": measured,
    }
    p, c = report["parent"], report["compressed"]
    sizes = ("params", "nonzero", "bytes", "gzip_bytes", "latency_ms_per_batch_p50")
    report["ratios"] = {k: c[k] / p[k] for k in sizes if p[k]}
    report["test_acc_change"] = c["test_acc"] - p["test_acc"]
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


def traced(net: torch.nn.Module, batch: torch.Tensor, model_name: str) -> torch.jit.ScriptModule:
    """TorchScript of the int8 net: the format that runs int8 eager kernels outside Python (torch.jit says it is
    deprecated in favour of torch.export, which does not take these modules). Traced on 2 samples, then checked
    on 3: a forward that reads the batch size as a number (len(x)) would have it fixed at 2 in the file."""
    import warnings

    example, other = batch[:2], torch.cat([batch, batch])[:3]
    with warnings.catch_warnings(), torch.no_grad(), layer_by_layer_attention():
        warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated.*")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # the check below says what matters
        scripted = torch.jit.trace(net, example, check_trace=False)
        try:
            same = torch.allclose(scripted(other), net(other), rtol=1e-4, atol=1e-5)
        except RuntimeError as e:
            same, problem = False, f"it fails on {len(other)}: {str(e).strip().splitlines()[-1][:120]}"
        else:
            problem = f"on {len(other)} it computes other outputs"
    if not same:
        raise ConfigError(
            "method",
            f"quantize: the int8 model={model_name} cannot be saved as TorchScript for every batch size (traced on "
            f"{len(example)} samples, {problem}); its forward must not read the batch size as a number (len(x))",
        )
    return scripted


def save_scripted(scripted: torch.jit.ScriptModule, path: Path) -> None:
    import io

    from dlx.run_dir import write_atomic_bytes

    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    write_atomic_bytes(path, buffer.getvalue())


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
