"""Lightning Trainer from `conf/trainer/<name>.yaml`, lean by default (no sanity pass, no model summary,
no Lightning progress bar: dlx's own rich progress reads per-epoch numbers)."""

from typing import Literal

from dlx.config.errors import ConfigError
from dlx.config.schema import PositiveInt

Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"]
BatchLimit = int | float  # a count of batches or a fraction of the epoch


def trainer(
    callbacks,
    max_epochs: PositiveInt = 30,
    accelerator: Accelerator = "auto",
    devices: int | str = 1,
    precision: str = "32-true",
    deterministic: bool = False,
    limit_train_batches: BatchLimit = 1.0,
    limit_val_batches: BatchLimit = 1.0,
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
        return L.Trainer(
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
