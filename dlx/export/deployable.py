"""The exported network: normalization folded in front, softmax behind; what its JSON says; and an exported
file loaded back for `dlx predict`."""

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dlx.runs.restore import DataStateView


class Deployable(nn.Module):
    """(B, *in_shape) raw inputs -> (B, K) class probabilities."""

    def __init__(self, net: nn.Module, normalizer):
        super().__init__()
        self.net = net
        self.register_buffer("shift", normalizer.shift.float().reshape(-1).clone())  # (C,) or (F,)
        self.register_buffer("scale", normalizer.scale.float().reshape(-1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (C,) -> (C, 1, 1) for images (B, C, H, W), (C, 1) for signals (B, C, L), (F,) for tables (B, F)
        view = (-1,) + (1,) * (x.dim() - 2)
        x = (x - self.shift.view(view)) / self.scale.view(view)
        return torch.softmax(self.net(x), dim=1)


def sidecar(run, fmt: str, filename: str) -> dict:
    """model.json: what a program needs to feed the model and read its output."""
    state = run.data_state
    norm = state["normalization"]
    return {
        "format": fmt,
        "file": filename,
        "run_dir": str(run.run_dir),
        "checkpoint": str(run.checkpoint),
        "input": {"name": "input", "shape": ["batch", *state["in_shape"]], "dtype": "float32"},
        "output": {"name": "probabilities", "shape": ["batch", len(state["class_names"])]},
        "class_names": state["class_names"],
        "feature_names": state.get("feature_names"),
        "encoding": state.get("encoding") or {},
        "preprocessing": {
            "normalization": norm["method"],
            "shift": torch.as_tensor(norm["shift"]).tolist(),
            "scale": torch.as_tensor(norm["scale"]).tolist(),
            "applied": "inside the model: feed raw inputs (x - shift) / scale is computed by the model itself",
        },
        "data": run.cfg["data"].get("_target_"),
    }


EXPORTED_SUFFIXES = {".onnx": "onnx", ".ts": "torchscript"}


@dataclass
class ExportedModel(DataStateView):
    """What `dlx predict` needs of a run, read from an exported file and its JSON alone."""

    path: Path
    data_state: dict  # class_names, in_shape, encoding, feature_names (as a checkpoint's data state)
    runner: object  # (N, *in_shape) raw float32 array -> (N, K) probabilities

    @classmethod
    def load(cls, path: Path) -> "ExportedModel":
        from dlx.config.errors import ConfigError
        from dlx.export.formats import load_runner

        side = path.with_name(path.name + ".json")
        if not side.is_file():
            raise ConfigError(str(path), f"has no {side.name} beside it (dlx export writes both); export it again")
        info = json.loads(side.read_text())
        state = {
            "class_names": info["class_names"],
            "in_shape": info["input"]["shape"][1:],
            "encoding": info.get("encoding") or {},
            "feature_names": info.get("feature_names"),
        }
        return cls(path, state, load_runner(path, EXPORTED_SUFFIXES[path.suffix]))
