"""Pruning and int8 quantization of a trained net, with PyTorch's own tools (torch.nn.utils.prune,
torch.ao.quantization); only the choice of layers and the checks are dlx's."""

from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.utils import prune

from dlx.config.errors import ConfigError

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)
DYNAMIC_LAYERS = (nn.Linear, nn.LSTM, nn.GRU)  # what quantize_dynamic turns into int8
# layers FX static quantization cannot calibrate and convert: recurrent cells and attention
STATIC_UNSUPPORTED = (nn.RNNBase, nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.LayerNorm)


def weight_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, PRUNABLE)]


def apply_pruning(net: nn.Module, sparsity: float, structure: str) -> None:
    """Masks on the weights (kept while fine-tuning, so pruned weights stay zero); `make_permanent` removes them.

    unstructured: the smallest |w| over all Linear/Conv weights together (global magnitude pruning).
    channels: in every Linear/Conv but the output layer, the output channels (neurons) of smallest L2 norm,
    `sparsity` of each layer's, weights and bias together (the output layer keeps every class)."""
    layers = weight_layers(net)
    if structure == "unstructured":
        prune.global_unstructured([(m, "weight") for m in layers], pruning_method=prune.L1Unstructured, amount=sparsity)
        return
    for m in layers[:-1]:
        prune.ln_structured(m, "weight", amount=sparsity, n=2, dim=0)
        if m.bias is not None:
            kept = m.weight_mask.flatten(1).any(1)  # (out_channels,)
            prune.custom_from_mask(m, "bias", kept.to(m.bias.dtype))


def make_permanent(net: nn.Module) -> None:
    for m in net.modules():
        for name in ("weight", "bias"):
            if prune.is_pruned(m) and hasattr(m, f"{name}_mask"):
                prune.remove(m, name)


def counts(net: nn.Module) -> tuple[int, int]:
    """(parameters, non-zero parameters) of a float net."""
    params = [p.detach() for p in net.parameters()]
    return sum(p.numel() for p in params), sum(int(p.count_nonzero()) for p in params)


def quantize(net: nn.Module, scheme: str, calibration: list[torch.Tensor], model_name: str) -> nn.Module:
    """int8 copy of net (eval mode, CPU). calibration: normalized training batches (static only)."""
    import copy
    import warnings

    # torch.ao's notices that int8 tensors move to torchao one day, once per layer: its kernels are still here
    warnings.filterwarnings("ignore", message=".*(deprecated|torchao).*")
    net = copy.deepcopy(net).cpu().eval()
    if scheme == "dynamic":
        if not any(isinstance(m, DYNAMIC_LAYERS) for m in net.modules()):
            raise ConfigError("scheme", f"dynamic: model={model_name} has no Linear, LSTM or GRU layer to quantize")
        return torch.ao.quantization.quantize_dynamic(net, set(DYNAMIC_LAYERS), dtype=torch.qint8)
    unsupported = sorted({type(m).__name__ for m in net.modules() if isinstance(m, STATIC_UNSUPPORTED)})
    if unsupported:
        raise ConfigError("scheme", f"static: model={model_name} has layers static int8 cannot convert "
                          f"({', '.join(unsupported)}); use scheme=dynamic")  # fmt: skip
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    engine = "x86" if "x86" in torch.backends.quantized.supported_engines else "qnnpack"
    torch.backends.quantized.engine = engine
    prepared = prepare_fx(net, get_default_qconfig_mapping(engine), example_inputs=(calibration[0][:2],))
    with torch.no_grad():
        for x in calibration:  # observers record each activation's range
            prepared(x)
    return convert_fx(prepared)


@contextmanager
def layer_by_layer_attention():
    """nn.TransformerEncoderLayer's fused fast path off while an int8 net runs or is traced: the fast path reads
    each Linear's .weight tensor, and an int8 Linear has a weight() method instead."""
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(enabled)
