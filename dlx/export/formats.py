"""Writing a Deployable as ONNX or TorchScript, running it back, and comparing it with PyTorch."""

import contextlib
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from dlx.config.errors import one_line
from dlx.export import ExportError

PARITY_BATCHES = (1, 64)  # a single sample and a full batch: the batch dimension is dynamic
EXAMPLE_BATCH = 2  # the batch export traces with; a size the parity check does not use, so a fixed one shows

# what torch's exporters say about themselves, never about the user's model: (logger, level it may still log at)
QUIET_LOGGERS = {"torch.onnx._internal.exporter._registration": logging.ERROR}  # "torchvision is not installed"
# (category, message at its start) of the notices torch emits from its own code while it exports
QUIET_WARNINGS = [
    (FutureWarning, "_check_is_size will be removed"),  # torch.export's graphs call its own deprecated check
    (UserWarning, r"The tensor attributes? .*_flat_weights.* assigned during export"),  # an RNN re-binds its weights
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),  # torch.export's own pytree code
    (DeprecationWarning, r"`torch\.jit\.\w+` is (deprecated|not supported)"),  # TorchScript still works in 2.13
]


@contextlib.contextmanager
def quiet_exporters():
    """Silence QUIET_LOGGERS and QUIET_WARNINGS while torch exports (or loads TorchScript), and only those: any
    other warning, and everything dlx prints, still shows. Logger levels and warning filters are put back after."""
    loggers = {logging.getLogger(name): level for name, level in QUIET_LOGGERS.items()}
    saved = {log: log.level for log in loggers}
    try:
        for log, level in loggers.items():
            log.setLevel(level)
        with warnings.catch_warnings():
            for category, message in QUIET_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=category)
            yield
    finally:
        for log, level in saved.items():
            log.setLevel(level)


def write_model(model: torch.nn.Module, example: torch.Tensor, path: Path, fmt: str) -> None:
    """example: (EXAMPLE_BATCH, *in_shape) raw inputs, only their shape and dtype matter."""
    if fmt == "onnx":
        batch = torch.export.Dim("batch", min=1)
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=["input"],
            output_names=["probabilities"],
            dynamic_shapes=({0: batch},),
            verbose=False,
        )
        program.save(str(path))
    else:
        with torch.no_grad():
            scripted = torch.jit.trace(model, example, check_trace=False)
        torch.jit.save(scripted, str(path))


def load_runner(path: Path, fmt: str):
    """A function (N, *in_shape) float32 array -> (N, K) probabilities, from the exported file alone."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})[0]
    with quiet_exporters():  # torch.jit.load's deprecation notice
        module = torch.jit.load(str(path), map_location="cpu").eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.as_tensor(x, dtype=torch.float32)).numpy()

    return run


def check_parity(model: torch.nn.Module, path: Path, fmt: str, raw: torch.Tensor) -> dict:
    """The exported file against the PyTorch model on real inputs, at each of PARITY_BATCHES. An ExportError when
    the file cannot take one of those batch sizes (its graph fixed the batch size it was traced with)."""
    runner = load_runner(path, fmt)
    worst, sizes = 0.0, []
    with torch.no_grad():
        for size in PARITY_BATCHES:
            x = raw[: min(size, len(raw))]
            expected = model(x).numpy()
            got = run_batch(runner, x, fmt)
            if got.shape != expected.shape:
                raise ExportError(
                    f"the exported {fmt} model gives shape {tuple(got.shape)} for a batch of {len(x)}; "
                    f"PyTorch gives {tuple(expected.shape)}"
                )
            worst = max(worst, float(np.abs(got - expected).max()))
            sizes.append(len(x))
    return {"max_abs_diff": worst, "batch_sizes": sizes, "samples": max(sizes)}


def run_batch(runner, x: torch.Tensor, fmt: str) -> np.ndarray:
    try:
        return runner(x.numpy())
    except Exception as e:  # ONNX Runtime and the TorchScript interpreter both raise several kinds
        raise ExportError(
            f"the exported {fmt} model fails on a batch of {len(x)} (traced with a batch of {EXAMPLE_BATCH}: a forward "
            f"that reads the batch size as a Python int, e.g. len(x), bakes it into the file): {gist(e)}"
        ) from e


def gist(e: Exception) -> str:
    """torch's and ONNX Runtime's many-line messages on one line; of TorchScript's, its last line (the
    interpreter's traceback comes first, the error itself last)."""
    text = one_line(str(e)) if "Traceback of TorchScript" not in str(e) else str(e).strip().splitlines()[-1].strip()
    return text or type(e).__name__
