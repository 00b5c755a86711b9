"""Options every model has, applied after it is built: weight init, transfer from a run, a frozen backbone.

dlx train model=cnn model.init=kaiming
dlx train model=cnn model.init_from=runs/cnn-digits/2024-05-01_12-00-00 model.freeze=backbone
"""

import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from dlx.config.errors import ConfigError
from dlx.model.layers import Net

Init = Literal["default", "kaiming", "xavier", "orthogonal"]
SCHEMES = {
    "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),  # std sqrt(2 / fan_in)
    "xavier": nn.init.xavier_normal_,  # std sqrt(2 / (fan_in + fan_out))
    "orthogonal": nn.init.orthogonal_,
}
# Layers whose weight matrices the schemes re-draw; norms, embeddings and tokens keep their own init.
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.RNNBase, nn.MultiheadAttention)


def finish_model(
    net: Net, init: Init = "default", init_from: str | None = None, freeze: Literal["none", "backbone"] = "none"
) -> Net:
    init_weights(net, init)
    if init_from is not None:
        load_matching(net, init_from)
    if freeze == "backbone":
        freeze_backbone(net)
    return net


def init_weights(net: nn.Module, init: Init) -> None:
    if init == "default":  # PyTorch's own per-layer init
        return
    for m in net.modules():
        if isinstance(m, WEIGHTED):
            for p in m.parameters(recurse=False):
                SCHEMES[init](p) if p.dim() > 1 else nn.init.zeros_(p)


def checkpoint_file(path: str) -> Path:
    """A run directory's best (else last) checkpoint, or the file itself."""
    p = Path(path).expanduser()
    if p.is_dir():
        for name in ("best.ckpt", "last.ckpt"):
            if (p / "checkpoints" / name).is_file():
                return p / "checkpoints" / name
        raise ConfigError(
            "model.init_from", f"'{path}' has no checkpoints/best.ckpt or last.ckpt; expected a dlx run directory"
        )
    if not p.is_file():
        raise ConfigError(
            "model.init_from", f"'{path}' does not exist; expected a dlx run directory or a .ckpt/.pt file"
        )
    return p


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors only (weights_only: never code); the source run's config is not read."""
    from dlx.checkpoint import read_checkpoint

    obj = read_checkpoint(checkpoint_file(path), "model.init_from")
    state = obj.get("state_dict", obj) if isinstance(obj, dict) else {}
    if any(k.startswith("net.") for k in state):  # a Lightning checkpoint: the Classifier holds the model as self.net
        state = {k[4:]: v for k, v in state.items() if k.startswith("net.")}
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def load_matching(net: nn.Module, path: str) -> None:
    """Copy the tensors whose name and shape match; the rest (e.g. a head for another class count) keep their init."""
    theirs, ours = read_state_dict(path), net.state_dict()
    loaded = [k for k, v in ours.items() if k in theirs and theirs[k].shape == v.shape]
    if not loaded:
        raise ConfigError(
            "model.init_from",
            f"'{path}' holds no weights matching this model by name and shape; expected one of the same architecture",
        )
    net.load_state_dict({k: theirs[k] for k in loaded}, strict=False)
    reshaped = [k for k in ours if k in theirs and k not in loaded]
    missing = [k for k in ours if k not in theirs]
    print(f"model.init_from: loaded {len(loaded)} of {len(ours)} tensors from {path}")
    parts = [
        f"{why}: {', '.join(keys)}"
        for why, keys in [("shape differs", reshaped), ("not in checkpoint", missing)]
        if keys
    ]
    if parts:
        print(f"model.init_from: skipped {len(reshaped) + len(missing)} ({'; '.join(parts)})")


def freeze_backbone(net: nn.Module) -> None:
    if not isinstance(net, Net):
        raise ConfigError("model.freeze", f"needs a model with .backbone and .head; got {type(net).__name__}")
    for p in net.backbone.parameters():
        p.requires_grad_(False)
    net.frozen_backbone = True  # Net.train keeps the backbone's BatchNorm layers in eval mode
    # ... which Lightning warns about at the start of fit; here it is what was asked for
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
