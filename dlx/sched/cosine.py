"""Cosine decay from the initial learning rate to min_lr over the run.  dlx train sched=cosine"""

import torch

from dlx.config.schema import NonNegativeFloat


def cosine(optimizer, total_epochs, min_lr: NonNegativeFloat = 0.0):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_epochs, eta_min=min_lr)
