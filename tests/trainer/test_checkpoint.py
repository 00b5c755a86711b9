"""Checkpoints are written atomically: a failure mid-write leaves the previous file, whole, and no stray file."""

import os
from pathlib import Path

import pytest
import torch

from dlx.trainer.checkpoint import AtomicCheckpointIO, RunCheckpoint, rebase


class Boom(RuntimeError):
    pass


def test_a_save_that_fails_midway_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    io, path = AtomicCheckpointIO(), tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"w": torch.ones(3)}, path)

    real_fsync = os.fsync

    def die_before_sync(fd):  # the new bytes are written to the temporary file, then the process "dies"
        raise Boom("killed mid-write")

    monkeypatch.setattr(os, "fsync", die_before_sync)
    with pytest.raises(Boom):
        io.save_checkpoint({"w": torch.zeros(3)}, path)
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
