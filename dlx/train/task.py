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
    job_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        return train_run(cfg, hydra_cfg, job_dir=job_dir)
    except Exception as e:
        record_failed_job(job_dir, hydra_cfg, e)
        return {"status": "failed", "error": str(e)}


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
