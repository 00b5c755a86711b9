"""Users add or replace options in ./conf or --config-dir without editing dlx."""

from pathlib import Path

import yaml

from tests.conftest import SMOKE, run_dirs, run_dlx, run_in_process


def test_local_conf_adds_an_option_and_shadows_a_packaged_one(workdir: Path):
    models = workdir / "conf" / "model"
    models.mkdir(parents=True)
    (models / "wide_mlp.yaml").write_text(
        "# wide.  dlx train model=wide_mlp\n_target_: dlx.model.mlp.mlp\nwidth: 300\n"
    )
    (models / "cnn.yaml").write_text("# mine.  dlx train\n_target_: dlx.model.cnn.cnn\nwidth: 4\n")
    assert run_dlx("train", "model=wide_mlp", *SMOKE, cwd=workdir).returncode == 0
    assert run_in_process("train", *SMOKE, cwd=workdir).returncode == 0
    configs = {r.parent.name: yaml.safe_load((r / "config.yaml").read_text()) for r in run_dirs(workdir / "runs")}
    assert configs["wide_mlp-digits"]["model"]["width"] == 300
    assert configs["cnn-digits"]["model"]["width"] == 4, "./conf is searched before dlx's own conf"


def test_config_dir_flag_is_searched_first(workdir: Path, tmp_path: Path):
    mine = tmp_path / "mine" / "optim"
    mine.mkdir(parents=True)
    (mine / "adam.yaml").write_text("# slow adam.  dlx train\n_target_: dlx.optim.adam.adam\nlr: 0.0123\n")
    out = run_in_process("train", "--config-dir", str(tmp_path / "mine"), *SMOKE, cwd=workdir)
    assert out.returncode == 0, out.stderr
    [run] = run_dirs(workdir / "runs")
    assert yaml.safe_load((run / "config.yaml").read_text())["optim"]["lr"] == 0.0123


def test_an_option_file_that_is_not_yaml_is_named_with_its_line(workdir: Path):
    models = workdir / "conf" / "model"
    models.mkdir(parents=True)
    (models / "broken.yaml").write_text("_target_: dlx.model.mlp.mlp\nwidth: 8\n  depth: 2\n")
    out = run_in_process("train", "model=broken", *SMOKE, cwd=workdir)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert lines[0].startswith("dlx train: config error: ") and "broken.yaml line 3 column 8: " in lines[0], lines
    assert "mapping values are not allowed here" in lines[0]
    assert run_dirs(workdir / "runs") == []
