"""`dlx list`: every group and option with its description, read from the YAML headers, fast."""

import subprocess
import sys
from pathlib import Path

from dlx.catalogue import catalogue
from dlx.config.paths import packaged_conf_dir
from tests.conftest import run_dlx


def test_lists_every_option_of_every_group_with_its_description(workdir: Path):
    out = run_dlx("list", cwd=workdir)
    assert out.returncode == 0, out.stderr
    for path in sorted(packaged_conf_dir().glob("*/*.yaml")):
        option = next(o for o in catalogue([packaged_conf_dir()]) if o.source == path)
        assert option.description, f"{path} has no description"
        rows = [ln for ln in out.stdout.splitlines() if f" {option.name} " in ln and option.description[:30] in ln]
        assert rows, option


def test_one_group(workdir: Path):
    out = run_dlx("list", "imbalance", cwd=workdir)
    assert out.returncode == 0
    for name in ("none", "class_weights", "oversample", "undersample", "smote"):
        assert f" {name} " in out.stdout
    assert " cnn " not in out.stdout
    assert "dlx train aug=[standard," in run_dlx("list", "aug", cwd=workdir).stdout  # brackets are text, not markup


def test_unknown_group_is_one_line_and_names_the_valid_ones(workdir: Path):
    out = run_dlx("list", "modle", cwd=workdir)
    assert out.returncode == 2
    assert out.stdout.strip().count("\n") == 0
    assert "unknown group 'modle'; valid groups: aug, data," in out.stdout


def test_user_options_appear_and_win(workdir: Path):
    (workdir / "conf" / "model").mkdir(parents=True)
    (workdir / "conf" / "model" / "tiny.yaml").write_text(
        "# My tiny net.  dlx train model=tiny\n_target_: dlx.model.mlp.mlp\n"
    )
    out = run_dlx("list", "model", cwd=workdir)
    assert "tiny" in out.stdout and "My tiny net." in out.stdout


def test_list_imports_neither_torch_nor_lightning():
    code = (
        "import sys; from dlx.cli import main; main(['list']); print(sorted({'torch', 'lightning'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
