"""Data sets that fit in memory: tensors on the training device, batches by indexing.

No per-sample Python and no DataLoader workers: a batch is `x[idx]` for a slice of a
shuffled index, so a training step costs one gather on the device.
"""

from collections.abc import Callable, Iterator

import numpy as np
import torch

from dlx.data.base import ClassificationData
from dlx.data.normalize import Normalizer
from dlx.data.splits import stratified_split  # noqa: F401  (re-exported: its old home)


class TensorBatches:
    """An iterable of (x, y) batches over tensors; reshuffled each epoch from seed + epoch."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        epoch_fn: Callable[[], int] = lambda: 0,
        resample: Callable[[int], torch.Tensor | None] = lambda epoch: None,
        skip: Callable[[int], int] = lambda epoch: 0,
    ):
        """resample(epoch): indices of the samples this epoch draws from (repeats allowed), or None for all.
        skip(epoch): batches of this epoch's order already trained on (a run resumed mid-epoch)."""
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.seed, self.epoch_fn, self.resample, self.skip = seed, epoch_fn, resample, skip
        first = resample(0)
        self.size = len(y) if first is None else len(first)  # resamplers keep the size fixed across epochs

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    # Lightning saves and restores a loader that has these; dlx resumes through `skip` instead, so they
    # hold nothing, but they tell Lightning a mid-epoch checkpoint of this loader resumes correctly.
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y)
        if self.shuffle:
            epoch = self.epoch_fn()
            # seeded by epoch, not by a running generator: a resumed run draws the same order
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            pool = self.resample(epoch)
            order = torch.randperm(n, generator=g) if pool is None else pool[torch.randperm(len(pool), generator=g)]
            order = order.to(self.x.device)
            n = len(order)
            for i in range(self.skip(epoch) * self.batch_size, n, self.batch_size):
                idx = order[i : i + self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, n, self.batch_size):
                yield self.x[i : i + self.batch_size], self.y[i : i + self.batch_size]


class InMemoryDataModule(ClassificationData):
    """Normalized train/val/test tensors, moved to the training device in setup(); batches by indexing.

    Its state_dict (saved in every checkpoint) holds the normalization statistics, the class
    names and the input encoding, so evaluation and prediction reuse them.
    """

    def __init__(
        self,
        splits: dict[str, tuple[np.ndarray, np.ndarray]],
        *,
        name: str,
        class_names: list[str],
        normalizer: Normalizer,
        batch_size: int,
        eval_batch_size: int,
        seed: int = 0,
        info: dict | None = None,
        encoding: dict | None = None,
        feature_names: list[str] | None = None,
    ):
        super().__init__()
        self.imbalance = None
        self.name, self.class_names, self.normalizer = name, list(class_names), normalizer
        self.batch_size, self.eval_batch_size, self.seed = batch_size, eval_batch_size, seed
        self.info, self.encoding, self.feature_names = info or {}, encoding or {}, feature_names
        self.splits = {
            s: (normalizer(torch.as_tensor(x, dtype=torch.float32)), torch.as_tensor(y, dtype=torch.long))
            for s, (x, y) in splits.items()
        }

    def load_state_dict(self, state: dict) -> None:
        """Use a checkpoint's statistics: undo ours and apply its (no-op when they are the same)."""
        saved = Normalizer.from_state(state["normalization"])
        if not saved.same_as(self.normalizer):
            self.splits = {s: (saved(self.normalizer.undo(x)), y) for s, (x, y) in self.splits.items()}
            self.normalizer = saved

    batches_on_device = True  # the BatchLoop skips Lightning's per-batch transfer

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch  # batches are slices of tensors that setup() already put on the device

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.splits["train"][0].shape[1:])

    def setup(self, stage: str | None = None) -> None:
        device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
        self.splits = {k: (x.to(device), y.to(device)) for k, (x, y) in self.splits.items()}

    def use_imbalance(self, imbalance) -> None:
        """Apply an imbalance method to the training split (never to val/test)."""
        self.imbalance = imbalance
        self.splits["train"] = imbalance.prepare(*self.splits["train"], seed=self.seed)

    def train_targets(self) -> torch.Tensor:
        return self.splits["train"][1]

    def _resample(self, epoch: int) -> torch.Tensor | None:
        if self.imbalance is None:
            return None
        return self.imbalance.epoch_indices(self.splits["train"][1], self.seed, epoch)

    def train_dataloader(self) -> TensorBatches:
        x, y = self.splits["train"]
        return TensorBatches(
            x, y, self.batch_size, True, self.seed, epoch_fn=self._epoch, resample=self._resample, skip=self._skip
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["val"], self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["test"], self.eval_batch_size, shuffle=False)

    def eval_batches(self, split: str) -> TensorBatches:
        """Normalized (x, y) batches of a split, on the device, in order."""
        return TensorBatches(*self.splits[split], self.eval_batch_size, shuffle=False)

    def sample_batch(self, n: int = 2) -> torch.Tensor:
        return self.splits["train"][0][:n]
