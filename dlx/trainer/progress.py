"""A rich progress bar over batches and epochs, updated from counters (no per-step metric logging)."""

import lightning.pytorch as L
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlx.trainer.batches import batch_loop


class RichProgress(L.Callback):
    def __init__(self):
        self.progress: Progress | None = None

    def on_train_start(self, trainer, pl_module):
        if not trainer.is_global_zero:  # one bar per run, not one per process
            return
        # rich redraws from its own thread at 2 Hz; advance() only moves counters
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[metrics]}"),
            refresh_per_second=2,
        )
        self.progress.start()
        self.epochs = self.progress.add_task("epochs", total=trainer.max_epochs, metrics="")
        self.batches = self.progress.add_task("batches", total=batch_loop(trainer).batches_per_epoch, metrics="")

    def on_train_epoch_start(self, trainer, pl_module):
        if self.progress is not None:
            self.progress.reset(self.batches, total=batch_loop(trainer).batches_per_epoch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.progress is not None:
            self.progress.advance(self.batches)

    def on_train_epoch_end(self, trainer, pl_module):
        m = pl_module.collect_epoch_metrics()  # on every process: with several, a reduction all must join
        if self.progress is None:
            return
        shown = "  ".join(f"{k} {v:.4f}" for k, v in m.items() if k in ("train_loss", "val_loss", "val_acc"))
        self.progress.update(self.epochs, advance=1, metrics=shown)

    def on_train_end(self, trainer, pl_module):
        self._stop()

    def on_exception(self, trainer, pl_module, exception):
        self._stop()

    def _stop(self):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
