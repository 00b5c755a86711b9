"""Check every `_target_` node of a composed config against its builder's signature.

Nothing is built: keys are bound to `inspect.signature(builder)`, values are checked
against the annotations (types and `schema.Range`).  A typo or a bad value fails here,
before any run directory exists.
"""

import difflib
import importlib
import inspect
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import Annotated, Any

from dlx.config.errors import ConfigError
from dlx.config.schema import INJECTED, Range

RESERVED = {"_target_", "_partial_", "_recursive_", "_convert_"}
FLOAT32_MAX = 3.4028234663852886e38


def import_target(path: str, key: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(key, f"_target_ '{path}' cannot be imported ({e})") from None


def target_nodes(cfg: Mapping, prefix: str = "") -> Iterator[tuple[str, Mapping]]:
    """Yield (key path, node) for every mapping with a `_target_`, outermost first."""
    for k, v in cfg.items():
        if not isinstance(v, Mapping) or str(k).startswith("hydra"):
            continue
        path = f"{prefix}{k}"
        if "_target_" in v:
            yield path, v
        yield from target_nodes(v, path + ".")


def validate_node(path: str, node: Mapping) -> None:
    builder = import_target(str(node["_target_"]), f"{path}._target_")
    sig = inspect.signature(builder)
    params = sig.parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    try:
        hints = typing.get_type_hints(builder.__init__ if inspect.isclass(builder) else builder, include_extras=True)
    except Exception:  # annotations of third-party builders may not resolve
        hints = {}
    for key, value in node.items():
        if key in RESERVED:
            continue
        full = f"{path}.{key}"
        if key in INJECTED and key in params:
            raise ConfigError(full, "is derived from the rest of the experiment; remove it from the config")
        if key not in params:
            if takes_kwargs:
                continue
            raise ConfigError(full, f"unknown key{unknown_key_hint(key, [p for p in params if p not in INJECTED])}")
        if value == "???":  # OmegaConf's mandatory marker, left unset
            raise ConfigError(full, f"is required: set it on the command line ({full}=...)")
        if key in hints and not (isinstance(value, Mapping) and "_target_" in value):
            check_value(full, value, hints[key])
    for name, p in params.items():
        required = p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        if required and name not in INJECTED and name not in node:
            raise ConfigError(f"{path}.{name}", "is required but missing")


def unknown_key_hint(key: str, valid: Sequence[str], parent: str = "") -> str:
    """ "; did you mean 'parent.k'? Valid keys of parent: ..." for a key that is not in `valid`."""
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.4)
    hint = f"; did you mean '{parent + '.' if parent else ''}{near[0]}'?" if near else ""
    if not valid:
        return hint
    return f"{hint}{' ' if near else '. '}Valid keys{' of ' + parent if parent else ''}: {', '.join(valid)}."


def check_value(key: str, value: Any, hint: Any) -> None:
    problem = _mismatch(value, hint)
    if problem:
        raise ConfigError(key, f"got {value!r}, expected {problem}")


def _mismatch(value: Any, hint: Any) -> str | None:
    """None when value fits hint, else a description of what was expected."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is inspect.Parameter.empty:
        return None
    if origin is typing.Annotated:
        base, *extras = args
        wrong = _mismatch(value, base)
        if wrong:
            return wrong
        for extra in extras:
            if isinstance(extra, Range) and not extra.contains(value):
                return f"a value with {extra}"
        return None
    if origin in (typing.Union, types.UnionType):
        options = [_mismatch(value, a) for a in args]
        return None if any(o is None for o in options) else " or ".join(o for o in options if o)
    if origin is typing.Literal:
        return None if value in args else f"one of {', '.join(map(repr, args))}"
    if hint is type(None):
        return None if value is None else "null"
    if origin in (list, tuple, Sequence, typing.Sequence) or hint in (list, tuple):
        if isinstance(value, str) or not isinstance(value, Sequence):
            return "a list"
        inner = args[0] if args else None  # list[T], tuple[T, ...]: the element type
        if inner is not None:
            for item in value:
                wrong = _mismatch(item, inner)
                if wrong:
                    return f"a list of {wrong}"
        return None
    if hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "a number"
        # nan would pass every Range (its comparisons are all false); torch keeps hyperparameters as float32,
        # so lr=1e300 would overflow in the first step. nan and inf both fail the `<=`.
        return None if abs(value) <= FLOAT32_MAX else "a finite number"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "an integer"
    if hint is bool:
        return None if isinstance(value, bool) else "true or false"
    if hint is str:
        return None if isinstance(value, str) else "a string"
    return None  # other annotations (tensors, modules) are injected, not configured


# Top-level keys of conf/config.yaml that no builder owns.
TOP_LEVEL = {
    "seed": Annotated[int, Range(ge=0, le=2**32 - 1)],  # NumPy's seeds are 32-bit
    "data_seed": int | None,
    "name": str | None,
    "runs_dir": str,
    "resume": str | None,
}
REQUIRED_KEYS = ("seed", "runs_dir")
# Groups every experiment builds: deleting one (~trainer) or its _target_ leaves nothing to build.
REQUIRED_GROUPS = ("data", "model", "optim", "trainer")


def check_top_level(cfg: Mapping) -> None:
    """The keys every run reads before anything is built: present, of the right type, and the required groups."""
    for key in REQUIRED_KEYS:
        if key not in cfg:
            raise ConfigError(key, f"is required but missing: set it with +{key}=...")
    if isinstance(cfg.get("name"), int | float) and not isinstance(cfg["name"], bool):  # name=2024: Hydra's int
        number = cfg["name"]
        raise ConfigError("name", f"""got the number {number!r}; quote it to name a run: 'name="{number}"'""")
    for key, hint in TOP_LEVEL.items():
        if key in cfg:
            check_value(key, cfg[key], hint)
    check_run_name(cfg.get("name"))
    for group in REQUIRED_GROUPS:
        node = cfg.get(group)
        if not isinstance(node, Mapping) or not node:
            raise ConfigError(group, f"is required but missing: choose an option with {group}=NAME")
        if "_target_" not in node:
            raise ConfigError(f"{group}._target_", f"is required but missing: choose an option with {group}=NAME")


def check_run_name(name: str | None) -> None:
    """runs/<name>/<stamp>: a name may have folders in it, but must stay inside runs_dir."""
    if name and (PurePath(name).is_absolute() or ".." in PurePath(name).parts):
        raise ConfigError("name", f"got {name!r}, expected a name inside runs_dir (no '..', not an absolute path)")


def validate_config(cfg: Mapping) -> None:
    check_top_level(cfg)
    for path, node in target_nodes(cfg):
        validate_node(path, node)
