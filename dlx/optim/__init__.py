"""Optimizers: each `conf/optim/<name>.yaml` names a builder `(params, **options) -> torch.optim.Optimizer`.

`params` comes from `param_groups(net)`, so an optimizer's `weight_decay` shrinks weights only.
"""

from typing import Literal

import torch
from torch import nn

# torch.optim's implementations of one step: one fused kernel, foreach (one op per step across tensors), or a loop
Kernel = Literal["auto", "fused", "foreach", "for_loop"]

# _NormBase covers BatchNorm*, SyncBatchNorm, InstanceNorm*
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def param_groups(net: nn.Module) -> list[dict]:
    """[{"name": "decay", ...}, {"name": "no_decay", ..., "weight_decay": 0.0}].

    Decay: weights of linear, conv, attention-projection and embedding layers (dim > 1).
    No decay: biases, every parameter of a normalization layer, any 1-d parameter; shrinking
    these does not limit what the net can fit, it only rescales or shifts activations.
    The decay group has no weight_decay key, so the optimizer's own option applies to it.
    """
    decay, no_decay, seen = [], [], set()
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:  # a tied weight belongs to the first module that holds it
                continue
            seen.add(id(p))
            exempt = isinstance(module, NORMS) or name.endswith("bias") or p.dim() <= 1
            (no_decay if exempt else decay).append(p)
    return [{"name": "decay", "params": decay}, {"name": "no_decay", "params": no_decay, "weight_decay": 0.0}]


def kernel_options(params, kernel: Kernel, fused_is_faster: bool = True) -> dict:
    """The keyword torch.optim takes for `kernel`. auto: fused where torch has the kernel for every parameter
    (plain tensors on CPU, CUDA, MPS, XPU; not XLA nor sharded tensor types) and it is the faster one, else torch's
    own choice (a per-tensor loop on CPU). Measured on a digits CNN's parameters here (2 cores), one step:
    Adam 160 us per-tensor, 146 foreach, 56 fused; AdamW 166 / 56; momentum SGD 55 / 32; Adagrad 99 / 48; plain SGD
    24 / 27, so plain SGD keeps torch's choice. A digits CNN training step is about 1.8 ms."""
    if kernel == "fused":
        return {"fused": True}
    if kernel == "foreach":
        return {"foreach": True}
    if kernel == "for_loop":
        return {"foreach": False}
    return {"fused": True} if fused_is_faster and fused_supported(params) else {}


def fused_supported(params) -> bool:
    """params: tensors, or param-group dicts as param_groups makes."""
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

    devices = set(_get_fused_kernels_supported_devices())
    tensors = [p for group in params for p in (group["params"] if isinstance(group, dict) else [group])]
    return bool(tensors) and all(
        type(p) in (torch.Tensor, nn.Parameter)
        and p.is_floating_point()
        and p.device.type in devices
        and not p.is_sparse
        for p in tensors
    )
