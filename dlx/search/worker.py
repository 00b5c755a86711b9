"""A worker of a parallel search: python -m dlx.search.worker SWEEP_DIR (started by dlx search), or a submitit job."""

import sys
from pathlib import Path


def work(sweep_dir: str, threads: int | None = None, worker: int = 1) -> int:
    """Take trials from the study in SWEEP_DIR until its budget is spent; the worker's pid (trials.csv's
    worker_pid) is a submitit job's result."""
    import os

    from dlx.experiment import quiet_lightning
    from dlx.search.spec import search
    from dlx.search.study import load_search, optimize

    if threads:  # several jobs on one machine share its cores
        import torch

        torch.set_num_threads(threads)
    quiet_lightning()
    saved = load_search(Path(sweep_dir))
    node = {k: v for k, v in saved["search"].items() if k != "_target_"}
    optimize(Path(sweep_dir), saved, search(**node), worker)
    return os.getpid()


if __name__ == "__main__":
    work(sys.argv[1], worker=int(sys.argv[2]) if len(sys.argv) > 2 else 1)
