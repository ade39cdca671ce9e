"""``max_pool`` (with indices) and ``max_unpool`` for any array namespace.

``max_pool`` pads the input with the dtype's lowest value and walks the
kernel taps in row-major order (a Python loop over taps, never over outputs):
each tap is one strided view of the padded input, and a running maximum keeps
torch's tie rule (the first maximum wins: strict ``>``) and NaN rule (a NaN
always takes over).  Padding never wins, since nothing is below the lowest
value.  ``max_unpool`` is one scatter into a zero output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.conv_transpose import IntOrSeq
from reference.dtypes import is_floating
from reference.unpooling import _first_tap, invalid_index_error, plan_max_pool, plan_max_unpool


def _lowest(dtype: np.dtype) -> float | int:
    return -np.inf if is_floating(dtype) else np.iinfo(dtype).min


def max_pool(
    xp: Any,
    x: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
    ceil_mode: bool = False,
) -> tuple[Any, Any]:
    plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d, out = plan.kernel, plan.stride, plan.padding, plan.dilation, plan.output_lengths
    n = len(k)
    spatial = tuple(x.shape[-n:])
    lead = tuple(x.shape[:-n])
    dtype = np.dtype(x.dtype)
    # Pad far enough that every tap of every window is a plain strided view.
    after = [
        max(0, (o - 1) * si + (ki - 1) * di - pi - li + 1) for o, si, ki, di, pi, li in zip(out, s, k, d, p, spatial)
    ]
    padded = xp.full(lead + tuple(li + pi + a for li, pi, a in zip(spatial, p, after)), _lowest(dtype), dtype=dtype)
    padded[(..., *(slice(pi, pi + li) for pi, li in zip(p, spatial)))] = x
    # Flat input position of window start o along each axis, for the indices.
    plane_strides = np.cumprod((1,) + spatial[:0:-1])[::-1]
    starts = [np.arange(o) * si - pi for o, si, pi in zip(out, s, p)]
    first = sum(
        xp.asarray(np.array([_first_tap(v, di) for v in st_], dtype=np.int64) * ps).reshape((-1,) + (1,) * (n - 1 - a))
        for a, (st_, di, ps) in enumerate(zip(starts, d, plane_strides))
    )
    best = xp.full(lead + out, _lowest(dtype), dtype=dtype)
    index = xp.broadcast_to(first, lead + out).astype(np.int64)
    for tap in np.ndindex(*k):
        view = padded[(..., *(slice(j * di, j * di + (o - 1) * si + 1, si) for j, di, si, o in zip(tap, d, s, out)))]
        better = view > best
        if is_floating(dtype):
            better |= xp.isnan(view)
        offset = sum(
            xp.asarray((starts[a] + tap[a] * d[a]) * plane_strides[a]).reshape((-1,) + (1,) * (n - 1 - a))
            for a in range(n)
        )
        best = xp.where(better, view, best)
        index = xp.where(better, offset, index)
    return best, index


def max_unpool(
    xp: Any,
    x: Any,
    indices: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    output_size: Sequence[int] | None = None,
) -> Any:
    out = plan_max_unpool(x.shape, indices.shape, indices.dtype, kernel_size, stride, padding, output_size)
    n = len(out)
    plane = math.prod(out)
    lead = tuple(x.shape[:-n])
    if plane == 0:
        return xp.zeros(lead + out, dtype=x.dtype)
    flat = indices.reshape(-1, math.prod(x.shape[-n:]))
    if flat.size:
        low, high = int(flat.min()), int(flat.max())
        if low < 0 or high >= plane:
            raise invalid_index_error(low if low < 0 else high, out)
    y = xp.zeros((flat.shape[0], plane), dtype=x.dtype)
    rows = xp.arange(flat.shape[0]).reshape(-1, 1)
    y[rows, flat] = x.reshape(flat.shape)
    return y.reshape(lead + out)
