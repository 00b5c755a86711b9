"""Lightning Trainer from `conf/trainer/<name>.yaml`, lean by default (no sanity pass, no model summary,
no Lightning progress bar: dlx's own rich progress reads per-epoch numbers)."""

from typing import Annotated, Literal

from dlx.config.errors import ConfigError
from dlx.config.schema import NonNegativeInt, PositiveInt, Range

Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"]
# a count of batches or a fraction of the epoch; validation alone may be switched off with 0
BatchLimit = PositiveInt | Annotated[float, Range(gt=0, le=1)]
ValBatchLimit = NonNegativeInt | Annotated[float, Range(ge=0, le=1)]


def trainer(
    callbacks,
    max_epochs: PositiveInt = 30,
    accelerator: Accelerator = "auto",
    devices: int | str = 1,
    precision: str = "32-true",
    deterministic: bool = False,
    limit_train_batches: BatchLimit = 1.0,
    limit_val_batches: ValBatchLimit = 1.0,
    limit_test_batches: BatchLimit = 1.0,
    progress: bool = True,
):
    import lightning.pytorch as L

    from dlx.trainer.checkpoint import AtomicCheckpointIO, RunCheckpoint
    from dlx.trainer.guard import StopOnNonFinite
    from dlx.trainer.progress import RichProgress
    from dlx.trainer.signals import StopOnSignal

    guard = StopOnNonFinite(check_gradients=not str(precision).startswith("16"))  # fp16's scaler skips inf steps
    callbacks = [guard, *callbacks, RunCheckpoint(), StopOnSignal()] + ([RichProgress()] if progress else [])
    try:
        built = L.Trainer(
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            precision=precision,
            deterministic=deterministic,
            limit_train_batches=limit_train_batches,
            limit_val_batches=limit_val_batches,
            limit_test_batches=limit_test_batches,
            callbacks=callbacks,
            plugins=[AtomicCheckpointIO()],
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
    except Exception as e:  # Lightning's MisconfigurationException: no such device here, bad precision
        raise ConfigError(
            "trainer", f"accelerator={accelerator} devices={devices} precision={precision}: {str(e).splitlines()[0]}"
        ) from None
    if built.num_devices > 1 and type(built.accelerator).__name__ != "XLAAccelerator":  # TPU cores: spawned workers
        # Lightning would start the whole command again once per extra device, each making its own run directory
        raise ConfigError(
            "trainer.devices", f"got {devices!r} ({built.num_devices} devices): a dlx run trains on one device; use 1"
        )
    return built
