"""The search space as written in YAML: one distribution per config key or group.

    space:
      optim.lr: loguniform(1e-4, 1e-1)     # a float, sampled on a log scale
      model.dropout: uniform(0, 0.5)       # a float
      model.width: int(8, 64)              # an integer; int(8, 64, log) on a log scale
      model: choice(cnn, resnet)           # a group option, or any values

Each entry becomes one Optuna distribution; a sampled value becomes one override `key=value`.
"""

import re
from dataclasses import dataclass

from dlx.config.errors import ConfigError

FORM = re.compile(r"^\s*(choice|int|uniform|loguniform)\s*\((.*)\)\s*$")


@dataclass(frozen=True)
class Dimension:
    key: str
    kind: str  # choice | int | uniform | loguniform
    args: tuple

    def suggest(self, trial):
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.args))
        if self.kind == "int":
            low, high, log = self.args
            return trial.suggest_int(self.key, low, high, log=log)
        low, high = self.args
        return trial.suggest_float(self.key, low, high, log=self.kind == "loguniform")

    def grid_values(self) -> list:
        """The values a grid search tries: every choice, every integer; float ranges cannot be a grid."""
        if self.kind == "choice":
            return list(self.args)
        if self.kind == "int":
            return list(range(self.args[0], self.args[1] + 1))
        raise ConfigError(f"search.space.{self.key}", "a grid needs choice(...) or int(...) here, not a float range")


def parse_value(text: str):
    """'1e-3' -> 0.001, '8' -> 8, 'true' -> True, 'adam' -> 'adam'."""
    text = text.strip()
    for number in (int, float):  # before YAML, which reads 1e-3 (no dot) as a string
        try:
            return number(text)
        except ValueError:
            pass
    import yaml

    return yaml.safe_load(text)


def parse_dimension(key: str, text) -> Dimension:
    where = f"search.space.{key}"
    found = FORM.match(str(text))
    if not found:
        forms = "choice(a, b, ...), int(lo, hi[, log]), uniform(lo, hi) or loguniform(lo, hi)"
        raise ConfigError(where, f"got {text!r}; write {forms}")
    kind, inner = found.groups()
    args = [parse_value(a) for a in inner.split(",") if a.strip()]
    if kind == "choice":
        if not args:
            raise ConfigError(where, "choice() needs at least one value")
        return Dimension(key, kind, tuple(args))
    log = kind == "int" and len(args) == 3 and args[2] == "log"
    bounds = args[:2]
    numbers = all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if len(args) != (3 if log else 2) or not numbers:
        then_log = ", then log" if kind == "int" else ""
        raise ConfigError(where, f"{kind}(...) needs two numbers (low, high){then_log}; got {text!r}")
    low, high = bounds
    if kind == "int" and not all(isinstance(b, int) for b in bounds):
        raise ConfigError(where, f"int(...) needs whole numbers; got {text!r}")
    if not low < high:
        raise ConfigError(where, f"the range {low}..{high} is empty or inverted: low must be below high")
    if (kind == "loguniform" or log) and low <= 0:
        raise ConfigError(where, f"a log-scale range needs a positive low bound; got {low}")
    return Dimension(key, kind, (low, high, log) if kind == "int" else (float(low), float(high)))


def parse_space(space: dict) -> list[Dimension]:
    if not space:
        raise ConfigError("search.space", "is empty: give at least one key to search over")
    return [parse_dimension(str(k), v) for k, v in space.items()]


def override(key: str, value) -> str:
    """A sampled value as a Hydra override."""
    if isinstance(value, float):
        return f"{key}={value!r}"
    return f"{key}={value}"
