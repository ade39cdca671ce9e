"""``interpolate`` for any NumPy-like array namespace.

Each spatial axis is resampled in turn by gathers: with the axis's taps
``(index, weight)`` of shape ``(n_out, k)``, the result is
``sum_k take(x, index[:, k], axis) * weight[:, k]``.  Arithmetic happens in the
dtype torch computes in on the CPU (``compute_dtype``): float32 for float16 and
uint8 data, the data's own dtype otherwise.  uint8 results are rounded half up
and clamped to 0..255 as torch's fixed-point kernels do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.interpolate import DATA_MOVEMENT_MODES, axis_taps, plan_interpolate


def compute_dtype(dtype: Any) -> np.dtype:
    """The dtype torch's CPU kernels accumulate in for ``dtype`` data."""
    dtype = np.dtype(dtype)
    if dtype in (np.float16, np.uint8):
        return np.dtype(np.float32)
    return dtype


def _broadcast_shape(ndim: int, axis: int, n: int) -> tuple[int, ...]:
    shape = [1] * ndim
    shape[axis] = n
    return tuple(shape)


def _resample_axis(xp: Any, y: Any, index: np.ndarray, weight: np.ndarray, axis: int) -> Any:
    """``sum_k take(y, index[:, k], axis) * weight[:, k]`` with few temporaries."""
    shape = _broadcast_shape(y.ndim, axis, index.shape[0])
    out = None
    for k in range(index.shape[1]):
        w = weight[:, k]
        if not w.any():
            continue  # padding taps of a narrower window
        term = xp.take(y, xp.asarray(index[:, k]), axis=axis)
        term *= xp.asarray(w).reshape(shape)
        if out is None:
            out = term
        else:
            out += term
    if out is None:  # every weight zero (only for empty windows)
        out_shape = list(y.shape)
        out_shape[axis] = index.shape[0]
        out = xp.zeros(tuple(out_shape), dtype=y.dtype)
    return out


def interpolate(
    xp: Any,
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Any:
    """``torch.nn.functional.interpolate`` on an ``xp`` array."""
    plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    in_dtype = np.dtype(x.dtype)
    data_movement = mode in DATA_MOVEMENT_MODES
    work = np.dtype(x.dtype) if data_movement else compute_dtype(x.dtype)
    y = x if data_movement else x.astype(work, copy=False)
    # torch's separable kernels resample the last axis first
    for d in reversed(range(len(plan.input_size))):
        taps = axis_taps(plan, d, x.ndim)
        if taps is None:
            continue
        if taps.weight is None:
            y = xp.take(y, xp.asarray(taps.index[:, 0]), axis=2 + d)
        else:
            y = _resample_axis(xp, y, taps.index, taps.weight.astype(work), axis=2 + d)
    if y is x:
        y = xp.array(x, copy=True)
    if in_dtype == np.uint8:
        return xp.clip(xp.floor(y + 0.5), 0, 255).astype(np.uint8)
    return y.astype(in_dtype, copy=False)
