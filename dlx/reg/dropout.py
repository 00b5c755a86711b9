"""Dropout with probability p in the model (sets its dropout option).  dlx train reg=[dropout] reg.dropout.p=0.3"""

from dlx.config.schema import UnitInterval
from dlx.reg import Regularizer


def dropout(p: UnitInterval = 0.2) -> Regularizer:
    return Regularizer(model_kwargs={"dropout": p})
