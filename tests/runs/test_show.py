"""`dlx show RUN`: path and status, what differs from the defaults, the final metrics, the files."""

from pathlib import Path

import pytest

from dlx.runs.show import MISSING, differences, main
from dlx.runs.table import load_run
from tests.runs.fake_runs import write_run


@pytest.fixture
def runs(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("COLUMNS", "160")
    root = tmp_path / "runs"
    write_run(root / "mlp-digits" / "2026-01-01_10-00-00", ["model=mlp", "optim.lr=0.01", "seed=3"], minute=0)
    write_run(
        root / "cnn-digits" / "2026-01-01_11-00-00",
        ["reg=[l2]", "reg.l2.strength=0.01"],
        minute=1,
        status="failed",
        message="RuntimeError: out of memory",
        epochs=2,
    )
    return root


def test_differences_are_against_the_runs_own_group_options(runs: Path):
    run = load_run(runs / "mlp-digits" / "2026-01-01_10-00-00", runs)
    rows, note = differences(run)
    by_key = {key: (default, mine) for key, default, mine in rows}
    assert by_key["model"] == ("cnn", "mlp")
    assert by_key["optim.lr"] == (0.002, 0.01)
    assert by_key["seed"] == (0, 3)
    assert set(by_key) == {"model", "optim.lr", "seed"}, "model.width etc. are mlp's defaults: not listed"
    assert "this run's group options" in note


def test_a_list_group_and_its_key(runs: Path):
    rows, _ = differences(load_run(runs / "cnn-digits" / "2026-01-01_11-00-00", runs))
    assert {key: (default, mine) for key, default, mine in rows} == {
        "reg": ("none", "l2"),
        "reg.l2.strength": (0.0005, 0.01),
    }


def test_a_key_the_defaults_no_longer_have(runs: Path):
    run = load_run(runs / "mlp-digits" / "2026-01-01_10-00-00", runs)
    run.config["optim"]["old_knob"] = 1
    del run.config["model"]["width"]
    by_key = {key: (default, mine) for key, default, mine in differences(run)[0]}
    assert by_key["optim.old_knob"] == (MISSING, 1)
    assert by_key["model.width"][1] is MISSING


def test_show_prints_status_differences_metrics_and_files(capsys, runs: Path):
    assert main(["mlp-digits", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "mlp-digits/2026-01-01_10-00-00" in out and "completed" in out
    assert "optim.lr" in out and "0.002" in out and "0.01" in out
    assert "test_acc" in out and "0.9000" in out and "85,002" in out  # report.json
    assert "checkpoints/best.ckpt" in out and "1.5 KB" in out and "metrics.csv" in out  # files with sizes
    assert "per_class" not in out and "confusion_matrix" not in out


def test_a_failed_run_shows_its_error_and_no_report(capsys, runs: Path):
    assert main(["2026-01-01_11", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "failed: RuntimeError: out of memory" in out
    assert "no report: the run did not finish" in out
    assert "epoch 1" in out, "the last row of metrics.csv stands in for the report"
    assert "reg.l2.strength" in out


@pytest.mark.parametrize(("spec", "message"), [("nope", "no run named 'nope'"), ("2026-01-01", "matches 2 runs")])
def test_an_unknown_or_ambiguous_run_is_one_line_and_exit_2(capsys, runs: Path, spec: str, message: str):
    assert main([spec, "--runs-dir", str(runs)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("dlx show: RUN: ") and message in line
    if spec == "2026-01-01":
        assert "mlp-digits/2026-01-01_10-00-00" in line and "cnn-digits/2026-01-01_11-00-00" in line
