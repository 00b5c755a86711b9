"""Faults of the machine, not the config: a runs_dir that cannot be made, a full disk, data files vanishing mid-run.

Each ends in one line on stderr naming the file and the reason, RUN/status `failed` (with that line) where
a run directory exists, and nothing half-written left in it. Tests run as root here, so chmod cannot make a
folder unwritable to them: the faults are made real in other ways (a file where a folder should be, a
read-only tmpfs, a small tmpfs, a limit on file size, files deleted while dlx reads them).
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import torch

from dlx.run_dir import read_status
from tests.conftest import DLX, SMOKE, dlx_env, limit_file_size, run_dirs, run_dlx, run_in_process
from tests.data.formats_image import write_image_folder

# What dlx writes into a run directory; anything else (a temporary copy) is left over from a failed write.
RUN_FILES = re.compile(
    r"(config|overrides)\.yaml|\.hydra/(config|hydra|overrides)\.yaml|status|data\.json|metrics\.csv"
    r"|report\.(json|html)|checkpoints/(best|last)\.ckpt|plots/\w+\.png"
)
# A checkpoint of the default smoke run (cnn-digits) is ~290 KB; its configs, status and metrics are under 4 KB.
# model=mlp with 16 units saves ~40 KB checkpoints; its plots are under 40 KB, report.html over 100 KB.
FILE_LIMIT = 64 * 1024
TINY_MLP = ["model=mlp", "model.width=16", "model.depth=1"]


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def failed_run(runs: Path, line: str) -> Path:
    """The one run under runs/: status failed, with the message printed on stderr."""
    [run] = run_dirs(runs)
    status, message = read_status(run)
    assert status == "failed" and line.endswith(message), (status, message, line)
    return run


def assert_nothing_half_written(run: Path) -> None:
    """Only files dlx writes are left (no temporary copies), each checkpoint loads and report.json parses."""
    left = [p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file() or p.is_symlink()]
    assert [name for name in left if not RUN_FILES.fullmatch(name)] == []
    for ckpt in run.glob("checkpoints/*.ckpt"):
        torch.load(ckpt, map_location="cpu", weights_only=True)  # a cut-off one raises
    if (run / "report.json").exists():
        json.loads((run / "report.json").read_text())


# --- the runs/ folder ---------------------------------------------------------------------------------------


def under_a_file(workdir: Path, tmpfs) -> tuple[Path, str]:
    (workdir / "notes.txt").write_text("a file where runs_dir needs a folder")
    return workdir / "notes.txt" / "runs", f"Not a directory: {workdir / 'notes.txt'} is a file"


def on_a_read_only_disk(workdir: Path, tmpfs) -> tuple[Path, str]:
    return tmpfs(64, read_only=True) / "runs", "Read-only file system"


def without_write_permission(workdir: Path, tmpfs) -> tuple[Path, str]:
    if os.geteuid() == 0:
        pytest.skip("root writes into folders without write permission")
    locked = workdir / "locked"
    locked.mkdir(mode=0o555)
    return locked / "runs", "Permission denied"


def under_proc(workdir: Path, tmpfs) -> tuple[Path, str]:
    return Path("/proc/dlx-runs"), ""  # the kernel's own folder: nothing can be made there (the reason varies)


@pytest.mark.parametrize("place", [under_a_file, on_a_read_only_disk, without_write_permission, under_proc])
def test_runs_dir_where_no_folder_can_be_made_is_a_config_error(place, workdir: Path, tmpfs):
    runs, reason = place(workdir, tmpfs)
    before = sorted(workdir.rglob("*"))
    out = run_in_process("train", *SMOKE, f"runs_dir={runs}", cwd=workdir)
    assert out.returncode == 2
    line = one_line(out.stderr)
    assert line.startswith(f"dlx train: config error: runs_dir: cannot create {runs}") and reason in line, line
    assert line.endswith("; set runs_dir to a folder you can write to")
    assert sorted(workdir.rglob("*")) == before and not runs.exists()


def test_runs_dir_in_folders_that_do_not_exist_yet_is_made(workdir: Path, tmp_path: Path):
    runs = tmp_path / "does" / "not" / "exist" / "runs"
    out = run_in_process("train", *SMOKE, f"runs_dir={runs}", cwd=workdir)
    assert out.returncode == 0, out.stderr
    [run] = run_dirs(runs)
    assert read_status(run) == ("completed", "")


def test_multirun_sweep_folder_that_cannot_be_made_is_a_config_error(workdir: Path):
    (workdir / "notes.txt").write_text("a file where runs_dir needs a folder")
    out = run_dlx("train", "-m", *SMOKE, "runs_dir=notes.txt/runs", "seed=1,2", cwd=workdir)
    assert out.returncode == 2
    assert one_line(out.stderr) == (
        "dlx train: config error: runs_dir: cannot create notes.txt/runs/multirun: Not a directory: "
        "notes.txt is a file; set runs_dir to a folder you can write to"
    )
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt"]


# --- a full disk --------------------------------------------------------------------------------------------


def test_checkpoint_over_the_file_size_limit_fails_the_run_and_names_the_file(workdir: Path):
    out = run_dlx("train", *SMOKE, cwd=workdir, preexec_fn=limit_file_size(FILE_LIMIT))
    assert out.returncode == 1
    line = one_line(out.stderr)
    best = r"runs/cnn-digits/\S+/checkpoints/best\.ckpt"
    assert re.fullmatch(rf"dlx train: error: cannot write {best}: File too large \(over the limit on file size.+", line)
    run = failed_run(workdir / "runs", line)
    assert not (run / "report.json").exists() and not (run / "report.html").exists()
    assert_nothing_half_written(run)


def test_report_over_the_file_size_limit_fails_the_run_and_names_the_file(workdir: Path):
    out = run_dlx("train", *SMOKE, *TINY_MLP, cwd=workdir, preexec_fn=limit_file_size(FILE_LIMIT))
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert re.fullmatch(r"dlx train: error: cannot write runs/mlp-digits/\S+/report\.html: File too large .+", line)
    run = failed_run(workdir / "runs", line)
    assert not (run / "report.html").exists()
    assert_nothing_half_written(run)  # report.json, written before, is whole; the status says failed


def test_disk_full_while_saving_the_checkpoint_fails_the_run_and_names_the_file(workdir: Path, tmpfs):
    runs = tmpfs(128) / "runs"  # room for the configs and the status, not for a ~290 KB checkpoint
    out = run_in_process("train", *SMOKE, f"runs_dir={runs}", cwd=workdir)
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert f"error: cannot write {runs}/cnn-digits/" in line
    assert "/checkpoints/best.ckpt: No space left on device (the disk is full: free some space" in line
    run = failed_run(runs, line)
    assert not (run / "report.json").exists()
    assert_nothing_half_written(run)


# --- data files vanishing mid-run ---------------------------------------------------------------------------


def start_training(images: Path, *overrides: str, cwd: Path) -> subprocess.Popen:
    args = ["train", "data=image_folder", f"data.root={images}", "data.size=[8,8]", *SMOKE, *overrides]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}  # stderr: the error line
    return subprocess.Popen([DLX, *args], cwd=cwd, env=dlx_env(), **quiet)


def wait_for(ready, training: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert training.poll() is None, training.communicate()[1]
        assert time.monotonic() < deadline, "dlx train did not get there in time"
        time.sleep(0.02)


def an_epoch_was_logged(runs: Path) -> bool:
    return any(len(p.read_text().splitlines()) > 1 for p in runs.glob("*/*/metrics.csv"))


def delete(files: list[Path]) -> None:
    for f in files:
        f.unlink()


def cut_short(files: list[Path]) -> None:
    for f in files:
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


@pytest.mark.parametrize(
    ("workers", "damage", "reason"),
    [(2, delete, "cannot read it: No such file or directory"), (0, cut_short, "the file is cut short")],
)
def test_streamed_image_deleted_or_cut_short_mid_run_fails_the_run_and_names_it(
    workers, damage, reason, workdir: Path, tmp_path: Path
):
    """workers=2: the error comes from a DataLoader worker process and must still name the file."""
    images = tmp_path / "images"
    write_image_folder(images)
    training = start_training(  # epochs enough to be still running when the files go
        images, "data.in_memory=false", f"data.workers={workers}", "trainer.max_epochs=500", cwd=workdir
    )
    try:
        wait_for(lambda: an_epoch_was_logged(workdir / "runs"), training)
        damage(sorted(images.rglob("*.png")))
        _, stderr = training.communicate(timeout=300)
    finally:
        training.kill()
    assert training.returncode == 1
    line = one_line(stderr)
    assert re.fullmatch(rf"dlx train: error: RuntimeError: {images}/\w+/\d+\.png: is not a readable image .*", line)
    assert f"({reason}); it was when training started" in line
    run = failed_run(workdir / "runs", line)
    assert not (run / "report.json").exists()
    assert_nothing_half_written(run)


def test_in_memory_images_are_not_read_again_after_loading(workdir: Path, tmp_path: Path):
    """Held in memory (the default when they fit), the images are decoded before training: deleting them then is
    harmless, unlike when they are streamed from disk (above)."""
    images = tmp_path / "images"
    write_image_folder(images)
    training = start_training(images, "data.in_memory=true", "trainer.max_epochs=3", cwd=workdir)
    try:
        wait_for(lambda: run_dirs(workdir / "runs") != [], training)  # the run directory opens after the data loads
        delete(sorted(images.rglob("*.png")))
        [run] = run_dirs(workdir / "runs")
        deleted_while = read_status(run)[0]
        _, stderr = training.communicate(timeout=300)
    finally:
        training.kill()
    assert deleted_while == "running"
    assert training.returncode == 0, stderr
    assert read_status(run) == ("completed", "")
