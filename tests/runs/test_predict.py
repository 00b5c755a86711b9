"""`dlx predict RUN INPUT...`: images, CSV rows and .npy arrays, encoded as the run's data was."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dlx.runs.restore import restore_run
from tests.conftest import run_dirs, run_dlx, run_in_process
from tests.data.formats_csv import write_csv

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runs-predict")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("predict")
    done = run_in_process("train", "model=mlp", "trainer.max_epochs=10", "trainer.progress=false", cwd=work)
    assert done.returncode == 0, done.stderr
    return work


def raw_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images[:n] / 16.0).astype(np.float32)[:, None], bunch.target[:n]  # (n, 1, 8, 8) in [0, 1]


def test_npy_predictions_are_the_models_and_mostly_right(digits_run: Path):
    x, y = raw_digits(20)
    np.save(digits_run / "batch.npy", x)
    out = run_dlx("predict", "latest", "batch.npy", "--json", cwd=digits_run)  # the installed command
    assert out.returncode == 0, out.stderr
    predictions = json.loads(out.stdout)
    assert [p["input"] for p in predictions] == [f"batch.npy[{i}]" for i in range(20)]
    assert all(sum(p["probabilities"].values()) == pytest.approx(1, abs=1e-5) for p in predictions)
    run = restore_run(run_dirs(digits_run / "runs")[0])
    with torch.no_grad():
        expected = run.net(run.normalizer(torch.as_tensor(x))).argmax(1).tolist()
    assert [int(p["class"]) for p in predictions] == expected, "normalized with the run's saved statistics"
    assert np.mean(np.array(expected) == y) >= 0.8


def test_an_image_file_is_resized_and_predicted_like_the_array(digits_run: Path):
    from PIL import Image

    x, _ = raw_digits(5)
    arrays, images = [], []
    for i in range(5):
        big = Image.fromarray((x[i, 0] * 255).round().astype(np.uint8)).resize((32, 32), Image.Resampling.NEAREST)
        big.save(digits_run / f"digit{i}.png")  # 32x32: predict resizes it to the run's 8x8
        images.append(f"digit{i}.png")
        np.save(digits_run / f"digit{i}.npy", x[i])  # one sample: shape (1, 8, 8)
        arrays.append(f"digit{i}.npy")
    by_image = json.loads(run_in_process("predict", "latest", *images, "--json", cwd=digits_run).stdout)
    by_array = json.loads(run_in_process("predict", "latest", *arrays, "--json", cwd=digits_run).stdout)
    agree = [a["class"] == b["class"] for a, b in zip(by_image, by_array, strict=True)]
    assert sum(agree) >= 4, (by_image, by_array)


def test_csv_rows_are_encoded_with_the_training_columns(tmp_path: Path):
    table = write_csv(tmp_path / "t.csv", rows=150)
    done = run_in_process(
        "train", "data=csv", f"data.path={table}", "data.target=label", "model=mlp", "trainer.max_epochs=40",
        "trainer.progress=false", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = write_csv(tmp_path / "new.csv", rows=30, seed=7)  # same rule, other rows, with gaps and NA colours
    out = run_in_process("predict", "latest", str(new), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    predictions = json.loads(out.stdout)
    import csv

    with open(new) as f:
        truth = [r["label"] for r in csv.DictReader(f)]
    assert len(predictions) == 30 and predictions[0]["input"].endswith("new.csv:row 1")
    assert np.mean([p["class"] == t for p, t in zip(predictions, truth, strict=True)]) >= 0.7

    # a colour training never saw has no one-hot code the model knows: refused, naming the line and the value
    (tmp_path / "unseen.csv").write_text(new.read_text().replace(",red,", ",purple,", 1))
    out = run_in_process("predict", "latest", str(tmp_path / "unseen.csv"), cwd=tmp_path)
    line = next(i for i, row in enumerate(new.read_text().splitlines(), start=1) if ",red," in row)
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert f"unseen.csv:line {line}: column 'colour' holds 'purple', a category the run never saw" in out.stderr
    (tmp_path / "empty.csv").write_bytes(b"")
    out = run_in_process("predict", "latest", str(tmp_path / "empty.csv"), cwd=tmp_path)
    assert out.returncode == 2 and "empty.csv: is empty; expected a header row with columns id, x1" in out.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("wrong.npy", np.zeros((3, 4)), "has shape (3, 4); the run's model takes (1, 8, 8)"),
        ("none.npy", np.zeros((0, 1, 8, 8)), "none.npy: holds no samples (shape (0, 1, 8, 8))"),
        ("nan.npy", np.stack([np.zeros((1, 8, 8)), np.full((1, 8, 8), np.nan)]), "nan.npy[1]: holds NaN or inf"),
        ("inf.npy", np.full((1, 8, 8), np.inf), "inf.npy[0]: holds NaN or inf; the model takes finite numbers"),
        ("notes.txt", b"hi", "unknown input type '.txt'"),
        ("rows.csv", b"a,b\n1,2\n", "is a table, but the run's model takes samples of shape"),
        ("bad.png", b"not a png", "bad.png: cannot be read as an image: PIL cannot identify it as an image file"),
    ],
)
def test_wrong_inputs_are_one_line_exit_2(name, content, message, tmp_path, digits_run, monkeypatch, capsys):
    from dlx.runs.predict import main  # in-process: the same entry point the CLI dispatches to

    given = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(given, content)
    else:
        given.write_bytes(content)
    monkeypatch.chdir(digits_run)
    assert main(["latest", str(given)]) == 2
    out = capsys.readouterr()
    assert message in out.err and len(out.err.strip().splitlines()) == 1 and out.out == "", out.err


@pytest.mark.parametrize("top", ["0", "-1", "two"])
def test_top_takes_a_count_of_one_or_more_in_one_line(top, digits_run, monkeypatch, capsys):
    from dlx.runs.predict import main

    with pytest.raises(SystemExit) as stop:
        main(["latest", "x.npy", "--top", top])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1, err
    assert err[0].startswith("dlx predict: error: argument --top: got ") and "expected an integer >= 1" in err[0]
