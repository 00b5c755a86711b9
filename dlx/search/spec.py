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
Launcher = Literal["processes", "submitit_local", "submitit_slurm"]
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
    launcher: str = "processes"
    cluster: dict | None = None
    min_resource: int = 1
    reduction_factor: int = 3


def search(
    space: dict,
    sampler: Sampler = "tpe",
    pruner: Pruner = "none",
    n_trials: PositiveInt = 20,
    n_jobs: PositiveInt = 1,
    objective: str = "val_acc",
    direction: Literal["maximize", "minimize"] = "maximize",
    sampler_seed: NonNegativeInt = 0,
    min_resource: PositiveInt = 1,
    reduction_factor: PositiveInt = 3,
    launcher: Launcher = "processes",
    cluster: dict | None = None,
) -> SearchSpec:
    """objective: an epoch metric (val_acc, val_loss, train_acc, train_loss); its best epoch is the trial's value.

    min_resource, reduction_factor: the pruners' first rung (epochs) and the share kept at each rung (1/factor).
    launcher: where the n_jobs workers run: processes on this machine, or submitit jobs (local or SLURM);
    cluster: submitit's parameters for those jobs (timeout_min, gpus_per_node, cpus_per_task, mem_gb,
    slurm_partition, slurm_account, ...).
    """
    if objective not in EPOCH_METRICS:
        raise ConfigError(
            "search.objective", f"training never logs {objective!r}; it logs {', '.join(EPOCH_METRICS)} every epoch"
        )
    if reduction_factor < 2:
        raise ConfigError("search.reduction_factor", f"must be 2 or more, got {reduction_factor}")
    if cluster and launcher == "processes":
        raise ConfigError("search.cluster", "applies to launcher=submitit_local or submitit_slurm only")
    check_cluster(cluster or {})
    check_launcher(launcher)
    dims = parse_space(space)
    if sampler == "grid":
        size = 1
        for d in dims:
            size *= len(d.grid_values())
        if n_trials > size:
            n_trials = size  # a grid ends when every point has run
    return SearchSpec(
        dims,
        sampler,
        pruner,
        n_trials,
        n_jobs,
        objective,
        direction,
        sampler_seed,
        launcher,
        dict(cluster or {}),
        min_resource,
        reduction_factor,
    )


def check_launcher(launcher: str) -> None:
    if launcher == "processes":
        return
    try:
        import submitit
    except ImportError:
        raise ConfigError("search.launcher", f"{launcher} needs submitit: pip install 'dlx[cluster]'") from None
    if launcher == "submitit_slurm" and submitit.SlurmExecutor.affinity() < 0:  # no srun on PATH
        raise ConfigError("search.launcher", "submitit_slurm: no SLURM here (srun not found); run it on a login node")


def check_cluster(cluster: dict) -> None:
    """The keys submitit's AutoExecutor takes: its shared ones, and SLURM's own with a slurm_ prefix."""
    if not cluster:
        return
    try:
        from submitit.auto.auto import AutoExecutor
        from submitit.slurm.slurm import SlurmExecutor
    except ImportError:
        raise ConfigError("search.cluster", "needs submitit: pip install 'dlx[cluster]'") from None
    valid = set(AutoExecutor._valid_parameters()) | {f"slurm_{k}" for k in SlurmExecutor._valid_parameters()}
    for key in cluster:
        if key not in valid:
            raise ConfigError(f"search.cluster.{key}", f"not a submitit parameter; valid: {', '.join(sorted(valid))}")


def make_sampler(spec: SearchSpec, stream: int = 0):
    """stream: 0 for a fresh search's first process; workers and resumed searches draw from other seeds, or
    every worker's random start would propose the same points (seen: trial 3 repeated trial 0 with 2 workers)."""
    import optuna

    seed = spec.seed + 100_003 * stream
    samplers = {
        # the grid's seed orders its points, and a trial records only its point's index (grid_id): every worker
        # and resume must order them alike, or a point is run twice and another never (running points are skipped)
        "grid": lambda: optuna.samplers.GridSampler({d.key: d.grid_values() for d in spec.dimensions}, seed=spec.seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "bayes": lambda: optuna.samplers.GPSampler(seed=seed),  # Gaussian-process Bayesian optimization
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed),
    }
    return samplers[spec.sampler]()


def make_pruner(spec: SearchSpec, max_epochs: int):
    """Pruners see the objective after every epoch; an epoch is the resource Hyperband shares out."""
    import optuna

    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=spec.min_resource, max_resource=max_epochs, reduction_factor=spec.reduction_factor
        )
    if spec.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=spec.min_resource, reduction_factor=spec.reduction_factor
        )
    return optuna.pruners.NopPruner()
