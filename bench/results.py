"""bench/results.json: every benchmark's figures with their ratios, the machine, the versions and the date.

Each benchmark script calls `save(section, rows)`; a section is replaced whole, the others are kept, so
`make bench` (all of them) and one script run alone both leave a complete file.
"""

import datetime
import json
import os
import platform
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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def save(section: str, rows: list[dict], notes: str = "") -> None:
    """rows: one dict a figure, e.g. {"name": "cnn", "hand_s": .., "dlx_s": .., "ratio": .., "target": "<= 1.05"}."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[section] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "rows": rows,
        **({"notes": notes} if notes else {}),
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(RESULTS)


def verdict(value: float, target: float, at_most: bool = True) -> str:
    return "ok" if (value <= target if at_most else value >= target) else "MISS"
