"""make test's --dist loadgroup really keeps an xdist_group on one worker, so a module's trained runs are made once.

pytest 9.2 with xdist 3.8 dropped the groups silently (pytest-xdist#1386): every module fixture that trains
was built again in the other worker, about a minute of make test.
"""

import subprocess
import sys
from pathlib import Path

GROUPED = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("trained-once")


@pytest.mark.parametrize("i", range(8))
def test_grouped(i):
    with open(os.environ["WORKERS_SEEN"], "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
"""

UNGROUPED = """
import pytest


@pytest.mark.parametrize("i", range(8))
def test_other(i):
    pass
"""


def test_a_group_runs_on_one_worker(tmp_path: Path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_other.py").write_text(UNGROUPED)
    seen = tmp_path / "workers.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]
    done = subprocess.run(
        command, cwd=tmp_path, env={"WORKERS_SEEN": str(seen), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workers = seen.read_text().split()
    assert len(workers) == 8 and len(set(workers)) == 1, f"the group was split over workers {sorted(set(workers))}"
