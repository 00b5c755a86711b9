"""Data sets that fit in memory: tensors on the training device, batches by indexing.

No per-sample Python and no DataLoader workers: a batch is `x[idx]` for a slice of a
shuffled index, so a training step costs one gather on the device.
"""

from collections.abc import Callable, Iterator

import lightning.pytorch as L
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from dlx.config.errors import ConfigError


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
    ):
        """resample(epoch): indices of the samples this epoch draws from (repeats allowed), or None for all."""
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.seed, self.epoch_fn, self.resample = seed, epoch_fn, resample
        first = resample(0)
        self.size = len(y) if first is None else len(first)  # resamplers keep the size fixed across epochs

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

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
            for i in range(0, n, self.batch_size):
                idx = order[i : i + self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, n, self.batch_size):
                yield self.x[i : i + self.batch_size], self.y[i : i + self.batch_size]


def stratified_split(y: np.ndarray, val_fraction: float, test_fraction: float, seed: int):
    """Indices (train, val, test), each stratified by class, reproducible from seed."""
    idx = np.arange(len(y))
    if val_fraction + test_fraction >= 1:
        raise ConfigError("data", f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction}")
    rest, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=seed)
    val_share = val_fraction / (1 - test_fraction)
    train, val = train_test_split(rest, test_size=val_share, stratify=y[rest], random_state=seed)
    return np.sort(train), np.sort(val), np.sort(test)


class InMemoryDataModule(L.LightningDataModule):
    """Holds standardized train/val/test tensors; moves them to the training device in setup()."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        name: str,
        class_names: list[str],
        batch_size: int,
        eval_batch_size: int,
        val_fraction: float,
        test_fraction: float,
        seed: int = 0,
    ):
        super().__init__()
        self.imbalance = None
        self.name, self.class_names = name, list(class_names)
        self.batch_size, self.eval_batch_size, self.seed = batch_size, eval_batch_size, seed
        tr, va, te = stratified_split(y, val_fraction, test_fraction, seed)
        x = torch.as_tensor(x, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.long)
        # statistics from the training split only: val/test must not leak into normalization
        self.mean = x[tr].mean().item()
        self.std = max(x[tr].std().item(), 1e-8)
        norm = (x - self.mean) / self.std
        self.splits = {"train": (norm[tr], y[tr]), "val": (norm[va], y[va]), "test": (norm[te], y[te])}

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.splits["train"][0].shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def setup(self, stage: str | None = None) -> None:
        device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
        self.splits = {k: (x.to(device), y.to(device)) for k, (x, y) in self.splits.items()}

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer else 0

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
            x, y, self.batch_size, shuffle=True, seed=self.seed, epoch_fn=self._epoch, resample=self._resample
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["val"], self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["test"], self.eval_batch_size, shuffle=False)

    def sample_batch(self, n: int = 2) -> torch.Tensor:
        return self.splits["train"][0][:n]
