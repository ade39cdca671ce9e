"""The deploy path as a backend: ``torch.onnx.export(..., dynamo=True)`` of a
one-op module, run by ONNX Runtime on its CPU execution provider.

=====================================  ==================================================================
torch                                  torch-onnx
=====================================  ==================================================================
``F.interpolate(x, **kwargs)``         ``torch.onnx.export(M(), (x,), dynamo=True)`` of a module whose
                                       ``forward`` is that call (the keyword arguments constants of
                                       the model, as in a deployed network), then
                                       ``onnxruntime.InferenceSession(model).run``; every op alike
                                       (``conv_transpose``: weight and bias are inputs of the model)
``max_pool``                           the same with ``return_indices=True``: values and indices
gradients                              none (an inference runtime)
=====================================  ==================================================================

Exporting is compiling: the backend ``compiles`` (each case timed after its
first call, which exports; the exporter is loaded once at load, ``warm_up``).
The exporter's default opset is recorded with each result (``call_used``:
``opset 18``...).  One export and session per op, arguments and input
shapes and dtypes (static shapes: the exporter's default), cached.  A dtype
ONNX Runtime has no kernel for (or no element type: bfloat16 inputs from
NumPy, complex) is unsupported, with its message; an export that fails is
what the harness records (a crash where torch returns a result).
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from backends.frameworks import TORCH_OPS, FrameworkBackend
from backends.protocol import Unsupported
from backends.torch_backend import TorchBackend

#: The protocol ops exported: each torch's functional call (``TorchBackend``).
OPS = TORCH_OPS
#: Dtypes the model cannot be fed from NumPy or ONNX Runtime has no CPU kernels of.
NOT_FED = {"bfloat16": "onnxruntime takes no bfloat16 NumPy array as input"}


class TorchOnnxBackend(FrameworkBackend):
    """``torch.onnx.export(dynamo=True)`` of a one-op module, on ``onnxruntime``'s CPU provider."""

    name = "torch-onnx"
    module = "onnxruntime"
    extra = "torch-onnx"
    #: a new signature is exported and its session built (seconds); later calls run the session
    compiles = True

    def __init__(self) -> None:
        self._torch = TorchBackend()
        self._sessions: dict[str, tuple[Any, int | None]] = {}
        self.opset: int | None = None

    def availability(self) -> tuple[bool, str]:
        ok, why = super().availability()
        if ok:
            try:
                import onnxscript  # noqa: F401 -- the dynamo exporter needs it
            except ImportError as exc:
                return False, f"onnxscript is not installed ({exc}); python -m pip install -e '.[{self.extra}]'"
        return ok, why

    def warm_up(self) -> None:
        """Load the exporter (onnxscript's op library: seconds) with a throw-away export, in the worker."""
        self._run("pixel_shuffle", np.zeros((1, 4, 1, 1), np.float32), {}, {"upscale_factor": 2})

    def version(self) -> str:
        ort = super().version()
        return f"onnxruntime {ort}, torch {self._torch.version()}"

    def call_used(self, op: str, params: Any) -> str | None:
        opset = f", opset {self.opset}" if self.opset is not None else ""
        return f"torch.onnx.export(F.{op} module, dynamo=True{opset}) + onnxruntime CPUExecutionProvider"

    def _session(self, op: str, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[Any, int | None]:
        """The exported model's session for this op, arguments and input signature (cached)."""
        key = json.dumps(
            [op, sorted((n, a.shape, str(a.dtype)) for n, a in arrays.items()), params], sort_keys=True, default=str
        )
        if key not in self._sessions:
            self._sessions[key] = _export(self._torch, op, arrays, params)
        return self._sessions[key]

    def _run(self, op: str, x: np.ndarray, operands: dict[str, Any], params: dict[str, Any]) -> Any:
        arrays = {"x": np.asarray(x), **{n: np.asarray(a) for n, a in operands.items() if a is not None}}
        for a in arrays.values():
            if str(a.dtype) in NOT_FED:
                raise Unsupported(NOT_FED[str(a.dtype)])
        session, self.opset = self._session(op, arrays, params)
        feeds = {i.name: np.ascontiguousarray(arrays[n]) for i, n in zip(session.get_inputs(), arrays)}
        outs = session.run(None, feeds)
        return tuple(outs) if len(outs) > 1 else outs[0]


def _export(torch_backend: TorchBackend, op: str, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> Any:
    """Export the one-op module and open its session: ``(session, opset)``."""
    import onnxruntime as ort
    import torch

    names = list(arrays)
    call: Callable[..., Any] = getattr(torch_backend, op)

    class OneOp(torch.nn.Module):
        def forward(self, *inputs: Any) -> Any:
            return call(inputs[0], **dict(zip(names[1:], inputs[1:])), **params)

    example = tuple(torch_backend.from_numpy(np.ascontiguousarray(a)) for a in arrays.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(OneOp(), example, dynamo=True, verbose=False)
    model = program.model_proto
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    buffer = io.BytesIO()
    buffer.write(model.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 4  # the exception carries the message
    try:
        session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        if "NOT_IMPLEMENTED" in str(exc) or "is not currently registered or supported" in str(exc):
            raise Unsupported(f"onnxruntime: {exc}") from exc
        raise
    return session, opset


def _exported(op: str) -> Callable[..., Any]:
    def method(self: TorchOnnxBackend, x: Any, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise TypeError(f"{op}: pass arguments by keyword")
        operands = {k: v for k, v in kwargs.items() if isinstance(v, np.ndarray)}
        params = {k: v for k, v in kwargs.items() if k not in operands}
        return self._run(op, x, operands, params)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"torch's ``{op}``, exported to ONNX and run by onnxruntime."
    return method


for _op in OPS:
    setattr(TorchOnnxBackend, _op, _exported(_op))
