"""One training run: build the experiment, open its run directory, fit, test the best checkpoint, report."""

import errno
import signal
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from dlx.run_dir import create_unique_dir, update_latest, write_atomic, write_failed_status, write_json, write_status
from dlx.trainer.interrupt import RunInterrupted


def run_name(cfg: DictConfig, choices: dict) -> str:
    return cfg.get("name") or choices.get("experiment") or f"{choices.get('model')}-{choices.get('data')}"


def save_configs(run_dir: Path, cfg: DictConfig, hydra_cfg) -> None:
    overrides = list(hydra_cfg.overrides.task)
    write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_atomic(run_dir / "overrides.yaml", OmegaConf.to_yaml(overrides))
    hydra_dir = run_dir / ".hydra"  # what Hydra itself writes: composed (unresolved) config, its own, overrides
    hydra_dir.mkdir(exist_ok=True)
    write_atomic(hydra_dir / "config.yaml", OmegaConf.to_yaml(cfg))
    write_atomic(hydra_dir / "hydra.yaml", OmegaConf.to_yaml(OmegaConf.create({"hydra": hydra_cfg})))
    write_atomic(hydra_dir / "overrides.yaml", OmegaConf.to_yaml(overrides))


def train_run(cfg: DictConfig, hydra_cfg, job_dir: Path | None) -> dict:
    """job_dir: the directory Hydra made for a multirun job, or None to create runs/<name>/<stamp>."""
    from dlx.config.validate import check_top_level
    from dlx.experiment import build_experiment
    from dlx.report.html import write_report
    from dlx.train.errors import runtime_message

    started = time.perf_counter()
    choices = {k: v for k, v in hydra_cfg.runtime.choices.items() if not k.startswith("hydra")}
    plain = resolved(cfg)
    check_top_level(plain)  # runs_dir and resume are read before the experiment is built (and validated)
    runs_root = Path(plain["runs_dir"])

    def open_run_dir() -> Path:
        run_dir = job_dir or create_run_dir(runs_root / run_name(cfg, choices))
        save_configs(run_dir, cfg, hydra_cfg)
        write_status(run_dir, "running")
        update_latest(runs_root, run_dir)
        return run_dir

    if plain.get("resume"):
        exp = reopen_run(plain["resume"], hydra_cfg, job_dir, runs_root)
    else:
        exp = build_experiment(plain, choices, open_run_dir)
    if not exp.rank_zero:  # another process of a distributed fit: it trains; rank zero writes the run
        return train_other_rank(exp)
    print_data_cleaning(exp.data.info.get("clean", {}))
    try:
        report = fit_and_test(exp)
        report["wall_seconds"] = time.perf_counter() - started
        write_json(exp.run_dir / "report.json", report)
        for callback in exp.trainer.callbacks:  # tensorboard, mlflow, wandb record report.json's numbers
            if hasattr(callback, "log_report"):
                callback.log_report(report)
        write_report(exp.run_dir)  # report.html and plots/
        write_status(exp.run_dir, "completed")
    except RunInterrupted as e:
        write_status(exp.run_dir, "interrupted", f"{e}; last.ckpt saved: dlx train resume={exp.run_dir}")
        raise
    except (KeyboardInterrupt, SystemExit) as e:  # SIGTERM during validation: Lightning's SIGTERMException
        signum = signal.SIGTERM if isinstance(e, SystemExit) else signal.SIGINT
        write_status(exp.run_dir, "interrupted", f"stopped by {signum.name} before the epoch ended")
        raise RunInterrupted(signum) from e
    except BaseException as e:
        write_failed_status(exp.run_dir, runtime_message(e))
        raise
    print_summary(report)
    return report


def create_run_dir(parent: Path) -> Path:
    """parent/<stamp>, making parent first (mkdir -p); a runs_dir that cannot hold one is a config error."""
    from dlx.config.errors import ConfigError

    try:
        return create_unique_dir(parent)
    except OSError as e:
        where = e.filename or parent
        raise ConfigError(
            "runs_dir", f"cannot create {where}: {why_not(e)}; set runs_dir to a folder you can write to"
        ) from e


def why_not(e: OSError) -> str:
    """The OS's reason; for 'Not a directory' also the file standing where a folder is needed."""
    in_the_way = next((p for p in Path(e.filename or "").parents if p.is_file()), None)
    if e.errno == errno.ENOTDIR and in_the_way is not None:
        return f"{e.strerror}: {in_the_way} is a file"
    return e.strerror or str(e)


def resolved(cfg: DictConfig) -> dict:
    """The config as plain containers with every ${...} resolved; one that cannot be is a config error."""
    from omegaconf.errors import OmegaConfBaseException

    from dlx.config.errors import ConfigError

    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or ""
        raise ConfigError(key, f"cannot resolve its value: {str(e).splitlines()[0]}") from None


def reopen_run(resume: str, hydra_cfg, job_dir: Path | None, runs_root: Path):
    """`dlx train resume=RUN`: the run's own config, its directory, and its last.ckpt to continue from.

    The config may name trusted `_target_`s only (dlx.config.trust) unless --trust-config; it, last.ckpt and
    metrics.csv are read and checked before the run's status changes or anything is built."""
    from dlx.checkpoint import read_checkpoint
    from dlx.config.errors import ConfigError
    from dlx.experiment import build_experiment
    from dlx.run_dir import read_metrics, remove_stale_temporaries
    from dlx.runs.resolve import resolve_run
    from dlx.runs.restore import read_config
    from dlx.train import task

    if job_dir is not None:
        raise ConfigError("resume", "continues one run; it cannot be part of a multirun (-m)")
    others = [o for o in hydra_cfg.overrides.task if not o.startswith("resume=")]
    if others:
        dropped = " ".join(others)
        raise ConfigError("resume", f"continues the run as it was configured; drop the other overrides: {dropped}")
    run_dir = resolve_run(str(resume), runs_root)
    last = run_dir / "checkpoints" / "last.ckpt"
    saved, choices = read_config(run_dir, trust_config=task.TRUST_CONFIG)
    if last.is_file():
        read_checkpoint(last, "resume")  # refused or damaged: said now, not by Lightning mid-way with the run reopened
    read_metrics(run_dir / (OmegaConf.select(OmegaConf.create(saved), "logger.csv.filename") or "metrics.csv"))

    def reopen() -> Path:
        remove_stale_temporaries(run_dir)  # half-written files of the killed process, never renamed into place
        write_status(run_dir, "running")
        update_latest(runs_root, run_dir)
        return run_dir

    exp = build_experiment(saved, choices, reopen)
    if last.is_file():
        exp.resume_from = last
    else:  # killed before its first checkpoint: start over, in the same directory
        print(f"dlx train: {run_dir} has no checkpoints/last.ckpt yet: training it from the start", file=sys.stderr)
    return exp


def fit(exp) -> float:
    """trainer.fit with dlx's signal handling (and, for a distributed fit, its children); the seconds it took."""
    import shutil

    from dlx.trainer.checkpoint import finish_writes
    from dlx.trainer.distributed import end_of_fit, is_distributed, launch_environment, write_worker_spec
    from dlx.trainer.signals import StopOnSignal

    trainer = exp.trainer
    stopper = next(cb for cb in trainer.callbacks if isinstance(cb, StopOnSignal))
    spec = write_worker_spec(trainer, exp.cfg, exp.choices, exp.resume_from)
    environment = launch_environment()
    t0 = time.perf_counter()
    stopper.install()
    try:
        trainer.fit(exp.module, datamodule=exp.data, ckpt_path=exp.resume_from, weights_only=True)
    finally:
        stopper.uninstall()
        finish_writes(trainer)  # held checkpoints and metrics rows, on disk before the test reads best.ckpt
        if is_distributed(trainer):  # a process group of one too: its port and variables are given back
            end_of_fit(environment)
        if spec is not None:
            shutil.rmtree(spec.parent, ignore_errors=True)
    seconds = time.perf_counter() - t0
    if stopper.received is not None:  # the signal came after the last batch: stop before testing
        raise RunInterrupted(stopper.received)
    if trainer.interrupted:
        raise KeyboardInterrupt("training interrupted")
    return seconds


def train_other_rank(exp) -> dict:
    """A process of a distributed fit other than global rank zero (another node's `dlx train`)."""
    fit(exp)
    rank = exp.trainer.global_rank
    if exp.trainer.num_nodes > 1:  # another machine's terminal, which would otherwise end with no word of the run
        print(f"dlx train: process {rank} of {exp.trainer.world_size} done; rank 0 writes the run", file=sys.stderr)
    return {"global_rank": rank}


def fit_and_test(exp) -> dict:
    import copy

    import torch

    from dlx.logger.epoch_csv import EpochCSV
    from dlx.train.report import convergence, evaluate_split, limit_batches, model_bytes, provenance, read_val_accs

    trainer, module, data = exp.trainer, exp.module, exp.data
    # several processes: the strategy wraps (FSDP: shards) the net in place; the test runs on a plain copy
    net = copy.deepcopy(module.net) if trainer.world_size > 1 else module.net
    train_seconds = fit(exp)
    best = Path(trainer.checkpoint_callback.best_model_path or trainer.checkpoint_callback.last_model_path)
    best_ckpt = torch.load(best, map_location="cpu", weights_only=True)
    # the checkpoint's net weights (EMA/SWA: the averaged ones), as `dlx eval` restores them: the same numbers
    net.load_state_dict({k[4:]: v for k, v in best_ckpt["state_dict"].items() if k.startswith("net.")})
    net.to(module.device)
    test = limit_batches(data.eval_batches("test"), trainer.limit_test_batches)
    metrics_csv = next((cb.path for cb in trainer.callbacks if isinstance(cb, EpochCSV)), None)
    best_val_acc = best_score(trainer.checkpoint_callback)
    return {
        "run_dir": str(exp.run_dir),
        **evaluate_split(net, test, data.num_classes),
        "best_val_acc": best_val_acc,
        # the tested checkpoint's epoch; None without validation (the last epoch's weights were tested)
        "best_epoch": None if best_val_acc is None else best_ckpt["epoch"],
        "epochs_run": trainer.current_epoch,
        **convergence(read_val_accs(metrics_csv)),
        "train_seconds": train_seconds,
        "eval_batch_size": data.eval_batch_size,
        "param_count": sum(p.numel() for p in net.parameters()),
        "model_bytes": model_bytes(net),
        "processes": trainer.world_size,  # of the fit; the test runs in this one, over the whole test split
        "strategy": type(trainer.strategy).__name__,
        "checkpoint_bytes": best.stat().st_size,
        "class_names": data.class_names,
        **provenance(module.device),
    }


def best_score(checkpoint) -> float | None:
    """The best epoch's val accuracy; None where validation was off (trainer.limit_val_batches=0): JSON has no NaN."""
    score = checkpoint.best_model_score
    return None if score is None else float(score)


def print_data_cleaning(report: dict) -> None:
    from rich.console import Console

    from dlx.data.clean import describe

    for line in describe(report):
        Console(stderr=True).print(f"data: {line}", markup=False)


def print_summary(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dlx train", show_header=False)
    table.add_row("run directory", report["run_dir"])
    if report["best_val_acc"] is None:
        last = report["epochs_run"] - 1
        table.add_row("best val accuracy", f"none, validation off: tested the last epoch ({last})")
    else:
        table.add_row("best val accuracy", f"{report['best_val_acc']:.4f} (epoch {report['best_epoch']})")
    table.add_row("test accuracy", f"{report['test_acc']:.4f}")
    table.add_row("macro F1", f"{report['f1_macro']:.4f} (weighted {report['f1_weighted']:.4f})")
    latency = f"{report['latency_ms_per_sample_p50']:.4f} ms/sample p50 at batch size {report['eval_batch_size']}"
    table.add_row("inference", f"{latency}, {report['throughput_samples_per_s']:,.0f} samples/s")
    table.add_row("wall time", f"{report['wall_seconds']:.1f} s")
    table.add_row("report", str(Path(report["run_dir"]) / "report.html"))
    Console().print(table)
