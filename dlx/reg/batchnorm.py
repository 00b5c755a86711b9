"""Batch normalization on or off in the model (sets model.norm to batch or none).  dlx train reg=[batchnorm]"""

from dlx.reg import Regularizer


def batchnorm(enabled: bool = True) -> Regularizer:
    return Regularizer(model_kwargs={"norm": "batch" if enabled else "none"})
