"""PNG figures of explanations: image grids with overlays, signals with shading, importance bars and maps."""

import numpy as np

from dlx.runs.compare import png_bytes


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def sample_axes(n: int, max_cols: int, cell: tuple[float, float], title: str):
    """A figure with one panel per sample, max_cols to a row; -> (figure, the panels)."""
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig = new_figure(cell[0] * cols, cell[1] * rows)
    fig.suptitle(title)
    return fig, [fig.add_subplot(rows, cols, i + 1) for i in range(n)]


def image_grid(images: np.ndarray, attr: np.ndarray, titles: list[str], method: str) -> bytes:
    """images, attr: (N, C, H, W); each input in grey (or RGB) under its attribution as a heat map."""
    title = f"{method}: attribution over each input (true / predicted class)"
    fig, panels = sample_axes(len(images), 8, (2, 2.2), title)
    for i, ax in enumerate(panels):
        img = images[i]
        shown = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
        ax.imshow(rescale(shown), cmap="gray" if img.shape[0] == 1 else None)
        ax.imshow(np.abs(attr[i]).sum(0), cmap="inferno", alpha=0.55)
        ax.set_title(titles[i], fontsize=8)
        ax.axis("off")
    return png_bytes(fig)


def signal_lines(signals: np.ndarray, attr: np.ndarray, titles: list[str], method: str) -> bytes:
    """signals, attr: (N, C, L); each channel as a line, the attribution as shading behind it."""
    title = f"{method}: attribution along each signal (true / predicted class)"
    fig, panels = sample_axes(len(signals), 4, (4, 2.4), title)
    for i, ax in enumerate(panels):
        weight = np.abs(attr[i]).sum(0)  # (L,)
        low, high = float(signals[i].min()), float(signals[i].max())
        ax.imshow(weight[None, :], aspect="auto", cmap="Reds", alpha=0.6,
                  extent=(-0.5, len(weight) - 0.5, low, high if high > low else low + 1))  # fmt: skip
        for channel in signals[i]:
            ax.plot(channel, color="black", linewidth=1)
        ax.set_title(titles[i], fontsize=8)
    return png_bytes(fig)


def importance_bars(names: list[str], values: list[float], spread: list[float], title: str, top: int = 25) -> bytes:
    order = np.argsort(values)[::-1][:top]
    fig = new_figure(7, max(2.5, 0.3 * len(order) + 1))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(range(len(order)), [values[i] for i in order], xerr=[spread[i] for i in order], color="tab:blue")
    ax.set_yticks(range(len(order)), [names[i] for i in order])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    return png_bytes(fig)


def importance_map(values: list[float], rows: int, cols: int, title: str) -> bytes:
    fig = new_figure(4.5, 4)
    ax = fig.add_subplot(1, 1, 1)
    shown = ax.imshow(np.asarray(values).reshape(rows, cols), cmap="viridis")
    fig.colorbar(shown, ax=ax)
    ax.set_title(title)
    ax.set_xlabel("patch column")
    ax.set_ylabel("patch row")
    return png_bytes(fig)


def rescale(a: np.ndarray) -> np.ndarray:
    low, high = a.min(), a.max()
    return (a - low) / (high - low) if high > low else np.zeros_like(a)
