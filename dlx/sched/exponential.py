"""Multiply the learning rate by gamma every epoch: lr0·gamma^t.  dlx train sched=exponential sched.gamma=0.9"""

from torch.optim.lr_scheduler import ExponentialLR

from dlx.config.schema import OpenUnitInterval
from dlx.sched import Schedule, schedule


@schedule
def exponential(gamma: OpenUnitInterval = 0.9) -> Schedule:
    return Schedule(lambda optimizer, epochs: ExponentialLR(optimizer, gamma=gamma))
