"""One trial: the sampled overrides, composed into a config and trained like `dlx train`, in its own run directory.

The objective reaches Optuna after every epoch (trial.report), so a pruner can stop the trial; a pruned
trial stops at that epoch's end, keeps its run directory, and is recorded as pruned with its epochs.
"""

import os
import signal
import time
from pathlib import Path

import lightning.pytorch as L
from omegaconf import OmegaConf

from dlx.run_dir import write_atomic, write_json, write_status
from dlx.trainer.interrupt import RunInterrupted


class ReportToTrial(L.Callback):
    """After each epoch: hand the objective to the trial, and stop at the epoch's end when it says prune."""

    def __init__(self, trial, objective: str, maximize: bool):
        self.trial, self.objective, self.maximize = trial, objective, maximize
        self.values: list[float] = []
        self.pruned = False

    def on_train_epoch_end(self, trainer, pl_module):
        value = float(pl_module.collect_epoch_metrics()[self.objective])
        self.values.append(value)
        self.trial.report(value, step=trainer.current_epoch)
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True

    def best(self) -> float:
        return max(self.values) if self.maximize else min(self.values)


def open_trial_dir(run_dir: Path, cfg: dict, choices: dict, overrides: list[str]) -> Path:
    """The same files `dlx train` writes, so `dlx runs`, `show`, `eval` and `predict` work on a trial."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(cfg)))
    write_atomic(run_dir / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(overrides)))
    (run_dir / ".hydra").mkdir(exist_ok=True)
    hydra = {"hydra": {"runtime": {"choices": dict(choices)}, "overrides": {"task": overrides}}}
    write_atomic(run_dir / ".hydra" / "hydra.yaml", OmegaConf.to_yaml(OmegaConf.create(hydra)))
    write_status(run_dir, "running")
    return run_dir


def run_trial(trial, spec, base_overrides: list[str], sweep_dir: Path, config_dir: str | None) -> float:
    import optuna

    from dlx.config.compose import compose_config
    from dlx.experiment import build_experiment
    from dlx.report.html import write_report
    from dlx.search.space import override
    from dlx.train.run import fit_and_test

    started = time.perf_counter()
    params = {d.key: d.suggest(trial) for d in spec.dimensions}
    overrides = [*base_overrides, *(override(k, v) for k, v in params.items())]
    run_dir = sweep_dir / "trials" / str(trial.number)
    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    trial.set_user_attr("pid", os.getpid())  # which worker process ran it (n_jobs > 1)
    opened = False
    try:
        cfg, choices = compose_config(overrides, config_dir)
        cfg["search"] = None  # a trial is one training run; the search lives in the sweep directory

        def open_run_dir() -> Path:
            nonlocal opened
            opened = True
            return open_trial_dir(run_dir, cfg, choices, overrides)

        exp = build_experiment(cfg, choices, open_run_dir)
        reporter = ReportToTrial(trial, spec.objective, spec.direction == "maximize")
        exp.trainer.callbacks.insert(0, reporter)
        report = fit_and_test(exp)
        epochs = len(reporter.values)
        trial.set_user_attr("epochs", epochs)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        report["wall_seconds"] = time.perf_counter() - started
        write_json(run_dir / "report.json", report)
        if reporter.pruned:
            write_status(run_dir, "pruned", f"stopped by the pruner after {epochs} epochs")
            raise optuna.TrialPruned(f"after {epochs} epochs")
        write_report(run_dir)
        write_status(run_dir, "completed")
        return reporter.best()
    except optuna.TrialPruned:
        raise
    except (RunInterrupted, KeyboardInterrupt, SystemExit) as e:  # the search stops; Optuna records it failed
        if not isinstance(e, RunInterrupted):  # outside training (its report being written): as dlx train says it
            e = RunInterrupted(signal.SIGTERM if isinstance(e, SystemExit) else signal.SIGINT)
        trial.set_user_attr("error", f"interrupted: {e}")
        trial.set_user_attr("cut_short", True)  # run again on resume (dlx.search.study)
        if opened:
            write_status(run_dir, "interrupted", f"{e}; the search continues with dlx search resume={sweep_dir}")
        raise e from None
    except Exception as e:
        from dlx.train.errors import first_line

        message = f"{type(e).__name__}: {first_line(e)}"
        trial.set_user_attr("error", message)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        if opened:
            write_status(run_dir, "failed", message)
        raise
