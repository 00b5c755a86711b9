"""RUN on the command line: a run directory, a unique prefix of its name, or `latest`.

resolve_run("latest", Path("runs"))            -> runs/cnn-digits/2026-11-23_15-20-01
resolve_run("2026-11-23_15", Path("runs"))     -> the one run whose name starts so, or an error listing them
resolve_run("iris_mlp", Path("runs"))          -> the one run in runs/iris_mlp/, not runs/iris_mlp-quantize/'s
"""

import argparse
from pathlib import Path

from dlx.args import Parser
from dlx.config.errors import ConfigError


def run_command_parser(prog: str, description: str, rest: str, rest_help: str) -> argparse.ArgumentParser:
    """The command line of a command on one run: RUN, its KEY=VALUE settings, --runs-dir, --trust-config."""
    from dlx.config.trust import FLAG_HELP

    p = Parser(prog=prog, description=description)
    p.add_argument("run", help="a run directory, a unique prefix of its name, or latest")
    p.add_argument(rest, nargs="*", help=rest_help)
    p.add_argument("--runs-dir", default="runs", help="where runs are found (default: %(default)s)")
    p.add_argument("--trust-config", action="store_true", help=FLAG_HELP)
    return p


def find_runs(runs_root: Path) -> list[Path]:
    """Every run directory under runs_root (one holding a `status` file), newest first."""
    if not runs_root.is_dir():
        return []
    found = {p.parent.resolve() for p in runs_root.rglob("status") if (p.parent / "config.yaml").is_file()}
    return sorted(found, key=started_at, reverse=True)


def started_at(run_dir: Path) -> float:
    """When the run started: its config.yaml is written as the directory is opened."""
    return (run_dir / "config.yaml").stat().st_mtime


def resolve_run(spec: str, runs_root: Path) -> Path:
    path = Path(spec)
    if spec == "latest":
        runs = find_runs(runs_root)
        if not runs:
            raise ConfigError("RUN", f"'latest': there is no run under {runs_root}/")
        link = runs_root / "latest"
        return link.resolve() if link.is_symlink() and (link.resolve() / "status").is_file() else runs[0]
    for candidate in (path, runs_root / spec):  # a path as given, or one under runs/
        if (candidate / "status").is_file():
            return candidate.resolve()
    if path.exists():
        raise ConfigError("RUN", f"{spec} is not a run directory (it has no status file)")

    # a prefix of the path under runs/ (cnn-digits/2026-11), or, without a slash, of the run's own name
    def named(r: Path) -> bool:
        return rel(r, runs_root).startswith(spec) or ("/" not in spec and r.name.startswith(spec))

    def exactly(r: Path) -> bool:  # the whole name: iris_mlp is not its prefix iris_mlp-quantize
        return spec in (rel(r, runs_root), r.name, r.parent.name)

    matches = [r for r in find_runs(runs_root) if named(r)]
    matches = [r for r in matches if exactly(r)] or matches
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError("RUN", f"no run named {spec!r} under {runs_root}/ (`dlx runs` lists them)")
    listed = ", ".join(rel(r, runs_root) for r in matches[:8]) + (", ..." if len(matches) > 8 else "")
    raise ConfigError("RUN", f"{spec!r} matches {len(matches)} runs: {listed}; give more of the name")


def rel(run_dir: Path, runs_root: Path) -> str:
    try:
        return str(run_dir.relative_to(runs_root.resolve()))
    except ValueError:
        return str(run_dir)
