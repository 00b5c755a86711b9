"""Turn any failure of `dlx train` into (exit code, one line): 2 for config errors, 1 for the rest."""

import errno
from pathlib import Path

from dlx.config.errors import first_line, one_line

# errno of a failed write -> what to do about it
WRITE_FAULTS = {
    errno.ENOSPC: "the disk is full: free some space, or set runs_dir to a folder on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or set runs_dir to a folder on another disk",
    errno.EFBIG: "over the limit on file size: raise ulimit -f",
    errno.EROFS: "the disk is read-only: set runs_dir to a writable folder",
}

_sweep_dirs: list[Path] = []


def remember_sweep_dir(path: Path) -> Path:
    _sweep_dirs.append(path)
    return path


def forget_sweep_dirs() -> None:
    _sweep_dirs.clear()


def remove_empty_sweep_dirs() -> None:
    """A multirun that failed before any job ran leaves no directory behind (its own multirun.yaml aside)."""
    for d in _sweep_dirs:
        leftovers = [p for p in d.iterdir() if p.name != "multirun.yaml"] if d.is_dir() else None
        if leftovers == []:
            for p in d.iterdir():
                p.unlink()
            d.rmdir()


def describe(e: BaseException, argv: list[str], dirs: list[Path]) -> tuple[int, str]:
    from dlx.cli import SIGINT_SEEN
    from dlx.trainer.interrupt import RunInterrupted

    # first, importing nothing more: Ctrl-C inside an import, and e is what the half-imported module raised next
    if SIGINT_SEEN and not isinstance(e, RunInterrupted | KeyboardInterrupt):
        return 130, "interrupted"
    from hydra.errors import (
        ConfigCompositionException,
        HydraException,
        MissingConfigException,
        OverrideParseException,
    )

    from dlx.config.errors import ConfigError

    e = unwrap_resolver_error(e)
    if isinstance(e, ConfigError):
        return 2, f"config error: {one_line(str(e))}"
    if isinstance(e, MissingConfigException):
        return 2, f"config error: {unknown_option(e, dirs)}"
    if isinstance(e, OverrideParseException):
        return 2, f"config error: cannot parse override: {first_line(e)}"
    if isinstance(e, ConfigCompositionException):
        return 2, f"config error: {unknown_key(e, argv, dirs) or first_line(e)}"
    if isinstance(e, HydraException):
        return 2, f"config error: {first_line(e)}"
    if isinstance(e, RunInterrupted):
        return e.exit_code, f"interrupted ({e}); continue with: dlx train resume=latest"
    if isinstance(e, KeyboardInterrupt):
        return 130, "interrupted"
    if broken := broken_yaml(e):
        return 2, f"config error: {broken}"
    if composing_frames(e):
        return 2, f"config error: {failed_override(e)}"
    return 1, f"error: {runtime_message(e)}"


def broken_yaml(e: BaseException) -> str | None:
    """'conf/model/mine.yaml line 2 column 8: mapping values are not allowed here' for a config file that is not
    YAML (Hydra lets PyYAML's error out, and its first line names neither file nor line); else None."""
    import yaml

    mark = getattr(e, "problem_mark", None)
    if not isinstance(e, yaml.MarkedYAMLError) or mark is None:
        return None
    return f"{mark.name} line {mark.line + 1} column {mark.column + 1}: {e.problem or first_line(e)}"


def unwrap_resolver_error(e: BaseException) -> BaseException:
    """A ConfigError raised in a resolver (runs_dir, making the sweep folder) out of OmegaConf's wrapping; else e."""
    from omegaconf.errors import InterpolationResolutionError

    from dlx.config.errors import ConfigError

    inner = e
    while isinstance(inner, InterpolationResolutionError) and inner.__context__ is not None:
        inner = inner.__context__
    return inner if isinstance(inner, ConfigError) else e


def runtime_message(e: BaseException) -> str:
    """The line for a failure at run time: on stderr after 'error: ', and in RUN/status."""
    if isinstance(e, OSError) and e.errno in WRITE_FAULTS and e.filename is not None:
        return f"cannot write {e.filename}: {e.strerror} ({WRITE_FAULTS[e.errno]})"
    return from_worker(e) or f"{type(e).__name__}: {first_line(e)}"


def from_worker(e: BaseException) -> str | None:
    """torch re-raises a DataLoader worker's error as 'Caught X in DataLoader worker process N.' + the worker's
    traceback, whose last line is the error itself ('X: message'): that line, or None for any other error."""
    text = str(e)
    if not (text.startswith("Caught ") and "Original Traceback" in text):
        return None
    return [ln.strip() for ln in text.splitlines() if ln.strip()][-1]


# Hydra's modules that compose the config from the defaults list and the overrides.
COMPOSING = ("config_loader_impl.py", "defaults_list.py")


def composing_frames(e: BaseException) -> list:
    """The frames of e's traceback inside Hydra's composition: Hydra lets some errors of a bad override
    (model.width=[1,2] model.width.a=3: a ValueError from OmegaConf) out unwrapped."""
    frames, tb = [], e.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.name in COMPOSING and path.parent.name == "_internal" and path.parent.parent.name == "hydra":
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def failed_override(e: BaseException) -> str:
    """'model.width.a=3: cannot be applied (ValueError: ...)', naming the override Hydra was applying if known."""
    override = next((f.f_locals["override"] for f in composing_frames(e) if "override" in f.f_locals), None)
    line = getattr(override, "input_line", None)
    return f"{line + ': ' if line else ''}cannot be applied ({type(e).__name__}: {first_line(e)})"


def unknown_option(e, dirs: list[Path]) -> str:
    missing = str(getattr(e, "missing_cfg_file", "") or "")
    group, _, option = missing.rpartition("/")
    # Hydra lists the options for a single choice, not for an entry of a list group (reg=[l2,nope])
    options = sorted(getattr(e, "options", None) or {p.stem for d in dirs for p in (d / group).glob("*.yaml")})
    if group and options:
        return f"{group}: unknown option '{option}'; valid options: {', '.join(options)}"
    return first_line(e)


def unknown_key(e, argv: list[str], dirs: list[Path]) -> str | None:
    """'Could not override model.widht' -> name the first unknown part of the key and suggest the nearest."""
    import re

    from omegaconf import DictConfig

    from dlx.config.validate import unknown_key_hint

    found = re.search(r"Could not (?:override|append to) '([^']+)'", str(e))
    if not found:
        return None
    key = found.group(1)
    node = composed_without(key, argv, dirs)
    parts, known = key.split("."), []
    for part in parts:
        if not isinstance(node, DictConfig) or part not in node:
            break
        node, known = node[part], [*known, part]
    if known == parts:  # the key exists: another override (~key, or one replacing its parent) took it away
        return f"{key}: removed by another override before this one sets it; to add it again use +{key}=..."
    nothing_chosen = not known or (len(known) == 1 and not node)  # reg=[] leaves no `reg`, aug=none an empty one
    if nothing_chosen and (unchosen := unchosen_group(parts, dirs)):
        return unchosen
    parent = ".".join(known)
    bad = ".".join(parts[: len(known) + 1])
    valid = [str(k) for k in node.keys() if not str(k).startswith("_")] if isinstance(node, DictConfig) else []
    hint = unknown_key_hint(parts[len(known)], valid, parent)
    return f"{bad}: unknown key{hint} (to add a new key on purpose use +{key}=...)"


def unchosen_group(parts: list[str], dirs: list[Path]) -> str | None:
    """reg.mixup.alpha=0.5 while reg=[] (nothing chosen): say to choose an option, not that `reg` is unknown."""
    group = parts[0]
    options = sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})
    if not options:
        return None
    pick = f"{group}=[{parts[1]}]" if len(parts) > 1 and parts[1] in options else f"{group}=OPTION"
    key = ".".join(parts)
    return f"{key}: no {group} option is chosen; choose one first ({pick}); valid options: {', '.join(options)}"


def composed_without(key: str, overrides: list[str], dirs: list[Path]):
    """The config composed without the bad override (or, failing that, with none)."""
    from hydra import compose, initialize_config_dir

    rest = [o for o in overrides if not o.lstrip("+~").startswith(key + "=")]
    plain = [o for o in rest if "=" in o and not o.startswith("-") and "," not in o]
    for attempt in (plain, []):
        try:
            with initialize_config_dir(config_dir=str(dirs[-1]), version_base="1.3"):  # user dirs: a plugin
                return compose(config_name="config", overrides=attempt)
        except Exception:
            continue
    return None
