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

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer else 0
