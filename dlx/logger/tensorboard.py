"""RUN/tensorboard/: TensorBoard event files (per-epoch scalars, test metrics, the config).  logger=tensorboard

dlx train logger=[csv,tensorboard]
tensorboard --logdir runs        # every run, named by its directory
"""

from pathlib import Path

from dlx.config.flat import flatten
from dlx.logger.base import EPOCH_KEYS, TEST_KEYS, EpochLogger, RunInfo, require


class TensorBoardEpochs(EpochLogger):
    def __init__(self, subdir: str = "tensorboard"):
        super().__init__()
        self.subdir = subdir
        self.writer = None
        self._purge_step: int | None = None

    @property
    def log_dir(self) -> Path:
        return self.run_dir / self.subdir

    def _writer(self):
        from torch.utils.tensorboard import SummaryWriter

        if self.writer is None:  # closed after fit: the report's numbers go to a second event file
            self.writer = SummaryWriter(str(self.log_dir), purge_step=self._purge_step)
            self._purge_step = None
        return self.writer

    def start(self, run: RunInfo, first_epoch: int) -> None:
        # a resumed run: readers drop what earlier event files hold from first_epoch on
        self._purge_step = first_epoch or None
        writer = self._writer()
        config = run.config
        if not config or first_epoch:
            return
        from omegaconf import OmegaConf
        from torch.utils.tensorboard.summary import hparams

        text = OmegaConf.to_yaml(OmegaConf.create(config))
        writer.add_text("config", "\n".join("    " + line for line in text.splitlines()), 0)  # markdown code block
        # HPARAMS tab: one row per run, its columns the last value of these scalar tags
        values = {k: v if isinstance(v, bool | int | float | str) else str(v) for k, v in flatten(config).items()}
        metrics = dict.fromkeys([*EPOCH_KEYS, *TEST_KEYS], 0.0)
        for summary in hparams(values, metrics):
            writer.file_writer.add_summary(summary)

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        writer = self._writer()
        for key, value in metrics.items():
            writer.add_scalar(key, value, epoch)

    log_final = log_epoch  # report.json's numbers (test_acc, f1_macro, ...) at step = epochs run

    def close(self, status: str, final: bool) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def tensorboard_logger(subdir: str = "tensorboard") -> TensorBoardEpochs:
    require("tensorboard")
    return TensorBoardEpochs(subdir)
