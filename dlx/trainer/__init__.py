"""Lightning Trainer from `conf/trainer/<name>.yaml`, lean by default (no sanity pass, no model summary,
no Lightning progress bar: dlx's own rich progress reads per-epoch numbers)."""

from typing import Annotated, Literal

from dlx.config.errors import ConfigError
from dlx.config.schema import NonNegativeFloat, NonNegativeInt, PositiveInt, Range

Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"]
CompileBackend = Literal["inductor", "aot_eager", "eager", "cudagraphs"]  # torch.compile backends; true = inductor
MatmulPrecision = Literal["highest", "high", "medium"]
# auto: one device (or Lightning's choice for TPU cores); ddp / fsdp: one process per device, through
# dlx.trainer.distributed (Lightning's launcher with dlx's child command)
Strategy = Literal["auto", "ddp", "fsdp"]  # torch.set_float32_matmul_precision: TF32 / bf16 matmuls
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
    accumulate_grad_batches: PositiveInt = 1,
    compile: bool | CompileBackend = False,
    channels_last: bool = False,
    matmul_precision: MatmulPrecision = "highest",
    benchmark: bool | None = None,
    checkpoint_every_s: NonNegativeFloat = 1.0,
    strategy: Strategy = "auto",
    num_nodes: PositiveInt = 1,
    sync_batchnorm: bool = False,
):
    """accumulate_grad_batches: one optimizer step every N batches; compile: torch.compile of the net (true, or
    a backend name); channels_last: NHWC weights and images; matmul_precision: float32 matmuls on TF32/bf16
    units where the hardware has them; benchmark: cuDNN autotuning (None: Lightning's default); checkpoint_every_s:
    checkpoints and metrics.csv written at most once in this many seconds (0: every epoch; the last epoch, a
    stop and a failure always; an improvement in between is held in memory until then), so runs of very short
    epochs do not spend their time writing files (a kill loses at most this much work);
    strategy: ddp or fsdp trains on `devices` processes on each of `num_nodes` machines (batch_size is per
    process); sync_batchnorm: batch-norm statistics over all processes (GPUs)."""
    import lightning.pytorch as L

    from dlx.trainer.batches import BatchLoop
    from dlx.trainer.checkpoint import AtomicCheckpointIO, RunCheckpoint
    from dlx.trainer.distributed import check_devices, make_strategy
    from dlx.trainer.guard import StopOnNonFinite
    from dlx.trainer.progress import RichProgress
    from dlx.trainer.signals import StopOnSignal
    from dlx.trainer.speed import SpeedOptions
    from dlx.trainer.validation import ValidationLoop

    if strategy == "auto" and accelerator != "tpu" and (num_nodes > 1 or several(devices, accelerator)):
        strategy = "ddp"  # Lightning's own choice here would start the whole command again per device
    check_devices(strategy, accelerator, devices, num_nodes, sync_batchnorm)
    check_precision(precision, accelerator)
    distributed = strategy != "auto"
    guard = StopOnNonFinite(check_gradients=not str(precision).startswith("16"))  # fp16's scaler skips inf steps
    loop = BatchLoop(limit_train_batches, accumulate_grad_batches)  # on one device Lightning sees one batch an epoch
    validation = ValidationLoop(limit_val_batches)  # on one device: run by the BatchLoop after an epoch's batches
    callbacks = [loop, validation, guard, *callbacks, RunCheckpoint(checkpoint_every_s), StopOnSignal()] + (
        [RichProgress()] if progress else []
    )
    if compile or channels_last or matmul_precision != "highest":
        callbacks.append(SpeedOptions(compile, channels_last, matmul_precision))
    try:
        built = L.Trainer(
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            num_nodes=num_nodes,
            strategy=make_strategy(strategy) if distributed else "auto",
            sync_batchnorm=sync_batchnorm,
            precision=precision,
            deterministic=deterministic,
            # under a distributed strategy Lightning loops over the batches, and applies the limit itself
            limit_train_batches=limit_train_batches if distributed else 1.0,
            limit_val_batches=limit_val_batches,
            limit_test_batches=limit_test_batches,
            benchmark=benchmark,
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
    if built.num_devices * num_nodes > 1 and not distributed and type(built.accelerator).__name__ != "XLAAccelerator":
        # Lightning's own launcher would start the whole command again per device, each with its own run directory
        raise ConfigError("trainer.strategy", f"auto with {built.num_devices} devices: set trainer.strategy=ddp")
    return built


def check_precision(precision, accelerator: str) -> None:
    """fp16 autocast on the CPU: Lightning warns and trains in bf16-mixed instead, a run other than the one asked."""
    if str(precision) not in ("16-mixed", "16"):
        return
    import torch

    gpu_here = torch.cuda.is_available() or torch.backends.mps.is_available()
    if accelerator == "cpu" or (accelerator == "auto" and not gpu_here):
        raise ConfigError("trainer.precision", f"{precision} (fp16 autocast) needs a GPU, and this run trains on the "
                          "CPU; use bf16-mixed there")  # fmt: skip


def several(devices, accelerator: str) -> bool:
    """More than one device: a count above 1, a list of several, or -1 / "auto" (all GPUs there are)."""
    if isinstance(devices, (list, tuple)):
        return len(devices) > 1
    if isinstance(devices, str) and devices.strip().lstrip("-").isdigit():
        devices = int(devices)
    if devices in ("auto", -1):
        import torch

        return accelerator in ("auto", "gpu", "cuda") and torch.cuda.device_count() > 1
    return isinstance(devices, int) and devices > 1
