"""RUN/report.html after a real `dlx train`: self-contained, and rendered by headless Chromium without errors.

Chromium comes from apt: `make test` installs it (Makefile target `chromium`); without it those tests skip.
"""

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_dirs, run_in_process

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("report-html")

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make test` installs it)")
SECTIONS = ["metrics", "curves", "lr", "confusion", "per-class", "config", "environment"]
PLOTS = ["learning_curves.png", "lr.png", "confusion_matrix.png"]
MPL_BLUE = (31, 119, 180)  # matplotlib's first line colour: on screen only if the curves' PNG was drawn


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A two-epoch smoke run."""
    work = tmp_path_factory.mktemp("report")
    out = run_in_process("train", "trainer=smoke", "trainer.max_epochs=2", cwd=work)
    assert out.returncode == 0, out.stderr
    (run,) = run_dirs(work / "runs")
    return run


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a file:// page, with a fresh profile (parallel runs do not share one)."""
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += ["--no-first-run", f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console: with --enable-logging=stderr every console call and every uncaught
    exception becomes a `...:CONSOLE:<line>] "message", source: ...` line (all levels read INFO there)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_run_writes_the_new_metrics(run: Path):
    report = json.loads((run / "report.json").read_text())
    for key in ("top3_acc", "top5_acc", "precision_weighted", "recall_weighted", "f1_weighted", "model_bytes"):
        assert 0 < report[key], key
    assert report["latency_ms_per_sample_p50"] <= report["latency_ms_per_sample_p95"]
    assert report["inference_ms_per_sample"] == report["latency_ms_per_sample_p50"]
    assert list(report["noise_robustness"]) == ["0.0", "0.1", "0.2", "0.5"]
    assert report["noise_robustness"]["0.0"] == pytest.approx(report["test_acc"], abs=1e-6)
    assert report["epochs_to_best_val_acc"] == report["best_epoch"] + 1 and report["epoch_at_95pct_best_val_acc"] <= 1


def test_report_is_self_contained_and_holds_the_plots(run: Path):
    page = (run / "report.html").read_text()
    assert "<script" not in page.lower() and not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3 and page.count("<img") == 3
    for name, data in zip(PLOTS, images, strict=True):
        assert (run / "plots" / name).read_bytes() == base64.b64decode(data), name
        assert Image.open(run / "plots" / name).format == "PNG"
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in page, sid
    assert "top-3 accuracy" in page and "trainer:" in page and "sigma (normalized units)" in page


def test_text_is_escaped_and_report_is_written_without_metrics_csv(run: Path, tmp_path: Path):
    from dlx.report.html import write_report

    copy = tmp_path / "cnn-digits" / run.name
    shutil.copytree(run, copy)
    (copy / "metrics.csv").unlink()
    shutil.rmtree(copy / "plots")
    report = json.loads((copy / "report.json").read_text())
    report["class_names"][0] = "<b>zero</b>"
    (copy / "report.json").write_text(json.dumps(report))
    page = write_report(copy).read_text()
    assert "no curves" in page and page.count("<img") == 1, "the confusion matrix only"
    assert "&lt;b&gt;zero&lt;/b&gt;" in page and "<b>zero" not in page
    assert sorted(p.name for p in (copy / "plots").iterdir()) == ["confusion_matrix.png"]


@needs_chromium
def test_chromium_renders_the_report_without_console_errors(run: Path, tmp_path: Path):
    page = run / "report.html"
    dom = chromium(page, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_messages(dom.stderr) == []
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in dom.stdout, sid
    assert dom.stdout.count("<img") == 3 and "Per-class precision, recall, F1" in dom.stdout

    shot = tmp_path / "report.png"
    done = chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,2000")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, "a blank page has one or two colours"
    white = sum(n for n, c in colours if c == (255, 255, 255))
    assert white < 0.95 * image.width * image.height
    assert any(c == MPL_BLUE for _, c in colours), "the learning curves image was not drawn"


@needs_chromium
def test_console_check_catches_errors(tmp_path: Path):
    """The check above would see a broken page: console.error and an uncaught exception both show."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>console.error('boom'); missing_function();</script></body></html>")
    out = chromium(page, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    messages = console_messages(out.stderr)
    assert any("boom" in m for m in messages) and any("Uncaught ReferenceError" in m for m in messages)
