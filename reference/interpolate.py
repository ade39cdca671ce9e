"""The float64 definition of ``torch.nn.functional.interpolate`` (torch 2.13).

Every mode is separable: along one spatial axis of length ``n_in`` resized to
``n_out``, output ``i`` is a weighted sum of a few inputs, its *taps*.  Written
as a matrix ``W`` of shape ``(n_out, n_in)`` whose row ``i`` holds those
weights, the N-d op applies one ``W`` per spatial axis.  Each mode below is a
short function that computes the taps from PyTorch's exact rule (the backends
share them and apply them by gathers instead of a matrix); read them in order:

========================  =====================================================
nearest, nearest-exact    one source index per output (a one-hot row)
linear (and bi/tri-)      two taps around the source coordinate
bicubic                   four taps, Keys cubic convolution with A = -0.75
area                      the adaptive-average-pool window
antialias (bilinear,      the filter stretched by the downscale factor and
bicubic, lanczos)         each row normalised to sum 1 (Pillow's method)
========================  =====================================================

Source coordinates follow ``aten/src/ATen/native/UpSample.h``: with
``align_corners=True`` output ``i`` sits at ``i * (n_in - 1) / (n_out - 1)``;
otherwise at ``(i + 0.5) * s - 0.5`` where ``s`` is ``1 / scale_factor`` when a
scale factor is used as given, and ``n_in / n_out`` when it is not.

Known torch deviation (2.13, CPU): an antialiased resize whose output width is
1 while the height changes returns input row 0 in every output row.  The
reference keeps the definition; the harness reports such cases as torch
straying from the reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: Modes and the input ranks (batch and channel included) torch accepts for each.
MODE_RANKS: dict[str, tuple[int, ...]] = {
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
    "area": (3, 4, 5),
    "lanczos": (4,),
}
#: Modes that only move data: their results are exact and keep the input dtype.
DATA_MOVEMENT_MODES = frozenset({"nearest", "nearest-exact"})
#: Modes that take ``align_corners`` (``None`` means False for them).
ALIGN_CORNERS_MODES = frozenset({"linear", "bilinear", "bicubic", "trilinear", "lanczos"})
#: Modes with an antialiased variant (4-D input only).
ANTIALIAS_MODES = frozenset({"bilinear", "bicubic", "lanczos"})


@dataclass(frozen=True)
class ResizePlan:
    """What ``interpolate``'s arguments mean once torch's rules are applied.

    ``scales[d]`` is the scale factor the kernels use for axis ``d``: the user's
    value when it is used as given, ``None`` when it was recomputed from the
    output size (or a size was given), in which case ``n_in / n_out`` is used.
    """

    mode: str
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    scales: tuple[float | None, ...]
    align_corners: bool
    antialias: bool


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def plan_interpolate(
    shape: Sequence[int],
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> ResizePlan:
    """Check ``interpolate``'s arguments the way torch does and resolve them.

    Output size: ``size`` when given; otherwise ``floor(n_in * scale_factor)``
    per axis (torch truncates the float64 product).  With
    ``recompute_scale_factor=True`` (always for ``area``) the scale factor only
    sets the output size and the kernels use ``n_in / n_out``.

    Raises the exception class torch raises for each invalid combination.
    """
    shape = tuple(int(n) for n in shape)
    if mode not in MODE_RANKS:
        raise NotImplementedError(f"mode={mode!r} is not an interpolate mode; use one of {sorted(MODE_RANKS)}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                f"linear | bilinear | bicubic | trilinear (got mode={mode!r}); "
                "leave align_corners=None"
            )
        align = False
    else:
        if align_corners is not None and not isinstance(align_corners, (bool, np.bool_)):
            raise TypeError(f"align_corners must be a bool or None, got {align_corners!r}")
        align = bool(align_corners)

    dim = len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined; pass just one")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(shape[2:])} and output size of {size}"
                )
            if not all(_is_int(n) for n in size):
                raise TypeError(f"expected size to be int or a tuple of ints, got {[type(n).__name__ for n in size]}")
            out = tuple(int(n) for n in size)
        elif _is_int(size):
            out = (int(size),) * dim
        else:
            raise TypeError(f"expected size to be int or a tuple of ints, got {type(size).__name__}")
        scales: tuple[float | None, ...] = (None,) * dim
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(shape[2:])} and scale_factor of "
                    f"shape {scale_factor}"
                )
            factors = tuple(float(s) for s in scale_factor)
        else:
            factors = (float(scale_factor),) * dim  # type: ignore[arg-type]
        for s in factors:
            if not math.isfinite(s):
                raise RuntimeError(
                    f"scale_factor must be finite, got {s}: value cannot be converted to type int64_t without overflow"
                )
        # torch: int(n_in * s), i.e. the float64 product truncated toward zero.
        out = tuple(int(n * s) for n, s in zip(shape[2:], factors))
        use_given = not (recompute_scale_factor or mode == "area")
        scales = factors if use_given else (None,) * dim

    if antialias and not (mode in ANTIALIAS_MODES and len(shape) == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
            f"and requires a 4-D tensor as input (got mode={mode!r}, {len(shape)}-D input)"
        )
    if len(shape) not in MODE_RANKS[mode]:
        if len(shape) in (3, 4, 5) and mode in ("linear", "bilinear", "trilinear"):
            need = {"linear": 3, "bilinear": 4, "trilinear": 5}[mode]
            raise NotImplementedError(f"Got {len(shape)}D input, but {mode} mode needs {need}D input")
        raise NotImplementedError(
            f"Input Error: mode={mode!r} takes {' or '.join(f'{r}D' for r in MODE_RANKS[mode])} "
            f"input (N, C, spatial...), got {len(shape)}D"
        )
    if mode == "lanczos":
        if align:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")

    in_size = shape[2:]
    if mode == "area":
        # adaptive_avg_pool: an empty output is allowed, a negative one is not.
        if any(n < 0 for n in out):
            raise RuntimeError(f"adaptive_avg_pool: output size must be >= 0, got {list(out)}")
        if len(shape) >= 2 and any(n == 0 for n in shape[1:]):
            raise RuntimeError(
                f"adaptive_avg_pool: expected input with non-zero channel and spatial sizes, got {list(shape)}"
            )
    else:
        if any(n <= 0 for n in in_size) or any(n <= 0 for n in out):
            raise RuntimeError(
                f"Input and output sizes should be greater than 0, but got input {list(in_size)} and output {list(out)}"
            )
        if shape[1] == 0:
            raise RuntimeError(
                f"Non-empty {len(shape)}D data tensor expected but got a tensor with sizes {list(shape)}"
            )
    return ResizePlan(mode, in_size, out, scales, align, bool(antialias))


# --------------------------------------------------------------------------
# Source coordinates (UpSample.h)
# --------------------------------------------------------------------------


def source_scale(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> float:
    """``area_pixel_compute_scale``: the input distance between two outputs."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def source_coordinate(i: np.ndarray, s: float, align_corners: bool) -> np.ndarray:
    """``area_pixel_compute_source_index`` without the clamp (cubic leaves it off)."""
    return s * i if align_corners else s * (i + 0.5) - 0.5


# --------------------------------------------------------------------------
# One set of taps per mode
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Taps:
    """Output ``i`` of one axis is ``sum_k weight[i, k] * input[index[i, k]]``.

    ``index`` and ``weight`` have shape ``(n_out, k)``; unused taps carry weight
    0 and a valid index.  ``weight is None`` means a one-hot row: the output
    copies ``input[index[i, 0]]`` (nearest modes; no arithmetic, so exact).
    """

    index: np.ndarray
    weight: np.ndarray | None

    def matrix(self, n_in: int) -> np.ndarray:
        """The dense ``(n_out, n_in)`` weight matrix ``W`` of these taps."""
        n_out, k = self.index.shape
        w = np.zeros((n_out, n_in))
        weight = np.ones((n_out, k)) if self.weight is None else self.weight
        np.add.at(w, (np.repeat(np.arange(n_out), k), self.index.ravel()), weight.ravel())
        return w


def nearest_taps(n_in: int, n_out: int, scale: float | None, exact: bool, shortcuts: bool = False) -> Taps:
    """Source index of each output for ``nearest`` / ``nearest-exact``.

    torch computes these in float32 even for float64 data:
    ``s = float32(1 / scale)`` (or ``float32(n_in) / n_out``), then
    ``nearest: min(floor(i * s), n_in - 1)`` (OpenCV's INTER_NEAREST) and
    ``nearest-exact: min(floor((i + 0.5) * s), n_in - 1)`` (Pillow, scikit-image).
    A scale factor used as given counts even when it barely changes the length:
    ``scale_factor=1.0001`` on 8 inputs gives 8 outputs reading ``0, 0, 1, ..., 6``
    -- except with ``shortcuts`` (4-D ``nearest`` on the CPU), where an axis with
    ``n_out == n_in`` is copied and one with ``n_out == 2 * n_in`` reads ``i // 2``,
    whatever the scale factor.
    """
    i = np.arange(n_out)
    if shortcuts and n_out == n_in:
        index = i
    elif shortcuts and n_out == 2 * n_in:
        index = i // 2
    else:
        if scale is not None and scale > 0:
            s = np.float32(1.0 / scale)
        else:
            s = np.float32(n_in) / np.float32(n_out)
        position = (i.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * s
        index = np.minimum(np.floor(position).astype(np.int64), n_in - 1)
    return Taps(index[:, None], None)


def linear_taps(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> Taps:
    """``linear``: the source coordinate is clamped at 0, then split between
    ``floor(x)`` and the next index (itself clamped to the last input) with
    weights ``1 - t`` and ``t``, ``t = x - floor(x)``."""
    x = source_coordinate(np.arange(n_out), source_scale(n_in, n_out, align_corners, scale), align_corners)
    x = np.maximum(x, 0.0)
    left = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    t = np.clip(x - left, 0.0, 1.0)
    return Taps(np.stack([left, right], 1), np.stack([1.0 - t, t], 1))


def keys_cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a`` (support 2)."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def cubic_taps(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> Taps:
    """``bicubic``: taps at ``floor(x) - 1 .. floor(x) + 2`` with Keys weights
    (A = -0.75) at distances ``t + 1, t, 1 - t, 2 - t``; the coordinate is not
    clamped, out-of-range taps read the nearest edge input."""
    x = source_coordinate(np.arange(n_out), source_scale(n_in, n_out, align_corners, scale), align_corners)
    base = np.floor(x).astype(np.int64)
    t = np.clip(x - base, 0.0, 1.0)
    offsets = np.arange(-1, 3)
    index = np.clip(base[:, None] + offsets, 0, n_in - 1)
    return Taps(index, keys_cubic(t[:, None] - offsets, -0.75))


def area_taps(n_in: int, n_out: int) -> Taps:
    """``area`` is adaptive average pooling: output ``i`` averages inputs
    ``floor(i * n_in / n_out)`` up to ``ceil((i + 1) * n_in / n_out)`` (exclusive)."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    return _window_taps(start, end, lambda j, row: np.ones(len(j)))


def triangle_filter(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0.0)


def antialias_cubic_filter(x: np.ndarray) -> np.ndarray:
    """Pillow's bicubic filter: Keys with A = -0.5."""
    return keys_cubic(x, -0.5)


def lanczos3_filter(x: np.ndarray) -> np.ndarray:
    """Lanczos-3: ``sinc(x) * sinc(x / 3)`` for ``|x| < 3``."""
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


#: Antialias filters and their support (``interp_size``) in source pixels.
ANTIALIAS_FILTERS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "bilinear": (triangle_filter, 2),
    "bicubic": (antialias_cubic_filter, 4),
    "lanczos": (lanczos3_filter, 6),
}


def antialias_taps(n_in: int, n_out: int, align_corners: bool, scale: float | None, mode: str) -> Taps:
    """Antialiased resampling (``_compute_indices_min_size_weights_aa``).

    With ``s = source_scale(...)``, output ``i`` is centred at ``c = s * (i + 0.5)``
    (also under align_corners, which only changes ``s``).  When downsampling
    (``s >= 1``) the filter is stretched by ``s``: its half-support becomes
    ``interp_size / 2 * s``.  Inputs ``j`` from ``int(c - support + 0.5)`` to
    ``int(c + support + 0.5)`` (clipped to the input, at most
    ``2 * ceil(support) + 1`` of them) get weight ``filter((j - c + 0.5) / max(s, 1))``,
    and the row is normalised to sum 1.
    """
    filter_fn, interp_size = ANTIALIAS_FILTERS[mode]
    s = source_scale(n_in, n_out, align_corners, scale)
    support = interp_size / 2 * s if s >= 1.0 else interp_size / 2
    max_taps = math.ceil(support) * 2 + 1
    stretch = max(s, 1.0)
    centre = s * (np.arange(n_out) + 0.5)
    start = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    end = np.minimum((centre + support + 0.5).astype(np.int64), n_in)
    end = np.clip(end, start, start + max_taps)
    return _window_taps(start, end, lambda j, row: filter_fn((j - centre[row] + 0.5) / stretch))


def _window_taps(start: np.ndarray, end: np.ndarray, weigh: Callable[[np.ndarray, int], np.ndarray]) -> Taps:
    """Taps over the windows ``[start[i], end[i])``, each row normalised to sum 1."""
    k = int(max((end - start).max(initial=0), 1))
    index = np.zeros((len(start), k), dtype=np.int64)
    weight = np.zeros((len(start), k))
    for row, (lo, hi) in enumerate(zip(start, end)):
        j = np.arange(lo, hi)
        w = weigh(j, row)
        total = w.sum()
        index[row, : len(j)] = j
        index[row, len(j) :] = lo if hi > lo else 0
        weight[row, : len(j)] = w / total if total != 0 else w
    return Taps(index, weight)


def axis_taps(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    """The taps of spatial axis ``d`` of an ``ndim``-D input; ``None`` when torch
    leaves the axis as it is."""
    n_in, n_out, scale = plan.input_size[d], plan.output_size[d], plan.scales[d]
    if plan.mode in DATA_MOVEMENT_MODES:
        shortcuts = plan.mode == "nearest" and ndim == 4
        return nearest_taps(n_in, n_out, scale, exact=plan.mode == "nearest-exact", shortcuts=shortcuts)
    if n_in == n_out and (plan.antialias or plan.mode in ("linear", "bilinear", "trilinear")):
        # torch copies such an axis without consulting the scale factor
        # (bicubic and area do not take this shortcut).
        return None
    if plan.mode == "area":
        return area_taps(n_in, n_out)
    if plan.antialias:
        return antialias_taps(n_in, n_out, plan.align_corners, scale, plan.mode)
    if plan.mode == "bicubic":
        return cubic_taps(n_in, n_out, plan.align_corners, scale)
    return linear_taps(n_in, n_out, plan.align_corners, scale)


def apply_along_axis(x: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """``y[..., i, ...] = sum_j w[i, j] * x[..., j, ...]`` along ``axis``."""
    moved = np.moveaxis(x, axis, -1)
    return np.moveaxis(moved @ w.T, -1, axis)


def interpolate(
    x: np.ndarray,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> np.ndarray:
    """Reference ``torch.nn.functional.interpolate`` on a NumPy array.

    Data-movement modes (``nearest``, ``nearest-exact``) return the input dtype,
    exactly.  Every other mode returns the exact float64 result, unrounded: the
    value a backend's output approximates in its own dtype.
    """
    x = np.asarray(x)
    plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    data_movement = mode in DATA_MOVEMENT_MODES
    y = x if data_movement else x.astype(np.float64)
    for d in range(len(plan.input_size)):
        taps = axis_taps(plan, d, x.ndim)
        if taps is None:
            continue
        if data_movement:
            y = np.take(y, taps.index[:, 0], axis=2 + d)
        else:
            y = apply_along_axis(y, taps.matrix(plan.input_size[d]), axis=2 + d)
    return y
