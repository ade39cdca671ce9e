"""ONNX's reference evaluator as a backend: ``onnx.reference.ReferenceEvaluator`` on one-node models.

The evaluator is ONNX's executable specification, in Python and NumPy; it
runs the very models ``onnxruntime`` runs (``backends.libraries.onnx_models``
builds them; its docstring holds the table), so a cell where the two
disagree is a place where ONNX's own implementations read the spec apart:

================================  ==============================================================
torch                             ONNX reference evaluator
================================  ==============================================================
``interpolate``                   ``Resize`` (nearest: asymmetric + floor; nearest-exact:
                                  half_pixel + round_prefer_ceil; linear modes: half_pixel or
                                  align_corners; bicubic: cubic, A = -0.75; antialias: A = -0.5,
                                  exclude_outside=1); lanczos and area: unsupported
``conv_transpose``                ``ConvTranspose``
``max_unpool``                    ``MaxUnpool`` (indices offset to whole-tensor linear indices)
``pixel_shuffle`` / ``unshuffle`` ``DepthToSpace(mode="CRD")`` / ``SpaceToDepth`` + channel reorder
================================  ==============================================================

One evaluator per model signature, cached.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends.libraries.onnx_models import OnnxBackend, Signature, build_model, cached


@cached
def _evaluator(signature: Signature) -> Any:
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(build_model(signature))


class OnnxReferenceBackend(OnnxBackend):
    """``onnx.reference.ReferenceEvaluator``."""

    name = "onnx-reference"
    module = "onnx"
    extra = "onnx"

    def _run(self, signature: Signature, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(_evaluator(signature).run(None, feeds)[0])
