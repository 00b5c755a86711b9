"""A whole training epoch runs inside one Lightning training step; the batches are looped over here.

Why: Lightning's per-batch machinery (the fetcher, about ten callback dispatches, the optimizer closure,
progress tracking, argument inspection) cost about 0.5 ms a batch on this machine, 1.3-1.6x the time of a
hand-written loop for a small MLP on digits (bench/train_overhead.py). Lightning still runs everything
around the batches: epochs, checkpoints, early stopping, loggers, strategies, precision.

Validation during fit on one device runs at the end of that step, by dlx.trainer.validation.

What stays the same for callbacks: their `on_train_batch_start` / `on_train_batch_end` are called once per
real batch, with its index, by this loop (Lightning's own call around the whole epoch is silenced), and
`on_before_optimizer_step` before every optimizer step. `trainer.global_step` counts optimizer steps.

Under a distributed strategy (DDP, FSDP) Lightning hands over one real batch per step, as DDP needs one forward
per backward to synchronize gradients; `run_batch` trains it, and Lightning calls the batch hooks itself.
"""

import itertools
import math

import lightning.pytorch as L

BATCH_HOOKS = ("on_train_batch_start", "on_train_batch_end")  # called here per batch, silenced for Lightning
STEP_HOOKS = ("on_before_optimizer_step",)  # Lightning never calls it on the direct path


def ignore(*args, **kwargs) -> None:
    return None


class OneEpoch:
    """What Lightning sees as the training loader: one "batch" per epoch, which is this object itself."""

    def __init__(self, batches, count: int):
        self.batches, self.count = batches, count  # the real loader; batches per epoch after the limit

    def __len__(self) -> int:
        return 1

    def __iter__(self):
        yield self

    # a mid-epoch checkpoint resumes through the data module's skip; these tell Lightning it may resume
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class BatchLoop(L.Callback):
    def __init__(self, limit_train_batches: int | float = 1.0, accumulate_grad_batches: int = 1):
        self.limit, self.accumulate = limit_train_batches, accumulate_grad_batches
        self.batches_per_epoch = 0
        self.per_batch = False
        self.hooks: dict[str, list] = {}
        self._silenced: list = []
        self._datamodule = None
        self.validation = None  # dlx.trainer.validation.ValidationLoop, which validates after the epoch's batches

    # ---- set-up: the loader Lightning sees, the hooks this loop calls ------------------------------------

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit":
            return
        self.per_batch = not one_device(trainer)
        if self.per_batch:  # Lightning's own loop over the batches; it applies limit_train_batches itself
            self.direct = False
            return
        datamodule = trainer.datamodule
        real_loader = type(datamodule).train_dataloader.__get__(datamodule)

        def one_epoch_loader() -> OneEpoch:
            batches = real_loader()
            self.batches_per_epoch = self.limited(len(batches))
            return OneEpoch(batches, self.batches_per_epoch)

        datamodule.train_dataloader = one_epoch_loader  # this fit only; teardown removes it
        self._datamodule = datamodule
        self.hooks = {name: [] for name in BATCH_HOOKS + STEP_HOOKS}
        for callback in trainer.callbacks:
            for name in BATCH_HOOKS + STEP_HOOKS:
                method = getattr(type(callback), name)
                if method is not getattr(L.Callback, name):  # only callbacks that override the hook
                    self.hooks[name].append(method.__get__(callback))
            for name in BATCH_HOOKS:
                setattr(callback, name, ignore)
            self._silenced.append(callback)
        self.direct = direct_path(trainer)
        from dlx.trainer.validation import ValidationLoop  # here: it imports this module

        self.validation = next((c for c in trainer.callbacks if isinstance(c, ValidationLoop)), None)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if self.per_batch:  # Lightning counted them (this process's shard, after the limit)
            self.batches_per_epoch = int(trainer.num_training_batches)

    on_train_start = on_train_epoch_start  # the progress bar reads the count before the first epoch

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            self.restore()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.restore()  # Lightning does not call teardown after an exception

    def restore(self) -> None:
        for callback in self._silenced:
            for name in BATCH_HOOKS:
                callback.__dict__.pop(name, None)
        self._silenced = []
        if self._datamodule is not None:
            self._datamodule.__dict__.pop("train_dataloader", None)
            self._datamodule = None

    def limited(self, batches: int) -> int:
        return limited(batches, self.limit)

    def steps_per_epoch(self, batches: int) -> int:
        return max(1, math.ceil(self.limited(batches) / self.accumulate))

    # ---- the epoch -------------------------------------------------------------------------------------

    def run(self, module, epoch: OneEpoch) -> None:
        """module: dlx.module.Classifier. Trains the batches of this epoch not yet done (all, unless resumed)."""
        trainer = module.trainer
        optimizer = module.optimizers()  # Lightning's wrapper: precision scaling, strategy, step counting
        starts, ends = self.hooks["on_train_batch_start"], self.hooks["on_train_batch_end"]
        to_device = (
            None if getattr(trainer.datamodule, "batches_on_device", False) else trainer.strategy.batch_to_device
        )
        convert = input_conversion(trainer.precision_plugin)
        n = epoch.count
        for batch in itertools.islice(epoch.batches, max(0, n - module.batches_done)):
            if to_device is not None:
                batch = to_device(batch)  # with the data module's transfer hooks
            if convert is not None:
                batch = convert(batch)  # 64-true, bf16-true: inputs in the weights' dtype
            index = module.batches_done
            for hook in starts:
                hook(trainer, module, batch, index)
            loss = self.train_one(trainer, module, optimizer, batch, index, n)
            outputs = {"loss": loss}
            for hook in ends:
                hook(trainer, module, outputs, batch, index)
        if self.validation is not None and self.validation.active:
            self.validation.run(trainer, module)  # where Lightning would: before any on_train_epoch_end

    def run_batch(self, module, batch, index: int) -> None:
        """One batch Lightning handed over (distributed strategies); it moved and cast it, and calls the hooks."""
        self.train_one(module.trainer, module, module.optimizers(), batch, index, self.batches_per_epoch)

    def train_one(self, trainer, module, optimizer, batch, index: int, n: int):
        """Forward and backward of batch `index` of n in this epoch; the optimizer steps every `accumulate`."""
        module.batches_done = index + 1
        loss = module.train_batch_loss(batch)
        if self.accumulate > 1:
            loss = loss / self.accumulate  # the mean over the accumulated batches, as Lightning does
        if self.direct:
            loss.backward()
        else:
            module.manual_backward(loss)
        if (index + 1) % self.accumulate == 0 or index + 1 == n:
            self.step(trainer, module, optimizer)
        return loss

    def step(self, trainer, module, optimizer) -> None:
        if self.direct:
            raw = optimizer.optimizer
            for hook in self.hooks["on_before_optimizer_step"]:
                hook(trainer, module, raw)  # the non-finite guard: before any weight changes
            module.on_before_optimizer_step(raw)  # gradient clipping
            progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
            progress.increment_ready()
            raw.step()
            progress.increment_completed()  # trainer.global_step
            raw.zero_grad(set_to_none=True)
        else:  # Lightning's path: the fp16 grad scaler (unscale, skip inf steps), distributed strategies
            optimizer.step()  # calls the on_before_optimizer_step hooks itself, after unscaling
            optimizer.zero_grad()
        for config in trainer.lr_scheduler_configs:
            if config.interval == "step":
                config.scheduler.step()


def limited(batches: int, limit: int | float) -> int:
    """Lightning's meaning of limit_*_batches: a count, or a fraction of the epoch's batches (at least one)."""
    if isinstance(limit, float):
        return max(1, int(batches * limit)) if limit < 1 else batches
    return min(batches, limit)


def one_device(trainer) -> bool:
    """One process on one device (CPU, a GPU, MPS): the whole epoch can be one Lightning step."""
    from lightning.pytorch.strategies import SingleDeviceStrategy

    return type(trainer.strategy) is SingleDeviceStrategy


def direct_path(trainer) -> bool:
    """Backward and optimizer step called directly: one device, and no grad scaler to apply."""
    from lightning.pytorch.strategies import SingleDeviceStrategy

    scaler = getattr(trainer.precision_plugin, "scaler", None)
    return type(trainer.strategy) is SingleDeviceStrategy and scaler is None


def input_conversion(plugin):
    """The precision plugin's input cast, where it has one (Lightning calls it on every batch it fetches)."""
    from lightning.pytorch.plugins.precision import Precision

    return plugin.convert_input if type(plugin).convert_input is not Precision.convert_input else None


def batch_loop(trainer) -> BatchLoop:
    return next(c for c in trainer.callbacks if isinstance(c, BatchLoop))
