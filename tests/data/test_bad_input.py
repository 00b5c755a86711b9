"""Bad data through the real CLI: one line naming the key, file or column, exit code 2, no run directory."""

from pathlib import Path

import pytest

from tests.conftest import run_dirs, run_in_process


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["data=digits", "data.test_fraction=0.001"], "data.test_fraction: 0.001 of 1797 samples cannot be stratified"),
        (["data=iris", "model=mlp", "data.subset=9"], "data.test_fraction: 0.15 of 9 samples cannot be stratified"),
        (["data=mnist", "data.root=nowhere"], "nowhere/mnist"),
        (["data=csv", "model=mlp"], "data.path: is required"),
        (["data=iris", "model=mlp", "data.folds=3", "data.fold=5"], "data.fold: fold=5 is not one of 0..2"),
    ],
)
def test_bad_data_is_one_line_exit_2_and_leaves_no_run(args, expected, workdir: Path):
    result = run_in_process("train", *args, "trainer=smoke", cwd=workdir)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlx train: config error: ") and expected in lines[0], lines
    assert run_dirs(workdir / "runs") == []


def truncated_mnist(root: Path) -> tuple[list[str], Path]:
    """MNIST as a download cut short: the training images' .gz ends half-way."""
    from dlx.data.idx import FILES
    from tests.data.formats_idx_cifar import SMOKE_FILES

    overrides = ["data=mnist", *SMOKE_FILES["mnist"](root)]
    images = root / "mnist" / f"{FILES['train'][0]}.gz"
    images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    return overrides, images


def binary_csv(root: Path) -> tuple[list[str], Path]:
    """A file named .csv that holds bytes, not text."""
    path = root / "table.csv"
    path.write_bytes(bytes(range(256)) * 16)
    return ["data=csv", f"data.path={path}", "data.target=label", "model=mlp"], path


@pytest.mark.parametrize("damaged", [truncated_mnist, binary_csv], ids=["truncated IDX", "binary CSV"])
def test_a_damaged_data_file_is_one_line_naming_it(damaged, workdir: Path, tmp_path: Path):
    root = tmp_path / "files"
    root.mkdir()
    overrides, path = damaged(root)
    result = run_in_process("train", *overrides, "trainer=smoke", cwd=workdir)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dlx train: config error: {path}"), lines
    assert run_dirs(workdir / "runs") == []
