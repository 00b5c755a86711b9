"""Versioned run directories: runs/<name>/<YYYY-MM-DD_HH-MM-SS>[-N]/, never reused, created atomically."""

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STAMP = "%Y-%m-%d_%H-%M-%S"
TMP_SUFFIX = ".tmp"
# read once, at import, while one thread runs: os.umask can only be read by setting it
UMASK = os.umask(0o022)
os.umask(UMASK)


def create_unique_dir(parent: Path | str, stamp: str | None = None) -> Path:
    """Make parent/<stamp>, or parent/<stamp>-1, -2, ... if taken; mkdir is the atomic claim."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = stamp or time.strftime(STAMP)
    for n in range(10_000):
        path = parent / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run directory under {parent}")


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, fsync, rename: readers see old or new, never half."""
    write_atomic_bytes(path, text.encode())


def write_atomic_bytes(path: Path, data: bytes) -> None:
    with open_atomic(path) as f:
        f.write(data)


@contextmanager
def open_atomic(path: Path) -> Iterator:
    """A binary file that becomes `path` only once fully written and synced; on any failure, nothing changes."""
    path, tmp = Path(path), None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
        os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; a run is shared as any file the user writes is
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # a full disk gets the space of the half-written copy back
        if isinstance(e, OSError):
            name_the_file(e, path)
        raise


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Temporary files a killed process left mid-write (never renamed into place, so never read): delete them."""
    stale = [p for p in Path(run_dir).rglob(f".*{TMP_SUFFIX}") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def name_the_file(e: OSError, path: Path | str) -> None:
    """Make e name `path`: a failed write() names no file, a failed temporary copy names the copy, not the target."""
    if e.errno is not None and e.strerror:
        e.filename = str(path)


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def read_metrics(path: Path) -> list[dict]:
    """RUN/metrics.csv rows with numbers parsed; an empty cell (an epoch without validation) is None; [] if absent.

    A damaged file (binary, another table, a cell that is not a number) is a ConfigError naming it and the line."""
    import csv

    from dlx.config.errors import ConfigError

    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header, rows = reader.fieldnames or [], list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(str(path), f"is not a metrics table ({e})") from None
    if "epoch" not in header:
        found = ",".join(header)[:80]
        raise ConfigError(str(path), f"has no epoch column (its header: {found}): not a metrics.csv of dlx")
    return [metrics_row(path, line, row) for line, row in enumerate(rows, start=2)]


def metrics_row(path: Path, line: int, row: dict) -> dict:
    from dlx.config.errors import ConfigError

    if None in row:  # DictReader's key for cells beyond the header
        raise ConfigError(f"{path}:line {line}", "has more cells than the header names")
    try:
        return {k: float(v) if v not in ("", None) else None for k, v in row.items()}
    except ValueError:
        bad = next(k for k, v in row.items() if v not in ("", None) and not is_number(v))
        raise ConfigError(f"{path}:line {line}", f"column {bad!r} holds {row[bad][:40]!r}, not a number") from None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_status(run_dir: Path, status: str, message: str = "") -> None:
    """RUN/status: first line running|completed|failed, then the error message if any."""
    write_atomic(run_dir / "status", status + ("\n" + message if message else "") + "\n")


def write_failed_status(run_dir: Path, message: str) -> None:
    """RUN/status: failed. A full disk may refuse even this small write; then the status is rewritten in place
    (emptying it frees its own block); failing that too it says running or nothing, never completed."""
    try:
        write_status(run_dir, "failed", message)
    except OSError:
        try:
            with open(run_dir / "status", "w") as f:
                f.write(f"failed\n{message}\n")
        except OSError:
            pass  # the error that failed the run is still reported; this one would only hide it


def read_status(run_dir: Path) -> tuple[str, str]:
    try:
        first, _, rest = (run_dir / "status").read_text(errors="replace").partition("\n")
    except FileNotFoundError:
        return "unknown", ""
    return first.strip(), rest.strip()


def update_latest(runs_root: Path, run_dir: Path) -> None:
    """runs/latest -> the newest run (a relative symlink, swapped in atomically)."""
    link = runs_root / "latest"
    tmp = runs_root / f".latest.{os.getpid()}"
    target = os.path.relpath(run_dir, runs_root)
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError:  # no symlinks (some Windows setups): a file naming the run instead
        write_atomic(link, target + "\n")
