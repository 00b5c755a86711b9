"""Knowledge distillation: an MLP student learns from a CNN teacher run (dlx train distill.teacher=RUN)."""

import hashlib
import json
from pathlib import Path

import torch

from tests.conftest import run_in_process

STUDENT = ["model=mlp", "trainer.max_epochs=3", "seed=1", "trainer.progress=false"]


def test_a_distilled_mlp_beats_the_same_mlp_trained_alone(tmp_path: Path):
    teacher = run_in_process("train", "model=cnn", "trainer.max_epochs=10", "trainer.progress=false", "name=teacher",
                             cwd=tmp_path)  # fmt: skip
    assert teacher.returncode == 0, teacher.stderr
    [teacher_run] = (tmp_path / "runs" / "teacher").iterdir()
    best = teacher_run / "checkpoints" / "best.ckpt"
    digest = hashlib.sha256(best.read_bytes()).hexdigest()

    alone = run_in_process("train", *STUDENT, "name=alone", cwd=tmp_path)
    distilled = run_in_process("train", *STUDENT, "name=distilled", f"distill.teacher={teacher_run}",
                               "distill.temperature=4", "distill.alpha=0.9", cwd=tmp_path)  # fmt: skip
    assert alone.returncode == 0 and distilled.returncode == 0, distilled.stderr
    acc = {}
    for name in ("teacher", "alone", "distilled"):
        [run] = (tmp_path / "runs" / name).iterdir()
        acc[name] = json.loads((run / "report.json").read_text())["test_acc"]
    print(
        f"test accuracy: teacher {acc['teacher']:.4f}, MLP alone {acc['alone']:.4f}, distilled {acc['distilled']:.4f}"
    )
    assert acc["distilled"] > acc["alone"], acc
    [student] = (tmp_path / "runs" / "distilled").iterdir()
    keys = torch.load(student / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    assert all(k.startswith("net.") for k in keys), "the teacher is not saved in the student's checkpoints"
    assert hashlib.sha256(best.read_bytes()).hexdigest() == digest, "the teacher run is left as it was"


def test_a_teacher_of_other_classes_or_no_run_is_refused_before_training(tmp_path: Path):
    teacher = run_in_process("train", "trainer=smoke", "name=teacher", cwd=tmp_path)
    assert teacher.returncode == 0
    [teacher_run] = (tmp_path / "runs" / "teacher").iterdir()
    done = run_in_process("train", "data=iris", "model=mlp", "trainer=smoke", f"distill.teacher={teacher_run}",
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "distill.teacher:" in done.stderr and "a teacher must know the student's classes" in done.stderr
    assert not (tmp_path / "runs" / "mlp-iris").exists()
    done = run_in_process("train", "trainer=smoke", "distill.teacher=nope", cwd=tmp_path)
    assert done.returncode == 2 and "distill.teacher: no run named 'nope'" in done.stderr
    done = run_in_process("train", "trainer=smoke", "distill.alpha=1.5", cwd=tmp_path)
    assert done.returncode == 2 and "distill.alpha: got 1.5" in done.stderr
