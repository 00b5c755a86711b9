"""Check the group overrides on a command line before Hydra composes them.

Hydra fails on `aug=0`, `data=null` or `reg=[[l2]]` with a bare ValueError or TypeError that names
neither the group nor its options; dlx says which group and what it takes instead.
"""

from pathlib import Path

from dlx.config.errors import ConfigError


def check_group_overrides(argv: list[str], dirs: list[Path]) -> None:
    """Every `group=VALUE` in argv names an option (reg, aug, logger: or a list of them); others are left to Hydra."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    groups = {p.name for d in dirs if d.is_dir() for p in d.iterdir() if p.is_dir()}
    parser = OverridesParser.create()
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:  # flags (-m, --cfg job): Hydra's
            continue
        try:
            override = parser.parse_override(arg)
        except Exception:  # Hydra reports what it cannot parse, with its own message
            continue
        if override.key_or_group in groups and not names_options(override):
            group = override.key_or_group
            options = sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})
            raise ConfigError(
                group,
                f"got {override.get_value_string()}, expected an option name or a list of names; "
                f"valid options: {', '.join(options)}",
            )


def names_options(override) -> bool:
    """True when the value is what Hydra accepts for a group: a name, a list of names, or (deletion) nothing."""
    if isinstance(override.value(), dict):  # group={...}: a config override, which Hydra reports itself
        return True
    if override.is_delete():
        return override.value() is None or isinstance(override.value(), str)
    if override.is_choice_sweep():
        return all(is_name_or_names(v) for v in override.value().list)
    if override.is_sweep_override():  # range(), interval(), glob(): Hydra's
        return True
    return is_name_or_names(override.value())


def is_name_or_names(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
