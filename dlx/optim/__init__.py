"""Optimizers: each `conf/optim/<name>.yaml` names a builder `(params, **options) -> torch.optim.Optimizer`.

`params` comes from `param_groups(net)`, so an optimizer's `weight_decay` shrinks weights only.
"""

from torch import nn

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
