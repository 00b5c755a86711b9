"""What a search leaves in its sweep directory: trials.csv, best.yaml, two plots, and a table on screen."""

import csv
import io
from pathlib import Path

from omegaconf import OmegaConf

from dlx.run_dir import write_atomic


def trial_rows(study, spec) -> list[dict]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": t.number,
                **{d.key: t.params.get(d.key, "") for d in spec.dimensions},
                spec.objective: t.value if t.value is not None else "",
                "state": t.state.name.lower(),
                "epochs": t.user_attrs.get("epochs", ""),
                "seconds": round(t.user_attrs["seconds"], 2) if "seconds" in t.user_attrs else "",
                "error": t.user_attrs.get("error", ""),
                "run_dir": t.user_attrs.get("run_dir", ""),
                "worker_pid": t.user_attrs.get("pid", ""),
            }
        )
    return rows


def write_trials_csv(sweep_dir: Path, rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(sweep_dir / "trials.csv", out.getvalue())


def best_trial(study):
    try:
        return study.best_trial
    except ValueError:  # no completed trial
        return None


def write_best(sweep_dir: Path, study, spec, saved: dict, groups: set[str]) -> Path | None:
    """best.yaml: an experiment preset (`# @package _global_`) of the base and best overrides.

    Also written as SWEEP_DIR/experiment/best.yaml, so `dlx train --config-dir SWEEP_DIR experiment=best` runs it.
    """
    from dlx.search.space import override

    best = best_trial(study)
    if best is None:
        return None
    overrides = [*saved["overrides"], *(override(k, v) for k, v in best.params.items())]
    defaults, values = [], OmegaConf.create({})
    for item in overrides:
        key, _, value = item.partition("=")
        if key in groups:
            defaults.append({f"override /{key}": value})
        else:
            OmegaConf.update(values, key, OmegaConf.from_dotlist([f"v={value}"]).v)
    preset = {**({"defaults": defaults} if defaults else {}), **OmegaConf.to_container(values)}
    header = (
        "# @package _global_\n"
        f"# best trial {best.number} of {sweep_dir}: {spec.objective} {best.value:.4f}.  "
        f"dlx train --config-dir {sweep_dir} experiment=best\n"
    )
    text = header + OmegaConf.to_yaml(OmegaConf.create(preset))
    (sweep_dir / "experiment").mkdir(exist_ok=True)
    write_atomic(sweep_dir / "experiment" / "best.yaml", text)
    write_atomic(sweep_dir / "best.yaml", text)
    return sweep_dir / "best.yaml"


def write_plots(sweep_dir: Path, study) -> list[str]:
    """Optuna's optimization history and parameter importances (PNG); importances need 2+ completed trials."""
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    import matplotlib.pyplot as plt
    from optuna.exceptions import ExperimentalWarning
    from optuna.visualization import matplotlib as optuna_plots

    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # stable in use since Optuna 2.2

    written = []
    if best_trial(study) is None:
        return written  # no completed trial: both plots would be empty axes (and matplotlib warns of them)
    plots = {"history": optuna_plots.plot_optimization_history, "importance": optuna_plots.plot_param_importances}
    for name, plot in plots.items():
        try:
            with warnings.catch_warnings():
                # too few trials: Optuna warns and draws equal importances, a plot that says nothing
                warnings.filterwarnings("error", message="The number of trials is too small")
                ax = plot(study)
        except (ValueError, RuntimeError, ZeroDivisionError, UserWarning):
            continue  # too few completed trials for this plot
        figure = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        figure.set_size_inches(8, 5)
        figure.tight_layout()
        figure.savefig(sweep_dir / f"{name}.png", dpi=100)
        plt.close(figure)
        written.append(f"{name}.png")
    return written


def print_table(rows: list[dict], spec, sweep_dir: Path, best_number: int | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"search {escape(str(sweep_dir))}: {spec.sampler}, pruner {spec.pruner}")
    for col in ("trial", *(d.key for d in spec.dimensions), spec.objective, "state", "epochs", "seconds"):
        table.add_column(col)
    for r in rows:
        value = f"{r[spec.objective]:.4f}" if r[spec.objective] != "" else "-"
        state = r["state"] if r["state"] != "fail" else f"[red]failed[/red]: {escape(r['error'])}"
        params = [escape(f"{r[d.key]:.4g}" if isinstance(r[d.key], float) else str(r[d.key])) for d in spec.dimensions]
        style = "bold green" if r["trial"] == best_number else None
        table.add_row(str(r["trial"]), *params, value, state, str(r["epochs"]), str(r["seconds"]), style=style)
    console = Console()
    console.width = max(console.width, 140)  # a parameter per column: narrower terminals fold them
    console.print(table)
