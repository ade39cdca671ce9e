"""MLX (its Linux CPU build, ``mlx[cpu]``) as a backend: ``mlx.nn.Upsample``, ``mx.conv_transpose{n}d``.

MLX is channels-last: the adapter moves torch's channels axis last before a
call and back after it (``mx.moveaxis``, data movement).  Arguments are
checked as torch does first (``plan_interpolate``, ``plan_conv_transpose``,
the pixel-shuffle checks), so an invalid call raises torch's error; a valid
one is mapped:

=====================================  ==================================================================
torch                                  MLX call
=====================================  ==================================================================
``nearest``                            ``nn.Upsample(scale_factor, "nearest")(x)``; MLX takes a scale
                                       factor only: the scale torch uses (the given one where torch
                                       uses it as given, else ``n_out / n_in``); where no scale gives
                                       torch's output length (``int(scale * n_in)``): unsupported
``linear`` / ``bilinear`` /            ``nn.Upsample(scale_factor, "linear", align_corners,
``trilinear``                          antialias)(x)``, the same scale factor
``bicubic``                            ``nn.Upsample(scale_factor, "cubic", align_corners, antialias)``
``antialias`` with ``align_corners``   none (MLX refuses the pair): unsupported
``nearest-exact``, ``area``,           none (MLX's Upsample has nearest, linear, cubic): unsupported
``lanczos``
``conv_transpose{1,2,3}d``             ``mx.conv_transpose{n}d(x, w, stride, padding, dilation,
                                       output_padding, groups)`` with ``w`` as MLX lays it out
                                       (``C_out, k..., C_in / groups``), ``+ bias``
``max_pool``, ``max_unpool``           none (MLX's MaxPool returns no indices; no unpooling):
                                       unsupported
``pixel_(un)shuffle``                  ``mx.reshape`` and ``mx.transpose`` (MLX has no such op)
gradients                              ``mx.vjp(f, inputs, [g])`` of the same calls
=====================================  ==================================================================

MLX is lazy: ``synchronize`` evaluates the last result (``mx.eval``).
bfloat16 crosses as its bits (``view``); float64 is asked for explicitly
(MLX turns a float64 NumPy array into float32 by default).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends.frameworks import FrameworkBackend
from backends.frameworks.shared import Differentiable, Forward, ReshapeShuffles, check_cotangent
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.dtypes import BFLOAT16
from reference.interpolate import ResizePlan, plan_interpolate

IntOrSeq = int | Sequence[int]

#: torch's modes -> MLX's.
MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}


def mlx_scales(plan: ResizePlan) -> tuple[float, ...]:
    """The scale factor per axis that MLX gets: torch's (given, else
    ``n_out / n_in``); ``Unsupported`` where MLX's output length
    ``int(scale * n_in)`` is not torch's."""
    scales = []
    for n_in, n_out, given in zip(plan.input_size, plan.output_size, plan.scales):
        s = float(given) if given is not None else n_out / n_in
        if int(s * n_in) != n_out:
            raise Unsupported(
                f"mlx's Upsample takes a scale factor only: int({s!r} * {n_in}) is not torch's output length {n_out}"
            )
        scales.append(s)
    return tuple(scales)


class MlxBackend(ReshapeShuffles, Differentiable, FrameworkBackend):
    """``mlx.core`` and ``mlx.nn`` on MLX's CPU device."""

    name = "mlx"
    module = "mlx.core"
    extra = "mlx"

    def __init__(self) -> None:
        self._pending: list[Any] = []

    def from_numpy(self, array: np.ndarray) -> Any:
        mx = self._lib()
        # a fresh C-ordered copy: MLX takes no negative strides (a reversed layout), and
        # np.ascontiguousarray keeps a one-element array's
        array = np.array(array, order="C")
        if array.dtype == np.complex128:
            raise Unsupported("mlx has no complex128 (it would make complex64 of it)")
        if array.dtype == BFLOAT16:
            return mx.array(array.view(np.uint16)).view(mx.bfloat16)
        if array.dtype == np.float64:
            return mx.array(array, dtype=mx.float64)
        return mx.array(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        mx = self._lib()
        if array.dtype == mx.bfloat16:
            return np.array(array.view(mx.uint16)).view(BFLOAT16)
        return np.array(array)

    def synchronize(self) -> None:
        pending, self._pending = self._pending, []  # a failed evaluation is not retried at the next call
        if pending:
            self._lib().eval(*pending)

    def _done(self, y: Any) -> Any:
        self._pending = [y]
        return y

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            mode = MODES.get(params.get("mode", "nearest"))
            if mode is None:
                return None
            return f'mlx.nn.Upsample(scale_factor, mode="{mode}", align_corners, antialias)(x channels-last)'
        calls = {
            "conv_transpose": "mx.conv_transpose{n}d(x, w, stride, padding, dilation, output_padding, groups) + bias",
            "pixel_shuffle": "mx.reshape + mx.transpose",
            "pixel_unshuffle": "mx.reshape + mx.transpose",
        }
        return calls.get(op)

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        mx = self._lib()
        outs, grads = mx.vjp(lambda *ps: [forward(*ps)], list(primals), [cotangent])
        check_cotangent(cotangent, outs[0].shape)
        self._pending = list(grads)
        return list(grads)

    def interpolate(
        self,
        x: Any,
        size: IntOrSeq | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> Any:
        plan = plan_interpolate(
            tuple(x.shape), size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
        )
        if mode not in MODES:
            raise Unsupported(f"mlx's Upsample has no mode {mode!r}")
        if antialias and plan.align_corners:
            raise Unsupported("mlx's Upsample refuses antialias with align_corners")
        scales = mlx_scales(plan)
        mx = self._lib()
        nn = importlib.import_module("mlx.nn")
        upsample = nn.Upsample(
            scale_factor=scales, mode=MODES[mode], align_corners=plan.align_corners, antialias=antialias
        )
        y = upsample(mx.moveaxis(x, 1, -1))
        return self._done(mx.moveaxis(y, -1, 1))

    def conv_transpose(
        self,
        x: Any,
        weight: Any,
        bias: Any | None = None,
        stride: IntOrSeq = 1,
        padding: IntOrSeq = 0,
        output_padding: IntOrSeq = 0,
        groups: int = 1,
        dilation: IntOrSeq = 1,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        shapes = (tuple(x.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape))
        plan = plan_conv_transpose(*shapes, stride, padding, output_padding, groups, dilation, output_size)
        mx = self._lib()
        if not mx.issubdtype(x.dtype, mx.floating) or x.dtype == mx.float64:
            # MLX refuses other types at the call, and float64 when it evaluates ("unsupported data type")
            raise Unsupported(f"mlx's CPU convolutions take float16, bfloat16 and float32 only (not {x.dtype})")
        n, g = len(plan.kernel), plan.groups
        c_in, c_out_g = weight.shape[:2]
        # torch (C_in, C_out/g, k...) -> MLX (C_out, k..., C_in/g), per group
        w = weight.reshape(g, c_in // g, c_out_g, *plan.kernel)
        w = mx.transpose(w, (0, 2, *range(3, 3 + n), 1)).reshape(g * c_out_g, *plan.kernel, c_in // g)
        xb = x if plan.batched else mx.expand_dims(x, 0)
        call = getattr(mx, f"conv_transpose{n}d")
        args = (plan.stride, plan.padding, plan.dilation, plan.output_padding)
        if n == 1:
            args = tuple(a[0] for a in args)
        y = mx.moveaxis(call(mx.moveaxis(xb, 1, -1), w, *args, groups=g), -1, 1)
        if bias is not None:
            y = y + bias.reshape((1, -1) + (1,) * n)
        return self._done(y if plan.batched else y[0])

    def max_pool(self, x: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        raise Unsupported("mlx's MaxPool returns no indices")

    def max_unpool(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("mlx has no max unpooling")

    def permuted(self, x: Any, split: tuple[int, ...], order: tuple[int, ...], shape: tuple[int, ...]) -> Any:
        mx = self._lib()
        return mx.reshape(mx.transpose(mx.reshape(x, split), order), shape)
