"""best.ckpt (highest val accuracy) and last.ckpt under RUN/checkpoints/, each written atomically.

Lightning writes a checkpoint in place (through fsspec); a kill mid-write would leave a truncated file
under the real name. Here a checkpoint goes to a temporary file in the same folder, is synced, and is
renamed over the old one; last.ckpt's link to best.ckpt is swapped the same way.

Writes are spaced by `trainer.checkpoint_every_s`: an epoch that improves within that time of the last write
keeps a copy of its checkpoint in memory (its tensors copied to the CPU: 0.2 ms for a digits CNN, against 2-3 ms to
serialize and write it) and the copy is written with the next write that is due, before it, at the fit's last
epoch, on a signal's stop, or when the fit ends or fails. A kill loses at most that much work, as for last.ckpt,
and what is on disk stays consistent: best.ckpt is never older than what last.ckpt knows of the best.
"""

import contextlib
import copy
import io
import os
import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from dlx.run_dir import TMP_SUFFIX
from dlx.trainer.writes import WRITES


class AtomicCheckpointIO(TorchCheckpointIO):
    def __init__(self):
        super().__init__()
        self.holding = False  # set by held(), which RunCheckpoint puts around a save that is not due yet
        self._held: list[tuple] = []  # (path, checkpoint copy) or (fn, args), in the order they were asked for

    @contextlib.contextmanager
    def held(self):
        """Saves inside are kept in memory until the next one that is written (or teardown)."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        # A file already held is replaced in its place: one write of the newest, and the links held after it
        # still follow it. Held, the checkpoint is copied (its tensors change with the next step).
        entry = (Path(path), snapshot(checkpoint) if self.holding else checkpoint)
        earlier = next((i for i, (first, _) in enumerate(self._held) if first == entry[0]), None)
        if earlier is None:
            self._held.append(entry)
        else:
            self._held[earlier] = entry
        if not self.holding:
            self.write_held()

    def call(self, fn, *args) -> None:
        """fn(*args) on the writer thread once the checkpoints asked for before it are written (a link, a removal)."""
        if self._held:
            if (fn, args) not in self._held:  # the same link swap after every held improvement: once is enough
                self._held.append((fn, args))
        else:
            WRITES.call(fn, *args)

    def write_held(self) -> None:
        held, self._held = self._held, []
        for first, rest in held:
            if callable(first):
                WRITES.call(first, *rest)
            else:
                self.write(rest, first)

    def write(self, checkpoint: dict, path) -> None:
        # serialized in memory, on this thread (the weights as they are now): torch's zip writer turns a failed
        # write (disk full) into an opaque RuntimeError, a plain write raises the OSError naming the file.
        # torch's non-zip format: 1.1 ms against 2.4 ms for a 1 MB digits MLP checkpoint here (a 30 ms epoch);
        # torch.load reads both, with weights_only=True.
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer, _use_new_zipfile_serialization=False)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        WRITES.write(Path(path), buffer.getbuffer())  # written and synced on the writer thread, in order

    def remove_checkpoint(self, path) -> None:
        self.call(super().remove_checkpoint, path)  # after the writes asked for before it

    def teardown(self) -> None:
        self.write_held()  # the end of every fit, test, or failed fit (what is held predates a fault)
        WRITES.flush()  # every file is on disk, or its error raised


def finish_writes(trainer) -> None:
    """Whatever a fit left held or queued, on disk before anything reads it. Lightning's teardown does this
    through the checkpoint IO, except where it does not reach it: FSDP's teardown skips it, and a callback whose
    on_exception raises skips teardown."""
    io = getattr(trainer.strategy, "checkpoint_io", None)
    if isinstance(io, AtomicCheckpointIO):
        io.teardown()
    else:
        WRITES.flush()


def snapshot(value):
    """A copy of a checkpoint as it is now: tensors copied to the CPU (no second copy of weights and optimizer
    state in GPU memory; torch.save would move them there anyway), containers copied (Lightning's callback
    states hold live dicts), everything else shared (numbers, strings)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        copied = copy.copy(value)  # keeps the type and attributes (a state_dict's _metadata, AttributeDict)
        for key, item in value.items():
            copied[key] = snapshot(item)
        return copied
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    if isinstance(value, tuple):
        items = [snapshot(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


class RunCheckpoint(ModelCheckpoint):
    def __init__(self, every_s: float = 0.0):
        """every_s: write a checkpoint at most once in this many seconds: last.ckpt when best.ckpt was not saved at
        this step, and an improvement's best.ckpt (held in memory until the next write); the fit's last epoch is
        always written. 0: every epoch."""
        self.every_s, self._last_written = every_s, None
        super().__init__(
            filename="best",
            monitor="val/acc",
            mode="max",
            save_top_k=1,
            save_last="link",  # in an epoch that saves best.ckpt, last.ckpt links to it: one save, not two
            auto_insert_metric_name=False,
            enable_version_counter=False,
        )

    def use_run_dir(self, run_dir: Path) -> None:
        self.dirpath = str(run_dir / "checkpoints")

    def _save_last_checkpoint(self, trainer, monitor_candidates) -> None:
        """Link last.ckpt to best.ckpt only when best.ckpt was saved at this very step. Lightning links it to the
        last file saved, however old: after an epoch that did not improve, last.ckpt pointed at the best epoch,
        and a run resumed after a kill trained again every epoch since then."""
        if self._last_global_step_saved != trainer.global_step:
            if not self.due(trainer):
                return
            self._last_checkpoint_saved = ""  # write last.ckpt itself (over the link, atomically)
        super()._save_last_checkpoint(trainer, monitor_candidates)

    def _save_topk_checkpoint(self, trainer, monitor_candidates) -> None:
        """Validation off (trainer.limit_val_batches=0): no epoch is best, last.ckpt is the run's model, and
        Lightning's warning that val/acc was never logged would be noise. A run that validates and lacks
        val/acc still gets it."""
        if self.monitor not in monitor_candidates and not any(key.startswith("val/") for key in monitor_candidates):
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        """Written now when due (or at the fit's last epoch), else kept in memory until the next write."""
        io = trainer.strategy.checkpoint_io
        if self.due(trainer) or not isinstance(io, AtomicCheckpointIO) or trainer.loggers:
            super()._save_checkpoint(trainer, filepath)  # Lightning loggers may read the file when told of it
            self._last_written = time.monotonic()
            return
        with io.held():
            super()._save_checkpoint(trainer, filepath)

    def _monitor_candidates(self, trainer) -> dict:
        """Lightning deep-copies every logged metric here each epoch (0.3-0.5 ms of a 15 ms digits MLP epoch):
        a copy of the dict is enough, as dlx.module puts new tensors into callback_metrics each epoch and never
        changes one in place."""
        candidates = dict(trainer.callback_metrics)
        for key, value in (("epoch", trainer.current_epoch), ("step", trainer.global_step)):  # as Lightning does
            logged = candidates.get(key)
            candidates[key] = logged.int() if isinstance(logged, torch.Tensor) else torch.tensor(value)
        return candidates

    def due(self, trainer) -> bool:
        """A write now: none yet, none within every_s, or the fit's last epoch (metrics.csv asks it too). Several
        processes write every epoch: each would read its own clock, and one rank in a save's barrier while
        another goes on would hang the fit."""
        if trainer.world_size > 1:
            return True
        recent = self._last_written is not None and time.monotonic() - self._last_written < self.every_s
        return not recent or trainer.current_epoch + 1 >= (trainer.max_epochs or 0)

    def on_train_end(self, trainer, pl_module) -> None:
        """Early stopping ends a fit before its last epoch: write a last.ckpt skipped for being recent."""
        super().on_train_end(trainer, pl_module)
        if self._last_global_step_saved != trainer.global_step and self.dirpath:
            self._last_written = None
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def load_state_dict(self, state_dict: dict) -> None:
        """Lightning forgets the best score when the saved folder differs from ours (a run resumed from another
        working directory, or moved): rebase the saved paths onto our folder, so best.ckpt is only replaced by
        a better model."""
        old = state_dict.get("dirpath")
        if old and self.dirpath and old != self.dirpath:
            state_dict = {k: rebase(v, old, self.dirpath) for k, v in state_dict.items()}
            state_dict["dirpath"] = self.dirpath
        super().load_state_dict(state_dict)

    @staticmethod
    def _link_checkpoint(trainer, filepath: str, linkpath: str) -> None:
        """Lightning removes the old link, then makes the new one: a kill in between leaves no last.ckpt.
        Swapped on the writer thread, once the checkpoint it points to is in place."""
        if trainer.is_global_zero and os.path.abspath(filepath) != os.path.abspath(linkpath):
            io = getattr(trainer.strategy, "checkpoint_io", None)
            (io.call if isinstance(io, AtomicCheckpointIO) else WRITES.call)(swap_link, filepath, linkpath)
        trainer.strategy.barrier()


def swap_link(filepath: str, linkpath: str) -> None:
    folder, name = os.path.split(linkpath)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}{TMP_SUFFIX}")
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(os.path.relpath(filepath, os.path.dirname(linkpath)), tmp)
    os.replace(tmp, linkpath)


def rebase(value, old: str, new: str):
    """Paths under `old` moved under `new`, in a value of ModelCheckpoint's state (str, or dict keyed by path)."""
    if isinstance(value, str) and value.startswith(old):
        return new + value[len(old) :]
    if isinstance(value, dict):
        return {rebase(k, old, new): v for k, v in value.items()}
    return value
