"""Random over- and undersampling with imbalanced-learn, redrawn every epoch: each epoch sees every class
equally often (oversampling repeats minority samples; undersampling shows a different majority subset).
    dlx train imbalance=oversample        dlx train imbalance=undersample"""

import numpy as np
import torch

from dlx.imbalance import Imbalance, epoch_seed


class RandomResample(Imbalance):
    def __init__(self, sampler_class):
        self.sampler_class = sampler_class

    def epoch_indices(self, y: torch.Tensor, seed: int, epoch: int) -> torch.Tensor:
        labels = y.cpu().numpy()
        index = np.arange(len(labels)).reshape(-1, 1)  # resample indices, not data: the data stays on the device
        sampler = self.sampler_class(sampling_strategy="auto", random_state=epoch_seed(seed, epoch))
        chosen, _ = sampler.fit_resample(index, labels)
        return torch.as_tensor(chosen.ravel(), dtype=torch.long)


def oversample() -> Imbalance:
    from imblearn.over_sampling import RandomOverSampler

    return RandomResample(RandomOverSampler)


def undersample() -> Imbalance:
    from imblearn.under_sampling import RandomUnderSampler

    return RandomResample(RandomUnderSampler)
