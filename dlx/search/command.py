"""`dlx search search=NAME [OVERRIDES]` and `dlx search resume=SWEEP_DIR`: hyperparameter search with Optuna.

    dlx search search=digits_cnn                          # conf/search/digits_cnn.yaml: space, sampler, pruner
    dlx search search=digits_cnn search.sampler=random search.n_trials=10 trainer.max_epochs=5
    dlx search resume=runs/sweeps/digits_cnn/2026-11-23_16-00-00

Every trial is a `dlx train` run in SWEEP_DIR/trials/<n>/; the study lives in SWEEP_DIR/study.db.
    dlx search search=digits_cnn search.n_jobs=8 search.launcher=submitit_slurm +search.cluster.slurm_partition=gpu

A bad space, sampler, pruner or objective is one line and exit code 2, before any trial runs.
"""

import os
import sys
from pathlib import Path

from dlx.config.errors import ConfigError
from dlx.trainer.interrupt import RunInterrupted


def main(argv: list[str]) -> int:
    from dlx.train.command import pop_config_dir

    argv, config_dir = pop_config_dir(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    sweep_dir = None
    try:
        resume = [a.partition("=")[2] for a in argv if a.startswith("resume=")]
        sweep_dir, saved, spec = resume_search(resume[-1], argv) if resume else new_search(argv, config_dir)
        return finish(sweep_dir, saved, spec)
    except RunInterrupted as e:  # Ctrl-C / SIGTERM inside a trial: the trial is recorded failed, the search stops
        where = sweep_dir or "SWEEP_DIR"
        print(f"dlx search: interrupted ({e}); continue with: dlx search resume={where}", file=sys.stderr)
        return e.exit_code
    except Exception as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        from dlx.config.paths import config_search_dirs
        from dlx.train.errors import describe

        code, line = describe(e, argv, config_search_dirs(config_dir))
        print(f"dlx search: {line}", file=sys.stderr)
        return code


def new_search(argv: list[str], config_dir: str | None):
    from dlx.config.builder import build
    from dlx.config.compose import compose_config
    from dlx.config.validate import validate_config, validate_node
    from dlx.run_dir import create_unique_dir
    from dlx.search.study import save_search

    cfg, choices = compose_config(argv, config_dir)
    if not cfg.get("search"):
        raise ConfigError("search", f"choose a search space: search=NAME ({', '.join(search_options(config_dir))})")
    validate_node("search", cfg["search"])
    spec = build("search", cfg["search"])
    base = [a for a in argv if not a.startswith("search=")]
    check_space(spec, cfg, choices, argv, config_dir)
    validate_config(cfg)
    check_objective_is_logged(spec, cfg)
    name = choices.get("search") or "search"
    sweep_dir = create_unique_dir(Path(cfg["runs_dir"]) / "sweeps" / name)
    saved = {
        "name": name,
        "overrides": [a for a in base if not a.startswith("search.")],
        "config_dir": str(Path(config_dir).resolve()) if config_dir else None,
        "search": cfg["search"],
        "max_epochs": cfg["trainer"]["max_epochs"],
        "groups": sorted(choices),
    }
    save_search(sweep_dir, saved)
    return sweep_dir, saved, spec


def search_options(config_dir: str | None) -> list[str]:
    from dlx.config.paths import config_search_dirs

    return sorted({p.stem for d in config_search_dirs(config_dir) for p in (d / "search").glob("*.yaml")})


def check_space(spec, cfg: dict, choices: dict, base: list[str], config_dir: str | None) -> None:
    """Every key names a config key or a group; the space's corners compose into valid configs. No training."""
    from dlx.config.compose import compose_config
    from dlx.config.validate import unknown_key_hint, validate_config
    from dlx.search.space import override

    for d in spec.dimensions:
        if d.key in choices:
            continue
        node, parts = cfg, d.key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                parent = ".".join(parts[:i])
                valid = [k for k in node if not str(k).startswith("_")] if isinstance(node, dict) else []
                raise ConfigError(f"search.space.{d.key}", f"no such config key{unknown_key_hint(part, valid, parent)}")
            node = node[part]
    for corner in (0, -1):  # the lowest and highest value of every dimension, composed and validated
        picks = [override(d.key, corner_value(d, corner)) for d in spec.dimensions]
        corner_cfg, _ = compose_config([*base, *picks], config_dir)
        validate_config(corner_cfg)
        check_objective_is_logged(spec, corner_cfg)


def check_objective_is_logged(spec, cfg: dict) -> None:
    """A val_* objective needs validation: without it every trial would fail at its first epoch's end."""
    if spec.objective.startswith("val_") and cfg["trainer"].get("limit_val_batches", 1.0) == 0:
        raise ConfigError("search.objective", f"{spec.objective} needs validation, and trainer.limit_val_batches=0 "
                          "turns it off; validate, or use train_acc or train_loss")  # fmt: skip


def corner_value(d, corner: int):
    if d.kind == "choice":
        return d.args[corner]
    return d.args[0] if corner == 0 else d.args[1]


def resume_search(path: str, argv: list[str]):
    from dlx.search.spec import search
    from dlx.search.study import fail_killed_trials, load_search, open_study, retry_cut_short_trials

    others = [a for a in argv if not a.startswith("resume=")]
    if others:
        raise ConfigError("resume", f"continues the search as it was configured; drop: {' '.join(others)}")
    sweep_dir = Path(path)
    if not (sweep_dir / "search.yaml").is_file() or not (sweep_dir / "study.db").is_file():
        raise ConfigError("resume", f"{path} is not a search directory (no search.yaml and study.db)")
    saved = load_search(sweep_dir)
    spec = search(**{k: v for k, v in saved["search"].items() if k != "_target_"})
    study = open_study(sweep_dir, saved, spec)
    killed = fail_killed_trials(study)
    if killed:
        print(f"dlx search: {killed} trial(s) left running by the killed search recorded as failed", file=sys.stderr)
    if again := retry_cut_short_trials(study):
        print(f"dlx search: {again} trial(s) cut short run again with the same parameters", file=sys.stderr)
    return sweep_dir, saved, spec


def finish(sweep_dir: Path, saved: dict, spec) -> int:
    from dlx.experiment import quiet_lightning
    from dlx.search import output
    from dlx.search.study import open_study, run_search

    quiet_lightning()
    run_search(sweep_dir, saved, spec)
    study = open_study(sweep_dir, saved, spec)
    rows = output.trial_rows(study, spec)
    output.write_trials_csv(sweep_dir, rows)
    output.write_best(sweep_dir, study, spec, saved, set(saved["groups"]))
    output.write_plots(sweep_dir, study)
    best = output.best_trial(study)
    output.print_table(rows, spec, sweep_dir, best.number if best else None)
    if best is None:  # nothing to pick from: a search that found nothing has failed
        failed = [r for r in rows if r["state"] == "fail"]
        first = next((f": {r['error']}" for r in failed if r["error"]), "")
        summary = f"no trial completed ({len(failed)} of {len(rows)} failed{first})"
        print(f"dlx search: {summary}; see {sweep_dir}/trials.csv", file=sys.stderr)
        return 1
    return 0
