"""best.ckpt (highest val accuracy) and last.ckpt under RUN/checkpoints/."""

from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint

from dlx.run_dir import name_the_file


class RunCheckpoint(ModelCheckpoint):
    def __init__(self):
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

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        try:
            super()._save_checkpoint(trainer, filepath)
        except OSError as e:  # disk full: say which checkpoint, not the temporary file it was written through
            name_the_file(e, filepath)
            raise
