"""The float64 definition of ``torch.nn.functional.interpolate`` (torch 2.13).

Every mode is separable: along one spatial axis of length ``n_in`` resized to
``n_out``, output ``i`` is a weighted sum of a few inputs, its *taps*.  Written
as a matrix ``W`` of shape ``(n_out, n_in)`` whose row ``i`` holds those
weights, the N-d op applies one ``W`` per spatial axis.  Each mode below is a
short function that computes the taps from PyTorch's exact rule; the reference
and the backends apply them by gathers, not as a matrix, since torch reads only
the taps of each output -- but all of them, zero weights included -- so a NaN
or an infinity reaches exactly the outputs whose taps read it.  Read them in order:

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

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

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
    ``opmath`` is the dtype torch's kernels compute source coordinates in:
    float64 for float64 data, float32 for the others (``with_opmath``;
    ``resample`` sets it from the data).  The nearest modes follow it exactly
    (their results are exact); the linear and cubic ones reproduce torch's
    double arithmetic for float64 data and otherwise keep float64 coordinates.
    """

    mode: str
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    scales: tuple[float | None, ...]
    align_corners: bool
    antialias: bool
    opmath: str = "float32"

    def with_opmath(self, dtype: object) -> ResizePlan:
        """This plan for data of ``dtype``."""
        opmath = "float64" if np.dtype(dtype) == np.float64 else "float32"
        return self if opmath == self.opmath else dataclasses.replace(self, opmath=opmath)


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
            raise TypeError(
                "interpolate() received an invalid combination of arguments: align_corners must be a bool "
                f"or None, got {align_corners!r}"
            )
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
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], "
                    f"but got size with types {[type(n) for n in size]}"
                )
            out = tuple(int(n) for n in size)
        elif _is_int(size):
            out = (int(size),) * dim
        else:
            raise TypeError(
                "interpolate() received an invalid combination of arguments: expected size to be an int or a "
                f"tuple of ints, got {type(size).__name__}"
            )
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
            factors = tuple(scale_factor)
        else:
            factors = (scale_factor,) * dim  # type: ignore[assignment]
        if not all(isinstance(s, (int, float, np.integer, np.floating)) for s in factors):
            raise TypeError(
                "interpolate() received an invalid combination of arguments: expected scale_factor to be a "
                f"float or a tuple of floats, got {[type(s).__name__ for s in factors]}"
            )
        factors = tuple(float(s) for s in factors)
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
    if len(shape) not in MODE_RANKS.get(mode, ()):
        if len(shape) in (3, 4, 5) and mode in ("linear", "bilinear", "trilinear"):
            need = {"linear": 3, "bilinear": 4, "trilinear": 5}[mode]
            raise NotImplementedError(f"Got {len(shape)}D input, but {mode} mode needs {need}D input")
        takes = " or ".join(f"{r}D" for r in MODE_RANKS[mode]) if mode in MODE_RANKS else "no"
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {len(shape)}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode}): "
            f"mode={mode!r} takes {takes} input (N, C, spatial...)"
        )
    if mode == "lanczos":
        if align:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")

    in_size = shape[2:]
    if mode == "area":
        _check_adaptive_avg_pool(shape, out)
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


def _check_adaptive_avg_pool(shape: tuple[int, ...], out: tuple[int, ...]) -> None:
    """``area`` is ``adaptive_avg_pool{1,2,3}d``: an empty output is allowed, a
    negative one is not; the 1-D and 2-D kernels (1-D runs as 2-D with a height
    of 1) need non-empty spatial dimensions, the 3-D one every non-batch
    dimension non-empty, channels included."""
    pool = f"adaptive_avg_pool{max(len(out), 2)}d"
    if any(n < 0 for n in out):
        received = ", ".join(map(str, ((1,) if len(out) == 1 else ()) + out))
        raise RuntimeError(
            f"{pool}: elements of output_size must be greater than or equal to 0 but received {{{received}}}"
        )
    checked = range(1, len(shape)) if len(shape) == 5 else range(2, len(shape))
    empty = [i for i in checked if shape[i] == 0]
    if empty:
        raise RuntimeError(
            f"{pool}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
            f"{list(shape)} with dimension {empty[0]} being empty"
        )


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


def split_coordinate(
    n_in: int, n_out: int, align_corners: bool, scale: float | None, opmath: str, cubic: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, base)``: each output's source coordinate (clamped at 0 unless
    ``cubic``) and the input index below it (at most ``n_in - 1``), as torch's
    linear and cubic kernels compute them (``guard_index_and_lambda``).

    ``opmath="float64"`` (float64 data) reproduces torch's double arithmetic
    exactly: ``s * (i + 0.5) - 0.5`` rounded once (the kernels compile it to
    a fused multiply-add), floored after a cast to float32 (``floorf``), so a
    coordinate a rounding below an integer ``k`` reads ``k`` with weight 1 and
    ``k + 1`` with weight 0.  That decides where an infinity meets a zero
    weight (``inf * 0`` is NaN).  Otherwise the coordinate is float64 (torch
    computes it in float32 for other data: a known deviation)."""
    s = source_scale(n_in, n_out, align_corners, scale)
    i = np.arange(n_out)
    if opmath != "float64":
        x = source_coordinate(i, s, align_corners)
    elif align_corners:
        x = s * i
    else:
        exact = Fraction(s)
        x = np.array([float(exact * Fraction(2 * k + 1, 2) - Fraction(1, 2)) for k in range(n_out)])
    if not cubic:
        x = np.maximum(x, 0.0)
    below = np.floor(x.astype(np.float32) if opmath == "float64" else x)
    return x, np.minimum(below, n_in - 1).astype(np.int64)


# --------------------------------------------------------------------------
# One set of taps per mode
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Taps:
    """Output ``i`` of one axis is ``sum_k weight[i, k] * input[index[i, k]]``.

    ``index`` and ``weight`` have shape ``(n_out, k)``; ``weight is None`` means a
    one-hot row: the output copies ``input[index[i, 0]]`` (nearest modes; no
    arithmetic, so exact).

    torch reads every tap of its kernel, a zero weight included (linear's right
    neighbour when the source coordinate is an integer, bicubic's outer taps,
    the last input read twice at the edge), so a NaN or an infinity there
    still reaches the output (``0 * nan`` and ``0 * inf`` are NaN).  Rows of
    different lengths (``area``, antialias windows) are padded to ``k`` taps
    that torch never reads: ``reads`` (shape ``(n_out, k)``, bool) marks the
    taps read; ``None`` means all of them.  An unread tap carries weight 0 and a
    valid index.
    """

    index: np.ndarray
    weight: np.ndarray | None
    reads: np.ndarray | None = None

    def matrix(self, n_in: int) -> np.ndarray:
        """The dense ``(n_out, n_in)`` weight matrix ``W`` of these taps (equal
        to the taps on finite inputs; ``apply`` is what torch does with NaN
        and infinities)."""
        n_out, k = self.index.shape
        w = np.zeros((n_out, n_in))
        weight = np.ones((n_out, k)) if self.weight is None else self.weight
        np.add.at(w, (np.repeat(np.arange(n_out), k), self.index.ravel()), weight.ravel())
        return w

    @np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data here
    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        """``y[..., i, ...] = sum_k weight[i, k] * x[..., index[i, k], ...]``
        along ``axis``, over the taps read: gathered and summed tap by tap in
        float64 (so a NaN or infinity reaches exactly the outputs that read it,
        as in torch), the result's dtype ``x``'s.  One-hot taps copy."""
        if self.weight is None:
            return np.take(x, self.index[:, 0], axis=axis)
        moved = np.moveaxis(x, axis, -1)
        total = None
        for k in range(self.index.shape[1]):
            term = moved[..., self.index[:, k]] * self.weight[:, k]
            if self.reads is not None:
                term = np.where(self.reads[:, k], term, -0.0)  # -0.0: the identity of +, signed zeros included
            total = term if total is None else total + term
        assert total is not None
        return np.moveaxis(total, -1, axis)


def nearest_taps(
    n_in: int, n_out: int, scale: float | None, exact: bool, shortcuts: bool = False, opmath: str = "float32"
) -> Taps:
    """Source index of each output for ``nearest`` / ``nearest-exact``.

    torch floors a float32 position; how it gets there depends on the kernel.
    The generic one (1-D and 3-D inputs) computes in ``opmath`` ``T``: float32,
    or float64 for float64 data.  With ``s = T(1 / scale)`` (or
    ``T(n_in) / T(n_out)``):
    ``nearest: min(floor(float32(i * s)), n_in - 1)`` (OpenCV's INTER_NEAREST) and
    ``nearest-exact: min(floor(float32(max(s * (i + 0.5) - 0.5, 0) + 0.5)), n_in - 1)``
    (Pillow, scikit-image; in float32 ``s * (i + 0.5) - 0.5`` is one fused
    multiply-add).  The 4-D kernel (``opmath="4d"``, every dtype) computes
    ``s`` in float32 and ``floor(float32((i + offset) * s))``, offset 0 or 0.5.
    Where ``i * n_in / n_out`` is an integer the rounding of ``s`` decides:
    ``(1, 1, 6)`` to size 74 reads input 2 at output 37 in float32 (``s``
    rounds down) and input 3 in float64 (the product rounds up to the float32
    3.0); ``(1, 1, 2)`` to size 41 (nearest-exact) reads input 1 at output 20
    in 3-D and input 0 in 4-D.
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
        t = np.float64 if opmath == "float64" else np.float32
        s = t(1.0 / scale) if scale is not None and scale > 0 else t(n_in) / t(n_out)
        if not exact:
            position = (i.astype(t) * s).astype(np.float32)
        elif opmath == "4d":
            position = ((i + 0.5) * np.float64(s)).astype(np.float32)  # exact in float64, one rounding
        else:
            # float32: s * (i + 0.5) - 0.5 is exact in float64 (or clamped off), so
            # one rounding to float32, as torch's fused multiply-add; float64: double arithmetic
            real = (np.float64(s) * (i + 0.5) - 0.5).astype(t)
            position = (np.maximum(real, t(0)) + t(0.5)).astype(np.float32)
        index = np.minimum(np.floor(position).astype(np.int64), n_in - 1)
    return Taps(index[:, None], None)


def linear_taps(
    n_in: int, n_out: int, align_corners: bool, scale: float | None, opmath: str = "float32"
) -> Taps:
    """``linear``: the source coordinate is clamped at 0, then split between
    ``floor(x)`` and the next index (itself clamped to the last input) with
    weights ``1 - t`` and ``t``, ``t = x - floor(x)`` (``split_coordinate``:
    ``opmath``).  torch reads the next index even when ``t`` is 0."""
    x, left = split_coordinate(n_in, n_out, align_corners, scale, opmath)
    right = np.minimum(left + 1, n_in - 1)
    t = np.clip(x - left, 0.0, 1.0)
    return Taps(np.stack([left, right], 1), np.stack([1.0 - t, t], 1))


def same_length_linear_taps(n: int) -> Taps:
    """A linear-mode axis whose length does not change: torch ignores the scale
    factor and reads each output's own input twice, with weights 1 and 0 --
    a copy, except that an infinity becomes NaN (``inf * 0``); no neighbour
    is read.  (bicubic and area resample such an axis as any other; the
    antialiased modes skip it.)"""
    i = np.arange(n)
    return Taps(np.stack([i, i], 1), np.stack([np.ones(n), np.zeros(n)], 1))


def keys_cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a`` (support 2)."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def cubic_taps(
    n_in: int, n_out: int, align_corners: bool, scale: float | None, opmath: str = "float32"
) -> Taps:
    """``bicubic``: taps at ``floor(x) - 1 .. floor(x) + 2`` with Keys weights
    (A = -0.75) at distances ``t + 1, t, 1 - t, 2 - t``; the coordinate is not
    clamped, out-of-range taps read the nearest edge input (``split_coordinate``:
    ``opmath``).  At ``t = 0`` the outer taps weigh exactly 0, and are read."""
    x, base = split_coordinate(n_in, n_out, align_corners, scale, opmath, cubic=True)
    t = np.clip(x - base, 0.0, 1.0)
    offsets = np.arange(-1, 3)
    index = np.clip(base[:, None] + offsets, 0, n_in - 1)
    # the distances as torch rounds them (the last is (1 - t) + 1, not 2 - t)
    distances = np.stack([t + 1, t, 1 - t, (1 - t) + 1], 1)
    return Taps(index, keys_cubic(distances, -0.75))


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
    reads = np.zeros((len(start), k), dtype=bool)
    for row, (lo, hi) in enumerate(zip(start, end)):
        j = np.arange(lo, hi)
        w = weigh(j, row)
        total = w.sum()
        index[row, : len(j)] = j
        index[row, len(j) :] = lo if hi > lo else 0
        weight[row, : len(j)] = w / total if total != 0 else w
        reads[row, : len(j)] = True
    return Taps(index, weight, reads)


def axis_taps(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    """The taps of spatial axis ``d`` of an ``ndim``-D input; ``None`` when torch
    leaves the axis as it is."""
    n_in, n_out, scale = plan.input_size[d], plan.output_size[d], plan.scales[d]
    if plan.mode in DATA_MOVEMENT_MODES:
        shortcuts = plan.mode == "nearest" and ndim == 4
        exact = plan.mode == "nearest-exact"
        opmath = "4d" if ndim == 4 else plan.opmath
        return nearest_taps(n_in, n_out, scale, exact=exact, shortcuts=shortcuts, opmath=opmath)
    if n_in == n_out and plan.antialias:
        # torch skips such an axis without consulting the scale factor.
        return None
    if n_in == n_out and plan.mode in ("linear", "bilinear", "trilinear"):
        return same_length_linear_taps(n_in)
    if plan.mode == "area":
        return area_taps(n_in, n_out)
    if plan.antialias:
        return antialias_taps(n_in, n_out, plan.align_corners, scale, plan.mode)
    if plan.mode == "bicubic":
        return cubic_taps(n_in, n_out, plan.align_corners, scale, plan.opmath)
    return linear_taps(n_in, n_out, plan.align_corners, scale, plan.opmath)


def apply_along_axis(x: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """``y[..., i, ...] = sum_j w[i, j] * x[..., j, ...]`` along ``axis``: a
    matrix product, so a NaN or an infinity anywhere along the axis reaches
    every output (``0 * nan``); for finite data only (the gradients' adjoint
    matrices).  ``Taps.apply`` is torch's propagation."""
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
    return resample(x, plan, axis_taps)


def resample(x: np.ndarray, plan: ResizePlan, taps_for: Callable[[ResizePlan, int, int], Taps | None]) -> np.ndarray:
    """Apply ``taps_for(plan, d, x.ndim)`` along each spatial axis ``d`` in turn
    (``None``: the axis is left as it is).  One-hot taps copy (exact, in the
    input dtype); weighted taps sum in float64, tap by tap, over the taps torch
    reads (``Taps.apply``), so NaN and infinities propagate as in torch."""
    data_movement = plan.mode in DATA_MOVEMENT_MODES
    plan = plan.with_opmath(x.dtype)
    y = x if data_movement else x.astype(np.float64)
    for d in range(len(plan.input_size)):
        taps = taps_for(plan, d, x.ndim)
        if taps is None:
            continue
        if data_movement:
            y = np.take(y, taps.index[:, 0], axis=2 + d)
        else:
            y = taps.apply(y, axis=2 + d)
    return y
