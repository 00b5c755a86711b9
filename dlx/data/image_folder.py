"""A folder of images, one subfolder per class: root/cat/001.png, root/dog/002.jpg, ...

Images become grey or RGB, resized (bilinear) to data.size, scaled to [0, 1]: (C, H, W) float32.
Optional val_root / test_root hold the same class folders and are kept as official splits.
Held in memory when the decoded set fits data.memory_limit_mb; otherwise streamed from disk
by DataLoader workers every epoch (dlx.data.streaming).
    dlx train data=image_folder data.root=path/to/images data.size=[64,64]"""

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from dlx.config.errors import ConfigError
from dlx.config.schema import NonNegativeInt, PositiveInt
from dlx.data.prepare import data_option
from dlx.data.source import Source, collecting, problem


@data_option
def image_folder(
    root: str | None = None,
    val_root: str | None = None,
    test_root: str | None = None,
    size: list[PositiveInt] = (32, 32),
    channels: Literal[1, 3] = 3,
    extensions: list[str] = ("png", "jpg", "jpeg"),
    in_memory: Literal["auto", True, False] = "auto",
    memory_limit_mb: PositiveInt = 2048,
    workers: NonNegativeInt = 2,
):
    """size: (H, W); in_memory: auto keeps the images in memory when they fit memory_limit_mb;
    workers: threads decoding into memory, or DataLoader processes when streaming."""
    from dlx.data.streaming import StreamedImages

    if root is None:
        raise ConfigError(
            "data.root", "is required: a folder with one subfolder of images per class (root/CLASS/*.png)"
        )
    if len(size) != 2:
        raise ConfigError("data.size", f"got {list(size)}, expected [height, width]")
    shape = (channels, int(size[0]), int(size[1]))
    suffixes = {"." + e.lower().lstrip(".") for e in extensions}
    class_names, files, y, origin = gather(root, {"val": val_root, "test": test_root}, suffixes)
    encoding = {"image_size": list(shape[1:]), "channels": channels}
    decoded_mb = len(files) * int(np.prod(shape)) * 4 / 2**20
    if in_memory is False or (in_memory == "auto" and decoded_mb > memory_limit_mb):
        streamed = StreamedImages(files, y, origin, class_names, shape, workers, encoding)
        return streamed.without_unreadable() if collecting() else streamed  # a data check lists them all now
    x, ok = decode_all(files, shape, workers)
    return Source(
        x if ok.all() else x[ok],  # no copy of the whole set unless a data check left files out
        y[ok],
        class_names,
        name="image_folder",
        fixed={s: np.flatnonzero(origin[ok] == s) for s in ("val", "test") if (origin == s).any()},
        encoding=encoding,
        files=[f for f, keep in zip(files, ok, strict=True) if keep],
    )


def gather(root: str, others: dict[str, str | None], suffixes: set[str]):
    """-> (class_names, files, labels, origin): origin[i] is "pool", "val" or "test" (the root it came from)."""
    folder = Path(root)
    if not folder.is_dir():
        fatal(
            str(folder), f"data.root is not a folder; expected one subfolder of images per class ({layout(suffixes)})"
        )
    per_class = {c: images(folder / c, suffixes) for c in class_folders(folder, "data.root", suffixes)}
    class_names = [c for c, found in per_class.items() if found]  # an empty class was reported (collect mode)
    if not class_names:
        fatal(str(folder), f"holds no images in class folders; expected {layout(suffixes)}")
    if len(class_names) == 1:
        problem(str(folder), f"holds images of one class only ({class_names[0]}); a classifier needs 2+ class folders")
    files, y, origin = [], [], []
    for name, found in per_class.items():
        if found:
            files += found
            y += [class_names.index(name)] * len(found)
            origin += ["pool"] * len(found)
    for split, other in others.items():
        if other is None:
            continue
        if not Path(other).is_dir():
            problem(other, f"data.{split}_root is not a folder; expected the class folders of data.root there")
            continue
        for name in class_folders(Path(other), f"data.{split}_root", suffixes):
            if name not in class_names:
                problem(
                    str(Path(other) / name),
                    f"class folder {name!r} is not a class of data.root {root} (classes: {', '.join(class_names)})",
                )
                continue
            found = images(Path(other) / name, suffixes)
            files += found
            y += [class_names.index(name)] * len(found)
            origin += [split] * len(found)
    return class_names, files, np.array(y, dtype=np.int64), np.array(origin)


def class_folders(folder: Path, key: str, suffixes: set[str]) -> list[str]:
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        fatal(str(folder), f"{key} has no class folders; expected {layout(suffixes)}")
    return names


def images(folder: Path, suffixes: set[str]) -> list[str]:
    """The image files of a class folder, sorted; an empty one is a problem (a class with nothing to learn)."""
    found = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file())
    if not found:
        problem(str(folder), f"class folder holds no images ({', '.join(sorted(suffixes))}); add some or remove it")
    return found


def layout(suffixes: set[str]) -> str:
    return f"root/CLASS/*{{{','.join(sorted(suffixes))}}}"


def fatal(where: str, message: str):
    problem(where, message)  # raises, unless `dlx data check` collects problems
    raise ConfigError(where, message)  # collected, but nothing can load without it


SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")  # PIL's modes of 16-bit grey PNGs (0-65535)


def decode(data: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    """Encoded PNG/JPEG bytes -> (C, H, W) float32 in [0, 1]. Raises on a broken or truncated file."""
    from PIL import Image

    channels, h, w = shape
    mode = "L" if channels == 1 else "RGB"
    with Image.open(io.BytesIO(data)) as im:
        im.verify()  # PNG checksums: a cut-off PNG can otherwise decode, its last rows silently black
    with Image.open(io.BytesIO(data)) as im:
        im.draft(mode, (w, h))  # JPEG: decode at a reduced scale when the target is much smaller
        if im.mode in SIXTEEN_BIT:  # convert() would clip each 16-bit value at 255: a white image
            im = Image.fromarray((np.asarray(im, dtype=np.float64) / 257).clip(0, 255).astype(np.uint8), "L")
        pixels = np.asarray(im.convert(mode).resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    return (pixels / 255.0).reshape(h, w, -1).transpose(2, 0, 1)  # (H, W[, C]) -> (C, H, W)


def try_load(path: str, shape: tuple[int, int, int]) -> tuple[bytes | None, np.ndarray | None, str | None]:
    """(file bytes, image, None), or (bytes or None, None, what is wrong with the file)."""
    from PIL import UnidentifiedImageError

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return None, None, f"cannot read it: {e.strerror or e}"
    try:
        return data, decode(data, shape), None
    except UnidentifiedImageError:
        return data, None, "not an image format Pillow recognizes"
    except Exception as e:  # whatever Pillow raises for a damaged file: OSError, SyntaxError, ValueError
        reason = str(e) or type(e).__name__
        return data, None, "the file is cut short" if "truncated" in reason.lower() else reason


def unreadable(path: str, reason: str) -> None:
    problem(path, f"is not a readable image ({reason}); replace or delete it (a complete PNG or JPEG is expected)")


def decode_all(files: list[str], shape: tuple[int, int, int], workers: int) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, C, H, W), ok (N,)): unreadable files are reported and left as zeros with ok False."""
    x = np.zeros((len(files), *shape), dtype=np.float32)
    ok = np.ones(len(files), dtype=bool)

    pool = ThreadPoolExecutor(max(1, workers))  # Pillow releases the GIL while decoding and resizing
    try:
        for i, (_, image, reason) in enumerate(pool.map(lambda f: try_load(f, shape), files)):
            if image is None:
                ok[i] = False
                unreadable(files[i], reason)
            else:
                x[i] = image
    finally:
        pool.shutdown(cancel_futures=True)  # an error stops at the first bad file, not after decoding the rest
    return x, ok
