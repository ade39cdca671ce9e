"""torch's argument checks for the adapters whose library has no such checks
of its own (jax, tensorflow, onnxruntime, onnx-reference).

An adapter checks and resolves a call the way torch does before it reaches
the library, so that an invalid call raises torch's error and a valid one
gets torch's output size: ``plan_interpolate``, ``plan_conv_transpose`` and
``plan_max_unpool`` from ``reference`` do that for their ops; this module adds
the same for ``pixel_(un)shuffle`` and ``max_unpool``'s index range, and the
conversions several adapters share (torch's sample positions as a
``scale_and_translate`` scale and translation; results back to the input's dtype).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.interpolate import ResizePlan, source_scale
from reference.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from reference.unpooling import invalid_index_error


def check_shuffle(op: str, shape: Sequence[int], dtype: np.dtype, factor: int) -> None:
    """Raise what ``torch.nn.functional.<op>`` raises for an input of ``shape``.

    The reference's own function runs on a zero-strided stand-in of that
    shape: every reshape and transpose of it is a view, so the checks cost no
    memory and the messages are the reference's (torch's) word for word."""
    stand_in = np.broadcast_to(np.zeros((), dtype=dtype), tuple(shape))
    {"pixel_shuffle": pixel_shuffle, "pixel_unshuffle": pixel_unshuffle}[op](stand_in, factor)


def check_unpool_indices(indices: np.ndarray, spatial: Sequence[int]) -> None:
    """torch's ``Found an invalid max index`` check: every index within the
    output plane (``max_unpool`` checks none when that plane is empty)."""
    plane = math.prod(spatial)
    if plane == 0 or indices.size == 0:
        return
    bad = (indices < 0) | (indices >= plane)
    if bad.any():
        raise invalid_index_error(int(indices[bad].ravel()[0]), tuple(spatial))


def to_input_dtype(y: Any, dtype: np.dtype, xp: Any = np) -> Any:
    """A library's floating result in the input's dtype.  An integer input
    (uint8) is rounded half to even and saturated, the conversion a user of
    a library that returns floats for integer images writes; a floating one
    is cast (a library computing in float32 loses float64's precision here,
    which is what the harness should see).  ``xp``: the array namespace of
    ``y`` (``jax.numpy`` for JAX arrays)."""
    dtype = np.dtype(dtype)
    if np.dtype(y.dtype) == dtype:
        return y
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return xp.clip(xp.rint(y), info.min, info.max).astype(dtype)
    return y.astype(dtype)


def scale_and_translation(plan: ResizePlan, d: int) -> tuple[float, float]:
    """The ``(scale, translation)`` of ``scale_and_translate`` (JAX's, and
    TensorFlow's ``ScaleAndTranslate``) that puts axis ``d``'s outputs where
    torch does: both sample output ``i`` at ``(i + 0.5 - translation) / scale
    - 0.5`` in input pixels, and stretch an antialiasing filter by ``1 / scale``."""
    n_in, n_out, given = plan.input_size[d], plan.output_size[d], plan.scales[d]
    if n_in == n_out and (plan.antialias or plan.mode != "bicubic"):
        return 1.0, 0.0  # torch leaves such an axis as it is, whatever the scale factor
    if n_in == 1:
        return float(n_out), 0.0  # every sample lands on the one input
    if plan.antialias:
        s = source_scale(n_in, n_out, plan.align_corners, given)
        return (1.0, 0.5) if s == 0 else (1.0 / s, 0.0)
    if plan.align_corners:
        if n_out == 1:
            return 1.0, 0.0
        scale = (n_out - 1) / (n_in - 1)
        return scale, (1.0 - scale) / 2
    return (given if given is not None else n_out / n_in), 0.0
