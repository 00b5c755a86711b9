"""What `conf/search/<name>.yaml` declares: the space, the sampler, the pruner, the budget, the objective.

The builder's signature is the schema, as for every option; `make_sampler` and `make_pruner` turn the
names into Optuna's objects, seeded.
"""

from dataclasses import dataclass
from typing import Literal

from dlx.config.errors import ConfigError
from dlx.config.schema import NonNegativeInt, PositiveInt
from dlx.search.space import Dimension, parse_space

Sampler = Literal["grid", "random", "tpe", "bayes", "cmaes"]
Pruner = Literal["none", "hyperband", "successive_halving"]
EPOCH_METRICS = ("val_acc", "val_loss", "train_acc", "train_loss")  # what training reports after every epoch


@dataclass(frozen=True)
class SearchSpec:
    dimensions: list[Dimension]
    sampler: str
    pruner: str
    n_trials: int
    n_jobs: int
    objective: str
    direction: str
    seed: int


def search(
    space: dict,
    sampler: Sampler = "tpe",
    pruner: Pruner = "none",
    n_trials: PositiveInt = 20,
    n_jobs: PositiveInt = 1,
    objective: str = "val_acc",
    direction: Literal["maximize", "minimize"] = "maximize",
    sampler_seed: NonNegativeInt = 0,
) -> SearchSpec:
    """objective: an epoch metric (val_acc, val_loss, train_acc, train_loss); its best epoch is the trial's value."""
    if objective not in EPOCH_METRICS:
        raise ConfigError(
            "search.objective", f"training never logs {objective!r}; it logs {', '.join(EPOCH_METRICS)} every epoch"
        )
    dims = parse_space(space)
    if sampler == "grid":
        size = 1
        for d in dims:
            size *= len(d.grid_values())
        if n_trials > size:
            n_trials = size  # a grid ends when every point has run
    return SearchSpec(dims, sampler, pruner, n_trials, n_jobs, objective, direction, sampler_seed)


def make_sampler(spec: SearchSpec):
    import optuna

    samplers = {
        "grid": lambda: optuna.samplers.GridSampler({d.key: d.grid_values() for d in spec.dimensions}, seed=spec.seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=spec.seed),
        "tpe": lambda: optuna.samplers.TPESampler(seed=spec.seed),
        "bayes": lambda: optuna.samplers.GPSampler(seed=spec.seed),  # Gaussian-process Bayesian optimization
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=spec.seed),
    }
    return samplers[spec.sampler]()


def make_pruner(spec: SearchSpec, max_epochs: int):
    """Pruners see the objective after every epoch; an epoch is the resource Hyperband shares out."""
    import optuna

    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs, reduction_factor=3)
    if spec.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()
