"""Checkpoints are written atomically: a failure mid-write leaves the previous file, whole, and no stray file."""

import os
import time
from pathlib import Path

import pytest
import torch

from dlx.trainer.checkpoint import AtomicCheckpointIO, RunCheckpoint, rebase
from dlx.trainer.writes import WRITES, BackgroundWrites


class Boom(RuntimeError):
    pass


def test_a_save_that_fails_midway_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    io, path = AtomicCheckpointIO(), tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"w": torch.ones(3)}, path)
    io.teardown()  # written on the writer thread; the end of a fit waits for it

    real_fsync = os.fsync

    def die_before_sync(fd):  # the new bytes are written to the temporary file, then the process "dies"
        raise Boom("killed mid-write")

    monkeypatch.setattr(os, "fsync", die_before_sync)
    io.save_checkpoint({"w": torch.zeros(3)}, path)
    with pytest.raises(Boom):  # the writer thread's failure, raised on this thread
        io.teardown()
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(3)), "the old checkpoint, intact"
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"], "no temporary file left"


def test_last_link_is_swapped_in_one_step(tmp_path: Path):
    class Trainer:
        is_global_zero = True

        class strategy:  # noqa: N801
            @staticmethod
            def barrier():
                pass

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "best.ckpt").write_bytes(b"best")
    (folder / "last.ckpt").write_bytes(b"an older full checkpoint")
    RunCheckpoint._link_checkpoint(Trainer, str(folder / "best.ckpt"), str(folder / "last.ckpt"))
    WRITES.flush()
    assert (folder / "last.ckpt").is_symlink() and (folder / "last.ckpt").read_bytes() == b"best"
    assert sorted(p.name for p in folder.iterdir()) == ["best.ckpt", "last.ckpt"]


def test_resuming_from_another_folder_keeps_the_best_score():
    """Lightning drops best_model_score when dirpath differs; rebased, best.ckpt is only replaced by a better one."""
    saved = {
        "dirpath": "runs/x/1/checkpoints",
        "best_model_score": torch.tensor(0.97),
        "best_model_path": "runs/x/1/checkpoints/best.ckpt",
        "best_k_models": {"runs/x/1/checkpoints/best.ckpt": torch.tensor(0.97)},
        "last_model_path": "runs/x/1/checkpoints/last.ckpt",
    }
    cb = RunCheckpoint()
    cb.dirpath = "/abs/runs/x/1/checkpoints"
    cb.load_state_dict(dict(saved))
    assert float(cb.best_model_score) == pytest.approx(0.97)
    assert cb.best_model_path == "/abs/runs/x/1/checkpoints/best.ckpt"
    assert list(cb.best_k_models) == ["/abs/runs/x/1/checkpoints/best.ckpt"]
    assert rebase(3, "a", "b") == 3


def test_background_writes_land_in_the_order_asked_and_a_failure_reaches_the_next_write(tmp_path: Path):
    writes, order = BackgroundWrites(), []
    for i in range(20):  # a metrics row, then the checkpoint of that epoch, and so on
        writes.call(order.append, ("metrics", i))
        writes.call(order.append, ("checkpoint", i))
    writes.flush()
    assert order == [(kind, i) for i in range(20) for kind in ("metrics", "checkpoint")]

    def disk_full():
        raise OSError(28, "No space left on device", str(tmp_path / "best.ckpt"))

    writes.call(disk_full)
    writes._pending[-1].exception()  # wait for it to fail, before the next write is asked for
    with pytest.raises(OSError, match="No space left"):
        writes.write(tmp_path / "metrics.csv", b"epoch\n")


def test_last_ckpt_holds_the_last_epoch_when_it_did_not_improve_and_links_to_best_when_it_did(tmp_path: Path):
    from tests.conftest import build

    run = tmp_path / "run"
    # lr 1e-12: validation accuracy does not change, so best.ckpt stays epoch 0's and no later epoch improves on it
    args = ["trainer.max_epochs=3", "trainer.limit_train_batches=2", "trainer.progress=false", "optim.lr=1e-12"]
    exp = build(args, run)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    folder = run / "checkpoints"
    assert torch.load(folder / "best.ckpt", weights_only=True)["epoch"] == 0
    assert not (folder / "last.ckpt").is_symlink()
    last = torch.load(folder / "last.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (2, 6), "the state after the last epoch, not the best one's"

    improving = build(["trainer.max_epochs=1", "trainer.progress=false"], tmp_path / "improving")
    improving.trainer.fit(improving.module, datamodule=improving.data)
    link = tmp_path / "improving" / "checkpoints" / "last.ckpt"
    assert link.is_symlink() and os.readlink(link) == "best.ckpt", "an improving epoch is saved once"


class CountSaves(AtomicCheckpointIO):
    def __init__(self):
        super().__init__()
        self.names = []

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        self.names.append((checkpoint["epoch"], Path(path).name))
        super().save_checkpoint(checkpoint, path, storage_options)


def saves(tmp_path: Path, every_s: str) -> list:
    from tests.conftest import build

    args = ["trainer.max_epochs=5", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
            "trainer.progress=false", "optim.lr=1e-12", f"trainer.checkpoint_every_s={every_s}"]  # fmt: skip
    exp = build(args, tmp_path / every_s)
    counter = exp.trainer.strategy.checkpoint_io = CountSaves()
    exp.trainer.fit(exp.module, datamodule=exp.data)
    last = torch.load(tmp_path / every_s / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 4, "the fit's last epoch is always written"
    return counter.names


def test_last_ckpt_is_written_every_epoch_with_0_and_at_most_once_a_second_by_default(tmp_path: Path):
    assert saves(tmp_path, "0") == [(0, "best.ckpt")] + [(e, "last.ckpt") for e in range(1, 5)]
    default = saves(tmp_path, "1.0")  # five epochs of one batch: well under a second
    assert default[0] == (0, "best.ckpt") and default[-1] == (4, "last.ckpt") and len(default) < 5


class CountWrites(AtomicCheckpointIO):
    """Saves asked for (held or not) and the files really serialized, by (epoch, name)."""

    def __init__(self):
        super().__init__()
        self.asked, self.written = [], []

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        self.asked.append((checkpoint["epoch"], Path(path).name))
        super().save_checkpoint(checkpoint, path, storage_options)

    def write(self, checkpoint, path):
        self.written.append((checkpoint["epoch"], Path(path).name))
        super().write(checkpoint, path)


def fit_counting(tmp_path: Path, name: str, every_s: str, epochs: int = 6, fault_at: int | None = None):
    from tests.conftest import build
    from tests.trainer.test_guard import PoisonAt

    # lr 0.03: val accuracy improves in epochs 0-3 and not after, so the best epoch is one that was held
    args = ["model=mlp", "model.width=32", "optim.lr=0.03", f"trainer.max_epochs={epochs}",
            "trainer.deterministic=true", "trainer.progress=false",
            f"trainer.checkpoint_every_s={every_s}"]  # fmt: skip
    exp = build(args, tmp_path / name)
    io = exp.trainer.strategy.checkpoint_io = CountWrites()
    if fault_at is not None:
        exp.trainer.callbacks.append(PoisonAt(epoch=fault_at))
    try:
        exp.trainer.fit(exp.module, datamodule=exp.data)
    except Exception as e:
        assert type(e).__name__ == "NonFiniteLoss" and fault_at is not None
    folder = tmp_path / name / "checkpoints"
    return io, *(torch.load(folder / f, weights_only=True) for f in ("best.ckpt", "last.ckpt"))


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_improvements_within_checkpoint_every_s_are_held_and_the_files_end_the_same(tmp_path: Path):
    every, every_best, every_last = fit_counting(tmp_path, "every", "0")
    spaced, best, last = fit_counting(tmp_path, "spaced", "600")  # nothing due but the first and last epoch
    improving = [e for e, name in every.asked if name == "best.ckpt"]
    assert len(improving) >= 3 and improving[-1] < 5, f"the test needs a best epoch that was held: {every.asked}"
    assert [e for e, name in spaced.asked if name == "best.ckpt"] == improving, "the same best saves asked for"
    assert every.written == every.asked, "checkpoint_every_s=0: every save is written at once"
    assert spaced.written[0] == (0, "best.ckpt") and spaced.written[-1][0] == 5
    assert len(spaced.written) <= 3 < len(every.written), spaced.written  # held, then written once
    assert (improving[-1], "best.ckpt") in spaced.written, "the held copy itself was written"
    assert best["epoch"] == every_best["epoch"] == improving[-1]
    assert same_weights(best["state_dict"], every_best["state_dict"]), "best.ckpt holds the best epoch's weights"
    assert last["epoch"] == every_last["epoch"] == 5 and same_weights(last["state_dict"], every_last["state_dict"])
    assert best["optimizer_states"][0]["state"].keys() == every_best["optimizer_states"][0]["state"].keys()
    held_adam = best["optimizer_states"][0]["state"][0]["exp_avg"]
    assert torch.equal(held_adam, every_best["optimizer_states"][0]["state"][0]["exp_avg"]), "a copy, not live"


def test_a_fault_writes_the_held_best_checkpoint_before_the_run_fails(tmp_path: Path):
    every, *_ = fit_counting(tmp_path, "every", "0", fault_at=3)  # every save written at once
    spaced, best, last = fit_counting(tmp_path, "spaced", "600", fault_at=3)
    improved = [e for e, name in every.asked if name == "best.ckpt"]
    assert improved[-1] >= 1, f"the test needs an improvement after epoch 0: {every.asked}"
    assert spaced.written == [(0, "best.ckpt"), (improved[-1], "best.ckpt")], "held, then written on the way out"
    every_best = torch.load(tmp_path / "every" / "checkpoints" / "best.ckpt", weights_only=True)
    assert best["epoch"] == every_best["epoch"] == improved[-1]
    assert same_weights(best["state_dict"], every_best["state_dict"])
    assert all(torch.isfinite(w).all() for w in best["state_dict"].values() if w.is_floating_point())
    assert last["epoch"] <= 2, "nothing after the fault"


class RaiseOnException:
    """A callback whose on_exception raises: Lightning then skips its teardown (and the checkpoint IO's)."""

    def __init__(self):
        import lightning.pytorch as L

        self.callback = type("Raises", (L.Callback,), {"on_exception": self.on_exception})()

    @staticmethod
    def on_exception(callback, trainer, pl_module, exception):
        raise RuntimeError("a logger's on_exception failed too")


def test_held_files_reach_the_disk_when_lightning_skips_its_teardown(tmp_path: Path):
    from dlx.train.run import fit
    from tests.conftest import build
    from tests.trainer.test_guard import PoisonAt

    every, *_ = fit_counting(tmp_path, "every", "0", fault_at=3)
    improved = [e for e, name in every.asked if name == "best.ckpt"]
    args = ["model=mlp", "model.width=32", "optim.lr=0.03", "trainer.max_epochs=6", "trainer.deterministic=true",
            "trainer.progress=false", "trainer.checkpoint_every_s=600"]  # fmt: skip
    exp = build(args, tmp_path / "skipped")
    exp.trainer.callbacks += [PoisonAt(epoch=3), RaiseOnException().callback]
    with pytest.raises(RuntimeError, match="on_exception failed too"):
        fit(exp)
    best = torch.load(tmp_path / "skipped" / "checkpoints" / "best.ckpt", weights_only=True)
    assert best["epoch"] == improved[-1] >= 1, "the held best.ckpt, written by dlx's own end of the fit"
    rows = (tmp_path / "skipped" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3, "the deferred rows of the three good epochs"


def test_several_processes_write_every_epoch_so_no_rank_waits_alone_in_a_save():
    from types import SimpleNamespace

    checkpoint = RunCheckpoint(every_s=600)
    one, two = (SimpleNamespace(world_size=n, current_epoch=3, max_epochs=10) for n in (1, 2))
    assert checkpoint.due(one) and checkpoint.due(two), "nothing written yet"
    checkpoint._last_written = time.monotonic()
    assert not checkpoint.due(one), "one process: held until every_s has passed"
    assert checkpoint.due(two), "each rank's clock would differ: under DDP every epoch is written"
    assert checkpoint.due(SimpleNamespace(world_size=1, current_epoch=9, max_epochs=10)), "the last epoch"
