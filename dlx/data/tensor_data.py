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
        shard: tuple[int, int] = (0, 1),
    ):
        """resample(epoch): indices of the samples this epoch draws from (repeats allowed), or None for all.
        skip(epoch): batches of this epoch's order already trained on (a run resumed mid-epoch).
        shard: (rank, world size) under a distributed strategy: this process's share, the same length on every
        process (DDP steps together). Training: every process draws the same order, padded with its first
        samples to a multiple of the world size (as torch's DistributedSampler), and takes every world-th.
        In order (val, test): samples rank, rank + world, ...; a shorter share is padded with label -1, which
        the evaluation leaves out, so the totals over all processes count each sample once."""
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.seed, self.epoch_fn, self.resample, self.skip = seed, epoch_fn, resample, skip
        self.rank, self.world = shard
        first = resample(0)
        self.size = len(y) if first is None else len(first)  # resamplers keep the size fixed across epochs
        self.size = -(-self.size // self.world)  # this process's share

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
            if self.world > 1:
                order = torch.cat([order, order[: -len(order) % self.world]])[self.rank :: self.world]
            order = order.to(self.x.device)
            n = len(order)
            for i in range(self.skip(epoch) * self.batch_size, n, self.batch_size):
                idx = order[i : i + self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            x, y = self.x, self.y
            if self.world > 1:
                x, y = self.padded_share()
            for i in range(0, len(y), self.batch_size):
                yield x[i : i + self.batch_size], y[i : i + self.batch_size]

    def padded_share(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.arange(self.rank, len(self.y), self.world, device=self.y.device)
        real = len(idx)
        if real < self.size:  # shorter than the first shares by one: repeat a sample, labelled -1
            idx = torch.cat([idx, idx.new_zeros(self.size - real)])
        y = self.y[idx].clone()
        y[real:] = -1
        return self.x[idx], y


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

    def shard(self) -> tuple[int, int]:
        """(rank, world size) of this process in a distributed fit; (0, 1) otherwise."""
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def train_dataloader(self) -> TensorBatches:
        x, y = self.splits["train"]
        batch = self.process_batch_size()
        epoch, resample, skip = self._epoch, self._resample, self._skip
        return TensorBatches(x, y, batch, True, self.seed, epoch, resample, skip, shard=self.shard())

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["val"], self.eval_batch_size, shuffle=False, shard=self.shard())

    def test_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["test"], self.eval_batch_size, shuffle=False)

    def eval_batches(self, split: str) -> TensorBatches:
        """Normalized (x, y) batches of a split, on the device, in order."""
        return TensorBatches(*self.splits[split], self.eval_batch_size, shuffle=False)

    def sample_batch(self, n: int = 2) -> torch.Tensor:
        return self.splits["train"][0][:n]
