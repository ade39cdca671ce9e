"""Max-pooling with indices, and max-unpooling (its partial inverse).

``max_pool`` slides a window of ``kernel_size`` taps (``dilation`` apart,
``stride`` apart, over an input padded by ``padding`` with -inf) and returns
each window's maximum and where it came from: the *flat* index of that element
within its ``(N, C)`` plane of the unpadded input.  Ties go to the first
element in row-major order; a NaN beats every number, and a later NaN beats an
earlier one (torch's ``val > max || isnan(val)``).  A window that dilation
leaves wholly in the padding yields -inf and the position torch's scan starts
at.

Output length per axis: ``floor((L + 2p - d*(k - 1) - 1) / s) + 1``, or with
``ceil_mode`` the ceiling, minus one when the last window would start in the
right padding.

``max_unpool`` writes each value at its index in a zero output of length
``(L - 1)*s - 2*p + k`` per axis (or ``output_size``, which may differ from that
by less than ``s``).  With repeated indices the last write wins here, as in
torch's 1-D and 2-D kernels; torch's 3-D kernel keeps an unspecified one, so
the harness draws no repeats.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reference.conv_transpose import IntOrSeq, _tuple
from reference.dtypes import is_floating


def pooled_length(length: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's ``pooling_output_shape``."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


@dataclass(frozen=True)
class PoolPlan:
    """Resolved ``max_pool`` arguments per spatial axis, and the output lengths."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_lengths: tuple[int, ...]


def plan_max_pool(
    shape: Sequence[int],
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
    ceil_mode: bool = False,
) -> PoolPlan:
    """Check ``max_pool``'s arguments as torch does, in torch's order and with
    its messages' key phrases; the rank is ``len(kernel_size)`` (an int
    kernel: the input's rank minus 2).

    torch's order (``max_pool{n}d(..., return_indices=True)``, the protocol's
    call): the input's rank (first for 1-D), the argument lengths, the rank;
    per axis ``pooling_output_shape``'s checks (stride not zero, padding
    non-negative and at most half the *effective* kernel ``(k - 1) * d + 1``);
    then kernel, stride and dilation positive, every non-batch dimension
    non-empty, padding at most half the kernel itself, an output of at least 1.
    A 1-D message also words its check as ``max_pool1d()`` without indices
    does (``_refused``), in this order.
    """
    n = spatial_rank(len(shape), kernel_size)
    ndim = len(shape)
    empty_1d = f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(shape)}"
    if n == 1 and ndim not in (2, 3):
        raise _refused(
            1,
            f"Expected 2 to 3 dimensions, but got {ndim}-dimensional tensor for argument #1 'self' "
            "(pass a 2D (C, L) or 3D (N, C, L) input)",
            empty_1d,
        )
    k = _pool_tuple(kernel_size, n, "kernel_size")
    defaulted = stride is None or (not isinstance(stride, (int, np.integer)) and len(stride) == 0)
    s = k if defaulted else _pool_tuple(stride, n, "stride")
    p = _pool_tuple(padding, n, "padding")
    d = _pool_tuple(dilation, n, "dilation")
    if ndim not in (n + 1, n + 2):
        raise _refused(
            n,
            f"non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected for input, "
            f"but got a {ndim}D tensor of shape {list(shape)}",
        )
    for si, pi, ki, di in zip(s, p, k, d):  # torch's pooling_output_shape, axis by axis
        if si == 0:
            because = f" (it defaults to kernel_size={list(k)}, which must be positive)" if defaulted else ""
            own = f"kernel_size must be greater than zero, but got {ki}" if defaulted else _positive("stride", si)
            raise _refused(n, f"stride should not be zero, but got stride={list(s)}{because}", f"max_pool1d() {own}")
        if pi < 0:
            raise _refused(
                n,
                f"pad must be non-negative, but got pad: {pi} (padding={list(p)})",
                f"max_pool1d() padding must be non-negative, but got {pi}",
            )
        if pi > _c_div((ki - 1) * di + 1, 2):
            raise _refused(
                n,
                f"pad should be at most half of effective kernel size, but got pad={pi}, "
                f"kernel_size={ki} and dilation={di}",
                _half_kernel_1d(p, k),
            )
    for name, values in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if any(v <= 0 for v in values):
            # torch's with-indices wording: "kernel size should be ...", "stride should be ..."
            said = "kernel size" if name == "kernel_size" else name
            raise _refused(
                n,
                f"{said} should be greater than zero, but got {name}={list(values)}",
                f"max_pool1d() {_positive(name, values[0])}",
            )
    batch = ndim - n - 1  # 1 with a batch dimension, 0 without
    empty = [i for i in range(batch, ndim) if shape[i] == 0]
    if empty and n == 3:
        raise _refused(
            3,
            f"Expected input's non-batch dimensions to have positive length, but input has a shape of "
            f"{list(shape)} and non-batch dimension {empty[0]} has length zero",
        )
    if empty:
        # torch runs 1-D pooling with indices as 2-D: its message names 3D or 4D
        raise _refused(
            n,
            f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got: "
            f"{list(shape)} (dimension {empty[0]} is empty; only the batch dimension may be)",
            empty_1d,
        )
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise _refused(
            n,
            f"pad should be smaller than or equal to half of kernel size, but got "
            f"padding={list(p)} and kernel_size={list(k)}",
            _half_kernel_1d(p, k),
        )
    spatial = tuple(shape[-n:])
    out = tuple(pooled_length(*args, ceil_mode) for args in zip(spatial, k, s, p, d))
    if any(o <= 0 for o in out):
        planes = [shape[-n - 1]]
        raise _refused(
            n,
            f"Given input size: ({'x'.join(map(str, planes + list(spatial)))}). Calculated output size: "
            f"({'x'.join(map(str, planes + list(out)))}). Output size is too small: make the kernel, dilation or "
            "stride smaller, or the padding larger",
            f"max_pool1d() Invalid computed output size: {out[0]}",
        )
    return PoolPlan(k, s, p, d, out)


def _refused(n: int, message: str, own_1d: str = "") -> RuntimeError:
    """A refused ``max_pool{n}d`` call: torch's message for it with indices
    (the protocol's call).  A 1-D message leads with ``own_1d``, the same
    check as torch's ``max_pool1d`` without indices words it, for torch words
    its 1-D pooling apart (``F.max_pool1d(x, 1, stride=0)``: "max_pool1d()
    stride must be greater than zero, but got 0"; with ``return_indices=True``:
    "stride should not be zero"), and torch's own error inputs of
    ``max_pool1d`` name that wording."""
    if n == 1 and own_1d:
        return RuntimeError(f"{own_1d}; with return_indices=True: {message}")
    return RuntimeError(f"max_pool{n}d: {message}")


def _positive(name: str, value: int) -> str:
    return f"{name} must be greater than zero, but got {value}"


def _half_kernel_1d(p: tuple[int, ...], k: tuple[int, ...]) -> str:
    """``max_pool1d()``'s padding check: at most half the kernel, dilation aside."""
    return f"max_pool1d() padding should be at most half of kernel size, but got padding={p[0]} and kernel_size={k[0]}"


_NUMBERS = {1: "one", 2: "two", 3: "three"}
#: ``max_pool1d()``'s own wording of an argument of the wrong length (its
#: kernel's length is the rank here, so never wrong).
_LENGTH_1D = {
    "stride": "must be None, an int, list of ints, or tuple of ints of size 1",
    "padding": "must be an int, list of ints, or tuple of ints of size 1",
    "dilation": "must be an int, list of ints or tuple of ints of size 1",
}


def _pool_tuple(value: IntOrSeq, n: int, name: str) -> tuple[int, ...]:
    """A pooling argument per spatial axis: an int, or a sequence of 1 or ``n`` ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(value)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"max_pool{n}d(): argument '{name}' must be tuple of ints, but got {value!r}")
    if len(values) not in (1, n):
        if n == 1:
            raise _refused(
                1,
                f"max_pool1d() argument '{name}' should contain one int (got {len(values)})",
                f"max_pool1d() {name} {_LENGTH_1D.get(name, '')} but got size {len(values)}",
            )
        what = {"stride": "must either be omitted, a single int, or", "dilation": "must be either a single int, or"}
        raise RuntimeError(
            f"max_pool{n}d: {name} {what.get(name, 'must either be a single int, or')} a tuple of "
            f"{_NUMBERS.get(n, n)} ints (got {len(values)}: {list(values)})"
        )
    return tuple(int(v) for v in values) * (n if len(values) == 1 else 1)


def _c_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as C++ does."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def spatial_rank(ndim: int, kernel_size: IntOrSeq) -> int:
    """Number of spatial axes: ``len(kernel_size)``, or ``ndim - 2`` for an int kernel."""
    if isinstance(kernel_size, (int, np.integer)):
        return max(1, min(3, ndim - 2))
    return len(kernel_size)


def max_pool(
    x: np.ndarray,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``max_pool{n}d(..., return_indices=True)``: ``(values, int64 indices)``."""
    x = np.asarray(x)
    plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return pool(x, plan, _argmax_first_max_last_nan)


def windows(plan: PoolPlan, spatial: Sequence[int]) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
    """Each output position of ``plan`` over a plane of shape ``spatial``, with
    the flat positions of its window's taps that fall inside the plane (row-major)."""
    k, s, p, d = plan.kernel, plan.stride, plan.padding, plan.dilation
    for o in itertools.product(*(range(m) for m in plan.output_lengths)):
        axes = [
            [oi * si - pi + j * di for j in range(ki) if 0 <= oi * si - pi + j * di < li]
            for oi, si, pi, di, ki, li in zip(o, s, p, d, k, spatial)
        ]
        yield o, np.array([np.ravel_multi_index(pos, spatial) for pos in itertools.product(*axes)], dtype=np.int64)


def pool(x: np.ndarray, plan: PoolPlan, choose: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Max-pool ``x`` by ``plan``: in each window, the element ``choose``
    picks along the last axis of the window's taps (row-major order)."""
    k, s, p, d, out = plan.kernel, plan.stride, plan.padding, plan.dilation, plan.output_lengths
    n = len(k)
    spatial = x.shape[-n:]
    lead = x.shape[:-n]
    values = np.empty(lead + out, dtype=x.dtype)
    indices = np.empty(lead + out, dtype=np.int64)
    flat_x = x.reshape(lead + (math.prod(spatial),))
    for o, flat in windows(plan, spatial):
        if flat.size == 0:
            # A window wholly in the padding (dilation can do that): torch
            # returns the lowest value and the flat position its scan would
            # have started at, which may lie outside the plane.
            first = [_first_tap(oi * si - pi, di) for oi, si, pi, di in zip(o, s, p, d)]
            indices[(..., *o)] = int(np.dot(first, np.cumprod((1,) + spatial[:0:-1])[::-1]))
            values[(..., *o)] = -np.inf if is_floating(x.dtype) else np.iinfo(x.dtype).min
            continue
        window = flat_x[..., flat]
        best = choose(window)
        indices[(..., *o)] = flat[best]
        values[(..., *o)] = np.take_along_axis(window, best[..., None], -1)[..., 0]
    return values, indices


def _first_tap(start: int, dilation: int) -> int:
    while start < 0:
        start += dilation
    return start


def _argmax_first_max_last_nan(window: np.ndarray) -> np.ndarray:
    """Along the last axis: the last NaN if any, else the first maximum."""
    nan = np.isnan(window) if is_floating(window.dtype) else np.zeros(window.shape, bool)
    last_nan = window.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    return np.where(nan.any(-1), last_nan, np.argmax(window, axis=-1))


def unpool_output_size(
    spatial: Sequence[int], k: Sequence[int], s: Sequence[int], p: Sequence[int], output_size: Sequence[int] | None
) -> tuple[int, ...]:
    """torch's ``_unpool_output_size``."""
    default = [(length - 1) * si - 2 * pi + ki for length, ki, si, pi in zip(spatial, k, s, p)]
    if output_size is None:
        return tuple(default)
    sizes = [int(v) for v in output_size]
    if len(sizes) == len(k) + 2:
        sizes = sizes[2:]
    if len(sizes) != len(k):
        raise ValueError(
            f"output_size should be a sequence containing {len(k)} or {len(k) + 2} elements, "
            f"but it has a length of '{len(sizes)}'"
        )
    for dim, (v, dv, si) in enumerate(zip(sizes, default, s)):
        if not dv - si < v < dv + si:
            raise ValueError(f'invalid output_size "{sizes}" (dim {dim} must be between {dv - si} and {dv + si})')
    return tuple(sizes)


def _non_negative(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """torch's ``_check_unpool_output_size``: every output length at least 0."""
    for dim, v in enumerate(sizes):
        if v < 0:
            raise ValueError(
                f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                f"output_size[{dim}]={v} (a smaller padding or a larger kernel or stride makes it larger)"
            )
    return sizes


def plan_max_unpool(
    x_shape: Sequence[int],
    indices_shape: Sequence[int],
    indices_dtype: np.dtype,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    output_size: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Check ``max_unpool``'s arguments as torch does, in its order (its Python
    code's output size first, then its kernel's checks); the output's spatial
    lengths."""
    n = spatial_rank(len(x_shape), kernel_size)
    k = _tuple(kernel_size, n, "kernel_size")
    s = k if stride is None else _tuple(stride, n, "stride")
    p = _tuple(padding, n, "padding")
    out = _non_negative(unpool_output_size(tuple(x_shape[-n:]), k, s, p, output_size)) if len(x_shape) >= n else ()
    if np.dtype(indices_dtype) != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices_dtype}")
    if len(x_shape) not in (n + 1, n + 2):
        raise RuntimeError(
            f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, but got a tensor with "
            f"{len(x_shape)} dimensions."
        )
    if tuple(indices_shape) != tuple(x_shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(x_shape)}) but got "
            f"indices tensor with shape: {list(indices_shape)}"
        )
    # torch takes the first dimension for the batch even of an unbatched input.
    empty = [i for i in range(1, len(x_shape)) if x_shape[i] == 0]
    if empty:
        raise RuntimeError(
            f"max_unpool{n}d: Expected input to have non-zero size for non-batch dimensions, but got "
            f"{list(x_shape)} with dimension {empty[0]} being empty."
        )
    if n == 3 and any(v <= 0 for v in s):
        raise RuntimeError(f"max_unpool3d: strides should be greater than zero, but got stride: {list(s)}")
    return out


def invalid_index_error(bad: int, out: Sequence[int]) -> RuntimeError:
    return RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, out))})")


def max_unpool(
    x: np.ndarray,
    indices: np.ndarray,
    kernel_size: IntOrSeq,
    stride: IntOrSeq | None = None,
    padding: IntOrSeq = 0,
    output_size: Sequence[int] | None = None,
) -> np.ndarray:
    """``max_unpool{n}d``: scatter ``x`` into zeros at ``indices``."""
    x = np.asarray(x)
    indices = np.asarray(indices)
    out = plan_max_unpool(x.shape, indices.shape, indices.dtype, kernel_size, stride, padding, output_size)
    n = len(out)
    plane = math.prod(out)
    lead = x.shape[:-n]
    flat_idx = indices.reshape(lead + (math.prod(x.shape[len(lead) :]),))
    if plane == 0:
        return np.zeros(lead + out, dtype=x.dtype)  # torch checks no index then
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= plane):
        raise invalid_index_error(int(flat_idx[(flat_idx < 0) | (flat_idx >= plane)].ravel()[0]), out)
    y = np.zeros(lead + (plane,), dtype=x.dtype)
    flat_x = x.reshape(lead + (math.prod(x.shape[len(lead) :]),))
    # In index order, so that of repeated indices the last write wins.
    for j in range(flat_idx.shape[-1]):
        np.put_along_axis(y, flat_idx[..., j : j + 1], flat_x[..., j : j + 1], axis=-1)
    return y.reshape(lead + out)
