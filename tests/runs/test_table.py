"""`dlx runs`: every run (multirun jobs too), newest first; --where filters, --sort sorts, --json for scripts."""

import json
from pathlib import Path

import pytest
import yaml

from dlx.runs.table import main
from tests.runs.fake_runs import write_run, write_sweep


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root / "cnn-digits" / "2026-01-01_10-00-00", [], minute=0, test_acc=0.95)
    write_run(root / "mlp-digits" / "2026-01-01_11-00-00", ["model=mlp", "optim.lr=0.01"], minute=1, test_acc=0.90)
    write_run(root / "mlp-iris" / "2026-01-01_12-00-00", ["data=iris", "model=mlp"], minute=2, test_acc=0.97)
    write_run(
        root / "mlp-digits" / "2026-01-01_13-00-00",
        ["model=mlp", "optim.lr=0.5"],
        minute=3,
        status="failed",
        message="FloatingPointError: loss is nan",
    )
    write_run(root / "cnn-digits" / "2026-01-01_14-00-00", ["reg=[l2,dropout]"], minute=4, test_acc=0.93)
    return root


def listed(capsys, root: Path, *args: str) -> list[dict]:
    assert main(["--runs-dir", str(root), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def names(rows: list[dict]) -> list[str]:
    return [r["run"] for r in rows]


def test_every_run_newest_first_with_its_report(capsys, runs: Path):
    rows = listed(capsys, runs)
    assert names(rows) == [
        "cnn-digits/2026-01-01_14-00-00",
        "mlp-digits/2026-01-01_13-00-00",
        "mlp-iris/2026-01-01_12-00-00",
        "mlp-digits/2026-01-01_11-00-00",
        "cnn-digits/2026-01-01_10-00-00",
    ]
    for row in rows:
        report_file = Path(row["run_dir"]) / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
        for key in ("test_acc", "best_val_acc", "f1_macro", "wall_seconds"):
            assert row[key] == report.get(key)
    iris = rows[2]
    assert (iris["data"], iris["model"], iris["status"], iris["name"]) == ("iris", "mlp", "completed", "mlp-iris")
    assert iris["overrides"] == ["data=iris", "model=mlp"]
    assert rows[1]["status"] == "failed" and rows[1]["message"] == "FloatingPointError: loss is nan"
    assert rows[1]["test_acc"] is None


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (["model=mlp"], ["13", "12", "11"]),
        (["data=iris"], ["12"]),
        (["model._target_=dlx.model.cnn.cnn"], ["14", "10"]),
        (["optim.lr=0.01"], ["11"]),
        (["optim.lr=1e-2"], ["11"]),  # numbers compare as numbers
        (["status=failed"], ["13"]),
        (["status=completed", "model=mlp"], ["12", "11"]),  # ANDed
        (["model=mlp", "data=digits"], ["13", "11"]),
        (["reg=l2"], ["14"]),  # a list group: runs whose reg includes l2
        (["reg=[dropout,l2]"], ["14"]),
        (["reg=none"], ["13", "12", "11", "10"]),
        (["seed=0", "data=wine"], []),
    ],
)
def test_where_filters(capsys, runs: Path, where: list[str], expected: list[str]):
    args = [a for w in where for a in ("--where", w)]
    assert [n.split("_")[1][:2] for n in names(listed(capsys, runs, *args))] == expected


def test_where_on_an_experiment_preset(capsys, runs: Path):
    """experiment=digits_resnet sets model, optim, aug and reg: they are the run's options like any other."""
    write_run(runs / "digits_resnet" / "2026-01-01_15-00-00", ["experiment=digits_resnet"], minute=5)
    preset = ["digits_resnet/2026-01-01_15-00-00"]
    for where in ("experiment=digits_resnet", "model=resnet", "optim=momentum", "aug=flip", "reg=label_smoothing"):
        assert names(listed(capsys, runs, "--where", where)) == preset, where
    assert len(listed(capsys, runs, "--where", "experiment=none")) == 5
    assert names(listed(capsys, runs, "--where", "reg=[l2,dropout]")) == ["cnn-digits/2026-01-01_14-00-00"]


def test_where_with_an_unknown_key_is_an_error_not_an_empty_list(capsys, runs: Path):
    assert main(["--runs-dir", str(runs), "--where", "optim.lrr=0.01"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dlx runs: --where: optim.lrr: no run has this key")
    assert "optim.lr" in err[0]
    assert main(["--runs-dir", str(runs), "--where", "model"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_sort_by_a_metric_descending_runs_without_it_last(capsys, monkeypatch, runs: Path):
    monkeypatch.setenv("COLUMNS", "200")  # the table's title on one line
    rows = listed(capsys, runs, "--sort", "test_acc")
    assert [r["test_acc"] for r in rows] == [0.97, 0.95, 0.93, 0.90, None]
    assert rows[-1]["status"] == "failed"
    rows = listed(capsys, runs, "--sort", "param_count", "--where", "status=completed")
    assert all(r["param_count"] == 85_002 for r in rows), "the sort metric joins the fields"
    assert main(["--runs-dir", str(runs), "--sort", "accuracy"]) == 2
    assert "accuracy: no run's report.json has this number" in capsys.readouterr().err
    assert main(["--runs-dir", str(runs), "--sort", "test_acc"]) == 0
    assert "(5, by test_acc, highest first)" in capsys.readouterr().out, "the title says the order shown"


def test_multirun_jobs_are_runs(capsys, tmp_path: Path):
    root = tmp_path / "runs"
    write_run(root / "cnn-digits" / "2026-01-01_10-00-00", [], minute=0)
    jobs = [{"overrides": ["model=mlp", f"seed={s}"], "test_acc": 0.8 + s / 100} for s in range(2)]
    write_sweep(root / "multirun" / "2026-01-02_10-00-00", jobs, minute=10)
    rows = listed(capsys, root, "--where", "seed=1")
    assert names(rows) == ["multirun/2026-01-02_10-00-00/1"]
    assert rows[0]["test_acc"] == 0.81 and rows[0]["model"] == "mlp"


def test_group_options_without_hydra_record(capsys, runs: Path):
    """Runs without .hydra/hydra.yaml: the option comes from overrides.yaml, else dlx's default."""
    for hydra in runs.rglob("hydra.yaml"):
        hydra.unlink()
    assert names(listed(capsys, runs, "--where", "data=iris")) == ["mlp-iris/2026-01-01_12-00-00"]
    rows = listed(capsys, runs, "--where", "model=cnn")
    assert names(rows) == ["cnn-digits/2026-01-01_14-00-00", "cnn-digits/2026-01-01_10-00-00"]


def test_the_table(capsys, monkeypatch, runs: Path):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "mlp-iris/2026-01-01_12-00-00" in line]
    assert len(lines) == 1 and "iris" in lines[0] and "0.9700" in lines[0] and "completed" in lines[0]
    assert out.index("cnn-digits/2026-01-01_14-00-00") < out.index("cnn-digits/2026-01-01_10-00-00")
    assert "optim.lr=0.01" in out and "reg=[l2,dropout]" in out  # [..] is text, not rich markup


def test_no_runs(capsys, tmp_path: Path):
    assert main(["--runs-dir", str(tmp_path / "runs")]) == 0
    assert "no runs under" in capsys.readouterr().out
    assert listed(capsys, tmp_path / "runs") == []


def test_runs_that_do_not_match_are_told_apart_from_no_runs(capsys, runs: Path):
    assert main(["--runs-dir", str(runs), "--where", "model=lstm"]) == 0
    assert capsys.readouterr().out.strip() == f"no runs under {runs}/ match model=lstm"


def test_a_compressed_run_without_its_own_record_has_its_parents_options(capsys, runs: Path):
    """Runs of `dlx compress` from before it wrote .hydra/hydra.yaml: the parent's options, its report's numbers."""
    parent = runs / "mlp-iris" / "2026-01-01_12-00-00"
    child = runs / "mlp-iris-prune" / "2026-01-01_15-00-00"
    child.mkdir(parents=True)
    config = yaml.safe_load((parent / "config.yaml").read_text())
    config.update(parent=str(parent.resolve()), compress={"method": "prune", "sparsity": 0.5})
    (child / "config.yaml").write_text(yaml.safe_dump(config))
    (child / "report.json").write_text(json.dumps({"parent": {"test_acc": 0.97}, "compressed": {"test_acc": 0.91}}))
    (child / "status").write_text("completed\n")
    rows = listed(capsys, runs, "--where", "data=iris")
    assert names(rows) == ["mlp-iris-prune/2026-01-01_15-00-00", "mlp-iris/2026-01-01_12-00-00"]
    assert (rows[0]["data"], rows[0]["model"], rows[0]["test_acc"]) == ("iris", "mlp", 0.91)
