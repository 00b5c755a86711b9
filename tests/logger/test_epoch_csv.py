"""metrics.csv (logger=csv): every epoch's row; written with the checkpoints, at most once every
trainer.checkpoint_every_s, and always before a checkpoint of the same epoch."""

import csv
import io
from pathlib import Path

import pytest
import torch

from tests.conftest import build


def fit_recording_writes(tmp_path: Path, monkeypatch, every_s: str) -> tuple[list, Path]:
    """Every file the writer thread writes, in order: ("metrics.csv", rows) or (checkpoint name, its epoch)."""
    import dlx.logger.epoch_csv
    import dlx.trainer.writes
    from dlx.run_dir import write_atomic_bytes

    written = []

    def recording(path: Path, data: bytes) -> None:
        if path.name == "metrics.csv":
            written.append(("metrics.csv", len(data.decode().strip().splitlines()) - 1))
        else:
            written.append((path.name, torch.load(io.BytesIO(bytes(data)), weights_only=True)["epoch"]))
        write_atomic_bytes(path, data)

    monkeypatch.setattr(dlx.trainer.writes, "write_atomic_bytes", recording)
    monkeypatch.setattr(dlx.logger.epoch_csv, "write_atomic_bytes", recording)
    args = ["model=mlp", "model.width=32", "trainer.max_epochs=6", "trainer.progress=false",
            f"trainer.checkpoint_every_s={every_s}"]  # fmt: skip
    exp = build(args, tmp_path / every_s)
    exp.trainer.fit(exp.module, datamodule=exp.data)
    return written, tmp_path / every_s / "metrics.csv"


@pytest.mark.parametrize("every_s", ["0", "600"])
def test_rows_are_written_with_the_checkpoints_and_never_after_them(tmp_path: Path, monkeypatch, every_s: str):
    written, path = fit_recording_writes(tmp_path, monkeypatch, every_s)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(6)), "every epoch's row, at the end"
    rows_on_disk = 0
    for name, value in written:
        if name == "metrics.csv":
            assert value > rows_on_disk, "each write adds rows"
            rows_on_disk = value
        else:
            assert rows_on_disk >= value + 1, f"{name} of epoch {value} written before its metrics row: {written}"
    csv_writes = sum(name == "metrics.csv" for name, _ in written)
    if every_s == "0":
        assert csv_writes == 6, written
    else:  # the first epoch (nothing written yet) and the last; the rows in between go with the last write
        assert csv_writes == 2 and written[-1][0] != "metrics.csv", written
