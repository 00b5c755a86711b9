"""Bad input: one clear line, exit code 2 for config errors (1 at run time), no run directory."""

from pathlib import Path

import pytest

from tests.conftest import SMOKE, run_dirs, run_dlx, run_in_process

CASES = [
    (["model=nope"], "model: unknown option 'nope'; valid options: cnn, densenet, gru, lstm, mlp, resnet, transformer"),
    (["reg=[l2,nope]"], "reg: unknown option 'nope'; valid options: adversarial, batchnorm, bootstrapping, cutmix"),
    (["seed=abc"], "seed: got 'abc', expected an integer"),
    (["name=2024"], """name: got the number 2024; quote it to name a run: 'name="2024"'"""),
    (["optim.lr_rate=0.1"], "optim.lr_rate: unknown key; did you mean 'optim.lr'? Valid keys of optim: lr, beta1"),
    (["modle.width=4"], "modle: unknown key; did you mean 'model'?"),
    (["+model.widht=8"], "model.widht: unknown key; did you mean 'width'?"),
    (["trainer.max_epochs=ten"], "trainer.max_epochs: got 'ten', expected an integer"),
    (["optim.lr=-0.1"], "optim.lr: got -0.1, expected a value with 0 < x"),
    (["model.dropout=1.5"], "model.dropout: got 1.5, expected a value with 0 <= x < 1"),
    (["trainer.max_epochs=0"], "trainer.max_epochs: got 0, expected a value with 1 <= x"),
    (["model.depth=4"], "model=cnn as configured needs images of at least 16x16"),
    (["data.val_fraction=0.6", "data.test_fraction=0.5"], "val_fraction + test_fraction must be < 1, got 1.1"),
    (["trainer=tpu"], "trainer: accelerator=tpu"),
    (
        ["data=iris", "model=mlp", "reg=[cutmix]"],
        "reg.cutmix: data=iris: cutmix needs images (B, C, H, W) or signals (B, C, L); got a batch of shape (2, 4)",
    ),
    (["trainer=cpu", "trainer.precision=16-mixed"], "trainer.precision: 16-mixed (fp16 autocast) needs a GPU, and"),
    (
        ["reg=[early_stopping]", "trainer.limit_val_batches=0"],
        "reg.early_stopping.monitor: val/acc needs validation, and trainer.limit_val_batches=0 turns it off",
    ),
    *(
        [(["trainer=gpu"], "trainer.accelerator: gpu needs a CUDA GPU, and this machine has none; trainer=cpu trains")]
        if not __import__("torch").cuda.is_available()
        else []
    ),
]


@pytest.mark.parametrize(("overrides", "message"), CASES)
def test_config_errors(overrides, message, workdir: Path):
    out = run_in_process("train", *SMOKE, *overrides, cwd=workdir)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert message in lines[0]
    assert run_dirs(workdir / "runs") == []


def test_the_installed_command_says_a_config_error_in_one_line_and_exits_2(workdir: Path):
    overrides, message = CASES[7]  # a bad value, known only once the config is validated
    out = run_dlx("train", *SMOKE, *overrides, cwd=workdir)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"dlx train: config error: {message}")
    assert run_dirs(workdir / "runs") == []


def test_full_error_shows_the_traceback(workdir: Path):
    out = run_dlx("train", "optim.lr=-1", *SMOKE, cwd=workdir, env={"HYDRA_FULL_ERROR": "1"})
    assert out.returncode != 0 and "Traceback" in out.stderr and "optim.lr" in out.stderr


FAILING_MODEL = '''
import torch

class Fails(torch.nn.Module):
    """Passes dlx's shape check (eval mode) and fails in the first training step."""
    def __init__(self, in_shape, num_classes):
        super().__init__()
        self.fc = torch.nn.Linear(64, num_classes)
    def forward(self, x):
        if self.training:
            raise RuntimeError("exploded in training")
        return self.fc(x.flatten(1))
'''


def test_runtime_failure_exits_1_and_marks_the_run_failed(workdir: Path):
    (workdir / "conf" / "model").mkdir(parents=True)
    (workdir / "conf" / "model" / "fails.yaml").write_text(
        "# fails.  dlx train model=fails\n_target_: mymodels.Fails\n"
    )
    (workdir / "mymodels.py").write_text(FAILING_MODEL)
    out = run_dlx("train", "model=fails", *SMOKE, cwd=workdir, env={"PYTHONPATH": str(workdir)})
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == ["dlx train: error: RuntimeError: exploded in training"]
    [run] = run_dirs(workdir / "runs")
    status, message = (run / "status").read_text().split("\n", 1)
    assert status == "failed" and "exploded in training" in message
    assert not (run / "report.json").exists()
