"""Image folders too large for memory: decoded from disk every epoch by DataLoader workers.

The same pipeline as in memory (dlx.data.prepare): split on the labels, then one scan over the
split's files digests their bytes (duplicates and leakage are identical files), proves each one
decodes, and sums the channels of the training images for normalization. Batches are normalized
on the device, after transfer.
    dlx train data=image_folder data.root=path/to/images data.in_memory=false data.workers=8
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from dlx.config.errors import ConfigError
from dlx.data.base import ClassificationData
from dlx.data.clean import clean
from dlx.data.image_folder import try_load, unreadable
from dlx.data.normalize import Normalizer
from dlx.data.prepare import data_info
from dlx.data.splits import check_every_class_present, split_with_options
from dlx.imbalance import Imbalance


@dataclass
class StreamedImages:
    """What image_folder returns when the decoded images would not fit in memory: the file list."""

    files: list[str]
    y: np.ndarray  # (N,) class indices
    origin: np.ndarray  # (N,) "pool", "val" or "test": the root each file came from
    class_names: list[str]
    shape: tuple[int, int, int]  # (C, H, W) after decoding
    workers: int
    encoding: dict
    name: str = "image_folder"
    digests: np.ndarray | None = field(default=None, repr=False)  # (N, 16) of the file bytes, once scanned

    @property
    def fixed(self) -> dict[str, np.ndarray]:
        return {s: np.flatnonzero(self.origin == s) for s in ("val", "test") if (self.origin == s).any()}

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        return self.shape

    def file_digests(self) -> list[bytes]:
        """16 bytes per file: equal digests, identical files (`dlx data check` counts duplicates with them)."""
        if self.digests is None:
            return [hashlib.blake2b(Path(f).read_bytes(), digest_size=16).digest() for f in self.files]
        return [row.tobytes() for row in self.digests]

    def without_unreadable(self) -> "StreamedImages":
        """Every file decoded once now, the unreadable ones reported and left out (`dlx data check` lists them)."""
        digests, _, bad = self.scan(np.arange(len(self.files)))
        keep = ~bad
        files = [f for f, k in zip(self.files, keep, strict=True) if k]
        return replace(self, files=files, y=self.y[keep], origin=self.origin[keep], digests=digests[keep])

    def finish(self, **o) -> "StreamingDataModule":
        """o: finish_data's options (batch_size, val_fraction, clean, normalize, seed, ...)."""
        splits = split_with_options(self.y, self.fixed, o)
        digests, stats, bad = self.scan(np.unique(np.concatenate(list(splits.values()))))
        splits = {s: i[~bad[i]] for s, i in splits.items()}
        # a row of digests stands for its file: clean() finds equal rows, here identical files
        _, splits, cleaning = clean(digests, self.y, splits, o["clean"], self.name)
        check_every_class_present(self.y, splits, self.class_names, fixed=set(self.fixed))
        normalizer = fit_normalizer(o["normalize"], stats[splits["train"]], self.shape)
        info = {**data_info(self, splits, cleaning, o), "streamed": True, "workers": self.workers}
        return StreamingDataModule(
            {s: ([self.files[j] for j in i], self.y[i]) for s, i in splits.items()},
            name=self.name,
            class_names=self.class_names,
            shape=self.shape,
            normalizer=normalizer,
            batch_size=o["batch_size"],
            eval_batch_size=o["eval_batch_size"],
            seed=o["seed"],
            workers=self.workers,
            info=info,
            encoding={**self.encoding, "impute_fill": None},
        )

    def scan(self, used: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read and decode the files at `used` once, in DataLoader workers.

        -> digests (N, 16) uint8, stats (N, 4, C) float64 (channel sums, sums of squares, minima, maxima)
        and bad (N,) bool, each indexed like self.files; unreadable files are reported through problem().
        """
        n, c = len(self.files), self.shape[0]
        digests, stats, bad = np.zeros((n, 16), np.uint8), np.zeros((n, 4, c)), np.zeros(n, bool)
        scanned = ScanFiles([self.files[i] for i in used], self.shape)
        loader = DataLoader(scanned, batch_size=64, num_workers=self.workers, collate_fn=list)
        rows = (row for batch in loader for row in batch)  # lazily: an error stops at the first bad file
        for i, (digest, stat, reason) in zip(used, rows, strict=True):
            if reason is not None:
                bad[i] = True
                unreadable(self.files[i], reason)
            else:
                digests[i], stats[i] = np.frombuffer(digest, np.uint8), stat
        return digests, stats, bad


class ScanFiles(Dataset):
    """Per file: (16-byte digest of its bytes, its channel statistics (4, C), None) or (None, None, reason)."""

    def __init__(self, files: list[str], shape: tuple[int, int, int]):
        self.files, self.shape = files, shape

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        data, image, reason = try_load(self.files[i], self.shape)
        if image is None:
            return None, None, reason
        flat = image.reshape(len(image), -1).astype(np.float64)  # (C, H*W)
        stat = np.stack([flat.sum(1), (flat**2).sum(1), flat.min(1), flat.max(1)])
        return hashlib.blake2b(data, digest_size=16).digest(), stat, None


def fit_normalizer(method: str, stats: np.ndarray, shape: tuple[int, int, int]) -> Normalizer:
    """stats: (N, 4, C) of the training images -> the statistics Normalizer.fit would find in memory."""
    if method == "none":
        return Normalizer.identity(shape[0])
    count = len(stats) * shape[1] * shape[2]
    total, total_sq = stats[:, 0].sum(0), stats[:, 1].sum(0)
    return Normalizer.from_moments(method, count, total, total_sq, stats[:, 2].min(0), stats[:, 3].max(0))


class ImageFiles(Dataset):
    """(image (C, H, W) in [0, 1], label) per file, decoded when asked; normalization happens on the device."""

    def __init__(self, files: list[str], y: np.ndarray, shape: tuple[int, int, int]):
        self.files, self.y, self.shape = files, torch.as_tensor(y, dtype=torch.long), shape

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        _, image, reason = try_load(self.files[i], self.shape)
        if image is None:  # it decoded when the data was prepared: changed on disk since
            raise RuntimeError(
                f"{self.files[i]}: is not a readable image any more ({reason}); it was when training started: "
                "restore it, or train again without it"
            )
        return torch.from_numpy(image), self.y[i]


class EpochSampler(Sampler[int]):
    """The training order from seed + epoch alone, drawn as TensorBatches draws it: runs repeat, resumed too."""

    def __init__(
        self,
        n: int,
        seed: int,
        epoch_fn: Callable[[], int],
        resample: Callable[[int], torch.Tensor | None],
        skip: Callable[[int], int] = lambda epoch: 0,
        batch_size: int = 1,
    ):
        """skip(epoch): batches of this epoch already trained on (resumed mid-epoch): their samples are left out."""
        self.n, self.seed, self.epoch_fn, self.resample = n, seed, epoch_fn, resample
        self.skip, self.batch_size = skip, batch_size
        first = resample(0)
        self.size = n if first is None else len(first)  # resamplers keep the size fixed across epochs

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        epoch = self.epoch_fn()
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        pool = self.resample(epoch)
        order = torch.randperm(self.n, generator=g) if pool is None else pool[torch.randperm(len(pool), generator=g)]
        return iter(order[self.skip(epoch) * self.batch_size :].tolist())


class StreamingDataModule(ClassificationData):
    """InMemoryDataModule's interface over files: batches decoded by `workers` processes, normalized on the device."""

    def __init__(
        self,
        splits: dict[str, tuple[list[str], np.ndarray]],
        *,
        name: str,
        class_names: list[str],
        shape: tuple[int, int, int],
        normalizer: Normalizer,
        batch_size: int,
        eval_batch_size: int,
        seed: int,
        workers: int,
        info: dict,
        encoding: dict,
    ):
        super().__init__()
        self.imbalance = None
        self.name, self.class_names, self.shape, self.normalizer = name, list(class_names), shape, normalizer
        self.batch_size, self.eval_batch_size, self.seed, self.workers = batch_size, eval_batch_size, seed, workers
        self.info, self.encoding, self.feature_names = info, encoding, None
        self.files = {s: files for s, (files, _) in splits.items()}  # per split, for messages and `dlx data check`
        self.datasets = {s: ImageFiles(files, y, shape) for s, (files, y) in splits.items()}
        self.device = torch.device("cpu")

    def load_state_dict(self, state: dict) -> None:
        self.normalizer = Normalizer.from_state(state["normalization"])  # applied per batch: nothing to redo

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.shape

    def setup(self, stage: str | None = None) -> None:
        self.device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")

    def use_imbalance(self, imbalance) -> None:
        """Loss weights and per-epoch resampling work on labels; a method rebuilding the samples needs them here."""
        if type(imbalance).prepare is not Imbalance.prepare:
            raise ConfigError(
                "imbalance",
                f"{type(imbalance).__name__} rebuilds the training images in memory, but data={self.name} streams "
                "them from disk; set data.in_memory=true (or raise data.memory_limit_mb)",
            )
        self.imbalance = imbalance

    def train_targets(self) -> torch.Tensor:
        return self.datasets["train"].y.to(self.device)

    def _resample(self, epoch: int) -> torch.Tensor | None:
        if self.imbalance is None:
            return None
        return self.imbalance.epoch_indices(self.datasets["train"].y, self.seed, epoch)

    def loader(self, split: str, batch_size: int, sampler: Sampler | None = None, persistent: bool = True):
        return DataLoader(
            self.datasets[split],
            batch_size=batch_size,
            sampler=sampler,
            num_workers=self.workers,
            persistent_workers=persistent and self.workers > 0,  # no process start-up every epoch
            pin_memory=self.device.type == "cuda",
        )

    def train_dataloader(self) -> DataLoader:
        n = len(self.datasets["train"])
        batch = self.process_batch_size()  # Lightning shards the sampler's order over the processes
        sampler = EpochSampler(n, self.seed, self._epoch, self._resample, self._skip, batch)
        return self.loader("train", batch, sampler)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val", self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self.loader("test", self.eval_batch_size)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        from dlx.trainer.batches import OneEpoch

        if isinstance(batch, OneEpoch):  # Lightning's one "batch" of the epoch; its batches come through here
            return batch
        x, y = batch
        return self.normalizer(x), y

    def eval_batches(self, split: str) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Normalized (x, y) batches of a split, on the device, in order."""
        for x, y in self.loader(split, self.eval_batch_size, persistent=False):
            yield self.normalizer(x.to(self.device)), y.to(self.device)

    def sample_batch(self, n: int = 2) -> torch.Tensor:
        train = self.datasets["train"]
        return self.normalizer(torch.stack([train[i][0] for i in range(min(n, len(train)))]))
