"""dlx ensemble: several runs of one split as one model, against each member."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runs-ensemble")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> tuple[Path, list[Path]]:
    """Five seeds of a small MLP on one split (data_seed=0), 3 epochs each."""
    work = tmp_path_factory.mktemp("ensemble")
    done = run_in_process("train", "-m", "model=mlp", "model.width=64", "trainer.max_epochs=3", "seed=0,1,2,3,4",
                          "data_seed=0", "trainer.progress=false", cwd=work)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [sweep] = (work / "runs" / "multirun").iterdir()
    return work, [sweep / str(i) for i in range(5)]


@pytest.mark.parametrize("method", ["mean_prob", "vote"])
def test_the_ensemble_is_at_least_as_accurate_as_its_mean_member(seeds, method):
    work, members = seeds
    done = run_in_process("ensemble", *map(str, members), f"method={method}", cwd=work)
    assert done.returncode == 0, done.stderr
    [out] = sorted((work / "runs" / "ensembles").glob("*/ensemble.json"))[-1:]
    result = json.loads(out.read_text())
    accs = [json.loads((m / "report.json").read_text())["test_acc"] for m in members]
    # each member measured again here is what its own run measured: the same split, the same normalization
    assert [r["test_acc"] for r in result["members"]] == pytest.approx(accs)
    assert result["samples"] == json.loads((members[0] / "data.json").read_text())["sizes"]["test"]
    assert result["ensemble"]["test_acc"] >= sum(accs) / len(accs)
    assert "ensemble" in done.stdout
    print(method, f"ensemble {result['ensemble']['test_acc']:.4f}, members {[round(a, 4) for a in accs]}")


def test_members_of_another_split_are_refused(seeds, tmp_path: Path):
    work, members = seeds
    other = run_in_process("train", "model=mlp", "trainer=smoke", "seed=7", "name=other", cwd=work)  # own split
    assert other.returncode == 0, other.stderr
    [other_run] = (work / "runs" / "other").iterdir()
    done = run_in_process("ensemble", str(members[0]), str(other_run), cwd=work)
    assert done.returncode == 2
    assert "differ in the seed of the split" in done.stderr and "must share their data and split" in done.stderr

    val = run_in_process("train", "model=mlp", "trainer=smoke", "data_seed=0", "data.val_fraction=0.2",
                         "name=val20", cwd=work)  # fmt: skip
    assert val.returncode == 0, val.stderr
    [val_run] = (work / "runs" / "val20").iterdir()
    done = run_in_process("ensemble", str(members[0]), str(val_run), cwd=work)
    assert done.returncode == 2 and "differ in val_fraction" in done.stderr


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["ONE"], "RUN: an ensemble needs two runs or more; got 1"),
        (["A", "B", "method=median"], "method: got 'median'"),
    ],
)
def test_bad_arguments_are_one_line(seeds, items, message):
    work, members = seeds
    items = [str(members[0]) if i == "ONE" else i for i in items]
    done = run_in_process("ensemble", *items, cwd=work)
    assert done.returncode == 2 and message in done.stderr
