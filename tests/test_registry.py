"""Every option of every config group: documented, valid, and able to train a smoke step.

Driven by the files in conf/, so a new YAML option is tested the day it is added.
"""

import os
from pathlib import Path

import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from dlx.config.validate import target_nodes, validate_node
from tests.conftest import build
from tests.data.files import smoke_overrides

CONF = packaged_conf_dir()
LIST_GROUPS = {"reg", "aug", "logger"}
SIGNAL_AUG = {"none", "noise", "shift", "scale"}  # the ops meant for 1-D signals (B, C, L)
SIGNAL_ONLY = {("aug", "shift")}  # smoke-tested on mnist1d below, not on digits images
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
    assert {"data", "model", "aug", "optim", "sched", "reg", "imbalance", "trainer", "logger", "experiment"} <= groups


def option_nodes(group: str, option: str) -> list[tuple[str, dict]]:
    """(key path, node) of every builder node the option's YAML names, as it sits in the composed config."""
    import yaml

    node = yaml.safe_load((CONF / group / f"{option}.yaml").read_text()) or {}
    node = {k: v for k, v in node.items() if k != "defaults"}
    if group == "experiment":
        return list(target_nodes(node))
    return list(target_nodes({group: node}))


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_binds_to_its_builder_without_building(group, option):
    """Every key of every shipped YAML is a parameter of its builder, with a valid value."""
    for path, node in option_nodes(group, option):
        # a mandatory value (???) is the user's to give: stand in a string to bind the rest
        validate_node(path, {k: "given" if v == "???" else v for k, v in node.items()})


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_header_documents_its_command(group, option):
    lines = (CONF / group / f"{option}.yaml").read_text().splitlines()
    header = [ln for ln in lines[:3] if ln.startswith("#") and "@package" not in ln]
    assert header, f"{group}/{option}.yaml needs a one-line description comment"
    assert any("dlx train" in ln or "dlx search" in ln for ln in header), "the header shows the command that uses it"


GPU_TRAINERS = {"gpu", "ddp", "fsdp"}


def accelerator_missing(option: str) -> bool:
    return (option in GPU_TRAINERS and not torch.cuda.is_available()) or option == "tpu"


# signal-only ops train in test_model_and_signal_aug_train_on_1d_signals instead
@pytest.mark.parametrize(("group", "option"), [o for o in OPTIONS if o not in SIGNAL_ONLY])
def test_option_trains_a_smoke_step(group, option, tmp_path: Path):
    choice = f"{group}=[{option}]" if group in LIST_GROUPS and option != "none" else f"{group}={option}"
    overrides = [choice, *FAST]
    if group == "trainer" and accelerator_missing(option):
        missing = r"^trainer(\.strategy|\.accelerator)?: (accelerator=|\w+ (on accelerator=gpu )?needs)"
        with pytest.raises(ConfigError, match=missing):
            build(overrides, tmp_path / "run")
        return
    if group == "trainer" and option == "ddp_cpu":
        # one process here (the strategy's per-batch path, a process group of one); tests/trainer/test_distributed
        # trains on two
        from dlx.train.run import fit

        exp = build([*overrides, "trainer.devices=1"], tmp_path / "run")
        before = [p.detach().clone() for p in exp.module.net.parameters()]
        fit(exp)
        assert type(exp.trainer.strategy).__name__ == "DlxDDPStrategy"
        assert exp.trainer.global_step == 2
        assert not torch.distributed.is_initialized() and "LOCAL_RANK" not in os.environ, "the group is given back"
        assert any(not torch.equal(a, b) for a, b in zip(before, exp.module.net.parameters(), strict=True))
        return
    if group == "search":
        search_smoke(option, tmp_path)
        return
    if group == "data":
        overrides += smoke_overrides(option, tmp_path)
    exp = build(overrides, tmp_path / "run")
    before = [p.detach().clone() for p in exp.module.net.parameters()]
    exp.trainer.fit(exp.module, datamodule=exp.data)
    after = list(exp.module.net.parameters())
    assert exp.trainer.global_step >= 1
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True)), "a step changed the weights"
    assert all(torch.isfinite(p).all() for p in after)
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()


def search_smoke(option: str, tmp_path: Path) -> None:
    """A search option runs two smoke-sized trials end to end."""
    import csv
    import os

    from dlx.search.command import main

    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        assert main([f"search={option}", "search.n_trials=2", "trainer=smoke", "trainer.progress=false"]) == 0
    finally:
        os.chdir(here)
    [sweep] = (tmp_path / "runs" / "sweeps" / option).iterdir()
    with open(sweep / "trials.csv") as f:
        assert [r["state"] for r in csv.DictReader(f)] == ["complete", "complete"]


@pytest.fixture(scope="module")
def signals_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")  # mnist1d is generated once here for all the tests below


SIGNAL_OPTIONS = [(g, o) for g, o in OPTIONS if g == "model" or (g == "aug" and o in SIGNAL_AUG)]


@pytest.mark.parametrize(("group", "option"), SIGNAL_OPTIONS)
def test_model_and_signal_aug_train_on_1d_signals(group, option, signals_root: Path, tmp_path: Path):
    choice = f"{group}=[{option}]" if group == "aug" and option != "none" else f"{group}={option}"
    exp = build([choice, "data=mnist1d", f"data.root={signals_root}", *FAST], tmp_path / "run")
    assert exp.data.in_shape == (1, 40)
    before = [p.detach().clone() for p in exp.module.net.parameters()]
    exp.trainer.fit(exp.module, datamodule=exp.data)
    assert any(not torch.equal(a, b) for a, b in zip(before, exp.module.net.parameters(), strict=True))


@pytest.mark.parametrize("option", sorted(o for g, o in OPTIONS if g == "aug" and o not in SIGNAL_AUG))
def test_image_aug_refuses_signals_with_a_config_error(option, signals_root: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match=r"^aug: data=mnist1d: .+"):
        build([f"aug=[{option}]", "data=mnist1d", f"data.root={signals_root}", *FAST], tmp_path / "run")
