"""Which `_target_`s a config read back from a run directory may name; checked before anything is imported.

A run directory can come from anyone (a shared drive, a download): its config.yaml names the callables that
`dlx eval`, `dlx predict` and `dlx train resume=RUN` import and call. Only those of dlx, torch, lightning and
torchmetrics may be named, less the ones that load code or pickles (torch.load, torch.hub, ...) and private names:

    DLX_TRUSTED_PACKAGES=mypkg,lab.nets dlx eval RUN       # mypkg.* and lab.nets.* as well
    dlx eval RUN --trust-config                             # any target: the run is yours

This guards against a config naming an arbitrary callable (os.system, subprocess.run); it is not a sandbox.
"""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from dlx.config.errors import ConfigError

TRUSTED_PACKAGES = ("dlx", "torch", "lightning", "torchmetrics")
ENV = "DLX_TRUSTED_PACKAGES"
FLAG_HELP = (
    f"build the run's config even where it names _target_s outside {', '.join(TRUSTED_PACKAGES)} and {ENV}: "
    "only for a run you trust (its checkpoint is still read as tensors only)"
)
# Inside the trusted packages, what loads code or unpickles a file: a config could run anything through them
CODE_LOADERS = (
    "torch.load",
    "torch.serialization",
    "torch.hub",
    "torch.package",
    "torch.jit.load",
    "torch.export.load",
    "torch.utils.cpp_extension",
    "torch.utils.model_zoo",
    "torch.utils.benchmark",
    "torch.ops",
    "torch.classes",
    "torch.distributed.run",
    "torch.distributed.launch",
    "torch.distributed.elastic",
    "lightning.pytorch.cli",
    "lightning.fabric.cli",
    "lightning.pytorch.core.saving",
    "lightning.fabric.utilities.cloud_io",
)


def trusted_packages() -> tuple[str, ...]:
    listed = (p.strip() for p in os.environ.get(ENV, "").split(","))
    return (*TRUSTED_PACKAGES, *(p for p in listed if p))


def within(target: str, package: str) -> bool:
    """By package boundary: torch.nn.Linear is within torch, dlxevil.x is not within dlx."""
    return target == package or target.startswith(package + ".")


def targets(node, path: str = "") -> Iterator[tuple[str, object]]:
    """(key path, value) of every `_target_`, in mappings and lists at any depth."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                yield here, value
            else:
                yield from targets(value, here)
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from targets(value, f"{path}[{i}]")


def refusal(target: object) -> str | None:
    """Why a config from a run directory may not name `target`, and how to allow it; None when it may."""
    only_flag = "if you trust this run, pass --trust-config"
    if not isinstance(target, str):
        return f"{target!r} is not a dotted name; {only_flag}"
    if any(part.startswith("_") for part in target.split(".")):
        return f"'{target}' is a private name; {only_flag}"
    loader = next((p for p in CODE_LOADERS if within(target, p)), None)
    if loader:
        return f"'{target}' loads code or pickles ({loader}); {only_flag}"
    allowed = trusted_packages()
    if not any(within(target, p) for p in allowed):
        return (
            f"'{target}' is outside the trusted packages ({', '.join(allowed)}); {only_flag}, "
            f"or list its package in {ENV} (comma-separated)"
        )
    return None


def check_targets(cfg: Mapping, source: Path) -> None:
    """Refuse a config read from `source` that names a target it may not; nothing has been imported yet."""
    for key, target in targets(cfg):
        why = refusal(target)
        if why:
            raise ConfigError(key, f"refused, in {source}: {why}")
