"""Stop when the validation metric has not improved for `patience` epochs.  dlx train reg=[early_stopping]"""

from typing import Literal

from dlx.config.schema import NonNegativeFloat, PositiveInt
from dlx.reg import Regularizer


def early_stopping(
    patience: PositiveInt = 5, min_delta: NonNegativeFloat = 0.0, monitor: Literal["val/acc", "val/loss"] = "val/acc"
) -> Regularizer:
    from lightning.pytorch.callbacks import EarlyStopping

    mode = "max" if monitor == "val/acc" else "min"
    return Regularizer(callbacks=[EarlyStopping(monitor=monitor, mode=mode, patience=patience, min_delta=min_delta)])
