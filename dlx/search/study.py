"""The search loop: an Optuna study in SWEEP_DIR/study.db, trials until n_trials have finished.

Finished means completed, pruned or failed. A trial cut short by the user (Ctrl-C, SIGTERM) or left running
by a killed process did not finish: on resume it is marked failed and run again with the same parameters (a
grid gets every point), and it does not count towards n_trials; finished trials are never run again.
With n_jobs > 1, n_jobs processes share the study through its SQLite file (Optuna's RDB storage), each taking
the next trial.
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
    from dlx.search.spec import make_pruner, make_sampler

    return create_or_load_study(
        storage_url(sweep_dir),
        sampler=make_sampler(spec),
        pruner=make_pruner(spec, saved["max_epochs"]),
        direction=spec.direction,
    )


def create_or_load_study(url: str, tries: int = 5, **study_args):
    """The study named dlx at url, made if missing. Two processes that open a new SQLite file at once (workers,
    or a dashboard reading it) both create Optuna's schema, and one fails ("table ... already exists", or a
    UNIQUE failure on alembic_version: 8 of 16 processes in a trial here); the loser retries on the made schema."""
    import time

    import optuna
    from sqlalchemy.exc import IntegrityError, OperationalError

    # ERROR: a failed trial's WARNING carries a whole traceback; dlx records its one-line error in trials.csv
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for attempt in range(tries):
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
            return optuna.create_study(study_name="dlx", storage=storage, load_if_exists=True, **study_args)
        except (OperationalError, IntegrityError) as e:
            text = str(e)
            if attempt == tries - 1 or not ("already exists" in text or "alembic_version" in text):
                raise
            time.sleep(0.05 * (attempt + 1))


def fail_killed_trials(study) -> int:
    """Trials still RUNNING belong to a process that is gone (resume runs alone): record them as failed."""
    from optuna.trial import TrialState

    stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for t in stale:
        study._storage.set_trial_user_attr(t._trial_id, "error", "the search was killed during this trial")
        study._storage.set_trial_user_attr(t._trial_id, "cut_short", True)
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(stale)


def cut_short(trial) -> bool:
    """Stopped by the user or a kill, not by its own failure: it did not finish."""
    return trial.state.name == "FAIL" and bool(trial.user_attrs.get("cut_short"))


def retry_cut_short_trials(study) -> int:
    """Queue each trial cut short to run again with its parameters, once: its retry names it (retry_of), as a
    finished trial itself can no longer be changed."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get("retry_of") for t in trials}
    again = [t for t in trials if cut_short(t) and t.number not in retried]
    for t in again:
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
    return len(again)


def finished(study) -> int:
    return sum(t.state.name in FINISHED and not cut_short(t) for t in study.get_trials(deepcopy=False))


def optimize(sweep_dir: Path, saved: dict, spec, worker: int = 0) -> None:
    """Take trials from the study until n_trials have finished (this process's share of the search).
    worker: 0 for dlx search itself, 1.. for the processes or jobs it starts."""
    from dlx.search.spec import make_sampler
    from dlx.search.trial import run_trial

    study = open_study(sweep_dir, saved, spec)
    study.set_user_attr(f"worker {worker} pid", os.getpid())  # who took part, even one that found no trial left
    if finished(study) >= spec.n_trials:
        return
    # its own random stream: per worker, and per resume (a fresh one-process search keeps spec.seed)
    study.sampler = make_sampler(spec, stream=worker * 1_009 + len(study.get_trials(deepcopy=False)))

    def stop_when_done(study, trial) -> None:  # Optuna's MaxTrialsCallback would count the trials cut short
        if finished(study) >= spec.n_trials:
            study.stop()

    study.optimize(
        lambda trial: run_trial(trial, spec, saved["overrides"], sweep_dir, saved["config_dir"]),
        callbacks=[stop_when_done],
        catch=(Exception,),  # a crashed trial is recorded as failed; the search goes on
        gc_after_trial=True,
    )


def threads_per_job(n_jobs: int) -> int:
    """Torch threads for each of n_jobs workers sharing this machine's cores (no oversubscription)."""
    return max(1, (os.cpu_count() or 1) // n_jobs)


def run_search(sweep_dir: Path, saved: dict, spec) -> None:
    """This process plus n_jobs - 1 workers, each with an equal share of the CPU threads; or n_jobs submitit jobs."""
    # the study (and its SQLite schema) exists before any worker starts: two workers creating it at once
    # collide in SQLAlchemy's schema setup, and one of them fails (seen with two submitit jobs)
    open_study(sweep_dir, saved, spec)
    if spec.launcher != "processes":
        run_submitit_jobs(sweep_dir, spec)
        return
    import torch

    threads = threads_per_job(spec.n_jobs)
    torch.set_num_threads(threads)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "dlx.search.worker", str(sweep_dir), str(worker)], env=env)
        for worker in range(1, spec.n_jobs)
    ]
    try:
        optimize(sweep_dir, saved, spec)
    finally:
        for w in workers:
            w.wait()


def run_submitit_jobs(sweep_dir: Path, spec) -> None:
    """n_jobs submitit jobs (SLURM, or local processes), each a worker on the shared study; this process waits.

    The study's SQLite file must be on a file system every node sees (the sweep directory is).
    """
    import submitit

    from dlx.config.errors import ConfigError
    from dlx.search.worker import work

    cluster = "slurm" if spec.launcher == "submitit_slurm" else "local"
    try:
        executor = submitit.AutoExecutor(folder=sweep_dir / "submitit", cluster=cluster)
    except RuntimeError as e:  # no srun / sbatch on this machine
        raise ConfigError("search.launcher", f"{spec.launcher}: {e}") from None
    parameters = {"timeout_min": 60, "name": f"dlx-search-{sweep_dir.parent.name}", **spec.cluster}
    executor.update_parameters(**parameters)
    local_threads = threads_per_job(spec.n_jobs) if cluster == "local" else None  # SLURM: cpus_per_task
    jobs = [executor.submit(work, str(sweep_dir), local_threads, worker + 1) for worker in range(spec.n_jobs)]
    print(f"dlx search: {len(jobs)} {spec.launcher} job(s): {' '.join(j.job_id for j in jobs)}", file=sys.stderr)
    failures = []
    for job in jobs:
        try:
            job.result()
        except Exception as e:  # the study keeps what the job finished; report the job, go on to the others
            failures.append(f"job {job.job_id}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
    if failures:
        print(f"dlx search: {len(failures)} job(s) failed: {'; '.join(failures)}", file=sys.stderr)


def save_search(sweep_dir: Path, saved: dict) -> None:
    from dlx.run_dir import write_atomic

    write_atomic(sweep_dir / "search.yaml", OmegaConf.to_yaml(OmegaConf.create(saved)))


def load_search(sweep_dir: Path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(sweep_dir / "search.yaml"), resolve=True)
