"""Time per epoch of dlx's training path against a hand-written PyTorch loop doing the same work.

    .venv/bin/python bench/train_overhead.py [--epochs 20] [--repeats 15] [--cases "digits cnn,cifar resnet"]
    (or: make bench)

Both paths train the same net (same builder, options and seed) on the same normalized digits
tensors, with Adam at the config's lr, a cosine schedule stepped per epoch, batches of 64
reshuffled each epoch, and a validation pass (loss and accuracy, batches of 512) after every
epoch. The hand loop is timed twice: as usually written (`torch.optim.Adam(net.parameters(), ...)`,
torch's default per-tensor step on CPU), which is the target's ratio, and with dlx's own optimizer
(its fused step, optim.kernel=auto), whose ratio is the framework's overhead alone ("same kernel").
dlx is timed over `trainer.fit` only, with its checkpoint and metrics.csv callbacks, which
are part of what users pay. Each path is warmed up once, then hand and dlx runs alternate; the
table shows the fastest run's seconds per epoch (other work on the machine only ever adds time, so the
minimum is the least disturbed measurement of each path), and beside it the median of the paired ratios (each
dlx run over the hand run just before it: the two saw the same state of the machine). It is a report: the exit
code is 0 whatever the ratio.

The digits and MNIST-1D cases are the CPU targets: both paths run on the CPU (2 threads) on any machine. The
CIFAR case (model=resnet on a CIFAR-shaped synthetic set written as CIFAR-10 pickles, batch 128) runs on a
CUDA GPU where there is one, with all 50,000 training images, and is the GPU overhead figure; on a machine
without one it runs on the CPU on `--cifar-samples` of them, so the same code is exercised everywhere. It
has no target: it is recorded, as the framework's overhead where the step itself is fast.
"""

import argparse
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save, unused_gpu_warning, verdict  # noqa: E402

from dlx.config.builder import build
from dlx.config.paths import packaged_conf_dir
from dlx.experiment import build_experiment, quiet_lightning
from dlx.optim import param_groups
from dlx.train.command import register_resolvers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.data.formats_idx_cifar import write_cifar10  # noqa: E402  (the tests' writer of the real format)


@dataclass(frozen=True)
class Case:
    model: str
    data: str
    target: float | None  # of dlx s/epoch over hand-written s/epoch; None: a figure to record
    on_gpu: bool = False  # a CUDA GPU where there is one (else the CPU); False: the CPU always


CASES = {
    "digits cnn": Case("cnn", "digits", 1.05),
    "digits mlp": Case("mlp", "digits", 1.25),
    "mnist1d cnn": Case("cnn", "mnist1d", 1.05),
    "cifar resnet": Case("resnet", "cifar10", None, on_gpu=True),
}
CIFAR_TRAIN = 50_000  # training images written; a test split of a fifth of that, as CIFAR-10's 10,000
CPU = torch.device("cpu")


def case_device(case: Case) -> torch.device:
    return torch.device("cuda" if case.on_gpu and torch.cuda.is_available() else "cpu")


def row_name(label: str, device: torch.device) -> str:
    """results.json's key of a case's row: a GPU run gets a row of its own, so the CPU run's row stays."""
    return f"{label} (GPU)" if device.type == "cuda" else label


def case_overrides(
    case: Case, device: torch.device, root: str | None, cifar_samples: int, written: int = CIFAR_TRAIN
) -> list[str]:
    """dlx overrides of a case: its data, and the trainer on the hand loop's device."""
    extra = [f"data={case.data}", f"trainer.accelerator={'gpu' if device.type == 'cuda' else 'cpu'}"]
    if case.data == "cifar10":
        extra.append(f"data.root={root}")
        if device.type != "cuda":  # a CPU trains a share of the images, or one run would take minutes
            extra.append(f"data.subset={min(1.0, cifar_samples / (written + written // 5)):.6f}")
    return extra


def compose_cfg(model: str, epochs: int, progress: bool, extra: tuple | list = ()) -> dict:
    overrides = [f"model={model}", f"trainer.max_epochs={epochs}", f"trainer.progress={str(progress).lower()}"]
    overrides += list(extra)
    with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=True)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def dlx_fit(cfg: dict, model: str, scratch: str, data: str = "digits") -> float:
    """Seconds per epoch of one dlx `trainer.fit` (the experiment is built outside the timing)."""
    exp = build_experiment(cfg, {"model": model, "data": data}, lambda: Path(tempfile.mkdtemp(dir=scratch)))
    device = torch.device("cuda" if cfg["trainer"]["accelerator"] == "gpu" else "cpu")
    synchronize(device)
    t0 = time.perf_counter()
    exp.trainer.fit(exp.module, datamodule=exp.data)
    synchronize(device)
    seconds = time.perf_counter() - t0
    assert exp.trainer.current_epoch == cfg["trainer"]["max_epochs"], "dlx stopped early"
    return seconds / cfg["trainer"]["max_epochs"]


def batch_stats(loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    n = torch.tensor(len(y), device=y.device)
    return torch.stack([loss.detach() * len(y), (logits.argmax(1) == y).sum(), n]).double()


def usual_adam(net: torch.nn.Module, cfg: dict) -> torch.optim.Optimizer:
    """Adam as a hand-written loop creates it: torch's defaults for everything the config does not set."""
    o = cfg["optim"]
    assert o["_target_"].endswith(".adam") and not o["weight_decay"], "the usual loop here is Adam without decay"
    return torch.optim.Adam(net.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])


def hand_fit(cfg: dict, data, same_kernel: bool = False, device: torch.device = CPU) -> float:
    """Seconds per epoch of a plain PyTorch loop doing dlx's work, without Lightning or checkpoints.
    data: the case's data module, built once (same splits and normalization as dlx's).
    same_kernel: dlx's optimizer builder (its param groups and fused step) instead of the usual Adam.
    device: where the tensors live, as dlx keeps them (each epoch's metrics read back to the host)."""
    torch.manual_seed(cfg["seed"])
    (x_tr, y_tr), (x_va, y_va) = ((x.to(device), y.to(device)) for x, y in (data.splits["train"], data.splits["val"]))
    net = build("model", cfg["model"], in_shape=data.in_shape, num_classes=data.num_classes).to(device)
    epochs, bs, eval_bs = cfg["trainer"]["max_epochs"], data.batch_size, data.eval_batch_size
    loss_fn = torch.nn.CrossEntropyLoss()

    synchronize(device)
    t0 = time.perf_counter()
    # dlx's Classifier groups weights / biases for weight decay (0 here: the same update either way)
    optimizer = build("optim", cfg["optim"], params=param_groups(net)) if same_kernel else usual_adam(net, cfg)
    steps = math.ceil(len(y_tr) / bs)
    scheduler = build("sched", cfg["sched"], optimizer=optimizer, total_epochs=epochs, steps_per_epoch=steps)
    scheduler = scheduler["scheduler"]  # cosine: stepped per epoch, as below
    for _ in range(epochs):
        net.train()
        train = torch.zeros(3, dtype=torch.float64, device=device)
        order = torch.randperm(len(y_tr), device=device)
        for i in range(0, len(y_tr), bs):
            idx = order[i : i + bs]
            x, y = x_tr[idx], y_tr[idx]
            logits = net(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            train += batch_stats(loss, logits, y)
        scheduler.step()
        net.eval()
        val = torch.zeros(3, dtype=torch.float64, device=device)
        with torch.inference_mode():
            for i in range(0, len(y_va), eval_bs):
                x, y = x_va[i : i + eval_bs], y_va[i : i + eval_bs]
                logits = net(x)
                val += batch_stats(loss_fn(logits, y), logits, y)
        (tl, tc, tn), (vl, vc, vn) = train.tolist(), val.tolist()
        _metrics = {"train_loss": tl / tn, "train_acc": tc / tn, "val_loss": vl / vn, "val_acc": vc / vn}
    return (time.perf_counter() - t0) / epochs


def measure(label: str, epochs: int, repeats: int, scratch: str, args: argparse.Namespace) -> dict:
    case = CASES[label]
    device = case_device(case)
    extra = case_overrides(case, device, scratch, args.cifar_samples, args.cifar_written)
    cfg, cfg_bar = (compose_cfg(case.model, epochs, progress=p, extra=extra) for p in (False, True))
    warm, warm_bar = (compose_cfg(case.model, min(2, epochs), progress=p, extra=extra) for p in (False, True))
    data = build("data", cfg["data"], seed=cfg["seed"])  # once: for CIFAR, reading the pickles takes seconds
    hand_fit(warm, data, device=device)
    hand_fit(warm, data, same_kernel=True, device=device)
    dlx_fit(warm, case.model, scratch, case.data)
    dlx_fit(warm_bar, case.model, scratch, case.data)
    hand, same, dlx, bar = [], [], [], []
    for _ in range(repeats):  # alternate, so drift in machine speed hits every path alike
        hand.append(hand_fit(cfg, data, device=device))
        dlx.append(dlx_fit(cfg, case.model, scratch, case.data))
        same.append(hand_fit(cfg, data, same_kernel=True, device=device))
        bar.append(dlx_fit(cfg_bar, case.model, scratch, case.data))
    h, s, d, b = min(hand), min(same), min(dlx), min(bar)  # the least disturbed run of each path
    paired = statistics.median(x / y for x, y in zip(dlx, hand, strict=True))
    runs = (hand, same, dlx, bar)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    if case.data == "cifar10":
        where += f", {len(data.splits['train'][1])} training images"
    return {"model": row_name(label, device), "hand": h, "same": s, "dlx": d, "bar": b, "paired": paired,
            "target": case.target, "runs": runs, "device": where, "epochs": epochs}  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per timed run (default 20)")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per path (default 15); the fastest shown")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--cifar-epochs", type=int, default=3, help="epochs per timed run of the CIFAR case")
    parser.add_argument("--cifar-repeats", type=int, default=3, help="timed runs per path of the CIFAR case")
    parser.add_argument("--cifar-samples", type=int, default=2000, help="CIFAR images on a CPU (a GPU uses all)")
    parser.add_argument("--cifar-written", type=int, default=CIFAR_TRAIN, help=argparse.SUPPRESS)  # tests: fewer
    parser.add_argument("--verbose", action="store_true", help="also print every run's s/epoch")
    args = parser.parse_args()
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: no case {unknown[0]!r}; the cases are {', '.join(CASES)}")
    return args


def main() -> int:
    args = parse_args()
    torch.set_num_threads(2)  # the target machine has 2 cores
    register_resolvers()
    quiet_lightning()

    with tempfile.TemporaryDirectory(prefix="dlx-bench-") as scratch:  # run dirs: checkpoints, metrics.csv
        if "cifar resnet" in args.cases:
            write_cifar10(Path(scratch), n_train=args.cifar_written, n_test=args.cifar_written // 5)
        rows = []
        for label in args.cases:
            big = CASES[label].data == "cifar10"
            epochs, repeats = (args.cifar_epochs, args.cifar_repeats) if big else (args.epochs, args.repeats)
            rows.append(measure(label, epochs, repeats, scratch, args))

    print(f"\ndlx vs hand-written PyTorch: fastest of the repeats, torch {torch.__version__}")
    columns = ("case", "hand s/epoch", "dlx s/epoch", "ratio", "target", "paired", "same kernel", "dlx+progress")
    header = "{:<12} {:>13} {:>12} {:>6}  {:<13} {:>6} {:>11} {:>12}".format(*columns)
    print(header + "\n" + "-" * len(header))
    noisy, results = False, []
    for r in rows:
        ratio, bar_ratio, same_ratio = r["dlx"] / r["hand"], r["bar"] / r["hand"], r["dlx"] / r["same"]
        ok = verdict(ratio, r["target"]) if r["target"] is not None else "recorded"
        target = f"<= {r['target']} {ok}" if r["target"] is not None else "none"
        print(
            f"{r['model']:<12} {r['hand']:>13.4f} {r['dlx']:>12.4f} {ratio:>6.2f}  {target:<13} "
            f"{r['paired']:>6.2f} {same_ratio:>11.2f} {bar_ratio:>12.2f}   {r['epochs']} epochs, {r['device']}"
        )
        for name, runs in zip(("hand", "hand fused", "dlx", "dlx+progress"), r["runs"], strict=True):
            noisy |= max(runs) > 1.5 * min(runs)
            if args.verbose:
                print(f"  {name:<13} " + "  ".join(f"{s:.4f}" for s in runs))
        results.append({"name": r["model"], "device": r["device"], "epochs": r["epochs"], "repeats": len(r["runs"][0]),
                        "hand_s_per_epoch": r["hand"], "dlx_s_per_epoch": r["dlx"], "ratio": ratio,
                        "target": f"<= {r['target']}" if r["target"] is not None else "none", "verdict": ok,
                        "paired_median_ratio": r["paired"], "hand_same_kernel_s_per_epoch": r["same"],
                        "same_kernel_ratio": same_ratio, "dlx_progress_ratio": bar_ratio})  # fmt: skip
    print("ratio = dlx s/epoch / hand s/epoch (dlx without its progress bar, as in CI and sweeps); the hand loop")
    print("  uses torch.optim.Adam as usually written, dlx its default optim.kernel=auto (the fused step).")
    print("same kernel = dlx s/epoch / the hand loop's with dlx's optimizer: the framework's overhead alone.")
    print("paired = median over the repeats of dlx s/epoch / the hand run's just before it.")
    print("dlx+progress: the same dlx run with trainer.progress=true (the rich bar users see), over hand.")
    warnings = ["warning: noisy repeats"] if noisy else []
    if noisy:
        print("warning: some repeats differ by more than 1.5x; the machine was busy, so rerun before trusting this.")
    if gpu_warning := unused_gpu_warning():
        print(gpu_warning, file=sys.stderr)
        warnings.append(gpu_warning)
    save("train_overhead", results, notes="; ".join(warnings), merge_key="name")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
