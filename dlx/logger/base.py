"""What the tensorboard, mlflow and wandb loggers share: when to start, what one epoch records, the final numbers.

A backend subclasses `EpochLogger` and writes with its own library: `start`, `log_epoch`, `log_final`, `close`.
"""

import importlib.util
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as L

from dlx.config.errors import ConfigError

EPOCH_KEYS = ["train_loss", "train_acc", "val_loss", "val_acc"]  # from collect_epoch_metrics; lr, epoch_seconds added
TEST_KEYS = ["test_acc", "test_loss", "f1_macro"]  # of report.json's numbers, those TensorBoard's HPARAMS tab shows


def require(option: str) -> None:
    """At build time, before any run directory: a missing library is a config error, not a crash mid-run.
    Each option is named like its library (the module dlx.logger.mlflow imports the top-level mlflow)."""
    if importlib.util.find_spec(option) is None:
        raise ConfigError("logger", f"logger={option} needs the {option} package: pip install 'dlx[loggers]'")


@dataclass
class RunInfo:
    name: str  # as in runs/<name>/: cnn-digits, the experiment, or the `name` key (a sweep's jobs share it)
    label: str  # the run directory under runs/: cnn-digits/2026-11-23_15-20-01, multirun/2026-11-23_15-20-01/3
    config: dict  # the resolved config, as RUN/config.yaml

    @classmethod
    def of(cls, run_dir: Path) -> "RunInfo":
        """From what `dlx train` saved in the run directory before training started."""
        if not (run_dir / "config.yaml").is_file():  # a run directory not made by dlx train (tests, notebooks)
            return cls(run_dir.parent.name, f"{run_dir.parent.name}/{run_dir.name}", {})
        from dlx.runs.restore import read_config
        from dlx.train.run import run_name

        cfg, choices = read_config(run_dir, trust_config=True)  # the run being trained: its own config
        try:
            label = run_dir.resolve().relative_to(Path(cfg["runs_dir"]).resolve()).as_posix()
        except (KeyError, ValueError):
            label = run_dir.name
        return cls(run_name(cfg, choices), label, cfg)


class EpochLogger(L.Callback, ABC):
    """Starts when training starts (after a resumed run's checkpoint is restored), logs once per epoch at step =
    epoch (0-based, as metrics.csv), is written out when fit ends, takes the test metrics in `log_report`."""

    def __init__(self):
        self.run_dir: Path | None = None
        self.started = False
        self._t0, self._lr = 0.0, 0.0

    def use_run_dir(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    # ---- what a backend implements -------------------------------------------------------------------------

    @abstractmethod
    def start(self, run: RunInfo, first_epoch: int) -> None:
        """first_epoch > 0: a resumed run; epochs from first_epoch on are logged again."""
        ...

    @abstractmethod
    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None: ...

    @abstractmethod
    def log_final(self, step: int, metrics: dict[str, float]) -> None: ...

    @abstractmethod
    def close(self, status: str, final: bool) -> None:
        """status: completed | failed | interrupted; final: False at the end of fit (log_report may follow)."""
        ...

    # ---- Lightning hooks -----------------------------------------------------------------------------------

    def on_train_start(self, trainer, pl_module):
        if trainer.is_global_zero and self.run_dir is not None and not self.started:
            self.start(RunInfo.of(self.run_dir), trainer.current_epoch)
            self.started = True

    def on_train_epoch_start(self, trainer, pl_module):
        self._t0 = time.perf_counter()
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]  # epoch schedulers step before epoch-end hooks

    def on_train_epoch_end(self, trainer, pl_module):
        if not self.started:
            return
        m = pl_module.collect_epoch_metrics()
        metrics = {k: float(m[k]) for k in EPOCH_KEYS if k in m}
        metrics.update(lr=float(self._lr), epoch_seconds=time.perf_counter() - self._t0)
        self.log_epoch(trainer.current_epoch, metrics)

    def teardown(self, trainer, pl_module, stage):
        if self.started:  # end of fit: written out; stays open for log_report
            self.close("completed", final=False)

    def log_report(self, report: dict) -> None:
        """The test metrics of RUN/report.json (best checkpoint), once dlx train has it; then the run is closed."""
        if self.started:
            numbers = {k: float(v) for k, v in report.items() if isinstance(v, int | float) and not isinstance(v, bool)}
            self.log_final(report.get("epochs_run", 0), numbers)  # test_acc, f1_macro, best_val_acc, train_seconds...
            self.close("completed", final=True)
            self.started = False

    def on_exception(self, trainer, pl_module, exception):
        if self.started:
            from dlx.trainer.interrupt import RunInterrupted

            stopped = isinstance(exception, KeyboardInterrupt | RunInterrupted)
            self.close("interrupted" if stopped else "failed", final=True)
            self.started = False
