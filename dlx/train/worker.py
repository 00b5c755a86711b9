"""`python -m dlx.train.worker SPEC`: one extra process of a distributed fit on this node.

Started by dlx.trainer.distributed.WorkerLauncher with LOCAL_RANK, NODE_RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT set. SPEC (JSON) holds the resolved config and group choices of the run rank zero is training, and
the checkpoint it resumes from. The worker builds the same experiment (no Hydra, no run directory: it is not
rank zero), joins the fit, and exits: 0 when the fit ended, 1 with one line on stderr when it failed.
"""

import json
import os
import sys
from pathlib import Path


def die_with_parent() -> None:
    """Linux: end when the process that started this one ends (a killed rank zero leaves no worker waiting
    in a collective for torch's 30-minute timeout)."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def main(argv: list[str]) -> int:
    die_with_parent()
    spec = json.loads(Path(argv[0]).read_text())
    os.chdir(spec["cwd"])
    from dlx.experiment import build_experiment
    from dlx.train.run import train_other_rank
    from dlx.trainer.interrupt import RunInterrupted

    def no_run_dir() -> Path:
        raise RuntimeError("a worker is never rank zero")

    try:
        exp = build_experiment(spec["cfg"], spec["choices"], no_run_dir)
        if spec["resume_from"]:
            exp.resume_from = Path(spec["resume_from"])
        train_other_rank(exp)
    except RunInterrupted as e:
        return e.exit_code
    except Exception as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(
            f"dlx train: process with LOCAL_RANK={os.environ.get('LOCAL_RANK', '?')} failed: {reason}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
