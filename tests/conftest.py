"""Shared helpers: compose configs in-process, and run the installed `dlx` command in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from dlx.config.paths import packaged_conf_dir
from dlx.train.command import register_resolvers

DLX = str(Path(sys.executable).parent / "dlx")
SMOKE = ["trainer=smoke"]


def compose_config(overrides: list[str]):
    """The composed config as dlx train would see it (plain containers) and the group choices."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if not k.startswith("hydra")}
    OmegaConf.set_struct(cfg, False)
    del cfg["hydra"]  # before resolving: hydra.sweep.dir would create a directory
    return OmegaConf.to_container(cfg, resolve=True), choices


def build(overrides: list[str], run_dir: Path):
    from dlx.experiment import build_experiment
    from dlx.train.run import quiet_lightning

    quiet_lightning()
    cfg, choices = compose_config(overrides)
    run_dir.mkdir(parents=True, exist_ok=True)
    return build_experiment(cfg, choices, lambda: run_dir)


def run_dlx(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}  # tests set it explicitly
    full_env = {**inherited, "COLUMNS": "200", **(env or {})}
    return subprocess.run([DLX, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def run_dirs(runs: Path) -> list[Path]:
    """Every run directory under runs/ (those holding a status file)."""
    return sorted(p.parent for p in runs.rglob("status"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory unrelated to the repository, to run dlx from."""
    d = tmp_path / "work"
    d.mkdir()
    return d
