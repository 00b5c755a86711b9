"""`dlx runs`, `dlx show`, `dlx compare` through the installed command, on runs that `dlx train` really made."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SMOKE, run_dlx, run_in_process
from tests.runs.fake_runs import write_run, write_sweep
from tests.runs.test_compare import png_size


def test_runs_show_compare_on_two_real_runs(workdir: Path):
    for extra in (["optim.lr=0.01"], ["optim.lr=0.001", "seed=1"]):
        done = run_in_process("train", *SMOKE, "model=mlp", *extra, cwd=workdir)
        assert done.returncode == 0, done.stderr

    listed = run_dlx("runs", "--json", cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["overrides"][-1] for r in rows] == ["seed=1", "optim.lr=0.01"], "newest first"
    for row in rows:
        report = json.loads((Path(row["run_dir"]) / "report.json").read_text())
        for key in ("test_acc", "best_val_acc", "f1_macro", "wall_seconds"):
            assert row[key] == report[key], key
        assert (row["status"], row["model"], row["data"]) == ("completed", "mlp", "digits")

    shown = run_dlx("show", "latest", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    newest = json.loads((Path(rows[0]["run_dir"]) / "report.json").read_text())
    assert rows[0]["run"] in shown.stdout and f"{newest['test_acc']:.4f}" in shown.stdout
    assert "optim.lr" in shown.stdout and "0.001" in shown.stdout and "best.ckpt" in shown.stdout

    compared = run_dlx("compare", rows[0]["run"], rows[1]["run"], "--out", "both.png", cwd=workdir)
    assert compared.returncode == 0, compared.stderr
    assert "optim.lr" in compared.stdout and "seed" in compared.stdout
    assert f"{newest['test_acc']:.4f}" in compared.stdout
    width, _ = png_size(workdir / "both.png")
    assert width > 800 and (workdir / "both.png").stat().st_size > 20_000


def test_the_commands_never_import_torch_or_lightning(tmp_path: Path):
    """They only read files: with torch and lightning made unimportable, all three still work."""
    root = tmp_path / "runs"
    write_run(root / "mlp-digits" / "2026-01-01_10-00-00", ["model=mlp"], minute=0)
    write_run(root / "cnn-digits" / "2026-01-01_11-00-00", ["optim.lr=0.01"], minute=1)
    write_sweep(root / "multirun" / "2026-01-02_10-00-00", [{"overrides": [f"seed={s}"]} for s in range(2)], minute=5)
    blocked = "import sys; sys.modules.update(torch=None, lightning=None)"  # `import torch` now raises
    block = f"{blocked}; from dlx.cli import main; sys.exit(main(sys.argv[1:]))"
    for args in (
        ["runs"],
        ["show", "latest"],
        ["compare", "mlp-digits", "cnn-digits"],
        ["compare", "runs/multirun/2026-01-02_10-00-00"],
    ):
        done = subprocess.run([sys.executable, "-c", block, *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, (args, done.stderr)
