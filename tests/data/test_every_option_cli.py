"""Every data option that reads from data.root trains end to end through the installed CLI, in one multirun.

The files sit where a user puts them (./data/<option>/), so the options need no overrides of their own;
csv and image_folder, which need a path, have their own CLI tests.
"""

import csv
import json
from pathlib import Path

from dlx.config.paths import packaged_conf_dir
from tests.conftest import run_dlx
from tests.data.formats_idx_cifar import SMOKE_FILES

OWN_CLI_TESTS = {"csv", "image_folder"}


def test_every_data_option_trains_through_the_cli(workdir: Path):
    options = sorted(p.stem for p in (packaged_conf_dir() / "data").glob("*.yaml") if p.stem not in OWN_CLI_TESTS)
    for option in set(options) & set(SMOKE_FILES):
        SMOKE_FILES[option](workdir / "data")  # ./data/mnist/..., ./data/cifar10/...: the default data.root
    out = run_dlx("train", "-m", f"data={','.join(options)}", "model=mlp", "trainer=smoke", cwd=workdir, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    [sweep] = (workdir / "runs" / "multirun").iterdir()
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed"] * len(options)
    by_option = {r["overrides"].split()[0].removeprefix("data="): sweep / r["job"] for r in rows}
    assert set(by_option) == set(options)
    mnist = json.loads((by_option["mnist"] / "data.json").read_text())
    assert mnist["sizes"] == {"train": 90, "val": 10, "test": 30} and mnist["official_splits"] == ["test"]
    assert json.loads((by_option["mnist1d"] / "data.json").read_text())["sizes"]["test"] == 1000
    assert (workdir / "data" / "mnist1d" / "mnist1d.npz").is_file(), "mnist1d generated into the data root"
