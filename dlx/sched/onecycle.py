"""One-cycle (Smith): per batch, up from max_lr/div_factor to max_lr = max_lr_factor·optim.lr over pct_start
of the run, then down to max_lr/(div_factor·final_div_factor).  dlx train sched=onecycle sched.max_lr_factor=5"""

from torch.optim.lr_scheduler import OneCycleLR

from dlx.config.errors import ConfigError
from dlx.config.schema import LearningRate, OpenUnitInterval, PositiveFloat
from dlx.sched import Schedule, schedule


@schedule
def onecycle(
    max_lr_factor: LearningRate = 1.0,
    pct_start: OpenUnitInterval = 0.3,
    div_factor: PositiveFloat = 25.0,
    final_div_factor: PositiveFloat = 1e4,
    cycle_momentum: bool = False,
) -> Schedule:
    # cycle_momentum is off by default: torch would also overwrite the optimizer's own momentum or beta1
    def make(optimizer, steps):
        if cycle_momentum and not {"momentum", "betas"} & optimizer.defaults.keys():
            raise ConfigError("sched.cycle_momentum", f"{type(optimizer).__name__} has no momentum to cycle")
        return OneCycleLR(
            optimizer,
            max_lr=[g["lr"] * max_lr_factor for g in optimizer.param_groups],
            total_steps=steps,
            pct_start=pct_start,
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            cycle_momentum=cycle_momentum,
        )

    return Schedule(make, interval="step")
