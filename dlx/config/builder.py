"""Call the builder a YAML node names, with the values the rest of the experiment injects."""

from collections.abc import Mapping
from typing import Any

from dlx.config.errors import ConfigError
from dlx.config.validate import RESERVED, import_target


def build(key: str, node: Mapping, **injected: Any) -> Any:
    builder = import_target(str(node["_target_"]), f"{key}._target_")
    kwargs = {k: v for k, v in node.items() if k not in RESERVED}
    try:
        return builder(**kwargs, **injected)
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError(key, f"{node['_target_']} rejected {kwargs}: {e}") from None


def options(group: Mapping | None) -> list[tuple[str, Mapping]]:
    """The (name, node) entries of a list group such as reg or aug; empty for `none`."""
    return [(k, v) for k, v in (group or {}).items() if isinstance(v, Mapping) and "_target_" in v]
