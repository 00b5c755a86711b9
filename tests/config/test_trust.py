"""Which `_target_`s a config read back from a run directory may name: by package boundary, before any import."""

import sys
from pathlib import Path

import pytest
import yaml

from dlx.config.errors import ConfigError
from dlx.config.paths import packaged_conf_dir
from dlx.config.trust import check_targets, refusal, targets
from tests.conftest import compose_config

SOURCE = Path("runs/x/2026-01-01_00-00-00/config.yaml")


@pytest.mark.parametrize(
    "target", ["dlx.model.mlp.mlp", "torch.nn.Linear", "torch.optim.SGD", "lightning.pytorch.Trainer", "torchmetrics"]
)
def test_targets_in_the_trusted_packages_are_allowed(target):
    assert refusal(target) is None


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("os.system", "outside the trusted packages (dlx, torch, lightning, torchmetrics)"),
        ("subprocess.run", "outside the trusted packages"),
        ("builtins.eval", "outside the trusted packages"),
        ("posix.system", "outside the trusted packages"),
        ("dlxevil.models.net", "outside the trusted packages"),  # a prefix of the name is not the package
        ("torchvision_evil.x", "outside the trusted packages"),
        ("torch.load", "loads code or pickles (torch.load)"),
        ("torch.hub.load", "loads code or pickles (torch.hub)"),  # source=local imports a hubconf.py
        ("torch.utils.cpp_extension.load_inline", "loads code or pickles"),
        ("lightning.pytorch.cli.instantiate_class", "loads code or pickles"),
        ("torch._C._nn.linear", "is a private name"),
        ("dlx.__builtins__", "is a private name"),
        (42, "42 is not a dotted name"),
    ],
)
def test_other_targets_are_refused_with_the_reason(target, why):
    assert why in refusal(target)


def test_a_package_the_user_lists_is_trusted_by_its_boundary(monkeypatch):
    monkeypatch.setenv("DLX_TRUSTED_PACKAGES", " mypkg , lab.nets")
    assert refusal("mypkg.models.net") is None
    assert refusal("lab.nets.resnet") is None
    assert "outside the trusted packages (dlx, torch, lightning, torchmetrics, mypkg, lab.nets)" in refusal("lab.x")
    assert "outside" in refusal("mypkgevil.net")
    assert "loads code" in refusal("torch.hub.load"), "listing packages does not lift the code-loader refusal"


def test_every_target_is_found_in_mappings_and_lists_at_any_depth():
    cfg = {
        "model": {"_target_": "a.b", "inner": {"_target_": "c.d"}},
        "reg": {"items": [{"x": 1}, {"_target_": "e.f"}]},
        "plain": "os.system",  # a string value that is not a _target_ names nothing to import
    }
    assert list(targets(cfg)) == [
        ("model._target_", "a.b"),
        ("model.inner._target_", "c.d"),
        ("reg.items[1]._target_", "e.f"),
    ]


def test_every_target_dlx_ships_is_trusted():
    """A run of any packaged option restores without --trust-config: every conf/ file's targets pass."""
    files = sorted(packaged_conf_dir().rglob("*.yaml"))
    found = [(f, key, t) for f in files for key, t in targets(yaml.safe_load(f.read_text()) or {})]
    assert len(found) > 60, "the scan reaches the option files"
    assert [(f.name, key, t) for f, key, t in found if refusal(t) is not None] == []


@pytest.mark.parametrize("target", ["os.system", "subprocess.run"])
def test_a_refusal_names_the_key_the_target_the_file_and_the_way_out(target, monkeypatch):
    cfg, _ = compose_config([])
    cfg["model"] = {"_target_": target, "command": "touch MARKER"}
    imported_before = set(sys.modules)
    with pytest.raises(ConfigError) as caught:
        check_targets(cfg, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"model._target_: refused, in {SOURCE}: '{target}' is outside the trusted packages")
    assert "--trust-config" in message and "DLX_TRUSTED_PACKAGES" in message
    assert "\n" not in message
    assert set(sys.modules) == imported_before, "nothing was imported to decide"
