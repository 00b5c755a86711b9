"""read_checkpoint: tensors and plain values only; a file that would run code, or a damaged one, is named."""

import pickle
from pathlib import Path

import pytest
import torch

from dlx.checkpoint import read_checkpoint
from dlx.config.errors import ConfigError
from tests.malicious import CreatesFile, write_checkpoint


def test_the_payload_creates_its_file_when_loaded_unsafely(tmp_path: Path):
    """Proof that the tests' payload is live: the refusals below are what stops it."""
    marker = tmp_path / "MARKER"
    path = write_checkpoint(tmp_path / "evil.ckpt", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("fmt", ["torch.save", "plain pickle"])
def test_a_checkpoint_that_would_run_code_is_refused_and_the_code_does_not_run(fmt, tmp_path: Path):
    marker, path = tmp_path / "MARKER", tmp_path / "evil.ckpt"
    if fmt == "torch.save":
        write_checkpoint(path, marker)
    else:  # the legacy (non-zip) layout torch.load also reads; protocol 2 as torch.save wrote it
        path.write_bytes(pickle.dumps({"state_dict": {}, "payload": CreatesFile(marker)}, protocol=2))
    with pytest.raises(ConfigError) as caught:
        read_checkpoint(path, "RUN")
    message = str(caught.value)
    assert message.startswith(f"RUN: {path} is refused: loading it would call ") and "\n" not in message
    assert not marker.exists()


def test_the_refusal_names_the_function_it_would_call(tmp_path: Path):
    path = write_checkpoint(tmp_path / "evil.ckpt", tmp_path / "MARKER")
    with pytest.raises(ConfigError, match=r"is refused: loading it would call (io|_io|builtins)\.open"):
        read_checkpoint(path, "resume")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda whole: whole[: len(whole) // 2], "is damaged or cut short (PytorchStreamReader failed"),
        (lambda whole: bytes(range(256)) * 8, "is not a checkpoint"),
        (lambda whole: b"", "is empty or cut short"),
    ],
    ids=["truncated", "random bytes", "empty"],
)
def test_a_damaged_checkpoint_is_one_line_naming_it(damage, message, tmp_path: Path, capsys):
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1000)}}, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ConfigError) as caught:
        read_checkpoint(path, "resume")
    assert str(caught.value).startswith(f"resume: {path} {message}")
    assert "\n" not in str(caught.value)
    assert capsys.readouterr().err == "", "torch's warnings are not printed"


def test_a_real_checkpoint_loads_whole(tmp_path: Path):
    path = tmp_path / "best.ckpt"
    torch.save(
        {"state_dict": {"net.w": torch.arange(3.0)}, "epoch": 2, "dlx_rng": {"torch": torch.get_rng_state()}}, path
    )
    ckpt = read_checkpoint(path, "RUN")
    assert ckpt["epoch"] == 2 and torch.equal(ckpt["state_dict"]["net.w"], torch.arange(3.0))
