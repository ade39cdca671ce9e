"""ONNX Runtime as a backend: torch's ops as one-node ONNX models on its CPU execution provider.

The models and the mapping from torch's arguments to ONNX nodes are
``backends.libraries.onnx_models``'s (its docstring holds the table), shared
with ``onnx-reference``, so that the two engines run the very same models:

================================  ==============================================================
torch                             ONNX Runtime
================================  ==============================================================
``interpolate``                   ``Resize`` (nearest: asymmetric + floor; nearest-exact:
                                  half_pixel + round_prefer_ceil; linear modes: half_pixel or
                                  align_corners; bicubic: cubic, A = -0.75; antialias: A = -0.5,
                                  exclude_outside=1); lanczos and area: unsupported
``conv_transpose``                ``ConvTranspose``
``max_unpool``                    ``MaxUnpool`` (indices offset to whole-tensor linear indices)
``pixel_shuffle`` / ``unshuffle`` ``DepthToSpace(mode="CRD")`` / ``SpaceToDepth`` + channel reorder
================================  ==============================================================

One ``InferenceSession`` per model signature (op, attributes, element types,
ranks), cached.  A dtype the node allows but ONNX Runtime has no CPU kernel
for (Resize on float64, say), or an element type it has none of (complex), is
unsupported, with its message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends.libraries.onnx_models import OnnxBackend, Signature, build_model, cached
from backends.protocol import Unsupported


@cached
def _session(signature: Signature) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # no log lines on stderr: a failure's message travels in its exception
    try:
        return ort.InferenceSession(
            build_model(signature).SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        # no kernel for this node and element type, or no such element type at all (complex)
        if "NOT_IMPLEMENTED" in str(exc) or "is not currently registered or supported" in str(exc):
            raise Unsupported(f"onnxruntime: {exc}") from exc
        raise


class OnnxRuntimeBackend(OnnxBackend):
    """``onnxruntime.InferenceSession`` on the CPU."""

    name = "onnxruntime"
    module = "onnxruntime"
    #: installs onnxruntime and onnx (which builds the models)
    extra = "onnxruntime"

    def _run(self, signature: Signature, feeds: dict[str, np.ndarray]) -> np.ndarray:
        import onnxruntime as ort

        quiet = ort.RunOptions()
        quiet.log_severity_level = 4  # as the session's: the exception carries the message
        return _session(signature).run(None, feeds, quiet)[0]
