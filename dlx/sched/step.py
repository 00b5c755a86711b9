"""Multiply the learning rate by gamma every step_size epochs.  dlx train sched=step sched.step_size=10"""

import torch

from dlx.config.schema import OpenUnitInterval, PositiveInt


def step(optimizer, total_epochs, step_size: PositiveInt = 10, gamma: OpenUnitInterval = 0.1):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
