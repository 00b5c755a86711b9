"""Time-based decay lr0 / (1 + decay_rate·t), t in epochs.  dlx train sched=time_based sched.decay_rate=0.1"""

from torch.optim.lr_scheduler import LambdaLR

from dlx.config.schema import NonNegativeFloat
from dlx.sched import Schedule, schedule


@schedule
def time_based(decay_rate: NonNegativeFloat = 0.1) -> Schedule:
    return Schedule(lambda optimizer, epochs: LambdaLR(optimizer, lambda t: 1 / (1 + decay_rate * t)))
