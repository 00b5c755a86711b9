import pytest
import torch

from dlx.config.errors import ConfigError
from dlx.model.transformer import transformer


def tokens_seen(net, in_shape) -> int:
    seen = []
    net.backbone.layers.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape))
    net(torch.randn(2, *in_shape))
    return seen[0][1]


@pytest.mark.parametrize(
    ("in_shape", "patch", "patches"), [((1, 8, 8), 2, 16), ((1, 8, 8), 4, 4), ((2, 40), 4, 10), ((12,), 3, 4)]
)
def test_one_token_per_patch_plus_the_class_token(in_shape, patch, patches):
    assert tokens_seen(transformer(in_shape=in_shape, num_classes=10, patch=patch), in_shape) == patches + 1
    assert tokens_seen(transformer(in_shape=in_shape, num_classes=10, patch=patch, pool="mean"), in_shape) == patches


def test_patches_are_embedded_by_a_strided_conv():
    embed = transformer(in_shape=(3, 8, 8), num_classes=10, patch=4, width=16).backbone.embed
    assert isinstance(embed, torch.nn.Conv2d) and embed.kernel_size == embed.stride == (4, 4)


def test_position_embeddings_make_patch_order_matter():
    net = transformer(in_shape=(1, 8), num_classes=10, patch=1, pool="mean").eval()
    x = torch.randn(2, 1, 8)
    assert not torch.allclose(net(x), net(x.flip(2)), atol=1e-5)
    torch.nn.init.zeros_(net.backbone.pos)  # without positions, attention + mean pooling ignore the order
    assert torch.allclose(net(x), net(x.flip(2)), atol=1e-5)


def test_encoder_depth_and_heads():
    net = transformer(in_shape=(1, 8, 8), num_classes=10, depth=3, heads=2, width=32)
    assert len(net.backbone.layers.layers) == 3
    assert net.backbone.layers.layers[0].self_attn.num_heads == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"patch": 3}, "patch=3 must divide the input size 8x8"),
        ({"width": 30}, "width=30 must be a multiple of heads=4"),
    ],
)
def test_refuses_shapes_that_do_not_fit(options, message):
    with pytest.raises(ConfigError, match=f"model: model=transformer {message}"):
        transformer(in_shape=(1, 8, 8), num_classes=10, **options)


@pytest.mark.parametrize(("in_shape", "patch"), [((1, 8, 8), 4), ((2, 40), 4), ((12,), 3)])
@pytest.mark.parametrize("pool", ["cls", "mean"])
@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")
def test_a_traced_transformer_takes_any_batch_size(in_shape, patch, pool):
    # dlx export traces with a batch of 2: a batch size read as a Python int (len(x)) would be baked into the file
    net = transformer(in_shape=in_shape, num_classes=5, patch=patch, pool=pool).eval()
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.randn(2, *in_shape), check_trace=False)
        for batch in (1, 3):
            x = torch.randn(batch, *in_shape)
            torch.testing.assert_close(traced(x), net(x))


@pytest.mark.parametrize("in_shape", [(1, 8, 8), (2, 40), (12,)])
def test_torch_export_keeps_the_transformers_batch_dimension_dynamic(in_shape):
    net = transformer(in_shape=in_shape, num_classes=5, patch=4 if len(in_shape) > 1 else 3).eval()
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (torch.randn(2, *in_shape),), dynamic_shapes=({0: batch},), strict=False)
    x = torch.randn(3, *in_shape)
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), net(x))
