"""A worker process of a parallel search: python -m dlx.search.worker SWEEP_DIR (started by dlx search)."""

import sys
from pathlib import Path

if __name__ == "__main__":
    from dlx.search.spec import search
    from dlx.search.study import load_search, optimize
    from dlx.train.run import quiet_lightning

    quiet_lightning()
    sweep_dir = Path(sys.argv[1])
    saved = load_search(sweep_dir)
    node = {k: v for k, v in saved["search"].items() if k != "_target_"}
    optimize(sweep_dir, saved, search(**node))
