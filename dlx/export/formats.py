"""Writing a Deployable as ONNX or TorchScript, running it back, and comparing it with PyTorch."""

from pathlib import Path

import numpy as np
import torch

PARITY_BATCHES = (1, 64)  # a single sample and a full batch: the batch dimension is dynamic


def write_model(model: torch.nn.Module, example: torch.Tensor, path: Path, fmt: str) -> None:
    """example: (2, *in_shape) raw inputs, only their shape and dtype matter."""
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
        import warnings

        warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated.*")  # still torch's TorchScript
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
    module = torch.jit.load(str(path), map_location="cpu").eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.as_tensor(x, dtype=torch.float32)).numpy()

    return run


def check_parity(model: torch.nn.Module, path: Path, fmt: str, raw: torch.Tensor) -> dict:
    """The exported file against the PyTorch model on real inputs, at each of PARITY_BATCHES."""
    runner = load_runner(path, fmt)
    worst, sizes = 0.0, []
    with torch.no_grad():
        for size in PARITY_BATCHES:
            x = raw[: min(size, len(raw))]
            expected = model(x).numpy()
            got = runner(x.numpy())
            if got.shape != expected.shape:
                return {"max_abs_diff": float("inf"), "batch_sizes": sizes + [len(x)], "samples": len(x)}
            worst = max(worst, float(np.abs(got - expected).max()))
            sizes.append(len(x))
    return {"max_abs_diff": worst, "batch_sizes": sizes, "samples": max(sizes)}
