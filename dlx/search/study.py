"""The search loop: an Optuna study in SWEEP_DIR/study.db, trials until n_trials have finished.

Finished means completed, pruned or failed; a trial left running by a killed process is marked failed
when the search resumes, and finished trials are never run again. With n_jobs > 1, n_jobs processes
share the study through its SQLite file (Optuna's RDB storage), each taking the next trial.
"""

import os
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def storage_url(sweep_dir: Path) -> str:
    return f"sqlite:///{(sweep_dir / 'study.db').resolve()}"


def open_study(sweep_dir: Path, saved: dict, spec):
    import optuna

    from dlx.search.spec import make_pruner, make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name="dlx",
        storage=optuna.storages.RDBStorage(storage_url(sweep_dir), engine_kwargs={"connect_args": {"timeout": 60}}),
        sampler=make_sampler(spec),
        pruner=make_pruner(spec, saved["max_epochs"]),
        direction=spec.direction,
        load_if_exists=True,
    )


def fail_killed_trials(study) -> int:
    """Trials still RUNNING belong to a process that is gone (resume runs alone): record them as failed."""
    from optuna.trial import TrialState

    stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for t in stale:
        study._storage.set_trial_user_attr(t._trial_id, "error", "the search was killed during this trial")
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(stale)


def finished(study) -> int:
    return sum(t.state.name in FINISHED for t in study.get_trials(deepcopy=False))


def optimize(sweep_dir: Path, saved: dict, spec) -> None:
    """Take trials from the study until n_trials have finished (this process's share of the search)."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from dlx.search.trial import run_trial

    study = open_study(sweep_dir, saved, spec)
    if finished(study) >= spec.n_trials:
        return
    states = tuple(getattr(TrialState, s) for s in FINISHED)
    study.optimize(
        lambda trial: run_trial(trial, spec, saved["overrides"], sweep_dir, saved["config_dir"]),
        callbacks=[MaxTrialsCallback(spec.n_trials, states=states)],
        catch=(Exception,),  # a crashed trial is recorded as failed; the search goes on
        gc_after_trial=True,
    )


def run_search(sweep_dir: Path, saved: dict, spec) -> None:
    """This process plus n_jobs - 1 workers, each with an equal share of the CPU threads."""
    import torch

    threads = max(1, (os.cpu_count() or 1) // spec.n_jobs)
    torch.set_num_threads(threads)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "dlx.search.worker", str(sweep_dir)], env=env)
        for _ in range(spec.n_jobs - 1)
    ]
    try:
        optimize(sweep_dir, saved, spec)
    finally:
        for w in workers:
            w.wait()


def save_search(sweep_dir: Path, saved: dict) -> None:
    from dlx.run_dir import write_atomic

    write_atomic(sweep_dir / "search.yaml", OmegaConf.to_yaml(OmegaConf.create(saved)))


def load_search(sweep_dir: Path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(sweep_dir / "search.yaml"), resolve=True)
