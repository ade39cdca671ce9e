"""tinygrad as a backend: ``Tensor.interpolate``, ``conv_transpose2d``, ``max_pool2d``, ``max_unpool2d``.

tinygrad's ops are rank-generic (its ``*2d`` methods take any number of
spatial axes).  Arguments are checked as torch does first (``plan_*``, the
pixel-shuffle checks), so an invalid call raises torch's error; a valid one
is mapped:

=====================================  ==================================================================
torch                                  tinygrad call
=====================================  ==================================================================
``nearest`` / ``nearest-exact``        ``x.interpolate(size, mode="nearest" | "nearest-exact")`` with
                                       torch's output size; tinygrad takes no scale factor, so a scale
                                       factor torch uses as given is not expressed (unless its ratio
                                       is the sizes')
``linear`` / ``bilinear`` /            ``x.interpolate(size, mode="linear", align_corners)``
``trilinear``
``bicubic``, ``area``, ``lanczos``,    none (tinygrad's interpolate has linear and the nearest modes):
``antialias=True``                     unsupported
``conv_transpose{1,2,3}d``             ``x.conv_transpose2d(w, bias, groups, stride, dilation, padding,
                                       output_padding)`` (``output_size`` as torch resolves it into
                                       ``output_padding``); an unbatched input gets a batch axis
``max_pool{1,2,3}d``                   ``x.max_pool2d(k, stride, dilation, padding, ceil_mode,
                                       return_indices=True)``, the indices cast to int64
``max_unpool{1,2,3}d``                 ``x.max_unpool2d(indices, k, stride, padding=padding,
                                       output_size)``
``pixel_(un)shuffle``                  ``reshape`` and ``permute`` (tinygrad has no such op)
gradients                              ``out.gradient(*inputs, gradient=g)`` of the same calls
=====================================  ==================================================================

tinygrad is lazy: an op returns a graph, realized (compiled with clang and
run on its ``CPU`` device) in ``synchronize`` and ``to_numpy``.  It has no
complex dtypes; bfloat16 crosses as its bits (``bitcast``).  Its ``CPU``
device compiles with clang: without clang on the PATH there is no device.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.frameworks import FrameworkBackend
from backends.frameworks.shared import Differentiable, Forward, ReshapeShuffles, check_cotangent
from backends.libraries import given_scale_reason
from backends.libraries.torch_checks import check_unpool_indices
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.dtypes import BFLOAT16
from reference.interpolate import plan_interpolate
from reference.unpooling import plan_max_pool, plan_max_unpool, spatial_rank

IntOrSeq = int | Sequence[int]

#: torch's modes -> tinygrad's.
MODES = {
    "nearest": "nearest",
    "nearest-exact": "nearest-exact",
    "linear": "linear",
    "bilinear": "linear",
    "trilinear": "linear",
}


class TinygradBackend(ReshapeShuffles, Differentiable, FrameworkBackend):
    """tinygrad's ``Tensor`` on its CPU device."""

    name = "tinygrad"
    module = "tinygrad"
    extra = "tinygrad"
    compiles = True  # kernels generated and compiled with clang per new signature

    def __init__(self) -> None:
        self._pending: list[Any] = []

    def _lib(self) -> ModuleType:
        os.environ.setdefault("DEV", "CPU")
        return super()._lib()

    def availability(self) -> tuple[bool, str]:
        ok, why = super().availability()
        if ok and os.environ.get("DEV", "CPU") == "CPU" and shutil.which("clang") is None:
            return False, "tinygrad's CPU device compiles with clang, which is not on the PATH (apt-get install clang)"
        return ok, why

    def version(self) -> str:
        from importlib import metadata

        try:
            return metadata.version("tinygrad")
        except metadata.PackageNotFoundError:
            return "not installed"

    def from_numpy(self, array: np.ndarray) -> Any:
        tg = self._lib()
        if array.dtype.kind == "c":
            raise Unsupported("tinygrad has no complex dtypes")
        if array.dtype == BFLOAT16:
            return tg.Tensor(np.ascontiguousarray(array).view(np.uint16)).bitcast(tg.dtypes.bfloat16)
        return tg.Tensor(np.ascontiguousarray(array))

    def to_numpy(self, array: Any) -> np.ndarray:
        tg = self._lib()
        if array.dtype == tg.dtypes.bfloat16:
            return array.bitcast(tg.dtypes.uint16).numpy().view(BFLOAT16)
        return array.numpy()

    def synchronize(self) -> None:
        pending, self._pending = self._pending, []  # a failed realization is not retried at the next call
        if pending:
            pending[0].realize(*pending[1:])

    def _done(self, *ys: Any) -> Any:
        self._pending = list(ys)
        return ys if len(ys) > 1 else ys[0]

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            mode = MODES.get(params.get("mode", "nearest"))
            if mode is None or params.get("antialias"):
                return None
            corners = ", align_corners" if mode == "linear" else ""
            return f'Tensor.interpolate(x, size, mode="{mode}"{corners})'
        calls = {
            "conv_transpose": "Tensor.conv_transpose2d(x, w, bias, groups, stride, dilation, padding, output_padding)",
            "max_pool": "Tensor.max_pool2d(x, k, stride, dilation, padding, ceil_mode, return_indices=True)",
            "max_unpool": "Tensor.max_unpool2d(x, indices, k, stride, padding=padding, output_size)",
            "pixel_shuffle": "Tensor.reshape + Tensor.permute",
            "pixel_unshuffle": "Tensor.reshape + Tensor.permute",
        }
        return calls.get(op)

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        out = forward(*primals)
        check_cotangent(cotangent, out.shape)
        grads = out.gradient(*primals, gradient=cotangent)
        return list(self._done(*grads)) if len(grads) > 1 else [self._done(*grads)]

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
        if mode not in MODES or antialias:
            raise Unsupported(f"tinygrad's interpolate has no {mode}{' antialias' if antialias else ''}")
        if not plan.align_corners:
            reason = given_scale_reason(plan, "tinygrad")
            if reason:
                raise Unsupported(reason)
        aligned = plan.align_corners if MODES[mode] == "linear" else False
        return self._done(x.interpolate(tuple(plan.output_size), mode=MODES[mode], align_corners=aligned))

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
        y = (x if plan.batched else x.unsqueeze(0)).conv_transpose2d(
            weight,
            bias,
            groups=plan.groups,
            stride=plan.stride,
            dilation=plan.dilation,
            padding=plan.padding,
            output_padding=plan.output_padding,
        )
        return self._done(y if plan.batched else y.squeeze(0))

    def max_pool(
        self,
        x: Any,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        dilation: IntOrSeq = 1,
        ceil_mode: bool = False,
    ) -> tuple[Any, Any]:
        plan = plan_max_pool(tuple(x.shape), kernel_size, stride, padding, dilation, ceil_mode)
        values, indices = x.max_pool2d(
            plan.kernel,
            stride=plan.stride,
            dilation=plan.dilation,
            padding=plan.padding,
            ceil_mode=ceil_mode,
            return_indices=True,
        )
        return self._done(values, indices.cast(self._lib().dtypes.int64))

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        index_dtype = np.int64 if indices.dtype == self._lib().dtypes.int64 else np.int32
        out = plan_max_unpool(
            tuple(x.shape), tuple(indices.shape), index_dtype, kernel_size, stride, padding, output_size
        )
        check_unpool_indices(indices.numpy(), out)
        n = spatial_rank(len(x.shape), kernel_size)
        batched = len(x.shape) == n + 2
        k = (kernel_size,) * n if isinstance(kernel_size, int) else tuple(kernel_size)
        y = (x if batched else x.unsqueeze(0)).max_unpool2d(
            indices if batched else indices.unsqueeze(0),
            kernel_size=k,
            stride=stride,
            padding=padding,
            output_size=None if output_size is None else tuple(out),
        )
        return self._done(y if batched else y.squeeze(0))

    def permuted(self, x: Any, split: tuple[int, ...], order: tuple[int, ...], shape: tuple[int, ...]) -> Any:
        return x.reshape(*split).permute(*order).reshape(*shape)
