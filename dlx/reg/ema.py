"""Exponential moving average of the weights; validation, best.ckpt and the test use the averaged copy.
dlx train reg=[ema] reg.ema.decay=0.999"""

from dlx.config.schema import NonNegativeInt, OpenUnitInterval
from dlx.reg import Regularizer


def ema(decay: OpenUnitInterval = 0.99, start_step: NonNegativeInt = 0) -> Regularizer:
    from lightning.pytorch.callbacks import EMAWeightAveraging

    return Regularizer(callbacks=[EMAWeightAveraging(decay=decay, update_starting_at_step=start_step)])
