"""Files crafted to run code when loaded unsafely. Each would create `marker`; a test asserts it never appears.

write_checkpoint(run / "checkpoints" / "best.ckpt", tmp_path / "MARKER")    # a real checkpoint, plus the payload
"""

from pathlib import Path

import torch


class CreatesFile:
    """Unpickled with weights_only=False, this calls open(marker, "w"): the file appears (no shell involved)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_checkpoint(path: Path, marker: Path) -> Path:
    """The checkpoint at `path` (or an empty one) with one more entry, the payload; torch.save's zip format."""
    ckpt = dict(torch.load(path, map_location="cpu", weights_only=True)) if path.is_file() else {"state_dict": {}}
    ckpt["payload"] = CreatesFile(marker)
    torch.save(ckpt, path)
    return path


def config_payload(target: str, marker: Path) -> dict:
    """A model node that, were it built, would create `marker` through os.system or subprocess.run."""
    if target == "os.system":
        return {"_target_": "os.system", "command": f"touch {marker}"}
    return {"_target_": "subprocess.run", "args": ["touch", str(marker)]}
