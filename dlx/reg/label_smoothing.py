"""Label smoothing: the target puts `smoothing` of its mass uniformly on all classes.  dlx train reg=[label_smoothing]"""

from dlx.config.schema import UnitInterval
from dlx.reg import Regularizer


def label_smoothing(smoothing: UnitInterval = 0.1) -> Regularizer:
    return Regularizer(label_smoothing=smoothing)
