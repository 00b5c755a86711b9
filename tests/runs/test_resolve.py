"""RUN on the command line: a run directory, a unique prefix of its name (or of its path under runs/), `latest`."""

import os
from pathlib import Path

import pytest

from dlx.config.errors import ConfigError
from dlx.runs.resolve import find_runs, resolve_run
from dlx.runs.resolve import resolve_run as find_run
from tests.runs.fake_runs import write_run, write_sweep


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root / "mlp-digits" / "2026-01-01_10-00-00", ["model=mlp"], minute=0)
    write_run(root / "mlp-digits" / "2026-01-02_10-00-00", ["model=mlp"], minute=1)
    write_run(root / "cnn-digits" / "2026-01-02_11-00-00", [], minute=2)
    return root


def test_find_runs_is_newest_first(runs: Path):
    assert [p.name for p in find_runs(runs)] == ["2026-01-02_11-00-00", "2026-01-02_10-00-00", "2026-01-01_10-00-00"]


def test_a_unique_prefix_of_the_name(runs: Path):
    assert resolve_run("2026-01-01", runs) == (runs / "mlp-digits" / "2026-01-01_10-00-00").resolve()
    assert resolve_run("2026-01-02_11", runs) == (runs / "cnn-digits" / "2026-01-02_11-00-00").resolve()


def test_a_unique_prefix_of_the_path_under_runs(runs: Path):
    assert resolve_run("cnn-digits/2026", runs) == (runs / "cnn-digits" / "2026-01-02_11-00-00").resolve()


def test_the_commands_take_a_path_under_runs_exactly(tmp_path: Path):
    """Every sweep has a job 3: `multirun/<stamp>/3` names one of them."""
    root = tmp_path / "runs"
    for stamp in ("2026-01-01_10-00-00", "2026-01-02_10-00-00"):
        write_sweep(root / "multirun" / stamp, [{"overrides": []}] * 2)
    job = root / "multirun" / "2026-01-01_10-00-00" / "1"
    assert find_run("multirun/2026-01-01_10-00-00/1", root) == job.resolve()
    with pytest.raises(ConfigError, match="matches"):
        find_run("1", root)


def test_an_ambiguous_prefix_lists_the_candidates(runs: Path):
    with pytest.raises(ConfigError) as e:
        resolve_run("2026-01-02", runs)
    message = str(e.value)
    assert "matches 2 runs" in message
    assert "mlp-digits/2026-01-02_10-00-00" in message and "cnn-digits/2026-01-02_11-00-00" in message


def test_latest_is_the_newest_run_or_the_latest_link(runs: Path):
    assert resolve_run("latest", runs).name == "2026-01-02_11-00-00"
    os.symlink("mlp-digits/2026-01-01_10-00-00", runs / "latest")  # what dlx train maintains
    assert resolve_run("latest", runs).name == "2026-01-01_10-00-00"


def test_a_directory_path_is_taken_as_it_is(runs: Path):
    run = runs / "mlp-digits" / "2026-01-01_10-00-00"
    assert resolve_run(str(run), runs) == run.resolve()


def test_a_directory_without_status_is_not_a_run(runs: Path):
    (runs / "mlp-digits" / "2026-01-01_10-00-00" / "status").unlink()
    with pytest.raises(ConfigError, match="is not a run directory"):
        resolve_run(str(runs / "mlp-digits" / "2026-01-01_10-00-00"), runs)
    assert len(find_runs(runs)) == 2, "a directory without status is not listed either"


def test_no_such_run_and_no_runs_at_all(runs: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="no run named 'nope'"):
        resolve_run("nope", runs)
    with pytest.raises(ConfigError, match="there is no run"):
        resolve_run("latest", tmp_path / "empty")


def test_a_whole_name_wins_over_the_longer_names_it_prefixes(tmp_path: Path):
    """dlx compress makes runs/iris_mlp-quantize/ beside runs/iris_mlp/; a second run of a second makes <stamp>-1."""
    root = tmp_path / "runs"
    trained = write_run(root / "iris_mlp" / "2026-01-01_10-00-00", minute=0)
    write_run(root / "iris_mlp-quantize" / "2026-01-01_11-00-00", minute=1)
    write_run(root / "iris_mlp-quantize" / "2026-01-01_11-00-00-1", minute=2)
    assert resolve_run("iris_mlp", root) == trained.resolve()
    assert resolve_run("2026-01-01_11-00-00", root).name == "2026-01-01_11-00-00"
    with pytest.raises(ConfigError, match="'iris_mlp-' matches 2 runs"):
        resolve_run("iris_mlp-", root)
