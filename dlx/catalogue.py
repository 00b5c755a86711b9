"""`dlx list [GROUP]`: every config group and option with its one-line description, read from the YAML
headers (no builder is imported, so it is as quick as `dlx --help`).

    dlx list            dlx list model            dlx list --config-dir my_conf
"""

import re
from dataclasses import dataclass
from pathlib import Path

from dlx.config.paths import config_search_dirs

COMMAND = re.compile(r"\s{2,}(dlx (?:train|search) .*)$")


@dataclass(frozen=True)
class Option:
    group: str
    name: str
    description: str
    example: str
    source: Path


def read_header(path: Path) -> tuple[str, str]:
    """(description, example command) from the first comment line of an option's YAML."""
    for line in path.read_text().splitlines()[:3]:
        if line.startswith("#") and "@package" not in line:
            text = line.lstrip("#").strip()
            found = COMMAND.search(text)
            return (text[: found.start()].strip(), found.group(1)) if found else (text, "")
    return "", ""


def catalogue(dirs: list[Path]) -> list[Option]:
    """All options of all groups; where several dirs hold the same option, the first (the user's) wins."""
    seen: dict[tuple[str, str], Option] = {}
    for d in dirs:
        for path in sorted(d.glob("*/*.yaml")):
            key = (path.parent.name, path.stem)
            if key not in seen:
                seen[key] = Option(*key, *read_header(path), path)
    return sorted(seen.values(), key=lambda o: (o.group, o.name))


def main(argv: list[str]) -> int:
    from dlx.args import Parser

    p = Parser(prog="dlx list", description="List config groups and their options.")
    p.add_argument("group", nargs="?", help="show one group only (e.g. model)")
    p.add_argument("--config-dir", help="also list options from this directory (searched first, as dlx train does)")
    args = p.parse_args(argv)
    try:
        options = catalogue(config_search_dirs(args.config_dir))
    except Exception as e:  # ConfigError for a bad --config-dir
        print(f"dlx list: {e}")
        return 2
    groups = sorted({o.group for o in options})
    if args.group is not None:
        if args.group not in groups:
            print(f"dlx list: unknown group '{args.group}'; valid groups: {', '.join(groups)}")
            return 2
        options = [o for o in options if o.group == args.group]
    show(options, title=f"dlx options: {args.group}" if args.group else "dlx config groups and options")
    return 0


def show(options: list[Option], title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("group", style="bold cyan")
    table.add_column("option", style="bold")
    table.add_column("description")
    table.add_column("example", style="dim")
    previous = None
    for o in options:
        # escape: "aug=[flip,crop]" is text, not rich markup
        table.add_row(o.group if o.group != previous else "", o.name, escape(o.description), escape(o.example))
        previous = o.group
    Console().print(table)
