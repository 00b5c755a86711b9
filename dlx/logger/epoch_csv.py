"""The callback behind logger=csv: RUN/metrics.csv, one row per epoch (train/val loss and accuracy, lr, seconds)."""

import csv
import io
import time
from pathlib import Path

import lightning.pytorch as L

from dlx.run_dir import write_atomic, write_atomic_bytes
from dlx.trainer.writes import WRITES

COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"]


class EpochCSV(L.Callback):
    def __init__(self, filename: str = "metrics.csv"):
        self.filename = filename
        self.path: Path | None = None
        self._t0, self._lr = 0.0, 0.0
        self._text = ""  # the file as last asked for: on disk once the writer thread gets to it

    def use_run_dir(self, run_dir: Path) -> None:
        self.path = run_dir / self.filename

    def on_train_start(self, trainer, pl_module):
        """A resumed run starts at trainer.current_epoch: rows from that epoch on were not checkpointed, drop them
        (all of them for a run killed before its first checkpoint, which starts over)."""
        self._text = ""
        if self.path is None or not self.path.exists():
            return
        with open(self.path, newline="") as f:
            kept = [row for row in csv.DictReader(f) if int(row["epoch"]) < trainer.current_epoch]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(kept)
        self._text = out.getvalue()
        write_atomic(self.path, self._text)

    def on_train_epoch_start(self, trainer, pl_module):
        self._t0 = time.perf_counter()
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]  # epoch schedulers step before epoch-end hooks

    def state_dict(self) -> dict:
        """In a mid-epoch checkpoint: the lr the epoch started with and its seconds so far, for its row."""
        if not self._t0:  # no epoch started yet
            return {}
        return {"lr": self._lr, "seconds": time.perf_counter() - self._t0}

    def load_state_dict(self, state: dict) -> None:
        """Resumed mid-epoch, Lightning does not call on_train_epoch_start again: take the epoch's start from here.
        (Resumed at an epoch's end, on_train_epoch_start of the next epoch overwrites both.)"""
        if state:
            self._lr, self._t0 = state["lr"], time.perf_counter() - state["seconds"]

    def on_train_epoch_end(self, trainer, pl_module):
        m = pl_module.collect_epoch_metrics()
        row = {
            "epoch": trainer.current_epoch,
            **{k: m.get(k, "") for k in COLUMNS[1:5]},
            "lr": self._lr,
            "epoch_seconds": round(time.perf_counter() - self._t0, 6),
        }
        # the whole file rewritten and renamed into place: a kill mid-write never leaves half a row
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        if not self._text:
            writer.writeheader()
        writer.writerow(row)
        self._text += out.getvalue()
        # written with the checkpoints, at most once every trainer.checkpoint_every_s (and at the end): a row always
        # reaches the disk before a checkpoint of its epoch, and rows after the last checkpoint are dropped on resume
        due = getattr(trainer.checkpoint_callback, "due", None)
        if due is None or due(trainer):
            WRITES.write(self.path, self._text.encode())
        else:
            WRITES.defer(self.path, write_atomic_bytes, self.path, self._text.encode())
