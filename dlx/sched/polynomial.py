"""Polynomial decay to 0 over the run: lr0·(1 - t/T)^power.  dlx train sched=polynomial sched.power=2"""

from torch.optim.lr_scheduler import PolynomialLR

from dlx.config.schema import PositiveFloat
from dlx.sched import Schedule, schedule


@schedule
def polynomial(power: PositiveFloat = 1.0) -> Schedule:
    return Schedule(lambda optimizer, epochs: PolynomialLR(optimizer, total_iters=epochs, power=power))
