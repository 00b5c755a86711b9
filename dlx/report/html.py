"""RUN/report.html: one self-contained page per run (inline CSS, plots as base64 PNG data: URIs, no scripts,
no external URLs), plus the plots as RUN/plots/*.png.

    write_report(Path("runs/cnn-digits/2026-11-23_15-20-01"))

Reads the run's report.json, config.yaml and metrics.csv; without metrics.csv (no csv logger) the page is
written without the curves.
"""

import base64
import html
import json
from pathlib import Path

from dlx.run_dir import read_metrics, write_atomic, write_atomic_bytes

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; }
.sub { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f6f8fa; }
.grid { display: flex; flex-wrap: wrap; gap: 0 2.5em; align-items: flex-start; }
img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 12px; }
.note { color: #57606a; font-style: italic; }
"""

METRICS = {  # section -> (report key, label); missing keys are left out
    "accuracy (test split)": [
        ("test_acc", "top-1 accuracy"),
        ("top3_acc", "top-3 accuracy"),
        ("top5_acc", "top-5 accuracy"),
        ("test_loss", "cross-entropy loss"),
    ],
    "training": [
        ("best_val_acc", "best val accuracy"),
        ("best_epoch", "best epoch (0-based)"),
        ("epochs_run", "epochs run"),
        ("epoch_at_95pct_best_val_acc", "first epoch at 95% of best val acc (0-based)"),
        ("epochs_to_best_val_acc", "epochs to best val acc"),
        ("train_seconds", "train time (s)"),
        ("wall_seconds", "wall time (s)"),
    ],
    "cost": [
        ("eval_batch_size", "eval batch size"),
        ("latency_ms_per_batch_p50", "latency per batch p50 (ms)"),
        ("latency_ms_per_batch_p95", "latency per batch p95 (ms)"),
        ("latency_ms_per_sample_p50", "latency per sample p50 (ms)"),
        ("latency_ms_per_sample_p95", "latency per sample p95 (ms)"),
        ("throughput_samples_per_s", "throughput (samples/s)"),
        ("param_count", "parameters"),
        ("model_bytes", "model size (bytes, state_dict)"),
        ("checkpoint_bytes", "checkpoint size (bytes)"),
    ],
}


def esc(value) -> str:
    return html.escape(str(value))


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4f}"


def table(header: list[str] | None, rows: list[list]) -> str:
    head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def image(data: bytes | None, alt: str, missing: str) -> str:
    if data is None:
        return f'<p class="note">{esc(missing)}</p>'
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def metrics_file(run_dir: Path, config_text: str) -> Path:
    """The csv logger's file (logger.csv.filename in config.yaml; metrics.csv by default)."""
    from omegaconf import OmegaConf

    try:
        name = OmegaConf.select(OmegaConf.create(config_text or "{}"), "logger.csv.filename")
    except Exception:  # an unreadable config.yaml still gets a report
        name = None
    return run_dir / (name or "metrics.csv")


def metrics_section(report: dict) -> str:
    parts = []
    for title, keys in METRICS.items():
        rows = [[label, report[key]] for key, label in keys if key in report]
        parts.append(f"<div><h3>{esc(title)}</h3>{table(None, rows)}</div>")
    averages = [
        [name, report.get(f"{name}_macro"), report.get(f"{name}_weighted")] for name in ("precision", "recall", "f1")
    ]
    parts.append(f"<div><h3>averages over classes</h3>{table(['', 'macro', 'weighted'], averages)}</div>")
    noise = report.get("noise_robustness") or {}
    if noise:
        rows = [[sigma, acc] for sigma, acc in noise.items()]
        parts.append(
            "<div><h3>Gaussian input noise</h3>"
            + table(["sigma (normalized units)", "accuracy"], rows)
            + '<p class="note">sigma in training-set standard deviations</p></div>'
        )
    return f'<div class="grid">{"".join(parts)}</div>'


def per_class_section(report: dict) -> str:
    per_class, matrix = report.get("per_class") or {}, report.get("confusion_matrix") or []
    names = report.get("class_names") or [str(i) for i in range(len(matrix))]
    rows = [
        [name, *(per_class.get(m, [None] * len(names))[i] for m in ("precision", "recall", "f1")), sum(matrix[i])]
        for i, name in enumerate(names)
        if i < len(matrix)
    ]
    return table(["class", "precision", "recall", "F1", "support"], rows)


def environment_section(report: dict) -> str:
    rows = [[f"{name} version", version] for name, version in (report.get("versions") or {}).items()]
    rows += [["device", report.get("device")], ["git commit", report.get("git_commit")]]
    return table(None, rows)


def after_training_sections(run_dir: Path) -> list[tuple[str, str, str]]:
    """What `dlx explain` and `dlx eval attack=...` wrote since the run ended, linked (and its figures shown)."""
    import json

    sections = []
    explain = run_dir / "explain"
    if explain.is_dir():
        parts = []
        for folder in sorted(p for p in explain.iterdir() if p.is_dir()):
            files = sorted(f for f in folder.iterdir() if f.is_file())
            links = " ".join(f'<a href="{esc(f.relative_to(run_dir))}">{esc(f.name)}</a>' for f in files)
            figures = "".join(
                f'<img src="{esc(f.relative_to(run_dir))}" alt="{esc(folder.name)}">'
                for f in files
                if f.suffix == ".png"
            )
            parts.append(f"<h3>{esc(folder.name)}</h3><p>{links}</p>{figures}")
        sections.append(("explain", "Explanations (dlx explain)", "".join(parts)))
    robustness = run_dir / "robustness.json"
    if robustness.is_file():
        result = json.loads(robustness.read_text())
        rows = [["clean", "", result.get("clean_acc")]] + [
            [name, p.get("eps", p.get("sigma")), p["acc"]]
            for name, points in result.get("attacks", {}).items()
            for p in points
        ]
        body = table(["attack", "eps / sigma", "accuracy"], rows)
        body += '<p><a href="robustness.json">robustness.json</a></p><img src="robustness.png" alt="robustness">'
        sections.append(("robustness", f"Robustness ({esc(result.get('split', ''))} split)", body))
    return sections


def render(run_dir: Path, report: dict, config_text: str, images: dict[str, bytes]) -> str:
    no_curves = "no metrics.csv in the run directory (the csv logger was off): no curves"
    sections = [
        ("metrics", "Metrics", metrics_section(report)),
        ("curves", "Learning curves", image(images.get("learning_curves"), "learning curves", no_curves)),
        ("lr", "Learning rate", image(images.get("lr"), "learning rate by epoch", no_curves)),
        (
            "confusion",
            "Confusion matrix",
            image(images.get("confusion_matrix"), "confusion matrix", "no confusion matrix in report.json"),
        ),
        ("per-class", "Per-class precision, recall, F1", per_class_section(report)),
        *after_training_sections(run_dir),
        ("config", "Configuration (config.yaml)", f"<pre>{esc(config_text or '(no config.yaml)')}</pre>"),
        ("environment", "Environment", environment_section(report)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{esc(title)}</h2>{content}</section>' for sid, title, content in sections)
    name = f"{run_dir.parent.name}/{run_dir.name}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>dlx report: {esc(name)}</title><style>{CSS}</style></head><body>"
        f'<h1>dlx report: {esc(name)}</h1><p class="sub">{esc(report.get("run_dir", run_dir))}</p>'
        f"{body}</body></html>\n"
    )


def write_report(run_dir: Path) -> Path:
    """RUN/report.html and RUN/plots/*.png from the run's files; returns the page's path."""
    from dlx.report import plots

    run_dir = Path(run_dir)
    report = json.loads((run_dir / "report.json").read_text())
    config_file = run_dir / "config.yaml"
    config_text = config_file.read_text() if config_file.is_file() else ""
    rows = read_metrics(metrics_file(run_dir, config_text))
    images = {}
    if rows:
        images["learning_curves"] = plots.learning_curves(rows)
        images["lr"] = plots.learning_rate(rows)
    if report.get("confusion_matrix"):
        names = report.get("class_names") or [str(i) for i in range(len(report["confusion_matrix"]))]
        images["confusion_matrix"] = plots.confusion_matrix(report["confusion_matrix"], names)
    (run_dir / "plots").mkdir(exist_ok=True)
    for name, data in images.items():
        write_atomic_bytes(run_dir / "plots" / f"{name}.png", data)
    out = run_dir / "report.html"
    write_atomic(out, render(run_dir, report, config_text, images))
    return out
