"""`dlx compare`: differing config keys and metrics side by side, learning curves in one PNG; a sweep as
mean ± std per setting (seed and data.fold averaged over)."""

import csv
import statistics
import struct
from pathlib import Path

import pytest

from dlx.runs.compare import best_indices, config_rows, direction, main, metric_names
from dlx.runs.table import load_run
from tests.runs.fake_runs import write_run, write_sweep


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def runs(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    write_run(root / "mlp-digits" / "2026-01-01_10-00-00", ["model=mlp", "optim.lr=0.01"], minute=0, test_acc=0.91)
    write_run(
        root / "mlp-digits" / "2026-01-01_11-00-00",
        ["model=mlp", "optim.lr=0.001", "seed=1"],
        minute=1,
        test_acc=0.85,
        epochs=5,
        extra_report={"calibration_ece": 0.04},  # a key added to report.json later: shown too
    )
    write_run(root / "cnn-digits" / "2026-01-01_12-00-00", [], minute=2, metrics=False)
    return root


def test_only_the_differing_keys(runs: Path):
    a, b = (load_run(p, runs) for p in sorted((runs / "mlp-digits").iterdir()))
    assert config_rows([a, b]) == [("seed", [0, 1]), ("optim.lr", [0.01, 0.001])]
    assert "calibration_ece" in metric_names([a, b]) and "per_class" not in metric_names([a, b])


def test_the_best_value_is_the_highest_accuracy_or_the_lowest_loss():
    assert direction("test_acc") == 1 and direction("f1_macro") == 1
    assert direction("test_loss") == -1 and direction("wall_seconds") == -1 and direction("checkpoint_bytes") == -1
    assert direction("best_epoch") == 0
    assert best_indices([0.8, 0.9, None], 1) == {1}
    assert best_indices([0.8, 0.9, 0.7], -1) == {2}
    assert best_indices([0.9, 0.9, 0.7], 1) == {0, 1}
    assert best_indices([0.9, 0.9], 1) == set(), "all equal: nothing stands out"
    assert best_indices([3.0, 5.0], 0) == set()


def test_two_runs_side_by_side_and_one_png(capsys, runs: Path):
    out_png = runs.parent / "curves.png"
    assert main(["2026-01-01_10", "2026-01-01_11", "--out", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "optim.lr" in out and "0.001" in out and "seed" in out
    assert "model._target_" not in out, "equal keys are left out"
    assert "0.9100" in out and "0.8500" in out and "calibration_ece" in out
    assert f"learning curves of 2 runs: {out_png}" in out
    width, height = png_size(out_png)
    assert width > 800 and height > 300 and out_png.stat().st_size > 20_000


def test_the_default_png_is_compare_png_in_the_current_directory(capsys, runs: Path):
    assert main(["2026-01-01_10", "2026-01-01_11"]) == 0
    assert png_size(Path("compare.png"))


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["2026-01-01_10", "2026-01-01_12"], "cnn-digits/2026-01-01_12-00-00: no metrics.csv"),
        (["2026-01-01_10", "2026-01-01"], "matches 3 runs"),
        (["2026-01-01_10", "nope"], "no run named 'nope'"),
        (["2026-01-01_10"], "give two or more runs"),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(capsys, runs: Path, specs: list[str], message: str):
    assert main([*specs, "--out", "out.png"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("dlx compare: ") and message in line
    assert captured.out == "" and not Path("out.png").exists()


# ---- a sweep


def sweep_jobs() -> list[dict]:
    """lr 0.01 over 3 seeds, lr 0.1 over 2, lr 1.0 once, and a job that failed."""
    jobs = []
    for lr, accs in (("0.01", [0.90, 0.92, 0.97]), ("0.1", [0.80, 0.86]), ("1.0", [0.5])):
        for seed, acc in enumerate(accs):
            jobs.append({"overrides": ["model=mlp", f"optim.lr={lr}", f"seed={seed}"], "test_acc": acc})
    jobs.append({"overrides": ["model=mlp", "optim.lr=9.0", "seed=0"], "status": "failed", "message": "nan"})
    return jobs


def test_a_sweep_as_mean_and_std_per_setting(capsys, runs: Path):
    sweep = write_sweep(runs / "multirun" / "2026-01-02_10-00-00", sweep_jobs(), minute=10)
    assert main([str(sweep), "--out", "sweep.png"]) == 0
    out = capsys.readouterr().out
    with open("sweep.csv") as f:
        rows = {r["setting"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["optim.lr=0.01", "optim.lr=0.1", "optim.lr=1.0"], "model=mlp is common: not a swept value"
    for setting, accs in (("optim.lr=0.01", [0.90, 0.92, 0.97]), ("optim.lr=0.1", [0.80, 0.86])):
        row = rows[setting]
        assert int(row["jobs"]) == len(accs)
        assert float(row["test_acc_mean"]) == pytest.approx(statistics.fmean(accs))
        assert float(row["test_acc_std"]) == pytest.approx(statistics.stdev(accs))
        f1 = [a - 0.03 for a in accs]  # fake_runs.report: f1_macro = test_acc - 0.03
        assert float(row["f1_macro_mean"]) == pytest.approx(statistics.fmean(f1))
    single = rows["optim.lr=1.0"]
    assert (single["jobs"], float(single["test_acc_mean"]), single["test_acc_std"]) == ("1", 0.5, "")
    assert rows["optim.lr=0.1"]["job_dirs"] == "3 4"
    assert "0.9300 ± 0.0361" in out and "left out: 1 job(s)" in out and "6 (failed)" in out
    assert png_size(Path("sweep.png"))[0] > 800


def test_a_sweep_given_by_its_path_under_runs(capsys, runs: Path):
    write_sweep(runs / "multirun" / "2026-01-02_10-00-00", sweep_jobs()[:2], minute=10)
    assert main(["multirun/2026-01-02_10-00-00", "--runs-dir", str(runs)]) == 0
    assert Path("compare.png").is_file() and Path("compare.csv").is_file()
    rows = list(csv.DictReader(open("compare.csv")))
    assert [(r["setting"], r["jobs"]) for r in rows] == [("(all jobs)", "2")], "only seeds differ: one setting"


def test_a_sweep_with_no_completed_job(capsys, runs: Path):
    sweep = write_sweep(runs / "multirun" / "2026-01-02_10-00-00", sweep_jobs()[-1:], minute=10)
    assert main([str(sweep)]) == 2
    assert "no job completed" in capsys.readouterr().err and not Path("compare.png").exists()


def test_a_completed_job_without_report_is_left_out_not_averaged(capsys, runs: Path):
    sweep = write_sweep(runs / "multirun" / "2026-01-02_10-00-00", sweep_jobs()[:3], minute=10)
    (sweep / "2" / "report.json").unlink()
    assert main([str(sweep)]) == 0
    (row,) = csv.DictReader(open("compare.csv"))
    assert row["jobs"] == "2" and float(row["test_acc_mean"]) == pytest.approx(0.91)
    assert "2 (completed, no report.json)" in capsys.readouterr().out


def test_a_sweep_keeps_its_swept_value_when_one_job_is_left_and_takes_runs_without_validation(capsys, runs: Path):
    no_val = {"best_val_acc": None, "best_epoch": None}  # what a run with trainer.limit_val_batches=0 reports
    jobs = [
        {"overrides": ["model=mlp", "seed=1"], "test_acc": 0.90, "extra_report": no_val},
        {"overrides": ["model=mlp", "seed=2"], "test_acc": 0.94, "extra_report": no_val},
        {"overrides": ["model=cnn", "seed=1"], "status": "failed", "message": "too small"},
    ]
    sweep = write_sweep(runs / "multirun" / "2026-01-02_10-00-00", jobs, minute=10)
    assert main([str(sweep)]) == 0
    (row,) = csv.DictReader(open("compare.csv"))
    assert row["setting"] == "model=mlp", "the failed job's model=cnn was swept too"
    assert row["jobs"] == "2" and float(row["test_acc_mean"]) == pytest.approx(0.92)
    assert row["best_val_acc_mean"] == "" and row["best_val_acc_std"] == ""
    assert "2 (failed)" in capsys.readouterr().out
