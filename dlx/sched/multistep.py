"""Multiply the learning rate by gamma at each milestone epoch.  dlx train sched=multistep sched.milestones=[10,20]"""

from torch.optim.lr_scheduler import MultiStepLR

from dlx.config.schema import OpenUnitInterval, PositiveInt
from dlx.sched import Schedule, schedule


@schedule
def multistep(milestones: list[PositiveInt] = (15, 25), gamma: OpenUnitInterval = 0.1) -> Schedule:
    # milestones count from the end of the warmup, like every schedule's epochs
    return Schedule(lambda optimizer, epochs: MultiStepLR(optimizer, milestones=list(milestones), gamma=gamma))
