"""What the in-memory and the streamed data modules share: checkpointed state, class count, epoch."""

import lightning.pytorch as L


class ClassificationData(L.LightningDataModule):
    """Subclasses set name, class_names, normalizer, encoding and feature_names."""

    def state_dict(self) -> dict:
        """Saved in every checkpoint: what evaluation and prediction need to prepare inputs the same way."""
        return {
            "normalization": self.normalizer.state_dict(),
            "class_names": self.class_names,
            "encoding": self.encoding,
            "feature_names": self.feature_names,
            "in_shape": list(self.in_shape),
        }

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def process_batch_size(self) -> int:
        """Training batch of this process: data.batch_size is the batch of one optimizer step, split evenly over
        the processes of a distributed fit (the experiment trains the same way on 1 or N processes)."""
        world = self.trainer.world_size if self.trainer is not None else 1
        return self.batch_size // world

    resume_at: tuple[int, int] | None = None  # (epoch, batches done) from a mid-epoch checkpoint

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer else 0

    def _skip(self, epoch: int) -> int:
        """Training batches of `epoch` to skip: those a mid-epoch checkpoint had trained on (once)."""
        if self.resume_at is None or self.resume_at[0] != epoch:
            return 0
        done, self.resume_at = self.resume_at[1], None
        return done
