"""Knowledge distillation: `dlx train distill.teacher=RUN [distill.temperature=4] [distill.alpha=0.5] model=mlp`.

The student minimizes (1 - alpha) * cross-entropy with the labels + alpha * T^2 * KL(teacher || student) on
both outputs softened by temperature T (Hinton et al., 2015: T^2 keeps the soft term's gradients on the scale
of the hard one's). The teacher is a finished run: its best checkpoint, frozen, in eval mode, fed each training
batch in its own normalization. It must have been trained on the same classes and input shape.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from dlx.config.errors import ConfigError
from dlx.config.schema import PositiveFloat, Probability


@dataclass
class DistillSpec:
    teacher: str | None
    temperature: float
    alpha: float


def distillation(teacher: str | None = None, temperature: PositiveFloat = 4.0, alpha: Probability = 0.5):
    """teacher: a run (directory, name prefix or latest); null trains without one."""
    return DistillSpec(teacher, float(temperature), float(alpha))


class Teacher:
    """The frozen teacher and the map from the student's normalized inputs to its own (not an nn.Module, so it is
    neither optimized nor saved in the student's checkpoints)."""

    def __init__(self, net: torch.nn.Module, student_norm, teacher_norm, spec: DistillSpec):
        self.net = net.eval().requires_grad_(False)
        self.student_norm, self.teacher_norm = student_norm, teacher_norm
        self.same_norm = student_norm.same_as(teacher_norm)
        self.temperature, self.alpha = spec.temperature, spec.alpha

    def to(self, device) -> "Teacher":
        self.net.to(device)
        return self

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        if not self.same_norm:  # the student's normalized input -> raw -> the teacher's normalization
            x = self.teacher_norm(self.student_norm.undo(x))
        return self.net(x)

    def loss(self, hard_loss: torch.Tensor, student_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        soft = F.kl_div(
            F.log_softmax(student_logits / t, dim=1), F.log_softmax(self.logits(x) / t, dim=1),
            reduction="batchmean", log_target=True,
        )  # fmt: skip
        return (1 - self.alpha) * hard_loss + self.alpha * t * t * soft


def load_teacher(spec: DistillSpec, runs_root: Path, data, data_name: str) -> Teacher | None:
    """The teacher run, checked against the student's data before any training."""
    if not spec.teacher:
        return None
    from dlx.runs.resolve import resolve_run
    from dlx.runs.restore import restore_run

    try:
        run = restore_run(resolve_run(str(spec.teacher), runs_root))
    except ConfigError as e:
        raise ConfigError("distill.teacher", str(e).removeprefix(f"{e.key}: ")) from None
    if run.class_names != list(data.class_names):
        theirs = f"{run.run_dir} was trained on classes {run.class_names}"
        raise ConfigError("distill.teacher", f"{theirs}; data={data_name} has {list(data.class_names)}: "
                          "a teacher must know the student's classes")  # fmt: skip
    if run.in_shape != tuple(data.in_shape):
        raise ConfigError("distill.teacher", f"{run.run_dir} takes inputs of shape {run.in_shape}; data={data_name} "
                          f"gives {tuple(data.in_shape)}")  # fmt: skip
    return Teacher(run.net, data.normalizer, run.normalizer, spec)
