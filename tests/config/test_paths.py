from pathlib import Path

import pytest

from dlx.config.errors import ConfigError
from dlx.config.paths import config_search_dirs, packaged_conf_dir


def test_packaged_conf_has_every_group():
    conf = packaged_conf_dir()
    for group in ("data", "model", "aug", "optim", "sched", "reg", "trainer", "logger", "experiment"):
        assert list((conf / group).glob("*.yaml")), group


def test_user_dirs_come_first(tmp_path: Path):
    (tmp_path / "conf").mkdir()
    extra = tmp_path / "more"
    extra.mkdir()
    dirs = config_search_dirs(str(extra), cwd=tmp_path)
    assert dirs == [extra.resolve(), (tmp_path / "conf").resolve(), packaged_conf_dir()]


def test_missing_config_dir_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="--config-dir"):
        config_search_dirs(str(tmp_path / "nope"), cwd=tmp_path)
