"""``conv_transpose`` for any NumPy-like array namespace, and the gather its
backward contracts with.

Forward: one batched matrix product computes every (output channel, kernel
tap) contribution of every input position at once (``cols``, the im2col
matrix of the transposed problem); the taps' slabs are then summed into the
output (col2im).  Python loops run over kernel taps, stride phases and
blocks, never over output elements.

* **Stride phases.**  With stride ``s`` along an axis, the outputs
  ``o = m*s + r`` of one *phase* ``r`` receive only the taps ``j`` with
  ``r + p - j*d`` divisible by ``s``, tap ``j`` adding input ``m + delta_j``
  (``delta_j = (r + p - j*d) / s``).  So each phase is summed in a contiguous
  buffer of its own, from shifted slices of the taps' slabs, and written into
  its interleaved (strided) view of the output once: a ufunc updating an
  interleaved view in place runs several times slower than a contiguous one.
  A phase that one tap fills whole (stride equal to the kernel: U-Net's
  up-convolutions) is one copy of that tap's slab.  The padding crop is
  folded into the phases, as are the bias and the cast to the input's dtype.
  Every output sums its terms in row-major tap order.
* **Blocks of samples and channels** (``blocks``).  ``cols`` has ``taps``
  times the output's elements per input position, so it is made a block at
  a time: all samples side by side where that fits (one product, as wide as
  possible), output channels split into even blocks otherwise, the block's
  temporaries within 0.9 of the result's bytes, so that the peak memory of a
  call stays under twice its result.  Output channels are independent: the
  blocks change no bit of the result.  ``block_bytes`` also bounds ``cols``
  (cache); on a GPU, ``None``.

Backward (``backends.xp.gradients.conv_transpose_vjp``): the cotangent at
every (input position, tap) landing spot (``gather_taps``): one strided
copy of each stride phase of the cotangent into a contiguous *plane*, each
tap's columns a unit-stride slice of its phase's plane (a phase one tap
reads unshifted is copied straight into its columns), then two products.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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


def blocks(
    n: int,
    channels: int,
    taps: int,
    budget: int,
    *,
    fixed: int,
    moved: int,
    unit: int,
    accumulate: int = 0,
    cols: int = 1,
    cap: int | None = None,
) -> tuple[int, int]:
    """Samples and output channels (of a group) per block, forward and
    backward: a block of ``m`` samples and ``c`` channels needs ``m * fixed``
    bytes of temporaries (``+ m * moved`` when ``m > 1``: the samples' inputs
    moved side by side), ``m * c * unit`` (``cols`` and its phase buffers),
    and ``c * accumulate`` where a result is summed over several blocks of
    samples: all within ``budget``, so that the call's peak memory stays
    near its result's.  All samples where the block's channels still give
    ``cols`` 256 rows or more (or all channels), halving the samples
    otherwise; blocks of channels of even size.  ``cap`` (``None``: none)
    also bounds ``cols`` (``cols`` bytes a sample and channel): cache."""
    least = min(channels, max(1, -(-256 // max(1, taps))))
    m = max(1, n)
    while True:
        room = budget - m * fixed - (m * moved if m > 1 else 0)
        per_channel = max(1, m * unit + (accumulate if m < n else 0))
        c = room // per_channel if room > 0 else 0
        if c >= least or m == 1:
            break
        m = (m + 1) // 2
    if cap is not None:
        c = min(c, cap // max(1, m * cols))
    c = max(1, min(channels, c))
    chunks = -(-channels // c)
    return m, -(-channels // chunks)


def block_ranges(
    xp: Any, xg: Any, work: np.dtype, m: int, chunk: int, channels: int
) -> Iterator[tuple[slice, Any, slice]]:
    """The blocks of ``blocks``: per block its samples, their inputs side by
    side (``(groups, c_in / groups, samples * positions)`` in ``work``, from
    ``xg`` (n, groups, c_in / groups, positions): a view for one sample) and
    its output channels (of each group)."""
    n, groups, c, positions = xg.shape
    for start in range(0, n, m):
        samples = slice(start, min(n, start + m))
        k = samples.stop - start
        x_side = xp.moveaxis(xg[samples].astype(work, copy=False), 0, 2).reshape(groups, c, k * positions)
        for o0 in range(0, channels, chunk):
            yield samples, x_side, slice(o0, min(channels, o0 + chunk))


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

    ``block_bytes`` bounds ``cols`` for one block of samples and channels
    (see the module docstring); ``None``: no bound but the memory budget.
    """
    plan = checked_plan(x, weight, bias, stride, padding, output_padding, groups, dilation, output_size)
    work = compute_dtype(x.dtype)
    xb = x if plan.batched else x[None]
    n, c_in = xb.shape[:2]
    spatial = tuple(xb.shape[2:])
    g = plan.groups
    c_in_g = c_in // g
    c_out_g = weight.shape[1]
    taps = math.prod(plan.kernel)
    positions = math.prod(spatial)
    # cols[g, (o, t), (n, p)] = sum_c w[g, c, o, t] * x[n, g, c, p]
    xg = xb.reshape(n, g, c_in_g, positions)
    wt = xp.swapaxes(weight.astype(work, copy=False).reshape(g, c_in_g, c_out_g * taps), 1, 2)
    bias_g = None if bias is None else bias.astype(work, copy=False).reshape(g, c_out_g)
    axes = [
        _axis_phases(*args)
        for args in zip(spatial, plan.output_lengths, plan.kernel, plan.stride, plan.padding, plan.dilation)
    ]
    y = xp.empty((n, g, c_out_g, *plan.output_lengths), dtype=x.dtype)
    size = work.itemsize
    # The largest phase of one channel of one sample: the col2im's buffer.
    phase_elements = max(
        (
            math.prod(len(range(*where.indices(length))) for (where, _), length in zip(phase, plan.output_lengths))
            for phase in itertools.product(*axes)
        ),
        default=0,
    )
    unit = g * (taps * positions + phase_elements) * size
    m, chunk = blocks(
        n,
        c_out_g,
        taps,
        int(0.9 * y.nbytes),
        fixed=0,
        moved=c_in * positions * size,
        unit=unit,
        cols=g * taps * positions * size,
        cap=block_bytes,
    )
    for samples, x_side, channels in block_ranges(xp, xg, work, m, chunk, c_out_g):
        k, c = samples.stop - samples.start, channels.stop - channels.start
        cols = xp.matmul(wt[:, channels.start * taps : channels.stop * taps], x_side)
        cols = xp.moveaxis(cols.reshape(g, c, taps, k, *spatial), 3, 0)
        b = None if bias_g is None else bias_g[:, channels].reshape((1, g, c) + (1,) * len(spatial))
        _col2im(xp, cols, y[samples, :, channels], axes, plan.kernel, b, work)
        del cols  # freed before the next block's product: one block's cols alive at a time
    y = y.reshape(n, g * c_out_g, *plan.output_lengths)
    return y if plan.batched else y[0]


def _col2im(
    xp: Any, cols: Any, y: Any, axes: Sequence[list[AxisPhase]], kernel: Sequence[int], bias: Any, work: Any
) -> None:
    """Sum the taps' slabs ``cols`` (samples, groups, channels, taps,
    *input) into ``y`` (samples, groups, channels, *output), a phase at a
    time; a phase one tap fills whole is copied, not summed."""
    lead = (slice(None),) * 3
    for phase in itertools.product(*axes):
        dest = y[(*lead, *(where for where, _ in phase))]
        taps = list(itertools.product(*(axis_taps for _, axis_taps in phase)))
        slabs = [
            (
                cols[
                    (*lead, int(np.ravel_multi_index(tuple(j for j, _, _ in tap), kernel)), *(src for _, _, src in tap))
                ],
                tuple(dst for _, dst, _ in tap),
            )
            for tap in taps
        ]
        lengths = dest.shape[3:]
        fills = bool(slabs) and all(d.indices(n) == (0, n, 1) for d, n in zip(slabs[0][1], lengths))
        if fills and len(slabs) == 1:  # one tap fills the phase: a copy
            if bias is None:
                dest[...] = slabs[0][0]
            else:
                xp.add(slabs[0][0], bias, out=dest, casting="unsafe")
            continue
        acc = xp.empty(dest.shape, dtype=work)
        if fills:  # the first tap fills the phase whole: copied, not added to zeros
            acc[...] = slabs[0][0]
        else:
            acc[...] = 0
        # Row-major over the kernel, as itertools.product walks each axis's taps in order.
        for slab, where in slabs[1:] if fills else slabs:
            acc[(*lead, *where)] += slab
        if bias is not None:
            acc += bias
        dest[...] = acc


# --------------------------------------------------------------------------
# The backward's gather (im2col of the cotangent), through stride phases
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AxisGather:
    """Along one axis, where tap ``j`` of input ``i`` landed in the cropped
    output ``g``: at ``i*s + j*d - p``, that is at element ``i + shift`` of
    the stride phase ``r = (j*d) % s`` (``shift = (j*d) // s``), the phase's
    *plane* being ``g[r - p], g[r - p + s], ...`` with zeros where that falls
    outside ``g``.  ``taps[j] = (r, shift)``; ``planes[r] = (length,
    dest, src)``: the plane's length, and the slices of the plane and of
    ``g`` that hold ``g``'s values (the rest is zero)."""

    taps: tuple[tuple[int, int], ...]
    planes: dict[int, tuple[int, slice, slice]]


def axis_gather(length_in: int, length_out: int, k: int, s: int, p: int, d: int) -> AxisGather:
    taps = tuple(((j * d) % s, (j * d) // s) for j in range(k))
    planes = {}
    for r in sorted({r for r, _ in taps}):
        length = max(shift for rr, shift in taps if rr == r) + length_in
        lo = min(length, max(0, -((r - p) // s)))  # the first plane element inside g: ceil((p - r) / s)
        hi = max(lo, min(length, -((r - p - length_out) // s)))
        start = r + lo * s - p
        planes[r] = (length, slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s) if hi > lo else slice(0, 0))
    return AxisGather(taps, planes)


@dataclass(frozen=True)
class Gather:
    """The gather of every kernel tap (row-major, as the weight holds them):
    per tap its phase (one per axis) and shift; ``planes``: the phases made
    as planes (those read by more than one tap, or shifted); the others are
    written straight into the tap's columns."""

    axes: tuple[AxisGather, ...]
    taps: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    planes: frozenset[tuple[int, ...]]

    def plane_elements(self) -> int:
        """Elements of the planes of one channel of one sample."""
        return sum(math.prod(a.planes[r][0] for a, r in zip(self.axes, phase)) for phase in self.planes)


def plan_gather(plan: ConvTransposePlan) -> Gather:
    axes = tuple(
        axis_gather(*args)
        for args in zip(plan.input_lengths, plan.output_lengths, plan.kernel, plan.stride, plan.padding, plan.dilation)
    )
    taps = tuple(
        (tuple(a.taps[j][0] for a, j in zip(axes, tap)), tuple(a.taps[j][1] for a, j in zip(axes, tap)))
        for tap in itertools.product(*(range(k) for k in plan.kernel))
    )
    readers = Counter(phase for phase, _ in taps)
    planes = frozenset(phase for phase, shift in taps if readers[phase] > 1 or any(shift))
    return Gather(axes, taps, planes)


def _fill_plane(xp: Any, plane: Any, g: Any, axes: Sequence[AxisGather], phase: Sequence[int]) -> None:
    """``plane`` (lead axes, then one per spatial axis) = the phase's plane of ``g``."""
    info = [a.planes[r] for a, r in zip(axes, phase)]
    lead = (slice(None),) * (plane.ndim - len(info))
    if any(dest.start > 0 or dest.stop < length for length, dest, _ in info):
        plane[...] = 0
    if all(dest.stop > dest.start for _, dest, _ in info):
        plane[(*lead, *(dest for _, dest, _ in info))] = g[(*lead, *(src for _, _, src in info))]


def gather_taps(xp: Any, gather: Gather, g: Any, cols: Any, input_lengths: Sequence[int]) -> None:
    """``cols[..., t, m, *input]`` = the cotangent ``g`` (m, ..., *output) at
    the landing spot of tap ``t`` of every input position: phases read by one
    tap unshifted are copied from ``g``'s strided view once; the others are
    made into contiguous planes first, whose shifted slices each tap then
    copies (a unit-stride copy, where each tap's strided view of ``g`` would
    read all of ``g``'s rows from memory again)."""
    planes = {}
    for t, (phase, shift) in enumerate(gather.taps):
        dest = xp.moveaxis(
            cols[(..., t, slice(None)) + (slice(None),) * len(input_lengths)], -1 - len(input_lengths), 0
        )
        if phase not in gather.planes:
            _fill_plane(xp, dest, g, gather.axes, phase)
            continue
        if phase not in planes:
            lengths = tuple(a.planes[r][0] for a, r in zip(gather.axes, phase))
            planes[phase] = xp.empty(g.shape[: g.ndim - len(lengths)] + lengths, dtype=cols.dtype)
            _fill_plane(xp, planes[phase], g, gather.axes, phase)
        dest[...] = planes[phase][(..., *(slice(q, q + n) for q, n in zip(shift, input_lengths)))]
