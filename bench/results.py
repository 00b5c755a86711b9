"""bench/results.json: every benchmark's figures with their ratios, the machine, the versions and the date.

Each benchmark script calls `save(section, rows)`; a section is replaced whole, the others are kept, so
`make bench` (all of them) and one script run alone both leave a complete file.
"""

import datetime
import json
import os
import platform
import shutil
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def machine() -> dict:
    import torch

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        import lightning

        info["lightning"] = lightning.__version__
    except ImportError:
        pass
    return info


def unused_gpu_warning() -> str:
    """A warning when this machine has an NVIDIA GPU that torch cannot use (a CPU-only wheel in .venv): the GPU
    rows would silently stay empty. Empty when there is no such GPU, or torch sees it."""
    import torch

    if torch.cuda.is_available() or not (shutil.which("nvidia-smi") or Path("/dev/nvidia0").exists()):
        return ""
    return (
        f"warning: this machine has an NVIDIA GPU but torch {torch.__version__} was built without CUDA, so the GPU "
        "rows stay empty: install a CUDA build of torch into .venv (pip install torch from PyPI) and rerun"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def results_path() -> Path:
    """bench/results.json, or DLX_BENCH_RESULTS (the tests run the benchmarks into a file of their own)."""
    return Path(os.environ.get("DLX_BENCH_RESULTS") or RESULTS)


def save(section: str, rows: list[dict], notes: str = "", merge_key: str | None = None) -> None:
    """rows: one dict a figure, e.g. {"name": "cnn", "hand_s": .., "dlx_s": .., "ratio": .., "target": "<= 1.05"}.
    merge_key: replace only the section's rows with these rows' values of that key (a script run on some of
    its cases keeps the others' figures); each row then carries its own date."""
    path = results_path()
    data = json.loads(path.read_text()) if path.exists() else {}
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if merge_key is not None:
        fresh = {row[merge_key]: {**row, "date": now} for row in rows}
        earlier = data.get(section, {}).get("rows", [])
        known = {row.get(merge_key) for row in earlier}
        # in place of the earlier row of the same key, so the table keeps its order; new keys at the end
        rows = [fresh.get(row.get(merge_key), row) for row in earlier] + [r for k, r in fresh.items() if k not in known]
    data[section] = {"date": now, "machine": machine(), "rows": rows, **({"notes": notes} if notes else {})}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def verdict(value: float, target: float, at_most: bool = True) -> str:
    return "ok" if (value <= target if at_most else value >= target) else "MISS"
