import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dlx.run_dir import create_unique_dir, read_status, update_latest, write_atomic, write_failed_status, write_status
from tests.conftest import limit_file_size


def test_same_stamp_from_many_threads_gives_distinct_dirs(tmp_path: Path):
    made: list[Path] = []
    barrier = threading.Barrier(8)

    def claim():
        barrier.wait()
        made.append(create_unique_dir(tmp_path / "cnn-digits", stamp="2026-01-01_00-00-00"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(p.name for p in made)
    assert len(set(names)) == 8
    assert names[0] == "2026-01-01_00-00-00" and "2026-01-01_00-00-00-7" in names


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path):
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    write_atomic(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["report.json"]


def test_status_round_trip(tmp_path: Path):
    write_status(tmp_path, "failed", "RuntimeError: boom")
    assert read_status(tmp_path) == ("failed", "RuntimeError: boom")
    assert read_status(tmp_path / "missing") == ("unknown", "")


def test_latest_points_at_the_newest_run(tmp_path: Path):
    a, b = create_unique_dir(tmp_path / "x", "s1"), create_unique_dir(tmp_path / "y", "s2")
    update_latest(tmp_path, a)
    update_latest(tmp_path, b)
    assert (tmp_path / "latest").resolve() == b.resolve()


# A child process writes under a limit on file size: past it, a write fails as it would on a full disk.
WRITE_IN_CHILD = """
import sys
from pathlib import Path
import dlx.run_dir

try:
    getattr(dlx.run_dir, sys.argv[1])(Path(sys.argv[2]), "x" * 5000)
except OSError as e:
    print(e.filename, e.strerror, sep=": ")
"""


def write_with_limit(function: str, path: Path, limit: int) -> str:
    out = subprocess.run(
        [sys.executable, "-c", WRITE_IN_CHILD, function, str(path)],
        preexec_fn=limit_file_size(limit),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_atomic_write_that_fails_keeps_the_old_file_removes_its_copy_and_names_the_target(tmp_path: Path):
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    assert write_with_limit("write_atomic", target, 4096) == f"{target}: File too large"
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]


def test_failed_status_is_written_even_on_a_full_disk(tmpfs):
    run = tmpfs(64)
    write_status(run, "running")
    with open(run / "filler", "wb", buffering=0) as f, pytest.raises(OSError, match="No space left on device"):
        while True:  # fill the disk to its last byte
            f.write(bytes(4096))
    with pytest.raises(OSError, match="No space left on device"):
        write_status(run, "failed", "a new file does not fit")
    write_failed_status(run, "cannot write best.ckpt: No space left on device")
    assert read_status(run) == ("failed", "cannot write best.ckpt: No space left on device")


def test_atomic_writes_get_the_mode_the_umask_gives_not_mkstemps_0600(tmp_path: Path, monkeypatch):
    import stat

    from dlx import run_dir

    for umask, mode in ((0o022, 0o644), (0o027, 0o640), (0o077, 0o600)):
        monkeypatch.setattr(run_dir, "UMASK", umask)
        target = tmp_path / f"report-{mode:o}.json"
        run_dir.write_atomic(target, "{}")
        assert stat.S_IMODE(target.stat().st_mode) == mode, f"umask {umask:o}"
