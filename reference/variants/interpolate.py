"""Plausible wrong versions of ``interpolate``: each replaces one rule of
``reference/interpolate.py`` (the per-axis taps, the plan, or the rounding of
the result) and keeps the rest."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from reference.dtypes import BFLOAT16
from reference.gradients import interpolate_vjp
from reference.interpolate import (
    ANTIALIAS_FILTERS,
    ResizePlan,
    Taps,
    _window_taps,
    antialias_taps,
    area_taps,
    axis_taps,
    keys_cubic,
    linear_taps,
    nearest_taps,
    plan_interpolate,
    resample,
    source_coordinate,
    source_scale,
)
from reference.variants import summed_in, variant

TapsFor = Callable[[ResizePlan, int, int], "Taps | None"]
OP = "interpolate"


def resize_with(
    taps_for: TapsFor = axis_taps,
    plan_for: Callable[..., ResizePlan] = plan_interpolate,
    after: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    resampler: Callable[[np.ndarray, ResizePlan], np.ndarray | None] | None = None,
) -> Callable[..., np.ndarray]:
    """An ``interpolate`` built from the reference with one piece replaced:
    the taps of an axis, the plan, ``after(result, x)`` (the rounding), or
    the whole resampling (``resampler(x, plan)``; ``None``: the reference's)."""

    def forward(
        x: Any,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> np.ndarray:
        x = np.asarray(x)
        plan = plan_for(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        y = resampler(x, plan) if resampler is not None else None
        y = resample(x, plan, taps_for) if y is None else y
        return after(y, x) if after is not None else y

    return forward


def _axis(plan: ResizePlan, d: int) -> tuple[int, int, float | None]:
    return plan.input_size[d], plan.output_size[d], plan.scales[d]


def _for_modes(modes: tuple[str, ...], taps: TapsFor) -> TapsFor:
    """``taps`` for the axes of ``modes`` (not antialiased), the reference's elsewhere."""

    def taps_for(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
        if plan.mode in modes and not plan.antialias:
            return taps(plan, d, ndim)
        return axis_taps(plan, d, ndim)

    return taps_for


def _index_taps(index: np.ndarray, n_in: int) -> Taps:
    return Taps(np.clip(index.astype(np.int64), 0, n_in - 1)[:, None], None)


# --- nearest: index arithmetic ----------------------------------------------------------


def _nearest_float64(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, scale = _axis(plan, d)
    if plan.mode == "nearest" and ndim == 4 and n_out in (n_in, 2 * n_in):
        return axis_taps(plan, d, ndim)
    s = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    offset = 0.5 if plan.mode == "nearest-exact" else 0.0
    return _index_taps(np.floor((np.arange(n_out) + offset) * s), n_in)


variant(
    "nearest-index-float64",
    OP,
    "nearest / nearest-exact source index computed in float64 (torch: float32)",
)(resize_with(_for_modes(("nearest", "nearest-exact"), _nearest_float64)))


def _nearest_no_shortcuts(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, scale = _axis(plan, d)
    return nearest_taps(n_in, n_out, scale, exact=plan.mode == "nearest-exact", shortcuts=False)


variant(
    "nearest-no-4d-shortcuts",
    OP,
    "4-D nearest without torch's shortcuts (same length: copy; twice the length: i // 2)",
)(resize_with(_for_modes(("nearest",), _nearest_no_shortcuts)))


def _swapped_nearest(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, scale = _axis(plan, d)
    exact = plan.mode == "nearest"  # each mode takes the other's rule
    return nearest_taps(n_in, n_out, scale, exact=exact, shortcuts=not exact and ndim == 4)


variant("nearest-modes-swapped", OP, "nearest rounds like nearest-exact and nearest-exact like nearest")(
    resize_with(_for_modes(("nearest", "nearest-exact"), _swapped_nearest))
)


def _onnx_nearest(rounding: Callable[[np.ndarray], np.ndarray], half_pixel: bool) -> TapsFor:
    def taps(plan: ResizePlan, d: int, ndim: int) -> Taps:
        n_in, n_out, scale = _axis(plan, d)
        s = source_scale(n_in, n_out, False, scale)
        i = np.arange(n_out)
        return _index_taps(rounding((i + 0.5) * s - 0.5 if half_pixel else i * s), n_in)

    return taps


variant(
    "nearest-onnx-half-pixel-round-prefer-floor",
    OP,
    "nearest as ONNX Resize: half_pixel coordinate, nearest_mode round_prefer_floor",
)(resize_with(_for_modes(("nearest",), _onnx_nearest(lambda x: np.ceil(x - 0.5), True))))
variant(
    "nearest-onnx-asymmetric-round-prefer-ceil",
    OP,
    "nearest as ONNX Resize: asymmetric coordinate, nearest_mode round_prefer_ceil",
)(resize_with(_for_modes(("nearest",), _onnx_nearest(lambda x: np.floor(x + 0.5), False))))
variant("nearest-ceil", OP, "nearest rounds the source coordinate up (ceil) instead of down")(
    resize_with(_for_modes(("nearest",), _onnx_nearest(np.ceil, False)))
)


# --- the scale factor -------------------------------------------------------------------


def _recomputed_plan(shape: Any, *args: Any) -> ResizePlan:
    return dataclasses.replace(plan_interpolate(shape, *args), scales=(None,) * (len(shape) - 2))


def _given_plan(shape: Any, size: Any, scale_factor: Any, mode: str, align: Any, recompute: Any, aa: bool) -> ResizePlan:
    plan = plan_interpolate(shape, size, scale_factor, mode, align, recompute, aa)
    if scale_factor is None or mode == "area":
        return plan
    factors = scale_factor if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * len(plan.scales)
    return dataclasses.replace(plan, scales=tuple(float(f) for f in factors))


variant(
    "scale-factor-always-recomputed",
    OP,
    "kernels use n_in / n_out even where torch uses the scale factor as given",
)(resize_with(plan_for=_recomputed_plan))
variant(
    "recompute-scale-factor-ignored",
    OP,
    "recompute_scale_factor=True ignored: kernels use the scale factor as given",
)(resize_with(plan_for=_given_plan))


# --- align_corners and coordinate conventions --------------------------------------------


def _align_inverted(shape: Any, size: Any, scale: Any, mode: str, align: Any, recompute: Any, aa: bool) -> ResizePlan:
    plan = plan_interpolate(shape, size, scale, mode, align, recompute, aa)
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        return dataclasses.replace(plan, align_corners=not plan.align_corners)
    return plan


variant("align-corners-inverted", OP, "align_corners read the other way round")(resize_with(plan_for=_align_inverted))

LINEAR_MODES = ("linear", "bilinear", "trilinear")


def _linear_coordinates(coordinate: Callable[[np.ndarray, float, int, int], np.ndarray]) -> TapsFor:
    """Linear taps from another source-coordinate rule, clamped as torch clamps."""

    def taps(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
        n_in, n_out, scale = _axis(plan, d)
        if plan.align_corners or n_in == n_out:
            return axis_taps(plan, d, ndim)
        x = np.maximum(coordinate(np.arange(n_out), source_scale(n_in, n_out, False, scale), n_in, n_out), 0.0)
        left = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
        t = np.clip(x - left, 0.0, 1.0)
        return Taps(np.stack([left, np.minimum(left + 1, n_in - 1)], 1), np.stack([1.0 - t, t], 1))

    return taps


variant("linear-asymmetric", OP, "linear modes with ONNX's asymmetric coordinate x = i * s")(
    resize_with(_for_modes(LINEAR_MODES, _linear_coordinates(lambda i, s, n_in, n_out: i * s)))
)
variant(
    "linear-onnx-pytorch-half-pixel",
    OP,
    "linear modes with ONNX's pytorch_half_pixel: coordinate 0 for an output of length 1",
)(
    resize_with(
        _for_modes(
            LINEAR_MODES, _linear_coordinates(lambda i, s, n_in, n_out: (i + 0.5) * s - 0.5 if n_out > 1 else 0 * i)
        )
    )
)


def _linear_extrapolating(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, scale = _axis(plan, d)
    if n_in == n_out or n_in == 1:
        return axis_taps(plan, d, ndim)
    x = source_coordinate(np.arange(n_out), source_scale(n_in, n_out, plan.align_corners, scale), plan.align_corners)
    left = np.clip(np.floor(x).astype(np.int64), 0, n_in - 2)
    t = x - left  # not clamped: outside the input the line is extended
    return Taps(np.stack([left, left + 1], 1), np.stack([1.0 - t, t], 1))


variant(
    "linear-no-clamp-extrapolates",
    OP,
    "linear modes without the clamp at 0 and at the last index: edges extrapolate the line",
)(resize_with(_for_modes(LINEAR_MODES, _linear_extrapolating)))


def _same_size_resampled(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, scale = _axis(plan, d)
    if n_in != n_out or plan.mode not in (*LINEAR_MODES, "bilinear") and not plan.antialias:
        return axis_taps(plan, d, ndim)
    if plan.antialias:
        return antialias_taps(n_in, n_out, plan.align_corners, scale, plan.mode)
    return linear_taps(n_in, n_out, plan.align_corners, scale)


variant(
    "same-length-axis-resampled",
    OP,
    "an axis whose length does not change is resampled with the scale factor (torch copies it)",
)(resize_with(_same_size_resampled))


# --- cubic ----------------------------------------------------------------------------------


def _cubic(a: float = -0.75, clamp: bool = False, drop_outside: bool = False) -> TapsFor:
    def taps(plan: ResizePlan, d: int, ndim: int) -> Taps:
        n_in, n_out, scale = _axis(plan, d)
        x = source_coordinate(np.arange(n_out), source_scale(n_in, n_out, plan.align_corners, scale), plan.align_corners)
        x = np.maximum(x, 0.0) if clamp else x
        base = np.floor(x).astype(np.int64)
        t = np.clip(x - base, 0.0, 1.0)
        offsets = np.arange(-1, 3)
        raw = base[:, None] + offsets
        weight = keys_cubic(t[:, None] - offsets, a)
        if drop_outside:  # ONNX exclude_outside=1: taps off the input dropped, the rest renormalised
            weight = np.where((raw >= 0) & (raw < n_in), weight, 0.0)
            weight = weight / weight.sum(1, keepdims=True)
        return Taps(np.clip(raw, 0, n_in - 1), weight)

    return taps


variant("bicubic-a-half", OP, "bicubic with Keys' A = -0.5 (Pillow, TensorFlow) instead of -0.75", kind="kernel")(
    resize_with(_for_modes(("bicubic",), _cubic(a=-0.5)))
)
variant("bicubic-coordinate-clamped", OP, "bicubic clamps the source coordinate at 0, as linear does")(
    resize_with(_for_modes(("bicubic",), _cubic(clamp=True)))
)
variant(
    "bicubic-outside-taps-dropped",
    OP,
    "bicubic drops taps off the input and renormalises (ONNX exclude_outside=1)",
    kind="kernel",
)(resize_with(_for_modes(("bicubic",), _cubic(drop_outside=True))))


def _bicubic_copies_same_length(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, _ = _axis(plan, d)
    if plan.mode == "bicubic" and not plan.antialias and n_in == n_out:
        return None
    return axis_taps(plan, d, ndim)


variant(
    "bicubic-same-length-copied",
    OP,
    "bicubic copies an axis whose length does not change (torch resamples it with the scale factor)",
)(resize_with(_bicubic_copies_same_length))


# --- antialias --------------------------------------------------------------------------------


def _antialias(stretch: bool = True, normalise: bool = True, cubic_a: float = -0.5, always: bool = False) -> TapsFor:
    def taps(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
        n_in, n_out, scale = _axis(plan, d)
        if not plan.antialias or n_in == n_out:
            return axis_taps(plan, d, ndim)
        filter_fn, interp_size = ANTIALIAS_FILTERS[plan.mode]
        if plan.mode == "bicubic":
            filter_fn = lambda x: keys_cubic(x, cubic_a)  # noqa: E731
        s = source_scale(n_in, n_out, plan.align_corners, scale)
        widen = stretch and (s >= 1.0 or always)
        support = interp_size / 2 * s if widen else interp_size / 2
        factor = s if widen else 1.0
        centre = s * (np.arange(n_out) + 0.5)
        start = np.maximum((centre - support + 0.5).astype(np.int64), 0)
        end = np.clip(np.minimum((centre + support + 0.5).astype(np.int64), n_in), start, None)
        taps = _window_taps(start, end, lambda j, row: filter_fn((j - centre[row] + 0.5) / factor))
        if not normalise:
            raw = np.zeros_like(taps.weight)
            for row in range(n_out):
                j = taps.index[row]
                raw[row] = np.where(np.arange(len(j)) < end[row] - start[row], filter_fn((j - centre[row] + 0.5) / factor), 0)
            return Taps(taps.index, raw / factor if widen else raw)
        return taps

    return taps


variant(
    "antialias-support-not-stretched",
    OP,
    "antialias filter not widened by the scale when downsampling (plain interpolation)",
    kind="kernel",
)(resize_with(_antialias(stretch=False)))
variant(
    "antialias-rows-not-normalised",
    OP,
    "antialias weights not renormalised to sum 1 per output",
    kind="kernel",
)(resize_with(_antialias(normalise=False)))
variant(
    "antialias-bicubic-a-075",
    OP,
    "antialiased bicubic with A = -0.75 (torch's antialias bicubic, like Pillow, uses -0.5)",
    kind="kernel",
)(resize_with(_antialias(cubic_a=-0.75)))
variant(
    "antialias-stretched-when-upsampling",
    OP,
    "antialias filter scaled by the scale factor when upsampling too (narrower than torch's)",
    kind="kernel",
)(resize_with(_antialias(always=True)))


def _antialias_ignored(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    if plan.antialias and plan.mode in ("bilinear", "bicubic"):
        return axis_taps(dataclasses.replace(plan, antialias=False), d, ndim)
    return axis_taps(plan, d, ndim)


variant("antialias-ignored", OP, "antialias=True ignored for bilinear and bicubic", kind="kernel")(
    resize_with(_antialias_ignored)
)


# --- area -------------------------------------------------------------------------------------


def _area_floor(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, _ = _axis(plan, d)
    if plan.mode != "area":
        return axis_taps(plan, d, ndim)
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = np.maximum(((i + 1) * n_in) // n_out, start + 1)  # floor: the window's last input lost
    return _window_taps(start, end, lambda j, row: np.ones(len(j)))


variant(
    "area-windows-floored",
    OP,
    "area windows end at floor((i + 1) * n_in / n_out) (torch: ceil) on non-divisible lengths",
    kind="kernel",
)(resize_with(_area_floor))


def _area_as_taps(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, _ = _axis(plan, d)
    if plan.mode != "area" or n_out >= n_in:
        return axis_taps(plan, d, ndim)
    return area_taps(n_in, n_out) if n_in % n_out == 0 else antialias_taps(n_in, n_out, False, None, "bilinear")


variant(
    "area-as-antialiased-bilinear",
    OP,
    "area downsampling on non-divisible lengths done as an antialiased bilinear resize",
    kind="kernel",
)(resize_with(_area_as_taps))


# --- output size ------------------------------------------------------------------------------


def _rounded_size(shape: Any, size: Any, scale: Any, mode: str, align: Any, recompute: Any, aa: bool) -> ResizePlan:
    plan = plan_interpolate(shape, size, scale, mode, align, recompute, aa)
    if size is not None:
        return plan
    factors = scale if isinstance(scale, (list, tuple)) else (scale,) * len(plan.scales)
    out = tuple(max(1, round(n * float(f))) for n, f in zip(shape[2:], factors))
    return dataclasses.replace(plan, output_size=out)


variant(
    "output-size-rounded",
    OP,
    "output length round(n * scale_factor) instead of torch's floor",
    kind="arguments",
)(resize_with(plan_for=_rounded_size))


# --- rounding of integer results ----------------------------------------------------------------


def _uint8(after: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def rounding(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return after(y) if x.dtype == np.uint8 and y.dtype == np.float64 else y

    return rounding


variant("uint8-truncated", OP, "uint8 results truncated (floor) instead of rounded", kind="rounding", dtypes=("uint8",))(
    resize_with(after=_uint8(np.floor))
)
variant(
    "uint8-wraps",
    OP,
    "uint8 results wrap modulo 256 instead of saturating at 0 and 255 (bicubic overshoot)",
    kind="rounding",
    dtypes=("uint8",),
)(resize_with(after=_uint8(lambda y: np.mod(np.floor(y + 0.5), 256.0))))


def _uint8_between_passes(
    x: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> np.ndarray:
    x = np.asarray(x)
    plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if x.dtype != np.uint8 or plan.mode in ("nearest", "nearest-exact"):
        return resample(x, plan, axis_taps)
    y = x.astype(np.float64)
    for d in range(len(plan.input_size)):
        one_axis = dataclasses.replace(
            plan,
            input_size=tuple(y.shape[2:]),
            output_size=tuple(plan.output_size[k] if k == d else y.shape[2 + k] for k in range(len(plan.input_size))),
        )
        y = resample(y, one_axis, lambda p, k, n, d=d: axis_taps(plan, d, n) if k == d else None)
        y = np.clip(np.floor(y + 0.5), 0, 255)  # rounded and saturated after each pass
    return y


variant(
    "uint8-rounded-between-passes",
    OP,
    "uint8 results rounded and saturated after each separable pass (not once at the end)",
    kind="rounding",
    dtypes=("uint8",),
)(_uint8_between_passes)


def _area_upsampling_nearest(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    n_in, n_out, _ = _axis(plan, d)
    if plan.mode != "area" or n_out <= n_in:
        return axis_taps(plan, d, ndim)
    return nearest_taps(n_in, n_out, None, exact=False)


variant(
    "area-upsampling-as-nearest",
    OP,
    "area upsampling done as nearest (torch averages the one or two inputs each output overlaps)",
    kind="kernel",
)(resize_with(_area_upsampling_nearest))


# --- float16 and bfloat16: what a port gets wrong when it has no float32 accumulator -------


def _rounded_to(dtype: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``y`` rounded to ``dtype`` (to nearest even), kept in float64."""

    def rounded(y: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return y.astype(dtype).astype(np.float64)

    return rounded


def _truncated_to_bfloat16(y: np.ndarray) -> np.ndarray:
    """``y`` cut to bfloat16 by dropping the low 16 bits of its float32 value
    (toward zero), the cast a port writes by hand instead of rounding."""
    with np.errstate(over="ignore", invalid="ignore"):
        bits = y.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000)
    return np.where(np.isnan(y), y, bits.view(np.float32).astype(np.float64))


def _truncated_to_float16(y: np.ndarray) -> np.ndarray:
    """``y`` (its float32 value) cast to float16 toward zero, as a
    round-toward-zero conversion does (CUDA's ``__float2half_rz``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        y32 = y.astype(np.float32)
        nearest = y32.astype(np.float16)
        away = np.abs(nearest.astype(np.float32)) > np.abs(y32)
        return np.where(away & np.isfinite(y32), np.nextafter(nearest, np.float16(0)), nearest).astype(np.float64)


def _per_tap(dtype: Any) -> Callable[[np.ndarray, ResizePlan], np.ndarray | None]:
    """The resampling of ``dtype`` input summed in ``dtype``: weights, products
    and the running sum each rounded to it (``None``, the reference's, for
    other dtypes and the nearest modes)."""
    to_dtype = _rounded_to(dtype)

    def per_tap(x: np.ndarray, plan: ResizePlan) -> np.ndarray | None:
        if x.dtype != dtype or plan.mode in ("nearest", "nearest-exact"):
            return None
        plan = plan.with_opmath(x.dtype)
        y = x.astype(np.float64)
        for d in range(len(plan.input_size)):
            taps = axis_taps(plan, d, x.ndim)
            if taps is None or taps.weight is None:
                y = y if taps is None else np.take(y, taps.index[:, 0], axis=2 + d)
                continue
            moved = np.moveaxis(y, 2 + d, -1)
            weight = to_dtype(taps.weight)  # the weights such a port holds
            total = None
            with np.errstate(invalid="ignore", over="ignore"):
                for k in range(taps.index.shape[1]):
                    term = to_dtype(moved[..., taps.index[:, k]] * weight[:, k])
                    if taps.reads is not None:
                        term = np.where(taps.reads[:, k], term, -0.0)
                    total = term if total is None else to_dtype(total + term)  # rounded after every tap
            y = np.moveaxis(total, -1, 2 + d)
        return y

    return per_tap


def _only_in(dtype: Any, after: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def rounding(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return after(y) if x.dtype == dtype and y.dtype == np.float64 else y

    return rounding


for _name, _dtype, _truncated in (
    ("bfloat16", BFLOAT16, _truncated_to_bfloat16),
    ("float16", np.dtype(np.float16), _truncated_to_float16),
):
    variant(
        f"{_name}-rounded-per-tap",
        OP,
        f"{_name} summed in {_name}, rounded after every tap (torch accumulates in float32 and rounds once)",
        kind="rounding",
        dtypes=(_name,),
    )(resize_with(resampler=_per_tap(_dtype)))
    variant(
        f"{_name}-truncated",
        OP,
        f"{_name} results truncated toward zero from float32 instead of rounded to nearest even",
        kind="rounding",
        dtypes=(_name,),
    )(resize_with(after=_only_in(_dtype, _truncated)))


def _gradient_summed_in(dtype: Any) -> Callable[..., np.ndarray]:
    """The gradient of ``interpolate`` on ``dtype`` data accumulated in
    ``dtype`` (``summed_in``: every output's share added in output order,
    rounded each time); the reference's for other dtypes."""

    def vjp(g: Any, x: Any, **params: Any) -> np.ndarray:
        x, g = np.asarray(x), np.asarray(g)
        if x.dtype != dtype:
            return interpolate_vjp(g, x, **params)["x"]
        plan = plan_interpolate(x.shape, **params).with_opmath(x.dtype)
        jacobian = np.ones((1, 1))
        for d, n_in in enumerate(plan.input_size):
            taps = axis_taps(plan, d, x.ndim)
            jacobian = np.kron(jacobian, np.eye(n_in) if taps is None else taps.matrix(n_in))
        planes = x.shape[0] * x.shape[1]
        grad = summed_in(dtype, jacobian, g.reshape(planes, jacobian.shape[0]))
        return grad.reshape(x.shape)

    return vjp


for _name, _dtype in (("bfloat16", BFLOAT16), ("float16", np.dtype(np.float16))):
    variant(
        f"{_name}-gradient-summed-in-{_name}",
        OP,
        f"the {_name} gradient accumulated in {_name}, rounded after every output's share (torch: in float32)",
        kind="rounding",
        dtypes=(_name,),
        vjp=_gradient_summed_in(_dtype),
    )(resize_with())


# --- how the taps are summed: special values ---------------------------------------------------


def _lerp(x: np.ndarray, plan: ResizePlan) -> np.ndarray | None:
    """Linear modes as ``a + (b - a) * t`` along each axis (``a`` the left tap,
    ``b`` the right, ``t`` the right's weight), the right tap skipped where
    ``t`` is 0; the reference's elsewhere."""
    if plan.mode not in LINEAR_MODES or plan.antialias:
        return None
    plan = plan.with_opmath(x.dtype)
    y = x.astype(np.float64)
    for d in range(len(plan.input_size)):
        taps = axis_taps(plan, d, x.ndim)
        if taps is None:
            continue
        moved = np.moveaxis(y, 2 + d, -1)
        a, b, t = moved[..., taps.index[:, 0]], moved[..., taps.index[:, 1]], taps.weight[:, 1]
        with np.errstate(invalid="ignore", over="ignore"):
            y = np.moveaxis(np.where(t == 0, a, a + (b - a) * t), -1, 2 + d)
    return y


variant(
    "linear-lerp-form",
    OP,
    "linear modes computed as a + (b - a) * t (inf and inf give NaN; a tap of weight 0 skipped, its NaN not spread)",
    kind="special-values",
    backward=False,
)(resize_with(resampler=_lerp))


def _zero_taps_skipped(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    taps = axis_taps(plan, d, ndim)
    if taps is None or taps.weight is None:
        return taps
    reads = taps.weight != 0
    return Taps(taps.index, taps.weight, reads if taps.reads is None else reads & taps.reads)


variant(
    "zero-weight-taps-skipped",
    OP,
    "taps of weight 0 not read (a sparse resampling matrix): a NaN or inf there does not reach the output "
    "(torch reads them: 0 * nan is nan)",
    kind="special-values",
    backward=False,
)(resize_with(_zero_taps_skipped))


FIXED_POINT_BITS = 7


def _fixed_point_weights(plan: ResizePlan, d: int, ndim: int) -> Taps | None:
    taps = axis_taps(plan, d, ndim)
    if plan.mode != "bilinear" or taps is None or taps.weight is None:
        return taps
    one = 2.0**FIXED_POINT_BITS
    return dataclasses.replace(taps, weight=np.floor(taps.weight * one + 0.5) / one)


variant(
    "uint8-bilinear-7-bit-weights",
    OP,
    f"uint8 bilinear (antialiased too) with weights in {FIXED_POINT_BITS}-bit fixed point, the sum rounded once "
    "(torch's uint8 kernels hold the weights in int16 with up to 22 bits)",
    kind="rounding",
    dtypes=("uint8",),
    backward=False,
)(resize_with(resampler=lambda x, plan: resample(x, plan, _fixed_point_weights) if x.dtype == np.uint8 else None))
