"""Validation during fit on one device, run here at the epoch's end instead of by Lightning's evaluation loop.

Why: before its first batch, Lightning's evaluation loop cost about 1.6 ms an epoch on this machine (the data
fetcher, signature inspection of the step and batch hooks, module-mode capture and restore, the logger
connector's result bookkeeping, loop progress), measured against the validation step itself over 300 epochs:
2% of a digits CNN epoch, half of what dlx added to a hand-written loop (bench/train_overhead.py).

What stays the same for callbacks and the module: the validation hooks Lightning would call, in its order
(on_validation_start, on_validation_epoch_start, per batch on_validation_batch_start / _end, then
on_validation_epoch_end and on_validation_end; callbacks before the module), in trainer.validating state, under
inference mode and the precision plugin's autocast, with every module's train/eval mode restored after. The
BatchLoop runs it after the epoch's last batch, inside the one training step Lightning sees an epoch, where
Lightning would have validated: every on_train_epoch_end hook (metrics row, checkpoints, early stopping, weight
averaging, a search's trial report, the progress bar) sees this epoch's validation.
limit_val_batches keeps its meaning (a count, or a fraction of the batches, at least one).

Under a distributed strategy Lightning's loop validates (it shards and synchronizes); this one stays out.
"""

import itertools

import lightning.pytorch as L
import torch

from dlx.trainer.batches import input_conversion, limited, one_device

CALLBACK_HOOKS = (
    "on_validation_start",
    "on_validation_epoch_start",
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_validation_epoch_end",
    "on_validation_end",
)
MODULE_HOOKS = CALLBACK_HOOKS + ("on_validation_model_eval", "on_validation_model_train")


class ValidationLoop(L.Callback):
    def __init__(self, limit_val_batches: int | float = 1.0):
        self.limit = limit_val_batches
        self.active = False
        self.loader = None
        self.callbacks: dict[str, list] = {}
        self.module_hooks: dict[str, object] = {}

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or not one_device(trainer) or self.limit == 0:
            return
        self.active = True
        trainer.limit_val_batches = 0  # Lightning's loop stays out of this fit; restored at its end
        self.callbacks = {name: [] for name in CALLBACK_HOOKS}
        for callback in trainer.callbacks:  # in Lightning's order
            for name in CALLBACK_HOOKS:
                method = getattr(type(callback), name)
                if method is not getattr(L.Callback, name):  # only callbacks that override the hook
                    self.callbacks[name].append(method.__get__(callback))
        self.module_hooks = {
            name: getattr(pl_module, name)
            for name in MODULE_HOOKS
            if getattr(type(pl_module), name) is not getattr(L.LightningModule, name)
        }

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            self.restore(trainer)

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.restore(trainer)  # Lightning does not call teardown after an exception

    def restore(self, trainer) -> None:
        if self.active:
            trainer.limit_val_batches = self.limit
        self.active, self.loader = False, None

    def batches(self, trainer):
        """This fit's validation loader, made once as Lightning does (persistent workers stay up), and its count."""
        if self.loader is None:
            self.loader = trainer.datamodule.val_dataloader()
        return self.loader, limited(len(self.loader), self.limit)

    def run(self, trainer, module) -> None:
        """module: the LightningModule; called by the BatchLoop once the epoch's batches are trained."""
        loader, n = self.batches(trainer)
        if n == 0:
            return
        on_device = getattr(trainer.datamodule, "batches_on_device", False)
        to_device = None if on_device else trainer.strategy.batch_to_device
        convert = input_conversion(trainer.precision_plugin)
        step_context = trainer.precision_plugin.val_step_context
        modes = {m: m.training for m in module.modules()}  # a frozen backbone's BatchNorm stays in eval after
        trainer.validating = True
        try:
            with torch.inference_mode():
                self.module_hooks.get("on_validation_model_eval", trainer.model.eval)()
                self.call("on_validation_start", trainer, module)
                self.call("on_validation_epoch_start", trainer, module)
                for index, batch in enumerate(itertools.islice(loader, n)):
                    if convert is not None:  # as Lightning: the precision's cast, then the transfer hooks
                        batch = convert(batch)
                    if to_device is not None:
                        batch = to_device(batch)
                    self.call("on_validation_batch_start", trainer, module, batch, index)
                    with step_context():
                        outputs = module.validation_step(batch, index)
                    self.call("on_validation_batch_end", trainer, module, outputs, batch, index)
                self.call("on_validation_epoch_end", trainer, module)
                self.call("on_validation_end", trainer, module)
            if "on_validation_model_train" in self.module_hooks:
                self.module_hooks["on_validation_model_train"]()
            else:
                for m, training in modes.items():
                    m.training = training
        finally:
            trainer.training = True

    def call(self, name: str, trainer, module, *args) -> None:
        """Callbacks first, then the module, as Lightning calls a hook."""
        for method in self.callbacks[name]:
            method(trainer, module, *args)
        method = self.module_hooks.get(name)
        if method is not None:
            method(*args)
