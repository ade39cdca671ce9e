"""``max_pool`` (with indices) and ``max_unpool`` for any array namespace.

``max_pool`` pads the input with the dtype's lowest value and walks the
kernel taps in row-major order (a Python loop over taps, never over outputs):
each tap is one strided view of the padded input, and a running maximum keeps
torch's tie rule (the first maximum wins: strict ``>``) and NaN rule (a NaN
always takes over).  Padding never wins, since nothing is below the lowest
value.  Where no window reaches into padding and the input holds no NaN (the
common case, told by one sum), the padded copy and the NaN checks are left
out and the maximum and the winning tap are updated in place
(``_max_pool_inside``): the same results with far less memory traffic.
``max_unpool`` is one scatter into a zero output, through flat indices made
a block of planes at a time (``scatter_planes``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.conv_transpose import IntOrSeq
from reference.dtypes import is_floating
from reference.unpooling import _first_tap, invalid_index_error, plan_max_pool, plan_max_unpool

#: Input bytes a block of planes takes through every tap of the fast path
#: (``_max_pool_inside``): a share of a per-core L2 cache.  ``None``: all at once.
BLOCK_BYTES = 1 << 19
#: Indices per plane from which NumPy scatters and gathers a plane at a time.
PLANE_LOOP = 1024


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
    *,
    block_bytes: int | None = BLOCK_BYTES,
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
    if not any(p) and not any(after) and math.prod(out) and math.prod(lead) and not _may_hold_nan(xp, x, dtype):
        return _max_pool_inside(xp, x, plan, block_bytes)
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


def _may_hold_nan(xp: Any, x: Any, dtype: np.dtype) -> bool:
    """Whether ``x`` may hold a NaN: one reduction, no array allocated.  A
    finite sum rules NaN out; an infinite one (infinities, overflow) is
    inconclusive and answers yes, sending the call down the careful path."""
    if not is_floating(dtype):
        return False
    return not math.isfinite(float(xp.sum(x, dtype=np.float64 if dtype.itemsize > 4 else np.float32)))


def _max_pool_inside(xp: Any, x: Any, plan: Any, block_bytes: int | None) -> tuple[Any, Any]:
    """``max_pool`` where every window lies inside the input and no value is
    NaN: no padded copy, no fill, no NaN checks, and no int64 index carried
    through the taps.

    Taps run in row-major order, so their offsets within a window increase:
    the tap that last beat the running maximum strictly (torch's tie rule:
    the first maximum wins) has the largest offset among those that beat it,
    and ``code = maximum(code, better * offset)`` tracks it in a narrow
    integer; the index is ``code`` plus the window's start, once at the end.
    The running maximum is ``maximum``: a tie is between equal bits except
    ``-0.0 == 0.0``, so a result holding a zero reads its maxima back at the
    indices (which keep the earlier zero, as torch does).  Planes go through every
    tap in blocks of about ``block_bytes`` of input, so that the taps read a
    block from cache.  Results agree with the general path bit for bit."""
    k, s, d, out = plan.kernel, plan.stride, plan.dilation, plan.output_lengths
    n = len(k)
    spatial = tuple(x.shape[-n:])
    lead = tuple(x.shape[:-n])
    planes = math.prod(lead)
    src = x.reshape((planes, *spatial))
    plane_strides = np.cumprod((1,) + spatial[:0:-1])[::-1]
    taps = list(np.ndindex(*k))
    offsets = [sum(t * di * int(ps) for t, di, ps in zip(tap, d, plane_strides)) for tap in taps]
    code_dtype = np.dtype(np.int32 if offsets[-1] < 2**31 else np.int64)
    block = planes if block_bytes is None else max(1, block_bytes // (math.prod(spatial) * x.dtype.itemsize))
    rows = min(block, planes)
    code = xp.empty((rows, *out), dtype=code_dtype)
    better = xp.empty((rows, *out), dtype=bool)
    step = xp.empty((rows, *out), dtype=code_dtype)
    best = xp.empty((planes, *out), dtype=x.dtype)
    index = xp.empty((planes, *out), dtype=np.int64)
    start = sum(
        xp.asarray(np.arange(out[a]) * s[a] * int(plane_strides[a])).reshape((-1,) + (1,) * (n - 1 - a))
        for a in range(n)
    )
    for first in range(0, planes, block):
        last = min(planes, first + block)
        m = last - first

        def view(tap: tuple[int, ...], first: int = first, last: int = last) -> Any:
            taken = (slice(j * di, j * di + (o - 1) * si + 1, si) for j, di, si, o in zip(tap, d, s, out))
            return src[(slice(first, last), *taken)]

        top, c, b, st = best[first:last], code[:m], better[:m], step[:m]
        top[...] = view(taps[0])
        c[...] = 0
        for tap, tap_offset in zip(taps[1:], offsets[1:]):
            v = view(tap)
            xp.greater(v, top, out=b)
            xp.maximum(top, v, out=top)
            xp.multiply(b, code_dtype.type(tap_offset), out=st)
            xp.maximum(c, st, out=c)
        xp.add(c, start, out=index[first:last])
    if is_floating(x.dtype) and bool((best == 0).any()):
        # A zero's sign may be the later tap's: read each maximum back at its index.
        flat = (planes, math.prod(out))
        best = xp.take_along_axis(src.reshape(planes, -1), index.reshape(flat), axis=-1)
    return best.reshape(lead + tuple(out)), index.reshape(lead + tuple(out))


def max_unpool(
    xp: Any,
    x: Any,
    indices: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    output_size: Sequence[int] | None = None,
    *,
    block_bytes: int | None = BLOCK_BYTES,
) -> Any:
    out = plan_max_unpool(x.shape, indices.shape, indices.dtype, kernel_size, stride, padding, output_size)
    n = len(out)
    plane = math.prod(out)
    lead = tuple(x.shape[:-n])
    if plane == 0:
        return xp.zeros(lead + out, dtype=x.dtype)
    flat = indices.reshape(-1, math.prod(x.shape[-n:]))
    check_indices(xp, flat, out)
    y = xp.zeros((flat.shape[0], plane), dtype=x.dtype)
    scatter_planes(xp, y, flat, x.reshape(flat.shape), block_bytes)
    return y.reshape(lead + out)


def check_indices(xp: Any, index: Any, out: Sequence[int]) -> None:
    """torch's error for an index outside the output planes (``out``), in
    one pass over the indices: read as unsigned integers, a negative index is
    larger than any valid one, so one maximum finds both kinds (the minimum
    and maximum, for the message, only where one is found)."""
    if not index.size:
        return
    unsigned = index.view(np.dtype(f"u{index.dtype.itemsize}"))
    if int(unsigned.max()) >= math.prod(out):
        low, high = int(index.min()), int(index.max())
        raise invalid_index_error(low if low < 0 else high, out)


def _plane_blocks(xp: Any, index: Any, plane: int, block_bytes: int | None) -> Any:
    """Per block of planes of ``index`` (planes, k) (per-plane indices into
    planes of ``plane`` elements): ``(rows, flat)``, the block's rows and its
    indices into all planes flattened (the plane's offset added), in one
    reused buffer of about ``block_bytes`` (``None``: all planes at once).  A
    scatter or gather through one flat index is about twice as fast as the
    two-index form ``y[rows, index]``; the buffer keeps that temporary small
    and in cache, whatever the size of the call."""
    planes, k = index.shape
    block = planes if block_bytes is None else max(1, min(planes, block_bytes // max(1, k * 8)))
    offsets = xp.arange(0, planes * plane, plane, dtype=np.int64).reshape(-1, 1)
    buffer = xp.empty((block, k), dtype=np.int64)
    for start in range(0, planes, block):
        rows = slice(start, min(planes, start + block))
        flat = buffer[: rows.stop - start]
        xp.add(index[rows], offsets[rows], out=flat)
        yield rows, flat.reshape(-1)


def _plane_at_a_time(xp: Any, index: Any) -> bool:
    """Whether to scatter or gather a plane at a time: on NumPy, where a call
    costs microseconds, and planes of at least ``PLANE_LOOP`` indices (no
    flat index is made: measured 20-25% faster, 8x64 planes of 64x64); on a
    GPU a call is a kernel launch, so planes go in blocks there."""
    return getattr(xp, "__name__", "") == "numpy" and index.shape[1] >= PLANE_LOOP


def scatter_planes(xp: Any, y: Any, index: Any, values: Any, block_bytes: int | None = BLOCK_BYTES) -> None:
    """``y[p, index[p, j]] = values[p, j]`` for every plane ``p`` of ``y``
    (planes, plane), C-contiguous; ``index`` and ``values`` (planes, k)."""
    if _plane_at_a_time(xp, index):
        for p in range(index.shape[0]):
            y[p][index[p]] = values[p]
        return
    flat_y = y.reshape(-1)
    for rows, flat in _plane_blocks(xp, index, y.shape[1], block_bytes):
        flat_y[flat] = values[rows].reshape(-1)


def gather_planes(xp: Any, src: Any, index: Any, block_bytes: int | None = BLOCK_BYTES) -> Any:
    """``src[p, index[p, j]]`` (planes, k) for ``src`` (planes, plane),
    C-contiguous; the indices are in range (the caller checked)."""
    out = xp.empty(index.shape, dtype=src.dtype)
    if _plane_at_a_time(xp, index):
        for p in range(index.shape[0]):
            xp.take(src[p], index[p], out=out[p], mode="wrap")  # no second bounds check (wrap: faster than clip)
        return out
    flat_src = src.reshape(-1)
    for rows, flat in _plane_blocks(xp, index, src.shape[1], block_bytes):
        xp.take(flat_src, flat, out=out[rows].reshape(-1))
    return out
