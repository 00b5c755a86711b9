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


def learning_curves(rows: ROWS) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    for ax, metric, title in zip(fig.subplots(1, 2), ("loss", "acc"), ("loss", "accuracy"), strict=True):
        for stage, style in (("train", "o-"), ("val", "s--")):
            ax.plot(*series(rows, f"{stage}_{metric}"), style, label=stage, markersize=3)
        ax.set(title=title, xlabel="epoch (0-based)")
        ax.grid(alpha=0.3)
        ax.legend()
    return png(fig)


def learning_rate(rows: ROWS) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.plot(*series(rows, "lr"), "o-", markersize=3)
    ax.set(title="learning rate (at the start of each epoch)", xlabel="epoch (0-based)", ylabel="lr")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.grid(alpha=0.3)
    return png(fig)


def confusion_matrix(matrix: list[list[int]], class_names: list[str]) -> bytes:
    """Rows: true class, columns: predicted; counts written in the cells when there are few classes."""
    from matplotlib.figure import Figure

    k = len(matrix)
    side = min(4 + 0.45 * k, 16)
    fig = Figure(figsize=(side + 1, side), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    if k <= 30:  # beyond, names and counts would overlap
        names = [str(n)[:16] for n in class_names]
        ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
        ax.set_yticks(range(k), names)
        peak = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, n in enumerate(row):
                color = "white" if n > peak / 2 else "black"
                ax.text(j, i, str(n), ha="center", va="center", color=color, fontsize=8)
    ax.set(title="confusion matrix (test)", xlabel="predicted", ylabel="true")
    return png(fig)
