"""Ctrl-C and SIGTERM: stop at the next batch boundary with a last.ckpt to resume from.

The first signal only raises a flag; the batch in flight finishes, last.ckpt is saved (mid-epoch: the
checkpoint records the batches done, so `dlx train resume=RUN` skips them), and the run ends with
status `interrupted` and exit code 128 + signal (130 for SIGINT, 143 for SIGTERM). A second signal
exits at once. A signal during validation is acted on after the next epoch's first batch (the epoch ends as
usual: validation, its metrics row, its checkpoints). After an epoch's last batch, the resumed run trains no
batch of that epoch and goes on with its validation.
"""

import os
import signal
import sys
import threading
from pathlib import Path

import lightning.pytorch as L

from dlx.trainer.interrupt import RunInterrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal(L.Callback):
    def __init__(self):
        self.received: int | None = None
        self.run_dir: Path | None = None
        self._previous: dict = {}

    def use_run_dir(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def install(self) -> None:
        """Signal handlers live in the main thread only; elsewhere (a thread pool) signals keep their default."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _on_signal(self, signum: int, frame) -> None:
        if self.received is not None:
            self._exit_now(signum)
        self.received = signum
        name = signal.Signals(signum).name
        print(f"\ndlx: {name}: stopping after this batch, saving last.ckpt (again to quit at once)", file=sys.stderr)

    def _exit_now(self, signum: int) -> None:
        from dlx.run_dir import write_status

        if self.run_dir is not None:
            write_status(self.run_dir, "interrupted", f"quit at once by a second {signal.Signals(signum).name}")
        os._exit(128 + signum)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        stop = self.received is not None
        if trainer.world_size > 1:  # all processes stop at the same batch, or the others wait in a collective
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if not stop:
            return
        pl_module.saving_mid_epoch = True
        try:
            trainer.save_checkpoint(Path(trainer.checkpoint_callback.dirpath) / "last.ckpt")  # rank zero writes
        finally:
            pl_module.saving_mid_epoch = False
        raise RunInterrupted(self.received or signal.SIGTERM)
