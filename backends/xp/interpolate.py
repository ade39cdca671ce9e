"""``interpolate`` for any NumPy-like array namespace.

Each spatial axis is resampled in turn (a *pass*): with the axis's taps
``(index, weight)`` of shape ``(n_out, k)``, output ``i`` along the axis is
``sum_j y[index[i, j]] * weight[i, j]``.  Arithmetic happens in the dtype
torch computes in on the CPU (``compute_dtype``): float32 for float16, bfloat16
and uint8 data, the data's own dtype otherwise.  uint8 results are rounded half up and
clamped to 0..255 as torch's fixed-point kernels do.  Every tap torch reads
is summed, zero weights included (linear's right neighbour at an integer
source coordinate, bicubic's outer taps there, the edge input read twice), so
that NaN and infinities reach the outputs they reach in torch (``0 * nan`` and
``0 * inf`` are NaN); the padding of windows of different lengths (``area``,
antialias), which torch never reads, is left out or masked (``Taps.reads``).

Three things make this fast without changing the arithmetic:

* **Strided slices instead of gathers.**  Common resizes repeat a pattern: with
  an integer or simple rational factor, output ``i + p`` reads the inputs of
  output ``i`` shifted by ``q``, with the same weights (2x up: ``p=2, q=1``;
  2x down: ``p=1, q=2``).  Each of the ``p`` *phases* of such a run is a
  strided slice of the output, and each of its taps a strided slice of the
  input with one scalar weight: views, no index arrays.  ``take`` (which along
  the last axis copies element by element, several times slower than a ufunc
  pass) is left for the outputs near the ends, where clamping breaks the
  pattern, and for factors without one.  When the pattern also carries on from
  one row to the next (``n_in * p == n_out * q``), a phase runs over all rows
  at once, as one long axis, and the ends of each row are overwritten by the
  gathers afterwards; short rows then cost no per-row loop overhead.  Both
  paths sum the same terms in the same order: the results are bit-identical.
* **Blocks that fit in cache.**  Batch and channel planes are independent, so
  they go through all passes a few at a time (``block_bytes``), the
  intermediate arrays staying in the CPU's cache, and the last pass writes
  straight into the output.  On a GPU, pass ``block_bytes=None`` (one block).
* **Shrinking axes first.**  Passes run in torch's order (last axis first),
  except that axes that shrink go before axes that grow, so that later passes
  touch less data.  The order only changes rounding, within the tolerance for
  a different order of operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.dtypes import BFLOAT16
from reference.interpolate import DATA_MOVEMENT_MODES, Taps, axis_taps, plan_interpolate

#: Longest output period looked for (2.5x up has p=5; 1.5x up has p=3).
MAX_PERIOD = 8
#: Size of the largest array one block of planes may need: about two per-core
#: L2 caches (1 MB each on AMD Zen 4; the 32 MB L3 behind them): 10-40%
#: faster than 512 KB there, forward and backward, fewest Python-level calls
#: on small planes (SegFormer's 16x16 -> 128x128: 9.3 -> 5.6 ms).  ``None``
#: processes all planes at once.
BLOCK_BYTES = 1 << 21
#: Size of the buffer of ``_repeat_blocks`` (a block's output rows repeated
#: along the last axis): a share of the L3 cache (larger blocks measured
#: faster there, fewer Python-level copies of short rows).
REPEAT_BLOCK_BYTES = 1 << 22


def compute_dtype(dtype: Any) -> np.dtype:
    """The dtype torch's CPU kernels accumulate in for ``dtype`` data (its
    ``opmath_type``): float32 for the two-byte floats and uint8.  The result
    is rounded once, by the cast back (ml_dtypes: to nearest, ties to even,
    as torch's ``c10::BFloat16``)."""
    dtype = np.dtype(dtype)
    if dtype in (np.float16, BFLOAT16, np.uint8):
        return np.dtype(np.float32)
    return dtype


def _along(axis: int, index: Any) -> tuple[Any, ...]:
    """An index tuple that applies ``index`` to ``axis`` and keeps the others whole."""
    return (slice(None),) * axis + (index,)


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data here
def _weighted_sum(xp: Any, terms: Iterable[Any], weights: Sequence[Any] | None, out: Any, buffered: bool) -> None:
    """``out[...] = sum_j terms[j] * weights[j]``, in order (or a copy of the one
    term when ``weights is None``).  ``buffered`` sums in a contiguous buffer
    and copies it once into ``out``: ufuncs writing an interleaved view run
    several times slower than contiguous ones."""
    terms = iter(terms)
    if weights is None:
        out[...] = next(terms)
        return
    if not weights:  # no tap read
        out[...] = 0
        return
    total = xp.empty(out.shape, dtype=out.dtype) if buffered else out
    scratch = pending = None
    for j, (term, weight) in enumerate(zip(terms, weights)):
        # A scalar weight of 1 (nearest's gradient) multiplies nothing: x * 1 is x, bit for bit.
        one = getattr(weight, "ndim", 0) == 0 and float(weight) == 1.0
        if j == 0:
            if one:
                pending = term  # added to the second term without a copy
            else:
                xp.multiply(term, weight, out=total)
            continue
        addend = term if one else (scratch := xp.multiply(term, weight, out=scratch))
        if pending is not None:
            xp.add(pending, addend, out=total)
            pending = None
        else:
            total += addend
    if pending is not None:
        total[...] = pending
    if buffered:
        out[...] = total


@dataclass(frozen=True)
class _Phase:
    """Outputs ``first, first + p, ...`` of a periodic run: tap ``j`` reads
    inputs ``starts[j], starts[j] + q, ...`` with the scalar ``weights[j]``."""

    first: int
    starts: tuple[int, ...]
    weights: tuple[Any, ...] | None


@dataclass(frozen=True)
class _Gather:
    """Outputs ``lo..hi-1`` by gathers: tap ``j`` reads ``index[j]`` with
    ``weights[j]`` (shape ``(hi - lo, 1)``), or copies it when ``weights is None``;
    ``masks[j]`` (``None``: every row) says in which rows torch reads the tap
    (windows of different lengths), the others reading a zero."""

    lo: int
    hi: int
    index: tuple[Any, ...]
    weights: tuple[Any, ...] | None
    masks: tuple[Any, ...] = ()

    def terms(self, xp: Any, y3: Any) -> Iterable[Any]:
        for j, i in enumerate(self.index):
            term = xp.take(y3, i, axis=1)
            mask = self.masks[j] if self.masks else None
            yield term if mask is None else xp.where(mask, term, xp.zeros((), dtype=term.dtype))


@dataclass(frozen=True)
class _Pass:
    """Resampling of one spatial axis ``d``: the periodic run ``lo..hi-1`` (period
    ``p``, input step ``q``; ``lo`` is the first phase's ``first``) in phases,
    the other outputs by gathers."""

    d: int
    n_in: int
    n_out: int
    p: int
    q: int
    hi: int
    phases: tuple[_Phase, ...]
    gathers: tuple[_Gather, ...]

    def apply(self, xp: Any, y: Any, dest: Any) -> None:
        """Write the pass of ``y`` (planes first) into ``dest``; both C-contiguous,
        so the reshapes below are views."""
        rows = math.prod(y.shape[: 1 + self.d])
        # (rows, axis, trailing): the axis in the middle, whatever the rank.
        y3 = y.reshape(rows, self.n_in, -1)
        dest3 = dest.reshape(rows, self.n_out, -1)
        if self.n_in * self.p == self.n_out * self.q and self.n_out % self.p == 0:
            # The run carries on across rows: one long axis, row ends fixed below.
            y_run, dest_run, axis = y3.reshape(rows * self.n_in, -1), dest3.reshape(rows * self.n_out, -1), 0
            end = (rows - 1) * self.n_out + self.hi
        else:
            y_run, dest_run, axis, end = y3, dest3, 1, self.hi
        p, q = self.p, self.q
        repeats = axis == 0 and q == 1 and end == rows * self.n_out and y3.shape[2] == 1 and self.repeats_each
        if repeats and _repeat_each(xp, y_run.reshape(-1), dest_run.reshape(-1), p):
            phases: tuple[_Phase, ...] = ()  # written at once
        else:
            phases = self.phases
        for phase in phases:
            count = len(range(phase.first, end, p))
            reads = (slice(s, s + q * (count - 1) + 1, q) if q else slice(s, s + 1) for s in phase.starts)
            out = dest_run[_along(axis, slice(phase.first, end, p))]
            _weighted_sum(xp, (y_run[_along(axis, r)] for r in reads), phase.weights, out, buffered=p > 1)
        for g in self.gathers:
            _weighted_sum(xp, g.terms(xp, y3), g.weights, dest3[:, g.lo : g.hi], buffered=False)

    @property
    def repeats_each(self) -> bool:
        """Whether the run copies each input ``p`` times in a row (nearest and
        nearest-exact at an integer factor): phase ``k`` is output ``k`` and
        copies input 0 onwards."""
        return all(ph.weights is None and ph.first == k and ph.starts == (0,) for k, ph in enumerate(self.phases))


def _repeat_each(xp: Any, src: Any, dest: Any, p: int) -> bool:
    """``dest[i * p + k] = src[i]`` (both 1-D, contiguous) as one contiguous
    pass: ``p`` elements of ``src``'s width side by side are one unsigned
    integer of ``p`` times that width, and the bits of ``src[i]`` times
    ``0x0101...`` (a 1 in each element's place) is that integer, the same bits
    in every place.  A strided write of every ``p``-th element runs several
    times slower in NumPy.  False (nothing written) where ``p`` elements are
    not 2, 4 or 8 bytes wide or an array is not contiguous."""
    itemsize = src.dtype.itemsize
    if itemsize * p not in (2, 4, 8) or not (src.flags.c_contiguous and dest.flags.c_contiguous):
        return False
    wide = np.dtype(f"u{itemsize * p}")
    pattern = sum(1 << (8 * itemsize * k) for k in range(p))
    xp.multiply(src.view(np.dtype(f"u{itemsize}")), wide.type(pattern), out=dest.view(wide), dtype=wide)
    return True


def planes_per_block(
    planes: int,
    first: Sequence[int],
    passes: Sequence[_Pass],
    work: np.dtype,
    converted: bool,
    result: int,
    block_bytes: int | None,
) -> int:
    """Planes a block of passes takes, from a plane of lengths ``first`` on:
    the block's largest array (input, between passes or output, in ``work``)
    within ``block_bytes`` (cache), and its temporaries (the arrays between
    passes and their scratch; the input and output too when ``converted``) within
    half of the whole result (``result`` bytes a plane), so that a small
    call's temporaries keep its peak memory under twice its result.
    ``None``: all planes at once."""
    if block_bytes is None:
        return planes
    plane, sizes = list(first), [math.prod(first)]
    for step in passes:
        plane[step.d] = step.n_out
        sizes.append(math.prod(plane))
    # Each array between passes comes with a scratch of its size (``_weighted_sum``).
    temporary = 2 * max(sizes if converted else sizes[1:-1], default=0) * work.itemsize
    block = block_bytes // max(1, max(sizes) * work.itemsize)
    if temporary:
        block = min(block, planes * result // 2 // temporary)
    return max(1, block)


def _repeat_blocks(xp: Any, src: Any, out: Any, passes: Sequence[_Pass], block_bytes: int | None) -> bool:
    """``nearest`` / ``nearest-exact`` where every pass repeats each input a
    whole number of times and nothing else (integer factors): per block of
    planes, the last axis repeated at once (``_repeat_each``) into a buffer,
    then one copy of it into the output with a length-``p`` axis of stride 0
    beside each other axis (a contiguous row per copy), instead of a pass per
    axis.  False (nothing written) where that does not apply."""
    rank = src.ndim - 1
    factors = [1] * rank
    for step in passes:
        factors[step.d] = step.p
    exact = all(s.repeats_each and not s.gathers and s.n_out == s.n_in * s.p for s in passes)
    wide = factors[-1] == 1 or src.dtype.itemsize * factors[-1] in (2, 4, 8)
    if not passes or not exact or not wide or not src.flags.c_contiguous:
        return False
    planes, row = src.shape[0], src.shape[-1] * factors[-1]
    per_plane = math.prod(src.shape[1:-1]) * row * src.dtype.itemsize
    block = planes if block_bytes is None else max(1, min(planes, REPEAT_BLOCK_BYTES // per_plane))
    buffer = xp.empty((block, *src.shape[1:-1], row), dtype=src.dtype) if factors[-1] > 1 else None
    repeated = [planes] + [n for length, f in zip(src.shape[1:-1], factors) for n in (length, f)] + [row]
    out_view = out.reshape(repeated)
    for start in range(0, planes, block):
        stop = min(planes, start + block)
        part = src[start:stop]
        if buffer is not None:
            part, _ = (
                buffer[: stop - start],
                _repeat_each(xp, part.reshape(-1), buffer[: stop - start].reshape(-1), factors[-1]),
            )
        spread = [stop - start] + [n for length in src.shape[1:-1] for n in (length, 1)] + [row]
        xp.copyto(out_view[start:stop], part.reshape(spread))
    return True


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """``(start, length)`` of the longest run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    if not len(edges):
        return 0, 0
    starts, ends = edges[::2], edges[1::2]
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best] - starts[best])


def _periodic_run(index: np.ndarray, weight: np.ndarray | None, reads: np.ndarray) -> tuple[int, int, int, int]:
    """``(p, q, lo, hi)``: outputs ``lo..hi-1`` repeat with period ``p``, each
    period reading ``q`` inputs further with the same weights (and the same
    taps read); ``hi - lo`` is a
    multiple of ``p``, at least ``2 p``.  The smallest ``p`` with the widest
    coverage; ``hi == lo`` when no period up to ``MAX_PERIOD`` repeats twice."""
    n = len(index)
    best = (1, 0, 0, 0)
    for p in range(1, min(MAX_PERIOD, n // 2) + 1):
        step = index[p:] - index[:-p]
        q = int(step[len(step) // 2, 0])
        same = (step == q).all(axis=1)
        if weight is not None:
            same &= (weight[p:] == weight[:-p]).all(axis=1) & (reads[p:] == reads[:-p]).all(axis=1)
        lo, length = _longest_run(same)
        periods = (length + p) // p if length else 0
        if periods >= 2 and periods * p > best[3] - best[2]:
            best = (p, q, lo, lo + periods * p)
            if periods * p == n:
                break
    return best


def _gather(xp: Any, index: np.ndarray, weight: np.ndarray | None, reads: np.ndarray, lo: int, hi: int) -> _Gather:
    """Outputs ``lo..hi-1`` by gathers; taps torch reads in none of them are
    left out, and those it reads in some are masked in the others.  A tap of
    weight zero that torch reads stays: it carries a NaN or infinity (``0 * inf``)."""
    if weight is None:
        return _Gather(lo, hi, (xp.asarray(index[lo:hi, 0]),), None)
    used = [j for j in range(index.shape[1]) if reads[lo:hi, j].any()]
    return _Gather(
        lo,
        hi,
        tuple(xp.asarray(index[lo:hi, j]) for j in used),
        tuple(xp.asarray(weight[lo:hi, j, None]) for j in used),
        tuple(None if reads[lo:hi, j].all() else xp.asarray(reads[lo:hi, j, None]) for j in used),
    )


def _phase(index: np.ndarray, weight: np.ndarray | None, reads: np.ndarray, row: int) -> _Phase:
    """The phase of output ``row``: the taps torch reads, zero weights included."""
    used = [j for j in range(index.shape[1]) if reads[row, j]]
    weights = None if weight is None else tuple(weight[row, j] for j in used)
    return _Phase(row, tuple(int(index[row, j]) for j in used), weights)


def _plan_pass(xp: Any, d: int, n_in: int, taps: Taps, dtype: np.dtype) -> _Pass:
    """Phases over the axis's periodic run, gathers before and after it."""
    index = taps.index
    weight = None if taps.weight is None else taps.weight.astype(dtype)
    reads = np.ones(index.shape, dtype=bool) if taps.reads is None or weight is None else taps.reads
    n_out = len(index)
    p, q, lo, hi = _periodic_run(index, weight, reads)
    phases = tuple(_phase(index, weight, reads, row) for row in range(lo, lo + p) if hi > lo)
    gathers = tuple(_gather(xp, index, weight, reads, a, b) for a, b in ((0, lo), (hi, n_out)) if b > a)
    return _Pass(d, n_in, n_out, p, q, hi, phases, gathers)


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data; a cast to float16 overflows as torch's
def interpolate(
    xp: Any,
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
    *,
    block_bytes: int | None = BLOCK_BYTES,
) -> Any:
    """``torch.nn.functional.interpolate`` on an ``xp`` array.

    ``block_bytes`` bounds the largest array of one block of batch/channel
    planes (see the module docstring); ``None`` processes all planes at once.
    """
    in_dtype = np.dtype(x.dtype)
    plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    plan = plan.with_opmath(in_dtype)  # nearest source indices in float64 for float64 data
    data_movement = mode in DATA_MOVEMENT_MODES
    work = in_dtype if data_movement else compute_dtype(in_dtype)
    lead = tuple(x.shape[:2])
    planes = math.prod(lead)
    out = xp.empty((planes, *plan.output_size), dtype=in_dtype)
    if out.size == 0:
        return out.reshape(lead + plan.output_size)

    # Axes that shrink first; otherwise torch's order (last axis first).
    rank = len(plan.input_size)
    ratio = [n_out / n_in for n_in, n_out in zip(plan.input_size, plan.output_size)]
    passes = []
    for d in sorted(reversed(range(rank)), key=lambda d: min(ratio[d], 1.0)):
        taps = axis_taps(plan, d, x.ndim)
        if taps is not None:
            passes.append(_plan_pass(xp, d, plan.input_size[d], taps, work))

    # Planes per block: the largest array of a block (input, between passes
    # or output) within block_bytes.
    # Planes per block: the largest array of a block within block_bytes, its temporaries within half the result.
    result_plane = math.prod(plan.output_size) * in_dtype.itemsize
    block = planes_per_block(planes, plan.input_size, passes, work, work != in_dtype, result_plane, block_bytes)

    src = x.reshape((planes, *plan.input_size))
    if data_movement and _repeat_blocks(xp, src, out, passes, block_bytes):
        return out.reshape(lead + plan.output_size)
    for start in range(0, planes, block):
        dest = out[start : start + block]
        y = src[start : start + block].astype(work, copy=False)
        for i, step in enumerate(passes):
            shape = list(y.shape)
            shape[1 + step.d] = step.n_out
            z = dest if i == len(passes) - 1 and work == in_dtype else xp.empty(tuple(shape), dtype=work)
            step.apply(xp, y, z)
            y = z
        if y is dest:
            continue
        if in_dtype == np.uint8 and not data_movement:
            y += 0.5  # y is a float32 array of this block's own
            xp.floor(y, out=y)
            xp.clip(y, 0, 255, out=y)
        dest[...] = y
    return out.reshape(lead + plan.output_size)
