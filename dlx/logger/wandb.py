"""Weights & Biases, offline by default: RUN/wandb/offline-run-<time>-<id>/ (no account, no network).  logger=wandb

dlx train logger=[csv,wandb]
wandb sync runs/<name>/<stamp>/wandb/offline-run-*      # upload later, once logged in
dlx train logger=[csv,wandb] logger.wandb.mode=online  # needs WANDB_API_KEY or `wandb login`; never prompts
"""

import re
from typing import Literal

from dlx.config.errors import ConfigError
from dlx.logger.base import EpochLogger, RunInfo, require

Mode = Literal["offline", "online", "disabled"]


RUN_FOLDER = re.compile(r"^offline-run-\d{8}_\d{6}-([^-]+)")  # offline-run-<YYYYMMDD_HHMMSS>-<id>[-N]


class WandbEpochs(EpochLogger):
    def __init__(self, project: str = "dlx", mode: Mode = "offline"):
        super().__init__()
        self.project, self.mode = project, mode
        self.run = None

    def start(self, run: RunInfo, first_epoch: int) -> None:
        import os

        import wandb

        if self.mode != "online":
            os.environ.setdefault("WANDB_ERROR_REPORTING", "false")  # offline means offline: no error reports sent
        settings = wandb.Settings(
            mode=self.mode,
            silent=True,  # no banner, no login hints
            console="off",  # dlx's own output stays as it is; nothing captured
            x_disable_stats=True,  # no system-metrics sampler
            x_disable_machine_info=True,
            x_save_requirements=False,
        )
        # a resumed run keeps its W&B id; a folder made in the same second as another gets a -N suffix
        previous = [RUN_FOLDER.match(p.name) for p in sorted((self.run_dir / "wandb").glob("offline-run-*"))]
        previous = [m.group(1) for m in previous if m]
        self.run = wandb.init(
            dir=str(self.run_dir),
            project=self.project,
            group=run.name,
            name=run.label,
            config=run.config,
            id=previous[0] if first_epoch and previous else None,
            resume="allow" if first_epoch else None,
            reinit="finish_previous",  # a sweep's jobs share the process: one W&B run each
            settings=settings,
        )

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        self.run.log({"epoch": epoch, **metrics}, step=epoch)

    def log_final(self, step: int, metrics: dict[str, float]) -> None:
        self.run.summary.update(metrics)  # final numbers, not a series

    def close(self, status: str, final: bool) -> None:
        if final:  # after log_report or an error, not after fit: a finished W&B run takes no more data
            self.run.finish(exit_code=0 if status == "completed" else 1)
            self.run = None


def wandb_logger(project: str = "dlx", mode: Mode = "offline") -> WandbEpochs:
    require("wandb")
    if mode == "online":
        import wandb

        if not wandb.login(prompt=False, verify=False):  # already logged in, or WANDB_API_KEY: no prompt
            raise ConfigError("logger.wandb.mode", "online needs WANDB_API_KEY or `wandb login`; offline needs neither")
    return WandbEpochs(project, mode)
