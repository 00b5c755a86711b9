"""`dlx eval RUN attack=fgsm,pgd,noise [eps=...] [sigma=...] [steps=10] [step_size=...] [random_start=true]`.

    dlx eval latest attack=fgsm,pgd eps=0.01,0.03,0.1     # adversarial accuracy at each eps
    dlx eval latest attack=noise sigma=0.05,0.1,0.3        # accuracy under Gaussian input noise

eps, sigma and step_size are fractions of the input range (the training inputs' min..max per channel or
feature); adversarial inputs stay inside that range. Results: a table, RUN/robustness.json (merged with the
attacks run before) and RUN/robustness.png (accuracy against eps and sigma).
"""

from dataclasses import dataclass, field
from pathlib import Path

from dlx.config.errors import ConfigError

ATTACKS = ("fgsm", "pgd", "noise")
KEYS = ("attack", "eps", "sigma", "steps", "step_size", "random_start", "seed")
DEFAULT_EPS = (0.01, 0.02, 0.05, 0.1)
DEFAULT_SIGMA = (0.05, 0.1, 0.2, 0.3)


@dataclass
class AttackSettings:
    attacks: list[str]
    eps: list[float] = field(default_factory=lambda: list(DEFAULT_EPS))
    sigma: list[float] = field(default_factory=lambda: list(DEFAULT_SIGMA))
    steps: int = 10
    step_size: float | None = None
    random_start: bool = True
    seed: int = 0


def parse_settings(pairs: dict[str, str]) -> AttackSettings:
    """KEY=VALUE pairs of the command line -> settings; every bad value is a ConfigError naming its key."""
    attacks = [a for a in pairs.get("attack", "").split(",") if a]
    for a in attacks or [""]:
        if a not in ATTACKS:
            raise ConfigError("attack", f"got {a!r}; valid: {', '.join(ATTACKS)} (a comma list: attack=fgsm,pgd)")
    settings = AttackSettings(attacks)
    if attacks == ["noise"] and "eps" in pairs:
        raise ConfigError("eps", "attack=noise takes sigma=... (its standard deviations), not eps")
    for key in ("eps", "sigma"):
        if key in pairs:
            setattr(settings, key, fractions(key, pairs[key]))
    if "steps" in pairs:
        settings.steps = whole(pairs["steps"], "steps")
    if "step_size" in pairs:
        settings.step_size = fractions("step_size", pairs["step_size"], positive=True)[0]
    if "random_start" in pairs:
        value = pairs["random_start"].lower()
        if value not in ("true", "false"):
            raise ConfigError("random_start", f"got {pairs['random_start']!r}; valid: true, false")
        settings.random_start = value == "true"
    if "seed" in pairs:
        settings.seed = whole(pairs["seed"], "seed", low=0)
    return settings


def fractions(key: str, text: str, positive: bool = False) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v]
    except ValueError:
        raise ConfigError(key, f"got {text!r}; expected numbers, e.g. {key}=0.01,0.05") from None
    low = "> 0" if positive else ">= 0"
    for v in values or [float("nan")]:
        if not (0 < v <= 1 if positive else 0 <= v <= 1):
            raise ConfigError(key, f"got {v:g}; every {key} must be {low} and <= 1 (a fraction of the input range)")
    return values


def whole(text: str, key: str, low: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(key, f"got {text!r}; expected a whole number >= {low}") from None
    if value < low:
        raise ConfigError(key, f"got {value}; expected a whole number >= {low}")
    return value


def accuracy(scores, batches, perturb) -> float:
    import torch

    correct = total = 0
    for x, y in batches:
        x_used = x if perturb is None else perturb(x, y)
        with torch.no_grad():
            correct += int((scores(x_used).argmax(1) == y).sum())
        total += len(y)
    return correct / max(total, 1)


def evaluate_robustness(run, data, split: str, settings: AttackSettings) -> dict:
    """run: a RestoredRun; data: its data module, with the run's normalization."""
    import torch

    from dlx.robust.attacks import fgsm, gaussian_noise, input_bounds, pgd

    net = run.net.eval()
    bounds = input_bounds(data.sample_batch(4096))
    batches = list(data.eval_batches(split))
    generator = torch.Generator().manual_seed(settings.seed)
    result = {"split": split, "samples": sum(len(y) for _, y in batches), "clean_acc": accuracy(net, batches, None)}
    perturb = {  # (x, y, size) -> perturbed x
        "noise": lambda x, y, sigma: gaussian_noise(x, sigma, bounds, generator),
        "fgsm": lambda x, y, eps: fgsm(net, x, y, eps, bounds),
        "pgd": lambda x, y, eps: pgd(
            net, x, y, eps, bounds, settings.steps, settings.step_size, settings.random_start, generator
        ),
    }
    curves = {}
    for attack in settings.attacks:
        key, sizes = ("sigma", settings.sigma) if attack == "noise" else ("eps", settings.eps)
        curves[attack] = [
            {key: v, "acc": accuracy(net, batches, lambda x, y, v=v, a=attack: perturb[a](x, y, v))} for v in sizes
        ]
    result["attacks"] = curves
    result["settings"] = {
        "steps": settings.steps,
        "step_size": settings.step_size if settings.step_size is not None else "2.5 * eps / steps",
        "random_start": settings.random_start,
        "seed": settings.seed,
        "units": "fractions of the input range (training min..max per channel or feature)",
    }
    return result


def write_results(run_dir: Path, result: dict) -> tuple[Path, Path]:
    """RUN/robustness.json (this split's attacks replace the same attacks run before) and RUN/robustness.png."""
    import json

    from dlx.run_dir import write_atomic_bytes, write_json

    path = run_dir / "robustness.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    if saved.get("split") != result["split"]:
        saved = {}
    merged = {**saved, **{k: v for k, v in result.items() if k != "attacks"}}
    merged["attacks"] = {**saved.get("attacks", {}), **result["attacks"]}
    write_json(path, merged)
    png = run_dir / "robustness.png"
    write_atomic_bytes(png, plot(merged))
    return path, png


def plot(result: dict) -> bytes:
    from matplotlib.figure import Figure

    from dlx.runs.compare import png_bytes

    curves = result["attacks"]
    adversarial = {k: v for k, v in curves.items() if k != "noise"}
    panels = [p for p in (adversarial, {"noise": curves["noise"]} if "noise" in curves else {}) if p]
    fig = Figure(figsize=(6 * len(panels), 4.5), layout="constrained")
    fig.suptitle(f"robustness on the {result['split']} split")
    for i, panel in enumerate(panels):
        axes = fig.add_subplot(1, len(panels), i + 1)
        x_key = "sigma" if "noise" in panel else "eps"
        for name, points in panel.items():
            xs = [0.0] + [p[x_key] for p in points]
            axes.plot(xs, [result["clean_acc"]] + [p["acc"] for p in points], marker="o", label=name)
        axes.set_xlabel(f"{x_key} (fraction of the input range)")
        axes.set_ylabel("accuracy")
        axes.set_ylim(0, 1.02)
        axes.grid(alpha=0.3)
        axes.legend()
    return png_bytes(fig)


def print_results(run_dir: Path, result: dict, files: tuple[Path, Path]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"robustness of {escape(str(run_dir))} ({result['split']}, {result['samples']} samples)")
    for column in ("attack", "size", "accuracy"):
        table.add_column(column, justify="left" if column == "attack" else "right")
    table.add_row("clean", "0", f"{result['clean_acc']:.4f}")
    for name, points in result["attacks"].items():
        for p in points:
            size = p.get("eps", p.get("sigma"))
            table.add_row(name, f"{'sigma' if name == 'noise' else 'eps'} {size:g}", f"{p['acc']:.4f}")
    Console().print(table)
    Console().print(f"written to {escape(str(files[0]))} and {escape(str(files[1]))}")
