"""The study file: processes that open a new study.db at the same moment all get the study."""

import subprocess
import sys
import time
from pathlib import Path

# each process imports first, then waits for the shared start time, so their schema creations overlap
OPEN = (
    "import sys, time; from dlx.search.study import create_or_load_study as c; import optuna, sqlalchemy; "
    "time.sleep(max(0, float(sys.argv[2]) - time.time())); c(f'sqlite:///{sys.argv[1]}')"
)


def test_processes_opening_a_new_study_at_once_all_get_it(tmp_path: Path):
    # without the retry, about half of such processes failed here (table already exists / alembic_version UNIQUE)
    import optuna

    for round_ in range(2):
        db, start = tmp_path / f"study{round_}.db", time.time() + 4
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN, str(db), str(start)], stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        for p in procs:
            assert p.wait(timeout=120) == 0, p.stderr.read()[-2000:]
        assert [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{db}")] == ["dlx"]
