"""The Hydra task function behind `dlx train` (kept import-light: torch loads inside the run)."""

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

# A single run's exception, handed to the command instead of raised through Hydra (which prints its own banner).
PENDING_ERROR: list[BaseException] = []
# dlx train --trust-config: resume=RUN builds the run's config whatever `_target_`s it names (set by the command)
TRUST_CONFIG = False


def train_task(cfg: DictConfig) -> dict | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from dlx.train.run import train_run

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        try:
            return train_run(cfg, hydra_cfg, job_dir=None)
        except BaseException as e:
            PENDING_ERROR.append(e)
            return None
    # In a sweep, one failing job is recorded and reported; the others still run.
    share_the_machine(hydra_cfg)
    job_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        return train_run(cfg, hydra_cfg, job_dir=job_dir)
    except Exception as e:
        if not_rank_zero():  # a SLURM task of a DDP job: rank zero records the job
            raise
        record_failed_job(job_dir, hydra_cfg, e)
        return {"status": "failed", "error": str(e)}


def not_rank_zero() -> bool:
    """This process is one of a distributed job's others, by the variables SLURM, torchrun or dlx's nodes set."""
    import os

    return any(os.environ.get(v, "0") not in ("", "0") for v in ("SLURM_PROCID", "RANK", "NODE_RANK", "LOCAL_RANK"))


def parallel_jobs(launcher) -> int:
    """How many jobs hydra/launcher=joblib runs at once on this machine (1 for every other launcher)."""
    import os

    if "joblib" not in str(launcher.get("_target_", "")):
        return 1
    cores, n = os.cpu_count() or 1, int(launcher.get("n_jobs") or -1)
    return max(1, min(cores, n if n > 0 else cores + 1 + n))  # joblib: -1 all cores, -2 all but one, ...


def share_the_machine(hydra_cfg) -> None:
    """Jobs run side by side (hydra/launcher=joblib) each take cores // n_jobs torch threads, so they do not
    oversubscribe the cores; on a machine with several GPUs, each worker process takes one GPU, the job
    number modulo the GPU count (set before CUDA starts in that process; its later jobs keep it)."""
    import os

    n = parallel_jobs(hydra_cfg.launcher)
    if n == 1:
        return
    threads = max(1, (os.cpu_count() or 1) // n)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    gpus = torch.cuda.device_count()
    if gpus > 1 and not torch.cuda.is_initialized() and "DLX_PINNED_GPU" not in os.environ:
        os.environ["CUDA_VISIBLE_DEVICES"] = os.environ["DLX_PINNED_GPU"] = str(hydra_cfg.job.num % gpus)


def record_failed_job(job_dir: Path, hydra_cfg, e: Exception) -> None:
    from dlx.config.errors import ConfigError
    from dlx.run_dir import write_atomic, write_failed_status
    from dlx.train.errors import first_line, runtime_message

    message = f"config error: {first_line(e)}" if isinstance(e, ConfigError) else runtime_message(e)
    overrides = job_dir / "overrides.yaml"
    if not overrides.exists():  # the run failed before it saved its config
        write_atomic(overrides, OmegaConf.to_yaml(list(hydra_cfg.overrides.task)))
    write_failed_status(job_dir, message)
    print(f"dlx train: job {hydra_cfg.job.num} failed: {message}", file=sys.stderr)
