"""Ctrl-C and SIGTERM stop at the next batch with a mid-epoch last.ckpt; a second Ctrl-C quits at once."""

import os
import signal
import subprocess
import time
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch

from dlx.trainer.batches import batch_loop
from dlx.trainer.signals import StopOnSignal
from tests.conftest import DLX, build, run_dirs

# 79 small batches an epoch (1257 training samples): a signal lands inside an epoch, not in the short validation
SMALL_BATCHES = ["data.batch_size=16", "trainer.max_epochs=200", "trainer.progress=false"]
SLOW_MODEL = "_target_: tests.trainer.slow_net.slow_linear\nseconds: 0.5\n"


REPO = Path(__file__).resolve().parents[2]


def start(workdir: Path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [DLX, "train", *args], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )


def wait_for_first_checkpoint(workdir: Path, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((workdir / "runs").rglob("last.ckpt"))
        if found:
            return found[0].parent.parent
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint appeared: {proc.stderr.read().decode()[-2000:]}")


def test_sigterm_stops_mid_epoch_with_a_checkpoint_to_resume_from(workdir: Path):
    proc = start(workdir, SMALL_BATCHES)
    run = wait_for_first_checkpoint(workdir, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("dlx train: interrupted (stopped by SIGTERM)")
    status = (run / "status").read_text()
    assert status.startswith("interrupted") and "last.ckpt saved" in status
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    mid = ckpt["dlx_mid_epoch"]
    assert 0 < mid["batches_done"] < 79 and mid["epoch"] == ckpt["epoch"], "saved inside an epoch"
    assert not (run / "report.json").exists()


def test_a_second_ctrl_c_quits_at_once(workdir: Path):
    # half a second a batch: the first Ctrl-C waits for the batch in flight; the second does not wait
    conf = workdir / "conf" / "model"
    conf.mkdir(parents=True)
    (conf / "slow.yaml").write_text(SLOW_MODEL)
    args = ["--config-dir", str(workdir / "conf"), "model=slow", "data.batch_size=512", "trainer.progress=false"]
    proc = start(workdir, [*args, "trainer.max_epochs=200"])
    run = wait_for_first_checkpoint(workdir, proc)
    before = (run / "checkpoints" / "last.ckpt").stat().st_mtime_ns
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1].decode()
    assert proc.returncode == 130, err
    assert (run / "status").read_text().startswith("interrupted\nquit at once by a second SIGINT")
    last = run / "checkpoints" / "last.ckpt"
    assert last.stat().st_mtime_ns == before or "dlx_mid_epoch" not in torch.load(last, weights_only=True)
    assert run_dirs(workdir / "runs") == [run]


class SignalOnBatch(L.Callback):
    """As if Ctrl-C came while `batch` of `epoch` trained (StopOnSignal sees it when that batch ends)."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        wanted = self.batch if self.batch >= 0 else batch_loop(trainer).batches_per_epoch + self.batch
        if trainer.current_epoch == self.epoch and batch_idx == wanted:
            [stop] = [c for c in trainer.callbacks if isinstance(c, StopOnSignal)]
            stop.received = signal.SIGINT


class RecordBatches(L.Callback):
    def __init__(self, seen: list):
        self.seen = seen

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append((trainer.current_epoch, batch_idx))


def epochs(run: Path) -> list[str]:
    return [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]]


def test_a_signal_on_an_epochs_last_batch_resumes_into_that_epochs_validation_and_logs_every_epoch(tmp_path: Path):
    """Stopped after an epoch's last batch, the resumed run trains no batch of that epoch, but still validates
    it, writes its metrics row and its checkpoints."""
    from dlx.train.run import fit_and_test
    from dlx.trainer.interrupt import RunInterrupted

    run, args = tmp_path / "run", ["trainer.max_epochs=5", "trainer.progress=false"]
    exp = build(args, run)
    exp.trainer.callbacks.insert(0, SignalOnBatch(epoch=2, batch=-1))
    with pytest.raises(RunInterrupted):
        fit_and_test(exp)
    mid = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["dlx_mid_epoch"]
    batches = len(exp.data.train_dataloader())
    assert (mid["epoch"], mid["batches_done"]) == (2, batches), "stopped after epoch 2's last batch"
    assert epochs(run) == ["0", "1"]
    resumed = build(args, run)
    resumed.resume_from = run / "checkpoints" / "last.ckpt"
    seen = []
    resumed.trainer.callbacks.insert(0, RecordBatches(seen))
    fit_and_test(resumed)
    assert epochs(run) == ["0", "1", "2", "3", "4"], "every epoch logged once, in order"
    assert seen[0] == (3, 0), "no batch of epoch 2 trained again"
