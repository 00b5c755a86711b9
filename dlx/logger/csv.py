"""RUN/metrics.csv: one row per epoch (train/val loss and accuracy, learning rate, epoch seconds).  logger=csv"""

import csv
import io
import time
from pathlib import Path

import lightning.pytorch as L

from dlx.run_dir import append_whole, write_atomic

COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"]


class EpochCSV(L.Callback):
    def __init__(self, filename: str = "metrics.csv"):
        self.filename = filename
        self.path: Path | None = None
        self._t0, self._lr = 0.0, 0.0

    def use_run_dir(self, run_dir: Path) -> None:
        self.path = run_dir / self.filename

    def on_train_start(self, trainer, pl_module):
        """A resumed run starts at trainer.current_epoch: rows from that epoch on were not checkpointed, drop them."""
        if self.path is None or not self.path.exists() or trainer.current_epoch == 0:
            return
        with open(self.path, newline="") as f:
            kept = [row for row in csv.DictReader(f) if int(row["epoch"]) < trainer.current_epoch]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(kept)
        write_atomic(self.path, out.getvalue())

    def on_train_epoch_start(self, trainer, pl_module):
        self._t0 = time.perf_counter()
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]  # epoch schedulers step before epoch-end hooks

    def on_train_epoch_end(self, trainer, pl_module):
        m = pl_module.collect_epoch_metrics()
        row = {
            "epoch": trainer.current_epoch,
            **{k: m.get(k, "") for k in COLUMNS[1:5]},
            "lr": self._lr,
            "epoch_seconds": round(time.perf_counter() - self._t0, 6),
        }
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        if not self.path.exists() or self.path.stat().st_size == 0:  # empty: its first row failed to save
            writer.writeheader()
        writer.writerow(row)
        append_whole(self.path, out.getvalue())  # on a full disk: an error, never half a row


def csv_logger(filename: str = "metrics.csv") -> EpochCSV:
    return EpochCSV(filename)
