"""`dlx data check`: counts what is in a data set and finds what is wrong, removing nothing."""

import json
from pathlib import Path

import numpy as np

from dlx.data.check import check_data
from dlx.data.prepare import data_option
from dlx.data.source import Source, problem
from dlx.data.splits import split_indices
from tests.conftest import run_dlx, run_in_process

SPLIT = {"val_fraction": 0.25, "test_fraction": 0.25}
PIPELINE = {"val_fraction": 0.25, "test_fraction": 0.25, "subset": None, "folds": 1, "fold": 0, "clean": "drop"}


@data_option
def dirty_table() -> Source:
    """40 rows x 3 features with planted faults; an unreadable 'file' reported through problem()."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.arange(40) % 2
    x[:, 2] = 7.0  # a constant feature
    x[5, 0] = np.nan
    x[6, 1] = np.inf
    x[1], y[1] = x[0], y[0]  # an exact duplicate pair ...
    x[3], y[3] = x[2], 1 - y[2]  # ... and the same sample with two labels
    problem("rows/41.bin", "cannot read: truncated")
    return Source(x, y, ["even", "odd"], "dirty", feature_names=["a", "b", "c"])


def test_check_counts_every_planted_fault_and_lists_unreadable_input():
    node = {"_target_": "tests.data.test_check.dirty_table", **PIPELINE}
    f = check_data(node, seed=0, name="dirty")
    assert f["samples"] == 40 and f["sample_shape"] == [3] and f["x_dtype"] == "float32"
    assert {s: v["samples"] for s, v in f["splits"].items()} == {"train": 20, "val": 10, "test": 10}
    assert np.sum([v["class_counts"] for v in f["splits"].values()], axis=0).tolist() == [21, 19]  # y[1] became 0
    assert sum(v["samples"] for v in f["nonfinite"].values()) == 2
    assert f["constant_features"]["count"] == 1 and f["constant_features"]["first"] == ["c"]
    y = np.arange(40) % 2
    y[1] = 0
    split_of = {int(i): s for s, idx in split_indices(y, {}, seed=0, **SPLIT).items() for i in idx}
    dup = f["duplicates"]
    if split_of[0] == split_of[1]:  # the exact pair: a repeat within its split, or a leak across
        assert dup["within"][split_of[0]] == 1
    else:
        assert sum(dup["across"].values()) >= 1
    if split_of[2] == split_of[3]:  # the same features with two labels
        assert dup["conflicting_labels"][split_of[2]] == 1
    assert sum(dup["within"].values()) == int(split_of[0] == split_of[1])
    assert f["unreadable"] == [{"where": "rows/41.bin", "problem": "cannot read: truncated"}]
    assert any("rows/41.bin" in p for p in f["problems"])
    assert any("NaN or inf" in p for p in f["problems"]) and any("constant features: c" in p for p in f["problems"])


def test_check_removes_nothing_and_matches_what_training_drops():
    """The same loader and split as training: what check calls leakage is what clean=drop removes."""
    from dlx.data.tables import iris

    node = {"_target_": "dlx.data.tables.iris", **PIPELINE, "val_fraction": 0.15, "test_fraction": 0.15}
    f = check_data(node, seed=0, name="iris")
    assert f["duplicates"]["across"]["test_equal_to_train_or_val"] == 1
    assert sum(v["samples"] for v in f["splits"].values()) == 150, "nothing removed"
    trained = iris(seed=0, clean="drop", val_fraction=0.15, test_fraction=0.15)
    assert trained.info["clean"]["removed"]["test_equal_to_train_or_val"]["test"] == 1


def test_cli_writes_json_and_strict_fails_only_on_problems(workdir: Path):
    leaky = run_dlx("data", "check", "data=iris", "--strict", cwd=workdir)
    assert leaky.returncode == 1, leaky.stderr
    assert "leakage: 1 samples test equal to train or val" in leaky.stdout
    found = json.loads((workdir / "data_check.json").read_text())
    assert found["splits"]["train"]["class_counts"] == [34, 35, 35]
    healthy = run_in_process("data", "check", "data=wine", "--strict", "--out", "wine.json", cwd=workdir)
    assert healthy.returncode == 0 and "no problems found" in healthy.stdout
    assert json.loads((workdir / "wine.json").read_text())["problems"] == []
    lenient = run_in_process("data", "check", "data=iris", cwd=workdir)
    assert lenient.returncode == 0, "without --strict, problems are reported, not failed on"
    nested = run_in_process("data", "check", "data=wine", "--out", "checks/wine/x.json", cwd=workdir)
    assert nested.returncode == 0 and json.loads((workdir / "checks" / "wine" / "x.json").read_text())["splits"]
    (workdir / "a_file").write_text("")
    blocked = run_in_process("data", "check", "data=wine", "--out", "a_file/x.json", cwd=workdir)
    assert blocked.returncode == 2 and blocked.stdout == "", blocked.stdout
    assert blocked.stderr.strip().splitlines() == ["dlx data check: --out: cannot make the folder a_file: File exists"]


def test_cli_bad_config_is_one_line_and_exit_2(workdir: Path):
    result = run_dlx("data", "check", "data=nope", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dlx data check: config error: data: unknown option 'nope'; valid options: "
        + result.stderr.split(": ")[-1].strip()
    ]
    assert not (workdir / "data_check.json").exists()


def test_check_lists_unreadable_images_with_their_paths_and_still_counts_the_rest(tmp_path: Path):
    from tests.data.formats_image import write_image_folder

    bad = write_image_folder(tmp_path / "images", per_class=6, corrupt=True)
    node = {"_target_": "dlx.data.image_folder.image_folder", "root": str(tmp_path / "images"), "size": [8, 8]}
    f = check_data({**node, **PIPELINE}, seed=0, name="image_folder")
    assert sorted(p["where"] for p in f["unreadable"]) == sorted(str(p) for p in bad)
    assert f["samples"] == 3 * 6 and f["sample_shape"] == [3, 8, 8]
    assert all(str(p) in " ".join(f["problems"]) for p in bad)


def test_check_on_a_csv_lists_its_bad_rows(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("x,colour,label\n1,red,a\n2,blue,b\nabc,red,a\n4,red\n" + "5,blue,b\n6,red,a\n" * 4)
    node = {"_target_": "dlx.data.csv_file.csv", "path": str(path), "target": "label", **PIPELINE}
    f = check_data(node, seed=0, name="csv")
    wheres = [p["where"] for p in f["unreadable"]]
    assert sorted(wheres) == [f"{path}:line 4", f"{path}:line 5"], f["unreadable"]
    assert f["samples"] == 10 and f["sample_shape"] == [3]
