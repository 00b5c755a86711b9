"""Call the builder a YAML node names, with the values the rest of the experiment injects."""

import inspect
from collections.abc import Mapping
from typing import Any

from dlx.config.errors import ConfigError, first_line
from dlx.config.validate import RESERVED, import_target


def build(key: str, node: Mapping, **injected: Any) -> Any:
    """injected: what the experiment offers (in_shape, total_epochs, ...); each builder takes what it names."""
    builder = import_target(str(node["_target_"]), f"{key}._target_")
    kwargs = {k: v for k, v in node.items() if k not in RESERVED}
    params = inspect.signature(builder).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        injected = {k: v for k, v in injected.items() if k in params}
    try:
        return builder(**kwargs, **injected)
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError(key, f"{node['_target_']} rejected {kwargs}: {e}") from None
    except (MemoryError, RuntimeError) as e:
        if not is_out_of_memory(e):
            raise
        raise ConfigError(key, f"as configured needs more memory than this machine has ({first_line(e)})") from None


def is_out_of_memory(e: BaseException) -> bool:
    """NumPy's MemoryError, or torch's allocator refusing (a RuntimeError on the CPU)."""
    return isinstance(e, MemoryError) or "can't allocate memory" in str(e) or "out of memory" in str(e).lower()


def options(group: Mapping | None) -> list[tuple[str, Mapping]]:
    """The (name, node) entries of a list group such as reg or aug; empty for `none`."""
    return [(k, v) for k, v in (group or {}).items() if isinstance(v, Mapping) and "_target_" in v]
