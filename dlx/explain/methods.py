"""Per-sample attributions (Captum) and per-feature importance: permutation (here), SHAP and LIME (Captum)."""

import torch

from dlx.explain.inputs import convolution_layer

GRADIENT_METHODS = ("saliency", "integrated_gradients", "occlusion", "gradcam")
IMPORTANCE_METHODS = ("permutation", "shap", "lime")


def attributions(method: str, net, x: torch.Tensor, target: torch.Tensor, model: str, window: int) -> torch.Tensor:
    """(N, *in_shape) attribution of each input value to the target class's score."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency

    x = x.clone().requires_grad_(True)
    if method == "saliency":
        return Saliency(net).attribute(x, target=target, abs=True).detach()
    if method == "integrated_gradients":  # from the all-zeros input: the training mean after normalization
        return IntegratedGradients(net).attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=32).detach()
    if method == "occlusion":
        shape = (x.shape[1], *[min(window, s) for s in x.shape[2:]]) if x.dim() > 2 else (1,)
        strides = (x.shape[1], *[max(1, min(window, s) // 2) for s in x.shape[2:]]) if x.dim() > 2 else (1,)
        return Occlusion(net).attribute(x, sliding_window_shapes=shape, strides=strides, target=target).detach()
    layer = convolution_layer(net, model)
    cam = LayerGradCam(net, layer).attribute(x, target=target, relu_attributions=True).detach()  # (N, 1, h, w)
    cam = LayerAttribution.interpolate(
        cam, tuple(x.shape[2:]), interpolate_mode="bilinear" if x.dim() == 4 else "linear"
    )
    return cam.expand_as(x) / x.shape[1]  # the map spread over the channels


def predict(net, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Predicted classes (N,), in batches: a whole split at once would hold every activation of it in memory."""
    with torch.no_grad():
        return torch.cat([net(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])


def accuracy(net, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(net, x) == y).float().mean())


def permutation_importance(net, x, y, mask, groups: int, repeats: int, seed: int) -> tuple[list[float], list[float]]:
    """Drop in the split's accuracy when one group's values are shuffled across samples, `repeats` times.
    scikit-learn's permutation_importance shuffles single columns; a patch of an image is a group of them,
    so this loop is written here (the same estimate: mean and spread of the drop over seeded shuffles)."""
    base = accuracy(net, x, y)
    g = torch.Generator().manual_seed(seed)
    drops = torch.zeros(groups, repeats)
    where = mask.expand_as(x)
    for r in range(repeats):
        order = torch.randperm(len(x), generator=g)
        for k in range(groups):
            shuffled = torch.where(where == k, x[order], x)
            drops[k, r] = base - accuracy(net, shuffled, y)
    return drops.mean(1).tolist(), drops.std(1, unbiased=repeats > 1).tolist()


def local_importance(method: str, net, x, target, mask, seed: int) -> tuple[list[float], list[float]]:
    """Mean and spread over the samples of |SHAP value| (Shapley value sampling) or |LIME weight| per group."""
    from captum._utils.models.linear_model import SkLearnLinearRegression
    from captum.attr import Lime, ShapleyValueSampling

    torch.manual_seed(seed)
    baselines = torch.zeros_like(x[:1])  # the training mean after normalization
    rows = []
    for i in range(len(x)):
        xi, ti = x[i : i + 1], target[i : i + 1]
        if method == "shap":
            attr = ShapleyValueSampling(net).attribute(
                xi, baselines=baselines, target=ti, feature_mask=mask, n_samples=16, perturbations_per_eval=64
            )
        else:
            lime = Lime(net, interpretable_model=SkLearnLinearRegression())
            attr = lime.attribute(
                xi, baselines=baselines, target=ti, feature_mask=mask, n_samples=200, perturbations_per_eval=64
            )
        rows.append(per_group(attr[0].abs(), mask[0], int(mask.max()) + 1))
    values = torch.stack(rows)  # (N, groups)
    return values.mean(0).tolist(), values.std(0, unbiased=len(x) > 1).tolist()


def per_group(attr: torch.Tensor, mask: torch.Tensor, groups: int) -> torch.Tensor:
    """The attribution of each group: every input value of a group carries the group's value; take the mean."""
    flat, ids = attr.reshape(-1).float(), mask.expand_as(attr).reshape(-1)
    sums = torch.zeros(groups).index_add_(0, ids, flat)
    counts = torch.zeros(groups).index_add_(0, ids, torch.ones_like(flat))
    return sums / counts.clamp_min(1)
