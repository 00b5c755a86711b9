"""Stochastic weight averaging: the equal average of the weights at the end of each epoch from `start` (a
fraction of the run) on; validation, best.ckpt and the test use the average.  Pair it with a learning rate that
stays up (sched=none or step), as SWA intends.  dlx train reg=[swa] reg.swa.start=0.5 sched=none"""

import math
from typing import Annotated

from dlx.config.schema import Range
from dlx.reg import Regularizer

Fraction = Annotated[float, Range(ge=0, lt=1)]


def swa(total_epochs, start: Fraction = 0.75) -> Regularizer:
    from dlx.reg.averaging import EpochWeightAveraging

    return Regularizer(callbacks=[EpochWeightAveraging(start_epoch=math.floor(start * total_epochs))])
