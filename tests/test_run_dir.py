import os
import threading
from pathlib import Path

from dlx.run_dir import create_unique_dir, read_status, update_latest, write_atomic, write_status


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
