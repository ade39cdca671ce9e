"""Vector-Jacobian products of every op, for any NumPy-like array namespace.

The same contract as ``reference.gradients.vjp`` (the float64 definition),
computed in the dtype torch computes in (``compute_dtype``: float32 for
float16 data) and returned in each input's dtype.  Every op is linear in each
differentiable input, so each gradient applies the forward's transposed map to
the output's cotangent ``g``; the arguments are checked by the forward's own
planners first, so an invalid call raises what the forward raises.

* ``interpolate``: per spatial axis, the axis's weight matrix transposed, as
  *taps* again: input ``j`` gathers the cotangents of the outputs that read it,
  with their weights.  These taps repeat as the forward's do (2x up becomes 2x
  down), so they run through the forward's own pass machinery
  (``backends.xp.interpolate``): strided slices over the periodic part,
  gathers at the ends, planes in cache-sized blocks.
* ``conv_transpose``: the cotangent gathered at every (input position, kernel
  tap) landing spot (the im2col matrix ``cols`` of ``g``), then one batched
  matrix product with the weight (grad x), one with ``x`` (grad weight,
  summed over the batch), and ``g`` summed over all but the channel axis
  (grad bias).
* ``max_pool``: where windows do not overlap, an assignment at the indices
  (they are distinct); otherwise a loop over kernel taps, the adjoint of the
  forward's: tap ``t``'s strided view of a padded gradient receives the
  cotangent of every window whose index is that tap's position.  No
  scatter-add, so no atomics on a GPU and a fixed order of summation.
* ``max_unpool``: the cotangent gathered at the indices.
* ``pixel_shuffle`` / ``pixel_unshuffle``: the inverse permutation.

Python loops run over axes, kernel taps and blocks, never over elements; the
results are deterministic (the same call gives the same bits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backends.xp.conv_transpose import BLOCK_BYTES as CONV_BLOCK_BYTES
from backends.xp.conv_transpose import block_ranges, blocks, checked_plan, gather_taps, plan_gather
from backends.xp.interpolate import BLOCK_BYTES as INTERPOLATE_BLOCK_BYTES
from backends.xp.interpolate import _plan_pass, compute_dtype, planes_per_block
from backends.xp.shuffle import pixel_shuffle, pixel_unshuffle, stand_in
from backends.xp.unpooling import check_indices, gather_planes, max_pool, scatter_planes
from reference.conv_transpose import IntOrSeq
from reference.dtypes import is_complex, is_floating
from reference.interpolate import Taps, axis_taps, plan_interpolate
from reference.unpooling import plan_max_pool, plan_max_unpool


def _check_cotangent(g: Any, shape: Sequence[int]) -> None:
    """torch's autograd refuses a cotangent whose shape is not the output's."""
    if tuple(g.shape) != tuple(shape):
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and "
            f"output[0] has a shape of {list(shape)}"
        )


# --------------------------------------------------------------------------
# interpolate
# --------------------------------------------------------------------------


def transposed_taps(taps: Taps, n_in: int) -> Taps:
    """The taps of ``W.T`` (``W = taps.matrix(n_in)``, shape ``(n_out, n_in)``):
    row ``j`` lists the outputs ``i`` that read input ``j`` (ascending) and
    their weights, repeated reads of one input by one output summed (in
    float64, as ``matrix`` does).  Unused slots carry weight 0 and the row's
    first index, and are marked unread (``reads``); an input no output reads
    has an all-zero row."""
    n_out, k = taps.index.shape
    weight = np.ones((n_out, k)) if taps.weight is None else taps.weight
    key = taps.index.ravel() * n_out + np.repeat(np.arange(n_out), k)
    keys, inverse = np.unique(key, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weight.ravel(), minlength=len(keys))
    keep = merged != 0
    keys, merged = keys[keep], merged[keep]
    rows, cols = keys // n_out, keys % n_out
    counts = np.bincount(rows, minlength=n_in)
    width = int(max(counts.max(initial=0), 1))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(len(keys)) - starts[rows]
    first = np.zeros(n_in, dtype=np.int64)
    first[rows[slot == 0]] = cols[slot == 0]
    index = np.repeat(first[:, None], width, axis=1)
    w = np.zeros((n_in, width))
    reads = np.zeros((n_in, width), dtype=bool)
    index[rows, slot] = cols
    w[rows, slot] = merged
    reads[rows, slot] = True
    return Taps(index, w, reads)


@dataclass(frozen=True)
class InterpolateTables:
    """What ``interpolate``'s backward needs of its forward besides the
    cotangent: the output size and, per axis, the transposed taps planned as
    passes (index and weight tables, strided phases), shrinking axes first;
    no passes when the input or the output is empty."""

    output_size: tuple[int, ...]
    passes: tuple[Any, ...]


def interpolate_tables(
    xp: Any,
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> InterpolateTables:
    """The tables of ``interpolate(x, ...)``'s backward (the forward's checks
    first); only ``x``'s shape and dtype are read."""
    plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    plan = plan.with_opmath(x.dtype)  # the forward's taps on this data
    if x.size == 0 or math.prod(plan.output_size) == 0:
        return InterpolateTables(plan.output_size, ())
    rank = len(plan.input_size)
    ratio = [n_in / n_out for n_in, n_out in zip(plan.input_size, plan.output_size)]
    passes = []
    for d in sorted(reversed(range(rank)), key=lambda d: min(ratio[d], 1.0)):
        taps = axis_taps(plan, d, x.ndim)
        if taps is not None:
            n_in, n_out = plan.input_size[d], plan.output_size[d]
            passes.append(_plan_pass(xp, d, n_out, transposed_taps(taps, n_in), compute_dtype(x.dtype)))
    return InterpolateTables(plan.output_size, tuple(passes))


def interpolate_vjp(
    xp: Any,
    g: Any,
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
    *,
    block_bytes: int | None = INTERPOLATE_BLOCK_BYTES,
) -> dict[str, Any]:
    """``W_d`` transposed along each spatial axis ``d``, shrinking axes first."""
    tables = interpolate_tables(xp, x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    return interpolate_vjp_from_tables(xp, g, x, tables, block_bytes=block_bytes)


def interpolate_vjp_from_tables(
    xp: Any, g: Any, x: Any, tables: InterpolateTables, *, block_bytes: int | None = INTERPOLATE_BLOCK_BYTES
) -> dict[str, Any]:
    """``interpolate_vjp`` from the forward's ``tables``: only ``x``'s shape
    and dtype are read, so it may be a stand-in (``_like``)."""
    lead = tuple(x.shape[:2])
    _check_cotangent(g, lead + tables.output_size)
    dtype = np.dtype(x.dtype)
    work = compute_dtype(dtype)
    if x.size == 0 or g.size == 0:
        return {"x": xp.zeros(x.shape, dtype=dtype)}
    passes = tables.passes
    input_size = tuple(x.shape[2:])
    planes = math.prod(lead)
    src = g.reshape((planes, *tables.output_size))
    if not passes:
        return {"x": src.astype(dtype).reshape(x.shape)}

    result_plane = math.prod(input_size) * dtype.itemsize
    block = planes_per_block(planes, tables.output_size, passes, work, work != dtype, result_plane, block_bytes)

    out = xp.empty((planes, *input_size), dtype=dtype)
    for start in range(0, planes, block):
        dest = out[start : start + block]
        y = xp.ascontiguousarray(src[start : start + block].astype(work, copy=False))
        for i, step in enumerate(passes):
            shape = list(y.shape)
            shape[1 + step.d] = step.n_out
            z = dest if i == len(passes) - 1 and work == dtype else xp.empty(tuple(shape), dtype=work)
            step.apply(xp, y, z)
            y = z
        if y is not dest:
            dest[...] = y
    return {"x": out.reshape(x.shape)}


# --------------------------------------------------------------------------
# conv_transpose
# --------------------------------------------------------------------------


def _add_product(xp: Any, a: Any, b: Any, out: Any, first: bool, columns: int) -> None:
    """``out`` (samples, groups, c, positions) = (``first``) or += ``a @ b``
    (groups, c, samples * positions).  One sample: the first product written
    in place, the others added ``columns`` columns at a time (a temporary of
    ``columns`` columns, not of the sample's); several: through one
    temporary, its samples moved to the front."""
    k, groups, c, positions = out.shape
    if k > 1:
        part = xp.moveaxis(xp.matmul(a, b).reshape(groups, c, k, positions), 2, 0)
        if first:
            out[...] = part
        else:
            out += part
        return
    flat = out.reshape(groups, c, positions)  # a view: out is one sample of a C-contiguous array
    if first:
        xp.matmul(a, b, out=flat)
        return
    for p in range(0, positions, columns):
        flat[:, :, p : p + columns] += xp.matmul(a, b[:, :, p : p + columns])


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data here
def conv_transpose_vjp(
    xp: Any,
    g: Any,
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
    block_bytes: int | None = CONV_BLOCK_BYTES,
) -> dict[str, Any]:
    """Gather ``g`` where each (input, tap) pair landed, then contract.

    With ``cols[g, (o, t), (n, p)]`` the cotangent at the landing spot of
    input position ``p`` of sample ``n`` and tap ``t`` in output channel ``o``
    of group ``g`` (``gather_taps``, through the stride phases):
    ``grad_x = w @ cols`` and ``grad_w = x @ cols.T``, per group, the samples
    of a block side by side in the columns (so the sum over the batch is
    inside one product).  ``cols`` is made a block of samples and output
    channels at a time, the temporaries of a block within the result's size
    (``_vjp_blocks``: peak memory at most twice the result), ``block_bytes``
    also bounding ``cols`` (cache; ``None``: no bound): ``grad_x`` sums the
    blocks of channels, ``grad_w`` is written per block of channels and
    summed over blocks of samples.
    """
    plan = checked_plan(x, weight, bias, stride, padding, output_padding, groups, dilation, output_size)
    dtype = np.dtype(x.dtype)
    work = compute_dtype(dtype)
    if is_complex(dtype):  # torch's conjugate-linear convention: J^H g
        x, weight = xp.conj(x), xp.conj(weight)
    c_out_g = weight.shape[1]
    c_out = plan.groups * c_out_g
    out_shape = (c_out, *plan.output_lengths)
    _check_cotangent(g, (x.shape[0], *out_shape) if plan.batched else out_shape)

    xb = x if plan.batched else x[None]
    gb = g if plan.batched else g[None]
    n, c_in = xb.shape[:2]
    groups = plan.groups
    c_in_g = c_in // groups
    taps = math.prod(plan.kernel)
    spatial = tuple(xb.shape[2:])
    positions = math.prod(spatial)
    # (groups, c_in/g, (o, t)): the order cols' rows take below.
    w = weight.astype(work, copy=False).reshape(groups, c_in_g, c_out_g * taps)
    xg = xb.reshape(n, groups, c_in_g, positions)
    g5 = gb.reshape(n, groups, c_out_g, *plan.output_lengths)
    # Written by the blocks below (zeros where there are none); blocks of channels add up grad_x in work.
    alloc = xp.zeros if n == 0 or c_out_g == 0 else xp.empty
    grad_x = alloc((n, groups, c_in_g, positions), dtype=work)
    grad_w = alloc((groups, c_in_g, c_out_g * taps), dtype=work)
    gather = plan_gather(plan)

    size = work.itemsize
    unit = groups * (taps * positions + gather.plane_elements()) * size
    budget = int(0.9 * (x.nbytes + weight.nbytes))
    columns = max(256, budget // (8 * max(1, c_in) * size))  # of grad_x's temporary, one sample at a time
    m, chunk = blocks(
        n,
        c_out_g,
        taps,
        budget,
        fixed=c_in * min(positions, columns) * size,
        moved=2 * c_in * positions * size,
        unit=unit,
        accumulate=c_in * taps * size,
        cols=groups * taps * positions * size,
        cap=block_bytes,
    )
    for samples, x_block, channels in block_ranges(xp, xg, work, m, chunk, c_out_g):
        k, rows = samples.stop - samples.start, slice(channels.start * taps, channels.stop * taps)
        cols = xp.empty((groups, channels.stop - channels.start, taps, k, *spatial), dtype=work)
        gather_taps(xp, gather, g5[samples, :, channels].astype(work, copy=False), cols, spatial)
        cols = cols.reshape(groups, -1, k * positions)
        _add_product(xp, w[:, :, rows], cols, grad_x[samples], channels.start == 0, columns)
        if samples.start == 0:
            xp.matmul(x_block, xp.swapaxes(cols, -1, -2), out=grad_w[:, :, rows])
        else:
            grad_w[:, :, rows] += xp.matmul(x_block, xp.swapaxes(cols, -1, -2))
        del cols  # freed before the next block's: one block's alive at a time

    grads = {
        "x": grad_x.reshape(x.shape).astype(dtype, copy=False),
        "weight": grad_w.reshape(weight.shape).astype(dtype, copy=False),
    }
    if bias is not None:
        axes = tuple(i for i in range(gb.ndim) if i != 1)
        grads["bias"] = xp.sum(gb, axis=axes, dtype=work).astype(np.dtype(bias.dtype), copy=False)
    return grads


# --------------------------------------------------------------------------
# max_pool, max_unpool
# --------------------------------------------------------------------------


def _empty_windows(spatial: Sequence[int], plan: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Windows that dilation leaves wholly in the padding: the flat output
    positions of those whose index (the position torch's scan starts at) lies
    inside the plane, those indices (where torch's backward adds their
    cotangent), and whether there is any such window at all."""
    k, s, p, d, out = plan.kernel, plan.stride, plan.padding, plan.dilation, plan.output_lengths
    n = len(k)
    hits, firsts = [], []
    for a in range(n):
        start = np.arange(out[a]) * s[a] - p[a]
        taps = start[:, None] + np.arange(k[a]) * d[a]
        hits.append(((taps >= 0) & (taps < spatial[a])).any(axis=1))
        # _first_tap: the first tap at or after 0.
        firsts.append(np.where(start >= 0, start, start + (-start + d[a] - 1) // d[a] * d[a]))
    if all(h.all() for h in hits):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), False
    strides = np.cumprod((1,) + tuple(spatial)[:0:-1])[::-1]
    grid = np.ix_(*(np.arange(o) for o in out))
    inside = np.ones(tuple(out), dtype=bool)
    target = np.zeros(tuple(out), dtype=np.int64)
    for a in range(n):
        inside = inside & hits[a][grid[a]]
        target = target + firsts[a][grid[a]] * int(strides[a])
    where = np.flatnonzero(~inside.ravel())
    target = target.ravel()[where]
    keep = target < math.prod(spatial)
    return where[keep], target[keep], True


def max_pool_vjp(
    xp: Any,
    g: Any,
    x: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
    ceil_mode: bool = False,
) -> dict[str, Any]:
    """Each window's cotangent onto the input its maximum came from.

    Windows that share no input (stride at least the dilated kernel) name
    distinct inputs: the cotangent is scattered at the indices, a plain
    assignment.  Otherwise the forward walks the kernel taps, each a strided view of the padded
    input; here tap ``t``'s view of a padded gradient adds the cotangent of
    the windows whose index is that tap's position (taps in the padding land
    in the padding, cropped off).  A window wholly in the padding names the
    position torch's scan starts at: its cotangent is added there when that
    lies inside the plane (torch's backward does; outside it writes out of
    bounds, here nothing)."""
    index = max_pool(xp, x, kernel_size, stride, padding, dilation, ceil_mode)[1]
    return max_pool_vjp_from_indices(xp, g, index, x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool_vjp_from_indices(
    xp: Any,
    g: Any,
    index: Any,
    x: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
    ceil_mode: bool = False,
) -> dict[str, Any]:
    """``max_pool_vjp`` from the indices the forward returned (``index``):
    only ``x``'s shape and dtype are read, so it may be a stand-in
    (``_like``)."""
    plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    _check_cotangent(g, index.shape)
    k, s, p, d, out = plan.kernel, plan.stride, plan.padding, plan.dilation, plan.output_lengths
    n = len(k)
    spatial = tuple(x.shape[-n:])
    lead = tuple(x.shape[:-n])
    dtype = np.dtype(x.dtype)
    work = compute_dtype(dtype)
    if x.size == 0:
        return {"x": xp.zeros(x.shape, dtype=dtype)}

    windows, targets, any_empty = _empty_windows(spatial, plan)
    planes, per_plane = math.prod(lead), math.prod(spatial)
    if not any_empty and all((ki - 1) * di < si for ki, di, si in zip(k, d, s)):
        # Windows that share no input: every index is distinct within its
        # plane, so the cotangent is scattered as max_unpool scatters values.
        grad = xp.zeros((planes, per_plane), dtype=dtype)
        scatter_planes(xp, grad, index.reshape(planes, -1), g.reshape(planes, -1))
        return {"x": grad.reshape(x.shape)}

    after = [
        max(0, (o - 1) * si + (ki - 1) * di - pi - li + 1) for o, si, ki, di, pi, li in zip(out, s, k, d, p, spatial)
    ]
    padded = xp.zeros(lead + tuple(li + pi + a for li, pi, a in zip(spatial, p, after)), dtype=work)
    gw = g.astype(work, copy=False)
    zero = xp.zeros((), dtype=work)
    plane_strides = np.cumprod((1,) + spatial[:0:-1])[::-1]
    starts = [np.arange(o) * si - pi for o, si, pi in zip(out, s, p)]
    for tap in np.ndindex(*k):
        offset = sum(
            xp.asarray((starts[a] + tap[a] * d[a]) * plane_strides[a]).reshape((-1,) + (1,) * (n - 1 - a))
            for a in range(n)
        )
        view = padded[(..., *(slice(j * di, j * di + (o - 1) * si + 1, si) for j, di, si, o in zip(tap, d, s, out)))]
        view += xp.where(index == offset, gw, zero)
    grad = padded[(..., *(slice(pi, pi + li) for pi, li in zip(p, spatial)))]

    if len(windows):
        grad = xp.ascontiguousarray(grad)
        flat_grad = grad.reshape(planes, per_plane)
        flat_g = gw.reshape(planes, math.prod(out))
        # In rounds of distinct targets, so that no round scatters twice to one place.
        remaining = np.arange(len(windows))
        while len(remaining):
            _, first = np.unique(targets[remaining], return_index=True)
            chosen = remaining[first]
            flat_grad[:, xp.asarray(targets[chosen])] += flat_g[:, xp.asarray(windows[chosen])]
            remaining = np.delete(remaining, first)
    return {"x": grad.astype(dtype)}


def max_unpool_vjp(
    xp: Any,
    g: Any,
    x: Any,
    indices: Any,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    output_size: Sequence[int] | None = None,
    *,
    checked: bool = False,
) -> dict[str, Any]:
    """The cotangent read back at the indices the values were written to.
    ``checked``: the indices are those a forward took (the residual path),
    so they are not checked again (a pass over them: a quarter of the time)."""
    out = plan_max_unpool(x.shape, indices.shape, indices.dtype, kernel_size, stride, padding, output_size)
    n = len(out)
    lead = tuple(x.shape[:-n])
    _check_cotangent(g, lead + out)
    plane = math.prod(out)
    dtype = np.dtype(x.dtype)
    if plane == 0 or x.size == 0:
        return {"x": xp.zeros(x.shape, dtype=dtype)}
    flat = indices.reshape(math.prod(lead), math.prod(x.shape[-n:]))
    if not checked:
        check_indices(xp, flat, out)
    gathered = gather_planes(xp, g.reshape(flat.shape[0], plane), flat)
    return {"x": gathered.astype(dtype, copy=False).reshape(x.shape)}


# --------------------------------------------------------------------------
# pixel_shuffle, pixel_unshuffle
# --------------------------------------------------------------------------


def _permuted(xp: Any, g: Any, x: Any, fn: Any, factor: int, out_shape: tuple[int, ...]) -> dict[str, Any]:
    _check_cotangent(g, out_shape)
    dtype = np.dtype(x.dtype)
    if x.size == 0:
        return {"x": xp.zeros(x.shape, dtype=dtype)}
    return {"x": fn(xp, g, factor).astype(dtype, copy=False).reshape(x.shape)}


def pixel_shuffle_vjp(xp: Any, g: Any, x: Any, upscale_factor: int) -> dict[str, Any]:
    """``pixel_unshuffle`` of the cotangent."""
    pixel_shuffle(np, stand_in(x), upscale_factor)  # the forward's checks
    r = int(upscale_factor)
    *lead, c, h, w = x.shape
    return _permuted(xp, g, x, pixel_unshuffle, r, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle_vjp(xp: Any, g: Any, x: Any, downscale_factor: int) -> dict[str, Any]:
    """``pixel_shuffle`` of the cotangent."""
    pixel_unshuffle(np, stand_in(x), downscale_factor)  # the forward's checks
    r = int(downscale_factor)
    *lead, c, h, w = x.shape
    # torch (and the forward) return an empty input with its shape unchanged.
    out_shape = tuple(x.shape) if x.size == 0 else (*lead, c * r * r, h // r, w // r)
    return _permuted(xp, g, x, pixel_shuffle, r, out_shape)


# --------------------------------------------------------------------------
# The residual path: what a forward keeps for its backward
# --------------------------------------------------------------------------


def _like(xp: Any, x: Any) -> Any:
    """An array of ``x``'s shape and dtype that holds one element (a zero-stride
    view): what a backward that reads only those keeps of its input."""
    return xp.broadcast_to(xp.zeros((), dtype=x.dtype), x.shape)


def residuals(xp: Any, op: str, out: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
    """What ``op``'s backward keeps of the forward ``out = op(x, **kwargs)``,
    as torch's autograd saves it: ``"op"``, ``"kwargs"`` (the call's other
    arguments: conv_transpose's weight, max_unpool's indices), ``"x"`` (the
    input where the backward reads it, conv_transpose; else a stand-in of
    its shape and dtype), and ``"indices"`` (max_pool: the forward's) or
    ``"tables"`` (interpolate: ``InterpolateTables``).  Raises what ``vjp``
    raises for an input without gradients."""
    _check_differentiable(op, x)
    saved = {"op": op, "kwargs": dict(kwargs), "x": x if op == "conv_transpose" else _like(xp, x)}
    if op == "max_pool":
        saved["indices"] = out[1]
    elif op == "interpolate":
        saved["tables"] = interpolate_tables(xp, x, **kwargs)
    return saved


def vjp_from_residuals(xp: Any, op: str, saved: dict[str, Any], grad_output: Any) -> dict[str, Any]:
    """``vjp`` of the call ``saved`` was kept from (``residuals``): the same
    gradients, without running the forward again (max_pool) or planning the
    taps again (interpolate)."""
    if saved.get("op") != op:
        raise ValueError(f"residuals of {saved.get('op')!r} given to the backward of {op!r}")
    x, kwargs = saved["x"], saved["kwargs"]
    if op == "max_pool":
        return max_pool_vjp_from_indices(xp, grad_output, saved["indices"], x, **kwargs)
    if op == "interpolate":
        return interpolate_vjp_from_tables(xp, grad_output, x, saved["tables"])
    if op == "max_unpool":  # the forward has checked the indices
        return max_unpool_vjp(xp, grad_output, x, **kwargs, checked=True)
    return vjp(xp, op, grad_output, x, **kwargs)


def _check_differentiable(op: str, x: Any) -> None:
    if f"{op}_vjp" not in globals():
        raise NotImplementedError(f"no gradient is defined for {op!r} in backends/xp/gradients.py")
    if not (is_floating(x.dtype) or is_complex(x.dtype)):  # torch refuses gradients for integer tensors
        raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {x.dtype}")


def vjp(xp: Any, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
    """The gradients of ``op`` at ``x`` (its other array arguments and keyword
    parameters in ``kwargs``, as the forward takes them) for the output
    cotangent ``grad_output``: ``{"x": ...}``, plus ``"weight"`` and (when a
    bias is given) ``"bias"`` for ``conv_transpose``, each in its input's
    shape and dtype.  For ``max_pool`` the cotangent is that of the values.
    The gradient of ``op`` is ``{op}_vjp`` of this module."""
    _check_differentiable(op, x)
    return globals()[f"{op}_vjp"](xp, grad_output, x, **kwargs)
