"""`dlx export RUN format=onnx|torchscript [tolerance=1e-4]`: the run's best model, ready to ship.

    dlx export latest format=onnx          # RUN/export/model.onnx + RUN/export/model.onnx.json
    dlx predict RUN/export/model.onnx digit.png

The file takes raw inputs (the data's own units: pixel values 0-255, the table's columns) of any batch size
and gives class probabilities: the run's normalization and a softmax are folded in. The JSON beside it holds
the input shape, the class names and the preprocessing (how images and tables are encoded), for `dlx predict`
and for the program that deploys it. Export checks parity before it reports success: ONNX Runtime (or the
TorchScript module) against PyTorch on batches of the run's real test inputs, at two batch sizes; the largest
absolute difference in probability must stay under `tolerance`, or the files are removed and it exits 1.
Any other failure (the exporter's, or a file that cannot take a batch size) is one line and exit 1 too, with
nothing written; HYDRA_FULL_ERROR=1 shows the traceback.
"""

import argparse
import os
import sys
from pathlib import Path

from dlx.config.errors import ConfigError
from dlx.export import ExportError

FORMATS = {"onnx": "model.onnx", "torchscript": "model.ts"}


def parse(argv: list[str]) -> argparse.Namespace:
    from dlx.runs.resolve import run_command_parser

    p = run_command_parser(
        "dlx export", "Export a run's model for deployment.", "settings", "format=onnx|torchscript, tolerance=1e-4"
    )
    return p.parse_args(argv)


def settings(items: list[str]) -> tuple[str, float]:
    fmt, tolerance = "onnx", 1e-4
    for item in items:
        key, sep, value = item.partition("=")
        if key == "format" and sep:
            if value not in FORMATS:
                raise ConfigError("format", f"got {value!r}; valid: {', '.join(FORMATS)}")
            fmt = value
        elif key == "tolerance" and sep:
            try:
                tolerance = float(value)
            except ValueError:
                tolerance = -1.0
            if not tolerance > 0:
                raise ConfigError("tolerance", f"got {value!r}; expected a number above 0, e.g. 1e-4")
        else:
            raise ConfigError(item, "dlx export takes format=onnx|torchscript and tolerance=NUMBER")
    return fmt, tolerance


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        fmt, tolerance = settings(args.settings)
        result = export(args.run, fmt, tolerance, Path(args.runs_dir), args.trust_config)
    except ConfigError as e:
        print(f"dlx export: {e}", file=sys.stderr)
        return 2
    except ExportError as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1" and e.__cause__ is not None:
            raise
        print(f"dlx export: {e}; nothing was kept", file=sys.stderr)
        return 1
    parity = result["parity"]
    print(
        f"dlx export: {result['file']} ({result['bytes']:,} bytes); parity with PyTorch on {parity['samples']} "
        f"test inputs at batch sizes {parity['batch_sizes']}: max |difference| "
        f"{parity['max_abs_diff']:.2e} (tolerance {tolerance:g}); {result['sidecar']}"
    )
    return 0


def export(spec: str, fmt: str, tolerance: float, runs_root: Path, trust_config: bool = False) -> dict:
    """An ExportError when the file cannot be kept: then nothing is written (an earlier export stays as it was)."""
    import torch

    from dlx.export import formats
    from dlx.export.deployable import Deployable, sidecar
    from dlx.run_dir import write_json
    from dlx.runs.evaluate import restored_data

    run, data, _ = restored_data(spec, [], runs_root, trust_config)
    model = Deployable(run.net, run.normalizer).eval()
    raw = torch.cat([data.normalizer.undo(x) for x, _ in data.eval_batches("test")])  # (N, *in_shape), raw units
    out_dir = run.run_dir / "export"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / FORMATS[fmt]
    partial = path.with_suffix(".partial" + path.suffix)  # model.partial.onnx until it passes its check
    side = out_dir / f"{path.name}.json"  # model.onnx.json: each format its own, side by side
    try:
        with formats.quiet_exporters():
            formats.write_model(model, raw[: formats.EXAMPLE_BATCH], partial, fmt)
            parity = formats.check_parity(model, partial, fmt, raw[:256])
        if not parity["max_abs_diff"] <= tolerance:
            raise ExportError(
                f"{fmt} output differs from PyTorch's by {parity['max_abs_diff']:.3g} (tolerance {tolerance:g})"
            )
        record = {**sidecar(run, fmt, path.name), "parity": {**parity, "tolerance": tolerance}}
        write_json(side, record)
        partial.replace(path)
    except ExportError:
        raise
    except Exception as e:  # the exporter's own failures: one line, the traceback under HYDRA_FULL_ERROR=1
        raise ExportError(f"{fmt} export failed ({type(e).__name__}): {formats.gist(e)}") from e
    finally:
        partial.unlink(missing_ok=True)  # gone once kept; one that failed its check or was cut short is no export
    return {"file": str(path), "bytes": path.stat().st_size, "sidecar": str(side), "parity": record["parity"]}
