"""Cosine decay from the initial learning rate to min_lr over the run.  dlx train sched=cosine"""

from torch.optim.lr_scheduler import CosineAnnealingLR

from dlx.config.schema import MinLearningRate
from dlx.sched import Schedule, schedule


@schedule
def cosine(min_lr: MinLearningRate = 0.0) -> Schedule:
    return Schedule(lambda optimizer, epochs: CosineAnnealingLR(optimizer, T_max=epochs, eta_min=min_lr))
