"""RUN/plots/*.png: learning curves, learning rate and confusion matrix, drawn with matplotlib's Agg canvas.

Figures are built with `matplotlib.figure.Figure` (no pyplot: no global state, no GUI backend); each
function returns PNG bytes.
"""

import io

ROWS = list[dict[str, float]]  # metrics.csv rows, numbers parsed: epoch, train_loss, train_acc, val_loss, val_acc, lr


def png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


def series(rows: ROWS, key: str) -> tuple[list[float], list[float]]:
    """(epochs, values) for the rows that have key (val columns are empty for epochs without validation)."""
    pairs = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
    return [e for e, _ in pairs], [v for _, v in pairs]


def style_axes(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs
    ax.grid(alpha=0.3)


def learning_curves(rows: ROWS) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.91, wspace=0.2)
    for ax, metric, title in zip(fig.subplots(1, 2), ("loss", "acc"), ("loss", "accuracy"), strict=True):
        for stage, style in (("train", "o-"), ("val", "s--")):
            ax.plot(*series(rows, f"{stage}_{metric}"), style, label=stage, markersize=3)
        ax.set(title=title, xlabel="epoch (0-based)")
        style_axes(ax)
        ax.legend()
    return png(fig)


def learning_rate(rows: ROWS) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.17, top=0.88)
    ax = fig.subplots()
    ax.plot(*series(rows, "lr"), "o-", markersize=3)
    ax.set(title="learning rate (at the start of each epoch)", xlabel="epoch (0-based)", ylabel="lr")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    style_axes(ax)
    return png(fig)


def confusion_matrix(matrix: list[list[int]], class_names: list[str]) -> bytes:
    """Rows: true class, columns: predicted. Class names up to 30 classes, counts in the cells up to 20."""
    from matplotlib.figure import Figure

    k = len(matrix)
    names = [str(n)[:16] for n in class_names] if k <= 30 else [str(i) for i in range(k)]
    rotate = max(map(len, names)) > 2
    # margins in inches, from the longest tick label (about 0.08 in a character at the default size)
    grid, longest = min(2.5 + 0.3 * k, 12), max(map(len, names))
    left, bottom = 0.6 + 0.08 * longest, 0.6 + (0.06 * longest if rotate else 0.2)
    width, height = left + grid + 1.0, bottom + grid + 0.4
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom / height, grid / width, grid / height))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, cax=fig.add_axes(((left + grid + 0.2) / width, bottom / height, 0.2 / width, grid / height)))
    if k <= 30:  # beyond, names would overlap
        ax.set_xticks(range(k), names)
        ax.set_yticks(range(k), names)
        if rotate:
            for label in ax.get_xticklabels():
                label.set(rotation=45, ha="right")
    if k <= 20:
        peak = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center", color="white" if n > peak / 2 else "black", fontsize=8)
    ax.set(title="confusion matrix (test)", xlabel="predicted", ylabel="true")
    return png(fig)
