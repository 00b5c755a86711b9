"""data=csv: a user's table read into features, classes and an encoding; bad input named by file and line."""

import math
from pathlib import Path

import numpy as np
import pytest

from dlx.config.errors import ConfigError
from dlx.data.csv_file import csv
from dlx.data.source import collect_problems
from tests.conftest import build, run_dirs, run_in_process
from tests.data.formats_csv import SMOKE_FILES, read_back, write_csv

read_source = csv.__wrapped__  # the loader alone, before splitting, cleaning and normalizing


def missing(value: str) -> bool:
    return value in ("", "?", "NA")


def column(dm, split: str, name: str) -> np.ndarray:
    return dm.splits[split][0][:, dm.feature_names.index(name)].numpy()


def test_numeric_columns_are_features_and_categorical_ones_are_one_hot(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv")
    rows = read_back(path)
    source = read_source(path=str(path), target="label")
    assert source.x.shape == (60, 6) and source.x.dtype == np.float32 and source.y.dtype == np.int64
    assert source.feature_names == ["id", "x1", "x2", "colour=blue", "colour=green", "colour=red"]
    assert source.class_names == ["a", "b", "c"]
    assert [source.class_names[k] for k in source.y] == [r["label"] for r in rows]
    x2_missing = np.array([missing(r["x2"]) for r in rows])
    assert x2_missing.sum() == 9 and np.array_equal(np.isnan(source.x[:, 2]), x2_missing)
    assert np.allclose(source.x[~x2_missing, 2], [float(r["x2"]) for r in rows if not missing(r["x2"])])
    assert not np.isnan(source.x[:, [0, 1, 3, 4, 5]]).any()
    onehot = source.x[:, 3:]
    for r, bits in zip(rows, onehot, strict=True):
        expected = (
            [0.0, 0.0, 0.0] if missing(r["colour"]) else [float(r["colour"] == c) for c in ("blue", "green", "red")]
        )
        assert bits.tolist() == expected


def test_numeric_labels_sort_numerically_and_show_as_written(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv", labels={"a": "10", "b": "2", "c": "1.5"})
    source = read_source(path=str(path), target="label")
    assert source.class_names == ["1.5", "2", "10"]
    assert [source.class_names[k] for k in source.y] == [r["label"] for r in read_back(path)]


def test_features_select_columns_in_order_and_categorical_can_be_listed(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv", with_missing=False)
    source = read_source(path=str(path), target="label", features=["colour", "x1"])
    assert source.feature_names == ["colour=blue", "colour=green", "colour=red", "x1"]
    assert np.allclose(source.x[:, 3], [float(r["x1"]) for r in read_back(path)])
    table = tmp_path / "grades.csv"
    table.write_text("grade;score;label\n10;1.5;yes\n9;2.5;no\n10;3;no\n")
    source = read_source(path=str(table), target="label", categorical=["grade"], delimiter=";")
    assert source.feature_names == ["grade=9", "grade=10", "score"]  # numeric categories sort as numbers
    assert source.x.tolist() == [[0, 1, 1.5], [1, 0, 2.5], [0, 1, 3]] and source.class_names == ["no", "yes"]


def test_encoding_records_what_predict_needs(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv")
    dm = csv(path=str(path), target="label", clean="impute", seed=0)
    assert dm.encoding["columns"] == ["id", "x1", "x2", "colour"]
    assert dm.encoding["categories"] == {"colour": ["blue", "green", "red"]}
    assert dm.encoding["feature_names"] == dm.feature_names and dm.encoding["target"] == "label"
    assert set(dm.encoding["missing"]) == {"", "NA", "N/A", "NaN", "nan", "null", "?"}


def test_impute_fills_every_split_with_the_training_median(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv")
    rows = read_back(path)
    dm = csv(path=str(path), target="label", clean="impute", normalize="none", seed=0)
    train_ids = column(dm, "train", "id").astype(int)
    median = np.median([float(rows[i]["x2"]) for i in train_ids if not missing(rows[i]["x2"])])
    filled = 0
    for split in ("train", "val", "test"):
        for i, value in zip(column(dm, split, "id").astype(int), column(dm, split, "x2"), strict=True):
            expected = median if missing(rows[i]["x2"]) else float(rows[i]["x2"])
            assert value == pytest.approx(expected, abs=1e-6)
            filled += missing(rows[i]["x2"])
    assert filled == 9 == sum(dm.info["clean"]["imputed_values"].values())


def test_drop_removes_exactly_the_rows_with_missing_numbers(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv")
    dm = csv(path=str(path), target="label", clean="drop", seed=0)
    assert sum(dm.info["clean"]["removed"]["nonfinite"].values()) == 9
    assert set(dm.info["clean"]["removed"]) == {"nonfinite"}
    assert sum(dm.info["sizes"].values()) == 51


def test_clean_none_with_missing_values_names_the_column(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv")
    with pytest.raises(ConfigError, match=r"column 'x2'.*data.clean=drop"):
        csv(path=str(path), target="label", clean="none", seed=0)


def test_normalization_statistics_come_from_the_training_rows_only(tmp_path: Path):
    path = write_csv(tmp_path / "t.csv", with_missing=False)
    rows = read_back(path)
    raw = csv(path=str(path), target="label", normalize="none", seed=3)
    dm = csv(path=str(path), target="label", normalize="standard", seed=3)
    train = [rows[i] for i in column(raw, "train", "id").astype(int)]
    expected = np.array(
        [
            [
                float(r["id"]),
                float(r["x1"]),
                float(r["x2"]),
                *(float(r["colour"] == c) for c in ("blue", "green", "red")),
            ]
            for r in train
        ]
    )
    assert np.allclose(dm.normalizer.shift.numpy(), expected.mean(0), atol=1e-5)
    assert np.allclose(dm.normalizer.scale.numpy(), expected.std(0), atol=1e-5)
    assert not math.isclose(dm.normalizer.shift[1], np.mean([float(r["x1"]) for r in rows]), abs_tol=1e-4)
    assert np.allclose(
        dm.splits["val"][0].numpy() * expected.std(0) + expected.mean(0), raw.splits["val"][0], atol=1e-4
    )


def with_lines(tmp_path: Path, edit) -> Path:
    """The standard table with its text lines (0 = header) changed by edit(lines)."""
    path = write_csv(tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def set_cell(lines: list[str], line: int, cell: int, value: str) -> None:
    cells = lines[line - 1].split(",")
    cells[cell] = value
    lines[line - 1] = ",".join(cells)


@pytest.mark.parametrize(
    ("edit", "target", "match"),
    [
        (lambda lines: lines.clear(), "label", r"t\.csv: is empty or has no header"),
        (
            lambda lines: None,
            "species",
            r"data\.target: no column 'species' in .*t\.csv; its columns: id, x1, x2, colour",
        ),
        (
            lambda lines: set_cell(lines, 6, 1, "abc"),
            "label",
            r"t\.csv:line 6: column 'x1' holds 'abc'.*data\.categorical",
        ),
        (
            lambda lines: lines.__setitem__(8, lines[8] + ",extra"),
            "label",
            r"t\.csv:line 9: has 6 fields, the header has 5",
        ),
        (lambda lines: set_cell(lines, 12, 4, ""), "label", r"t\.csv:line 12: no class in the target column 'label'"),
    ],
    ids=["empty", "no-target-column", "text-in-numbers", "field-count", "missing-target"],
)
def test_bad_input_names_the_file_and_the_line_or_column(tmp_path: Path, edit, target, match):
    path = with_lines(tmp_path, edit)
    with pytest.raises(ConfigError, match=match):
        csv(path=str(path), target=target, seed=0)


def test_missing_file_and_listed_columns_are_named(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"data\.path: no file '.*nope\.csv'"):
        read_source(path=str(tmp_path / "nope.csv"), target="label")
    path = write_csv(tmp_path / "t.csv")
    with pytest.raises(ConfigError, match=r"data\.features: 'age' is not a column of .*t\.csv"):
        read_source(path=str(path), target="label", features=["x1", "age"])
    with pytest.raises(ConfigError, match=r"data\.categorical: 'x9' is not a feature column"):
        read_source(path=str(path), target="label", categorical=["x9"])
    with pytest.raises(ConfigError, match=r"column 'colour' holds 'red'.*data\.categorical"):
        read_source(path=str(path), target="label", categorical=[])  # [] turns detection off
    one_class = tmp_path / "one.csv"
    one_class.write_text("x,label\n1,a\n2,a\n")
    with pytest.raises(ConfigError, match=r"data\.target: column 'label' of .*one\.csv holds the classes \['a'\]"):
        read_source(path=str(one_class), target="label")


def test_collect_problems_lists_the_bad_rows_and_loads_the_rest(tmp_path: Path):
    def edit(lines):
        set_cell(lines, 6, 1, "abc")
        set_cell(lines, 12, 4, "")
        lines[8] += ",extra"

    path = with_lines(tmp_path, edit)
    with collect_problems() as found:
        dm = csv(path=str(path), target="label", clean="impute", seed=0)
    assert [p["where"] for p in found] == [f"{path}:line 9", f"{path}:line 6", f"{path}:line 12"]
    assert sum(dm.info["sizes"].values()) == 57


def test_unset_path_is_a_config_error_naming_the_key(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"^data\.path: is required"):
        build(["data=csv", "model=mlp"], tmp_path / "run")


def test_dlx_train_on_a_csv_and_a_missing_target_column(workdir: Path):
    overrides = SMOKE_FILES["csv"](workdir)
    done = run_in_process("train", "data=csv", *overrides, "trainer=smoke", "runs_dir=runs", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (run,) = run_dirs(workdir / "runs")
    assert (run / "status").read_text().startswith("completed")

    bad = [o if o != "data.target=label" else "data.target=species" for o in overrides]
    failed = run_in_process("train", "data=csv", *bad, "trainer=smoke", "runs_dir=bad_runs", cwd=workdir)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and "no column 'species'" in failed.stderr
    assert not (workdir / "bad_runs").exists()


def european(path: Path, source: Path) -> Path:
    """The same table as a spreadsheet in a decimal-comma locale writes it: ';' between cells, 0,5 for 0.5."""
    lines = source.read_text().splitlines()
    path.write_text("\n".join(line.replace(",", ";").replace(".", ",") for line in lines) + "\n")
    return path


def test_numbers_with_decimal_commas_read_as_numbers_with_decimal_comma_and_are_named_without(tmp_path: Path):
    plain = write_csv(tmp_path / "t.csv")
    semi = european(tmp_path / "semi.csv", plain)
    by_point = read_source(path=str(plain), target="label")
    by_comma = read_source(path=str(semi), target="label", delimiter=";", decimal=",")
    assert by_comma.feature_names == by_point.feature_names, "x1 and x2 stay one numeric feature each"
    assert np.array_equal(np.isnan(by_comma.x), np.isnan(by_point.x))
    assert np.allclose(np.nan_to_num(by_comma.x), np.nan_to_num(by_point.x))
    with pytest.raises(ConfigError, match=r"data.decimal: column 'x1' of .*semi.csv holds numbers with decimal "
                                          r"commas \('.*'\); set data.decimal=','"):  # fmt: skip
        read_source(path=str(semi), target="label", delimiter=";")
    with pytest.raises(ConfigError, match="data.decimal: got ';'; use '.' or ','"):
        read_source(path=str(semi), target="label", delimiter=";", decimal=";")


def test_predict_reads_new_rows_with_the_runs_delimiter_and_decimal_comma(tmp_path: Path):
    import json

    semi = european(tmp_path / "semi.csv", write_csv(tmp_path / "t.csv", rows=150))
    done = run_in_process(
        "train", "data=csv", f"data.path={semi}", "data.target=label", 'data.delimiter=";"', 'data.decimal=","',
        "model=mlp", "trainer.max_epochs=30", "trainer.progress=false", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = european(tmp_path / "new.csv", write_csv(tmp_path / "n.csv", rows=30, seed=7))
    out = run_in_process("predict", "latest", str(new), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    truth = [line.split(";")[-1] for line in new.read_text().splitlines()[1:]]
    predicted = [p["class"] for p in json.loads(out.stdout)]
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) >= 0.7


def test_a_measured_target_is_refused_as_no_class_label(tmp_path: Path):
    table = tmp_path / "m.csv"
    table.write_text("x,y\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(40)))
    with pytest.raises(ConfigError, match=r"data.target: column 'y' of .*m.csv holds numbers with fractions \(0.37, "
                                          r"40 distinct values in 40 rows\); dlx trains classifiers"):  # fmt: skip
        read_source(path=str(table), target="y")
