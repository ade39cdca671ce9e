"""``conv_transpose`` for any NumPy-like array namespace.

One batched matrix product computes every (output channel, kernel tap)
contribution of every input position at once (``cols``, the im2col matrix of
the transposed problem); the taps' slabs are then summed into the output
(col2im).  Python loops run over kernel taps and stride phases, never over
output elements.

Two things make the col2im step fast without changing the arithmetic:

* **Stride phases.**  With stride ``s`` along an axis, the outputs
  ``o = m*s + r`` of one *phase* ``r`` receive only the taps ``j`` with
  ``r + p - j*d`` divisible by ``s``, tap ``j`` adding input ``m + delta_j``
  (``delta_j = (r + p - j*d) / s``).  So each phase is summed in a contiguous
  buffer of its own, from shifted slices of the taps' slabs, and written into
  its interleaved (strided) view of the output once: a ufunc updating an
  interleaved view in place runs several times slower than a contiguous one,
  and adding every tap straight into the strided output did that once per tap.
  The padding crop is folded into the phases (no uncropped output is built),
  as are the bias and the cast to the input's dtype.  Every output sums the
  same terms in the same (row-major tap) order as before, starting from zero:
  the results are bit-identical to adding the taps one by one.
* **Blocks of samples.**  Samples are independent, so ``cols`` is computed and
  summed a few samples at a time (``block_bytes`` bounds its size): the slabs
  are re-read from cache rather than from memory, and the buffer is reused
  instead of freshly mapped (and page-faulted) on every call.  On a GPU, pass
  ``block_bytes=None`` (one block).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backends.xp.interpolate import compute_dtype
from reference.conv_transpose import ConvTransposePlan, IntOrSeq, plan_conv_transpose

#: Largest ``cols`` (the matrix product's result) of one block of samples.
BLOCK_BYTES = 1 << 23

#: One axis's phase: the output slice ``r::s`` and its taps, each as
#: ``(j, destination slice in the phase, source slice in the input)``.
AxisPhase = tuple[slice, list[tuple[int, slice, slice]]]


def _axis_phases(length_in: int, length_out: int, k: int, s: int, p: int, d: int) -> list[AxisPhase]:
    """Along one axis, the non-empty phases of the (cropped) output and the taps landing on each.

    Output ``o = m*s + r`` gets tap ``j`` of input ``i`` when ``i*s + j*d - p == o``,
    i.e. ``i = m + delta`` with ``delta = (r + p - j*d) / s`` an integer; ``m``
    runs over the phase's outputs whose ``i`` lies in the input.
    """
    phases = []
    for r in range(min(s, length_out)):
        count = len(range(r, length_out, s))
        taps = []
        for j in range(k):
            shift = r + p - j * d
            if shift % s:
                continue
            delta = shift // s
            lo, hi = max(0, -delta), min(count, length_in - delta)
            if lo < hi:
                taps.append((j, slice(lo, hi), slice(lo + delta, hi + delta)))
        phases.append((slice(r, None, s), taps))
    return phases


def checked_plan(
    x: Any,
    weight: Any,
    bias: Any | None,
    stride: IntOrSeq,
    padding: IntOrSeq,
    output_padding: IntOrSeq,
    groups: int,
    dilation: IntOrSeq,
    output_size: Sequence[int] | None,
) -> ConvTransposePlan:
    """The reference's argument checks and output lengths, plus torch's
    requirement that the input and the weight share a dtype."""
    plan = plan_conv_transpose(
        x.shape,
        weight.shape,
        None if bias is None else bias.shape,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size,
    )
    if np.dtype(weight.dtype) != np.dtype(x.dtype):
        names = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double", "uint8": "Byte"}
        want, got = (names.get(str(np.dtype(d)), str(d)) for d in (x.dtype, weight.dtype))
        raise RuntimeError(
            f"expected scalar type {want} but found {got}: Input type ({x.dtype}) and weight type "
            f"({weight.dtype}) should be the same"
        )
    return plan


def samples_per_block(n: int, per_sample: int, result: int, block_bytes: int | None) -> int:
    """Samples whose ``cols`` (``per_sample`` bytes each) are made at once:
    within ``block_bytes`` (cache) and within half the call's ``result``
    bytes, so that a batch of small samples keeps its peak memory under
    twice its result; at least one (``None``: all at once)."""
    if block_bytes is None:
        return max(1, n)
    return max(1, min(block_bytes, result // 2) // max(1, per_sample))


def _fold_batch_matmul(xp: Any, w: Any, x: Any) -> Any:
    """``w[g] @ x[n, g]`` for every sample ``n`` as one product per group,
    the samples side by side in the columns: ``(groups, rows, n * positions)``
    for ``w`` (groups, rows, c) and ``x`` (n, groups, c, positions).  One
    large product instead of ``n`` thin ones (a 4x4 input has 16 columns a
    sample: BLAS runs far below its speed on those)."""
    n, groups, c, positions = x.shape
    side_by_side = xp.moveaxis(x, 0, 2).reshape(groups, c, n * positions)  # a view when n == 1
    return xp.matmul(w, side_by_side)


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data; a cast to float16 overflows as torch's
def conv_transpose(
    xp: Any,
    x: Any,
    weight: Any,
    bias: Any | None = None,
    stride: IntOrSeq = 1,
    padding: IntOrSeq = 0,
    output_padding: IntOrSeq = 0,
    groups: int = 1,
    dilation: IntOrSeq = 1,
    output_size: Sequence[int] | None = None,
    *,
    block_bytes: int | None = BLOCK_BYTES,
) -> Any:
    """``torch.nn.functional.conv_transpose{n}d`` on ``xp`` arrays.

    ``block_bytes`` bounds ``cols`` for one block of samples (see the module
    docstring); ``None`` processes all samples at once.
    """
    plan = checked_plan(x, weight, bias, stride, padding, output_padding, groups, dilation, output_size)
    work = compute_dtype(x.dtype)
    xb = x if plan.batched else x[None]
    n, c_in = xb.shape[:2]
    spatial = tuple(xb.shape[2:])
    g = plan.groups
    c_out_g = weight.shape[1]
    c_out = g * c_out_g
    taps = math.prod(plan.kernel)
    positions = math.prod(spatial)
    # cols[g, (o, t), (n, p)] = sum_c x[n, g, c, p] * w[g, c, o, t]
    xg = xb.reshape(n, g, c_in // g, positions)
    wt = xp.swapaxes(weight.astype(work, copy=False).reshape(g, c_in // g, c_out_g * taps), 1, 2)[None]
    bias_w = None if bias is None else bias.astype(work, copy=False).reshape((1, -1) + (1,) * len(spatial))
    axes = [
        _axis_phases(*args)
        for args in zip(spatial, plan.output_lengths, plan.kernel, plan.stride, plan.padding, plan.dilation)
    ]

    y = xp.empty((n, c_out, *plan.output_lengths), dtype=x.dtype)
    per_sample = c_out * taps * positions * work.itemsize
    block = samples_per_block(n, per_sample, y.nbytes, block_bytes)
    for start in range(0, n, block):
        stop = min(n, start + block)
        cols = _fold_batch_matmul(xp, wt[0], xg[start:stop].astype(work, copy=False))
        cols = xp.moveaxis(cols.reshape(c_out, taps, stop - start, *spatial), 2, 0)
        for phase in itertools.product(*axes):
            out_slices = tuple(where for where, _ in phase)
            dest = y[(slice(start, stop), slice(None), *out_slices)]
            acc = xp.zeros(dest.shape, dtype=work)
            # Row-major over the kernel, as itertools.product walks each axis's taps in order.
            for tap in itertools.product(*(axis_taps for _, axis_taps in phase)):
                t = int(np.ravel_multi_index(tuple(j for j, _, _ in tap), plan.kernel))
                acc[(slice(None), slice(None), *(dst for _, dst, _ in tap))] += cols[
                    (slice(None), slice(None), t, *(src for _, _, src in tap))
                ]
            if bias_w is not None:
                acc += bias_w
            dest[...] = acc
        del cols  # freed before the next block's product: one block's cols alive at a time
    return y if plan.batched else y[0]
