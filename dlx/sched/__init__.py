"""LR schedules: `conf/sched/<name>.yaml` names a builder called as
`(optimizer, total_epochs, steps_per_epoch, **options)` that returns Lightning's lr-scheduler config
`{"scheduler": ..., "interval": "epoch" | "step"}`.

Every schedule takes `warmup_epochs`: the learning rate first ramps linearly up to the schedule's
starting rate (optim.lr; max_lr/div_factor for onecycle), then the schedule runs over what is left
of the run.  A builder only says how to build its scheduler over a given length; `warmup_then`
decides that length and adds the ramp.

    @schedule
    def cosine(min_lr: NonNegativeFloat = 0.0) -> Schedule:
        return Schedule(lambda optimizer, epochs: CosineAnnealingLR(optimizer, T_max=epochs, eta_min=min_lr))
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LinearLR, LRScheduler, SequentialLR

from dlx.config.schema import NonNegativeInt, with_common_options


@dataclass(frozen=True)
class Schedule:
    make: Callable[[Optimizer, int], LRScheduler]  # (optimizer, length in intervals) -> scheduler
    interval: Literal["epoch", "step"] = "epoch"  # Lightning steps the scheduler once per epoch or per batch


def warmup_then(
    schedule: Schedule, optimizer, total_epochs, steps_per_epoch, warmup_epochs: NonNegativeInt = 0
) -> dict:
    """Ramp lr·(t+1)/(warmup+1) for t < warmup intervals, then the schedule over the rest of the run.

    A warmup as long as the run is allowed (a smoke run of one epoch): the run then ends on the ramp.
    """
    per_epoch = steps_per_epoch if schedule.interval == "step" else 1
    warmup, length = warmup_epochs * per_epoch, max(total_epochs - warmup_epochs, 1) * per_epoch
    scheduler = schedule.make(optimizer, length)
    if warmup:
        ramp = LinearLR(optimizer, start_factor=1 / (warmup + 1), total_iters=warmup)
        scheduler = SequentialLR(optimizer, [ramp, scheduler], milestones=[warmup])
    return {"scheduler": scheduler, "interval": schedule.interval}


schedule = with_common_options(warmup_then)
