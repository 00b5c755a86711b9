"""Multiply the learning rate by gamma every step_size epochs.  dlx train sched=step sched.step_size=10"""

from torch.optim.lr_scheduler import StepLR

from dlx.config.schema import OpenUnitInterval, PositiveInt
from dlx.sched import Schedule, schedule


@schedule
def step(step_size: PositiveInt = 10, gamma: OpenUnitInterval = 0.1) -> Schedule:
    return Schedule(lambda optimizer, epochs: StepLR(optimizer, step_size=step_size, gamma=gamma))
