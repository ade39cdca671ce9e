"""Plausible wrong versions of ``max_pool`` (ties, NaN, the base of the
indices, padding, dilation, ceil_mode) and ``max_unpool`` (index layout,
default output size)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from reference.dtypes import is_floating
from reference.unpooling import max_pool, max_unpool, plan_max_pool, pool, spatial_rank, windows
from reference.variants import variant

POOL, UNPOOL = "max_pool", "max_unpool"


def choosing(choose: Callable[[np.ndarray], np.ndarray]) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``max_pool`` whose window winner is picked by ``choose`` (last axis)."""

    def forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        return pool(x, plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode), choose)

    return forward


def _nan(window: np.ndarray) -> np.ndarray:
    return np.isnan(window) if is_floating(window.dtype) else np.zeros(window.shape, bool)


def _last_max(window: np.ndarray) -> np.ndarray:
    nan = _nan(window)
    last = window.shape[-1] - 1 - np.argmax(window[..., ::-1], axis=-1)
    last_nan = window.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    return np.where(nan.any(-1), last_nan, last)


def _nan_ignored(window: np.ndarray) -> np.ndarray:
    nan = _nan(window)
    filled = np.where(nan, -np.inf, window) if is_floating(window.dtype) else window
    return np.where(nan.all(-1), 0, np.argmax(filled, axis=-1))


def _first_nan(window: np.ndarray) -> np.ndarray:
    nan = _nan(window)
    return np.where(nan.any(-1), np.argmax(nan, axis=-1), np.argmax(window, axis=-1))


variant("max-pool-ties-last", POOL, "ties go to the last maximum in the window (torch: the first)", kind="structure")(
    choosing(_last_max)
)
variant("max-pool-nan-ignored", POOL, "NaN skipped as missing (nanmax) instead of propagated", kind="special-values")(
    choosing(_nan_ignored)
)
variant("max-pool-first-nan", POOL, "of several NaN in a window, the first one's index (torch: the last)", kind="special-values")(
    choosing(_first_nan)
)


def _ties_split_vjp(g: Any, x: Any, **params: Any) -> np.ndarray:
    """Each window's cotangent shared equally by all the taps equal to its
    maximum (a window holding a NaN: all to the NaN torch's index names)."""
    x = np.asarray(x)
    plan = plan_max_pool(x.shape, **params)
    n = len(plan.kernel)
    spatial, lead = x.shape[-n:], x.shape[:-n]
    values, indices = max_pool(x, **params)
    flat_x = x.reshape(lead + (math.prod(spatial),))
    grad = np.zeros(flat_x.shape)
    g = np.asarray(g, np.float64)
    for o, flat in windows(plan, spatial):
        for pos in np.ndindex(*lead):
            best = values[(*pos, *o)]
            if flat.size == 0 or (is_floating(x.dtype) and np.isnan(best)):
                ties = np.clip(indices[(*pos, *o)], 0, grad.shape[-1] - 1)[None]
            else:
                ties = flat[flat_x[(*pos, flat)] == best]
            grad[pos][ties] += g[(*pos, *o)] / len(ties)
    return grad.reshape(x.shape)


variant(
    "max-pool-grad-split-among-ties",
    POOL,
    "gradient split evenly among a window's tied maxima (torch: all to the indexed one, the first)",
    kind="structure",
    vjp=_ties_split_vjp,
)(max_pool)


def reindexed(index_of: Callable[[np.ndarray, tuple[int, ...], Any], np.ndarray]) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``max_pool`` with its indices rewritten by ``index_of(indices, spatial, plan)``."""

    def forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        values, indices = max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
        plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
        spatial = x.shape[x.ndim - len(plan.kernel) :]
        return values, index_of(indices, spatial, plan).astype(np.int64)

    return forward


def _in_window(indices: np.ndarray, spatial: tuple[int, ...], plan: Any) -> np.ndarray:
    n = len(spatial)
    position = np.unravel_index(np.clip(indices, 0, math.prod(spatial) - 1), spatial)
    origin = np.meshgrid(*(np.arange(m) for m in indices.shape[-n:]), indexing="ij")
    taps = [(p - (o * s - pad)) // d for p, o, s, pad, d in zip(position, origin, plan.stride, plan.padding, plan.dilation)]
    return np.ravel_multi_index(tuple(np.clip(t, 0, k - 1) for t, k in zip(taps, plan.kernel)), plan.kernel)


def _in_padded_plane(indices: np.ndarray, spatial: tuple[int, ...], plan: Any) -> np.ndarray:
    position = np.unravel_index(np.clip(indices, 0, math.prod(spatial) - 1), spatial)
    padded = tuple(m + 2 * p for m, p in zip(spatial, plan.padding))
    return np.ravel_multi_index(tuple(p + pad for p, pad in zip(position, plan.padding)), padded)


def _over_channels(indices: np.ndarray, spatial: tuple[int, ...], plan: Any) -> np.ndarray:
    n = len(spatial)
    lead = indices.shape[: indices.ndim - n]
    offset = np.arange(math.prod(lead)).reshape(lead + (1,) * n) * math.prod(spatial)
    return indices + offset


variant("max-pool-index-in-window", POOL, "indices count within the window, not the input plane", kind="structure")(
    reindexed(_in_window)
)
variant("max-pool-index-in-padded-plane", POOL, "indices count in the padded plane", kind="structure")(
    reindexed(_in_padded_plane)
)
variant("max-pool-index-over-channels", POOL, "indices count over all planes (batch and channel), not within one", kind="structure")(
    reindexed(_over_channels)
)


@variant("max-pool-zero-padding", POOL, "padding with zeros instead of -inf", kind="special-values")
def zero_padding(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    values, indices = max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    n = len(plan.kernel)
    origin = np.meshgrid(*(np.arange(m) for m in values.shape[-n:]), indexing="ij")
    touches = np.zeros(values.shape[-n:], bool)
    for o, s, p, d, k, m in zip(origin, plan.stride, plan.padding, plan.dilation, plan.kernel, x.shape[-n:]):
        first, last = o * s - p, o * s - p + (k - 1) * d
        touches |= (first < 0) | (last >= m)
    if not is_floating(x.dtype):
        return values, indices
    zero = np.zeros((), x.dtype)
    with np.errstate(invalid="ignore"):
        return np.where(touches & (values < 0), zero, values), indices


variant("max-pool-dilation-ignored", POOL, "dilation ignored (window taps one apart)", kind="arguments")(
    lambda x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False: max_pool(
        x, kernel_size, stride, padding, 1, ceil_mode
    )
)
variant("max-pool-ceil-mode-ignored", POOL, "ceil_mode ignored (always floor)", kind="arguments")(
    lambda x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False: max_pool(
        x, kernel_size, stride, padding, dilation, False
    )
)


# --- max_unpool -------------------------------------------------------------------------------------


def _unpool_args(x: Any, kernel_size: Any, stride: Any, padding: Any) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    from reference.conv_transpose import _tuple

    n = spatial_rank(np.ndim(x), kernel_size)
    k = _tuple(kernel_size, n, "kernel_size")
    s = k if stride is None else _tuple(stride, n, "stride")
    return n, k, s, _tuple(padding, n, "padding")


@variant("max-unpool-output-size-ignored", UNPOOL, "output_size ignored (the default size)", kind="arguments")
def unpool_output_size_ignored(x: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None) -> np.ndarray:
    return max_unpool(x, indices, kernel_size, stride, padding)


@variant(
    "max-unpool-default-size-without-padding",
    UNPOOL,
    "default output length (n - 1) * s + k, without torch's - 2 * padding",
    kind="arguments",
)
def unpool_without_padding(x: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None) -> np.ndarray:
    if output_size is not None:
        return max_unpool(x, indices, kernel_size, stride, padding, output_size)
    n, k, s, _ = _unpool_args(x, kernel_size, stride, padding)
    size = tuple((m - 1) * si + ki for m, si, ki in zip(np.shape(x)[-n:], s, k))
    return max_unpool(x, indices, kernel_size, stride, padding, size)


@variant("max-unpool-column-major", UNPOOL, "indices read as column-major (Fortran) positions in the plane", kind="structure")
def unpool_column_major(x: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None) -> np.ndarray:
    y = max_unpool(x, indices, kernel_size, stride, padding, output_size)
    n = spatial_rank(np.ndim(x), kernel_size)
    spatial = y.shape[-n:]
    flat = np.asarray(indices)
    position = np.unravel_index(np.clip(flat, 0, max(math.prod(spatial) - 1, 0)), spatial, order="F")
    fixed = np.ravel_multi_index(position, spatial)
    return max_unpool(x, fixed, kernel_size, stride, padding, output_size)


@variant(
    "max-unpool-indices-over-channels",
    UNPOOL,
    "indices taken as positions in all the planes of a sample, not in the plane of their channel",
    kind="structure",
)
def unpool_over_channels(x: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, output_size: Any = None) -> np.ndarray:
    y = max_unpool(x, indices, kernel_size, stride, padding, output_size)
    n = spatial_rank(np.ndim(x), kernel_size)
    if np.ndim(x) < n + 2 or y.size == 0:
        return y
    flat = np.zeros((y.shape[0], math.prod(y.shape[1:])), y.dtype)
    values = np.asarray(x).reshape(x.shape[0], -1)
    where = np.asarray(indices).reshape(x.shape[0], -1)
    for b in range(y.shape[0]):
        flat[b, where[b]] = values[b]
    return flat.reshape(y.shape)


@variant(
    "max-pool-ceil-mode-window-in-padding-kept",
    POOL,
    "with ceil_mode, a last window that starts in the right padding is kept (torch drops it)",
    kind="arguments",
)
def ceil_window_kept(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    import dataclasses

    from reference.unpooling import _argmax_first_max_last_nan

    x = np.asarray(x)
    plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    if not ceil_mode:
        return pool(x, plan, _argmax_first_max_last_nan)
    spatial = x.shape[x.ndim - len(plan.kernel) :]
    lengths = tuple(
        math.ceil((m + 2 * p - d * (k - 1) - 1) / s) + 1
        for m, k, s, p, d in zip(spatial, plan.kernel, plan.stride, plan.padding, plan.dilation)
    )
    return pool(x, dataclasses.replace(plan, output_lengths=lengths), _argmax_first_max_last_nan)
