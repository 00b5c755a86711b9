"""Linear warmup over warmup_epochs, then the constant optim.lr.  dlx train sched=warmup sched.warmup_epochs=3"""

from torch.optim.lr_scheduler import ConstantLR

from dlx.sched import Schedule, schedule


@schedule
def warmup() -> Schedule:
    # the ramp comes from the common warmup_epochs option; after it, the rate stays at optim.lr
    return Schedule(lambda optimizer, epochs: ConstantLR(optimizer, factor=1.0, total_iters=0))
