"""Writers of small image folders for tests: each class drawn in its own colour, so it can be learned and checked."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"cat": (220, 40, 40), "dog": (40, 200, 60), "owl": (50, 60, 230)}  # the brightest channel names the class


def draw(colour: tuple[int, int, int], size: tuple[int, int], seed: int) -> Image.Image:
    """An image of `size` (H, W): the class colour with noise, a bright square at a place set by the seed."""
    rng = np.random.default_rng(seed)
    h, w = size
    pixels = np.clip(np.array(colour) + rng.normal(0, 12, (h, w, 3)), 0, 255)
    top, left = rng.integers(0, h // 2 + 1), rng.integers(0, w // 2 + 1)
    square = (slice(top, top + h // 2), slice(left, left + w // 2))
    pixels[square] = np.minimum(pixels[square] + 30, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def write_image_folder(
    root: Path,
    classes: tuple[str, ...] = ("cat", "dog", "owl"),
    per_class: int = 10,
    size: tuple[int, int] = (12, 10),
    fmt: str = "png",
    corrupt: bool = False,
    seed: int = 0,
) -> list[Path]:
    """root/CLASS/NNN.fmt, distinct images; corrupt adds a truncated PNG and a garbage .jpg to the first class.
    -> the paths of the corrupt files (empty unless corrupt)."""
    palette = list(COLOURS.values())
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        colour = COLOURS.get(name, palette[c % len(palette)])
        for i in range(per_class):
            draw(colour, size, seed * 100_000 + c * 1000 + i).save(folder / f"{i:03d}.{fmt}")
    if not corrupt:
        return []
    whole = io.BytesIO()
    draw(palette[0], size, seed=99_999).save(whole, "PNG")
    truncated, garbage = root / classes[0] / "truncated.png", root / classes[0] / "garbage.jpg"
    truncated.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    garbage.write_bytes(b"this is not a JPEG image, only text with a .jpg name")
    return [truncated, garbage]


def write_image_smoke(root: Path) -> list[str]:
    """A small tree for the registry's smoke step: 3 classes of 10, resized to 8x8."""
    write_image_folder(root / "images")
    return [f"data.root={root / 'images'}", "data.size=[8,8]"]


SMOKE_FILES = {"image_folder": write_image_smoke}
