"""`dlx train [--config-dir DIR] [-m] [OVERRIDES]`: Hydra's own command line, with dlx's error handling.

Bad configs end in one line on stderr and exit code 2; runtime failures exit 1;
HYDRA_FULL_ERROR=1 shows the full traceback instead.

`dlx train resume=RUN --trust-config` continues a run whose config.yaml names `_target_`s outside dlx, torch,
lightning, torchmetrics and DLX_TRUSTED_PACKAGES (refused without it: the run directory may not be yours).
"""

import contextlib
import functools
import os
import sys
from pathlib import Path

from dlx.train import errors

# The user's config dirs for this call, read by the search-path plugin (registered once per process).
_user_dirs: list = []


def pop_config_dir(argv: list[str]) -> tuple[list[str], str | None]:
    """Take --config-dir/-cd out of argv: dlx puts it FIRST in the search path (Hydra would put it after)."""
    rest, config_dir, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            config_dir, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--config-dir="):
            config_dir = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return rest, config_dir


def pop_trust_config(argv: list[str]) -> tuple[list[str], bool]:
    """Take --trust-config out of argv: it is dlx's flag, not a Hydra override."""
    return [a for a in argv if a != "--trust-config"], "--trust-config" in argv


def register_resolvers() -> None:
    from omegaconf import OmegaConf

    from dlx.train.run import create_run_dir

    if not OmegaConf.has_resolver("dlx_unique_dir"):
        # cached, and Hydra copies the cache into every job's config: all jobs share one sweep dir
        def sweep_dir(parent: str) -> str:
            return str(errors.remember_sweep_dir(create_run_dir(Path(parent))))

        OmegaConf.register_new_resolver("dlx_unique_dir", sweep_dir, use_cache=True)


def main(argv: list[str]) -> int:
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    forget_previous_calls()
    dirs = []
    try:
        from dlx.config.overrides import check_group_overrides
        from dlx.config.paths import config_search_dirs

        argv, config_dir = pop_config_dir(argv)
        argv, trust_config = pop_trust_config(argv)
        dirs = config_search_dirs(config_dir)
        check_group_overrides(argv, dirs)
        return run_hydra(argv, dirs, trust_config)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except BaseException as e:
        if full_error:
            raise
        code, line = errors.describe(e, argv, dirs)
        print(f"dlx train: {line}", file=sys.stderr)
        errors.remove_empty_sweep_dirs()
        return code


def forget_previous_calls() -> None:
    """main() may run many times in one process (tests, the fuzzer): no failure of an earlier call may count."""
    from dlx.train import summary, task

    task.PENDING_ERROR.clear()
    summary.FAILED_JOBS.clear()
    errors.forget_sweep_dirs()


def search_user_dirs_first(user_dirs: list) -> None:
    """Hydra appends --config-dir and hydra.searchpath AFTER the primary dir; dlx wants the user's first."""
    from hydra.core.plugins import Plugins

    _user_dirs[:] = user_dirs
    Plugins.instance().register(user_dirs_plugin())  # the same class each call: registering it again is a no-op


@functools.cache
def user_dirs_plugin() -> type:
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    class UserConfigDirs(SearchPathPlugin):
        def manipulate_search_path(self, search_path) -> None:
            for d in reversed(_user_dirs):
                search_path.prepend(provider="dlx-user", path=f"file://{d}")

    return UserConfigDirs


@contextlib.contextmanager
def as_hydra_app(argv: list[str]):
    """Hydra reads sys.argv, and must raise errors (HYDRA_FULL_ERROR=1) for our handler: both put back after."""
    saved_argv, saved_flag = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    sys.argv, os.environ["HYDRA_FULL_ERROR"] = ["dlx train", *argv], "1"
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_flag is None:
            del os.environ["HYDRA_FULL_ERROR"]
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_flag


def run_hydra(argv: list[str], dirs, trust_config: bool = False) -> int:
    import hydra

    from dlx.train import summary, task
    from dlx.train.task import PENDING_ERROR, train_task

    task.TRUST_CONFIG = trust_config
    register_resolvers()
    *user_dirs, packaged = dirs
    search_user_dirs_first(user_dirs)
    app = hydra.main(config_path=str(packaged), config_name="config", version_base="1.3")(train_task)
    with as_hydra_app(argv):
        app()
    if PENDING_ERROR:
        raise PENDING_ERROR.pop()
    return 1 if summary.FAILED_JOBS else 0
