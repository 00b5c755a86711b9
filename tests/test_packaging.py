"""A non-editable install (the built wheel) finds its configs when run from an unrelated directory."""

import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_wheel_ships_configs_and_runs_from_anywhere(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("dlx-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # dependencies come from the test environment; a plain path entry does not run its .pth hooks,
    # so the repository's editable install stays invisible to the new venv
    site = Path(
        subprocess.check_output(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    located = subprocess.check_output(
        [py, "-c", "import dlx.config.paths as p; print(p.packaged_conf_dir())"], cwd=elsewhere, text=True
    ).strip()
    assert Path(located).is_relative_to(site), f"configs must come from the installed wheel, got {located}"
    out = subprocess.run(
        [venv / "bin" / "dlx", "train", "trainer=smoke", "model=mlp"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    [run] = [p.parent for p in (elsewhere / "runs").rglob("status")]
    assert (run / "status").read_text().strip() == "completed"
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["_target_"] == "dlx.model.mlp.mlp"
