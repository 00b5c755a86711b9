"""What a smoke run of each data option needs: small real-format files the tests write, and overrides.

    smoke_overrides("mnist", tmp_path) -> ["data.root=/tmp/.../files"]   (IDX files written there)

A data option that reads files and has no writer here fails the registry test: add one.
"""

from pathlib import Path

from tests.data import formats_csv, formats_idx_cifar, formats_image

TABLES = ["model=mlp"]  # one feature vector per sample: the convolutional default does not apply
BUNDLED = {"digits": [], "iris": TABLES, "wine": TABLES, "breast_cancer": TABLES}
BUNDLED["synthetic"] = [*TABLES, "data.samples=300"]
WRITERS = {**formats_idx_cifar.SMOKE_FILES, **formats_image.SMOKE_FILES, **formats_csv.SMOKE_FILES}


def smoke_overrides(option: str, tmp_path: Path) -> list[str]:
    if option == "mnist1d":
        return [f"data.root={tmp_path / 'files'}"]  # generated and cached there, not in the working directory
    if option in BUNDLED:
        return list(BUNDLED[option])
    assert option in WRITERS, f"data={option} reads files: give tests/data/files.py a writer for it"
    root = tmp_path / "files"
    root.mkdir(parents=True, exist_ok=True)
    return WRITERS[option](root)
