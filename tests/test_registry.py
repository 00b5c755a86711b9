"""Every option of every config group: documented, valid, and able to train a smoke step.

Driven by the files in conf/, so a new YAML option is tested the day it is added.
"""

from pathlib import Path

import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from tests.conftest import build

CONF = packaged_conf_dir()
LIST_GROUPS = {"reg", "aug", "logger"}
FAST = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "trainer.progress=false",
]
OPTIONS = sorted((p.parent.name, p.stem) for p in CONF.glob("*/*.yaml"))


def test_every_group_has_options():
    groups = {g for g, _ in OPTIONS}
    assert {"data", "model", "aug", "optim", "sched", "reg", "trainer", "logger", "experiment"} <= groups


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_header_documents_its_command(group, option):
    lines = (CONF / group / f"{option}.yaml").read_text().splitlines()
    header = [ln for ln in lines[:3] if ln.startswith("#") and "@package" not in ln]
    assert header, f"{group}/{option}.yaml needs a one-line description comment"
    assert any("dlx train" in ln for ln in header), "the header shows the command that uses it"


def accelerator_missing(option: str) -> bool:
    return (option == "gpu" and not torch.cuda.is_available()) or option == "tpu"


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_trains_a_smoke_step(group, option, tmp_path: Path):
    choice = f"{group}=[{option}]" if group in LIST_GROUPS and option != "none" else f"{group}={option}"
    overrides = [choice, *FAST]
    if group == "trainer" and accelerator_missing(option):
        with pytest.raises(ConfigError, match=r"trainer: accelerator="):
            build(overrides, tmp_path / "run")
        return
    exp = build(overrides, tmp_path / "run")
    before = [p.detach().clone() for p in exp.module.net.parameters()]
    exp.trainer.fit(exp.module, datamodule=exp.data)
    after = list(exp.module.net.parameters())
    assert exp.trainer.global_step >= 1
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True)), "a step changed the weights"
    assert all(torch.isfinite(p).all() for p in after)
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()
