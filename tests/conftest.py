"""Shared helpers: compose configs in-process, and run the installed `dlx` command in a subprocess."""

import contextlib
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
    from dlx.experiment import build_experiment, quiet_lightning

    quiet_lightning()
    cfg, choices = compose_config(overrides)
    run_dir.mkdir(parents=True, exist_ok=True)
    return build_experiment(cfg, choices, lambda: run_dir)


def dlx_env(env: dict | None = None) -> dict:
    # tests set HYDRA_FULL_ERROR and the rendezvous variables of a distributed fit explicitly
    unset = {"HYDRA_FULL_ERROR", "MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE"}
    inherited = {k: v for k, v in os.environ.items() if k not in unset}
    return {**inherited, "COLUMNS": "200", **(env or {})}


def run_dlx(
    *args: str, cwd: Path, env: dict | None = None, timeout: int = 300, preexec_fn=None
) -> subprocess.CompletedProcess:
    """preexec_fn: run in the child before dlx starts (e.g. a limit on file size, to simulate a full disk)."""
    return subprocess.run(
        [DLX, *args], cwd=cwd, env=dlx_env(env), capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn
    )


def run_in_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`dlx ARGS` through dlx.cli.main in this process, from cwd: what run_dlx returns, without the 3-5 s of
    imports a new process pays. For outcomes that do not depend on the process (exit code, one-line message,
    files); signals, kills and the installed entry point are tested with run_dlx."""
    import contextlib
    import io

    from dlx.cli import main

    out, err = io.StringIO(), io.StringIO()
    with inside(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["dlx", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def inside(directory: Path):
    """Run dlx in-process from directory (data caches and relative paths land there), then put the process back:
    its working directory, and os.environ (Lightning's seed_everything sets PL_GLOBAL_SEED)."""
    cwd, environ = os.getcwd(), dict(os.environ)
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)


def run_dirs(runs: Path) -> list[Path]:
    """Every run directory under runs/ (those holding a status file)."""
    return sorted(p.parent for p in runs.rglob("status"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory unrelated to the repository, to run dlx from."""
    d = tmp_path / "work"
    d.mkdir()
    return d


def limit_file_size(limit: int):
    """For preexec_fn: writes past `limit` bytes fail with EFBIG ("File too large"), as writes fail on a full disk."""

    def apply() -> None:
        import resource  # POSIX only, as the limit is
        import signal

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process

    return apply


@pytest.fixture
def tmpfs(tmp_path: Path):
    """mount(size_kb, read_only=False) -> an empty tmpfs folder, unmounted after the test. Mounting needs root
    (and a container allowed to mount): elsewhere the test is skipped, and the file-size limit tests still run."""
    mounted = []

    def mount(size_kb: int, read_only: bool = False) -> Path:
        where = tmp_path / f"tmpfs{len(mounted)}"
        where.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        try:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
        except FileNotFoundError:
            pytest.skip("no mount command here")
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=True)
