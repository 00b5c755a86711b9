"""Label smoothing: the target spreads `smoothing` of its mass over all classes.  dlx train reg=[label_smoothing]"""

from dlx.config.schema import UnitInterval
from dlx.reg import Regularizer


def label_smoothing(smoothing: UnitInterval = 0.1) -> Regularizer:
    return Regularizer(label_smoothing=smoothing)
