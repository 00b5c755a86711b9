"""Lightning's WeightAveraging, used only once it has averaged something.

Before its first update the averaged copy holds the initial weights; swapping those in for validation or
writing them to a checkpoint would make every epoch before the start look untrained.
"""

from lightning.pytorch.callbacks import WeightAveraging


class EpochWeightAveraging(WeightAveraging):
    """Equal average of the weights at the end of every epoch from start_epoch (SWA)."""

    def __init__(self, start_epoch: int):
        super().__init__(use_buffers=True)  # averaged BN statistics stand in for a separate BN pass
        self.start_epoch = start_epoch

    def should_update(self, step_idx=None, epoch_idx=None) -> bool:
        return epoch_idx is not None and epoch_idx >= self.start_epoch

    def _has_average(self) -> bool:
        return self._average_model is not None and int(self._average_model.n_averaged) > 0

    def on_validation_epoch_start(self, trainer, pl_module):
        if self._has_average():
            super().on_validation_epoch_start(trainer, pl_module)
            self._swapped = True

    def on_validation_epoch_end(self, trainer, pl_module):
        if getattr(self, "_swapped", False):
            super().on_validation_epoch_end(trainer, pl_module)
            self._swapped = False

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        if self._has_average():
            super().on_save_checkpoint(trainer, pl_module, checkpoint)

    def on_train_end(self, trainer, pl_module):
        if self._has_average():
            super().on_train_end(trainer, pl_module)
