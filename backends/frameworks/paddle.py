"""PaddlePaddle (CPU) as a backend: ``paddle.nn.functional``, whose API copies torch's.

Arguments are checked as torch does first (``plan_interpolate``,
``plan_conv_transpose``, ``plan_max_pool``, ``plan_max_unpool``, the
pixel-shuffle checks), so an invalid call raises torch's error; a valid one
reaches Paddle with torch's own arguments, as a user porting a torch call
writes it:

=====================================  ==================================================================
torch                                  Paddle call
=====================================  ==================================================================
``interpolate`` (nearest, linear,      ``F.interpolate(x, size, scale_factor, mode, align_corners,
bilinear, bicubic, trilinear, area)    align_mode=0, recompute_scale_factor, antialias)``: the
                                       arguments as given (``align_mode=0`` is torch's half-pixel rule;
                                       an int size as a list: Paddle takes no int); ``area`` with a
                                       scale factor gets torch's output size (Paddle's area takes a size
                                       only, and area depends on the output size alone)
1-D ``nearest``                        none (Paddle's nearest takes 4-D and 5-D inputs): unsupported
``nearest-exact``, ``lanczos``         none (Paddle has no such mode): unsupported
``conv_transpose{1,2,3}d``             ``F.conv{n}d_transpose(x, w, bias, stride, padding,
                                       output_padding, groups, dilation)`` (``output_size`` as torch
                                       resolves it into ``output_padding``); an unbatched input gets a
                                       batch axis
``max_pool{1,2,3}d``                   ``F.max_pool{n}d(x, k, stride, padding, return_mask=True,
                                       ceil_mode)``; the int32 mask cast to int64; ``dilation > 1``:
                                       unsupported (Paddle's pooling takes none)
``max_unpool{1,2,3}d``                 ``F.max_unpool{n}d(x, indices, k, stride, padding, output_size)``
                                       (``output_size`` only where the call gives one)
``pixel_(un)shuffle``                  ``F.pixel_(un)shuffle(x, r)`` (4-D only: leading dimensions
                                       folded into one batch and back)
gradients                              ``paddle.grad(out, inputs, grad_outputs)`` of the same calls
=====================================  ==================================================================

A dtype Paddle has no CPU kernel for (``The kernel with key (CPU, ...,
uint8) of kernel `bicubic_interp` is not registered``) is unsupported, with
Paddle's words.  bfloat16 crosses as its bits (``uint16``, Paddle's carrier).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.frameworks import FrameworkBackend
from backends.frameworks.shared import Differentiable, Forward, check_cotangent
from backends.libraries.torch_checks import check_shuffle, check_unpool_indices
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.dtypes import BFLOAT16
from reference.interpolate import plan_interpolate
from reference.unpooling import plan_max_pool, plan_max_unpool, spatial_rank

IntOrSeq = int | Sequence[int]

#: torch's interpolate modes Paddle's ``F.interpolate`` has.
MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area")


@contextlib.contextmanager
def no_kernel_is_unsupported() -> Iterator[None]:
    """Paddle's "kernel ... is not registered" (no CPU kernel for a dtype) as ``Unsupported``."""
    try:
        yield
    except RuntimeError as exc:
        found = re.search(r"kernel with key \(CPU, [^,]*, (\w+)\) of kernel `(\w+)` is not registered", str(exc))
        if found:
            raise Unsupported(f"paddle has no CPU {found[2]} kernel for {found[1]}") from exc
        raise


def _numpy_dtype(x: Any) -> np.dtype:
    name = str(x.dtype).removeprefix("paddle.")
    return BFLOAT16 if name == "bfloat16" else np.dtype(name)


class PaddleBackend(Differentiable, FrameworkBackend):
    """``paddle.nn.functional`` on Paddle's CPU place."""

    name = "paddle"
    module = "paddle"
    extra = "paddle"

    def _lib(self) -> ModuleType:
        paddle = super()._lib()
        paddle.set_device("cpu")
        return paddle

    def from_numpy(self, array: np.ndarray) -> Any:
        paddle = self._lib()
        if array.dtype.name == "bfloat16":
            return paddle.to_tensor(np.ascontiguousarray(array).view(np.uint16)).view(paddle.bfloat16)
        return paddle.to_tensor(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        out = array.numpy()
        if str(array.dtype) == "paddle.bfloat16":
            return out.view(BFLOAT16)
        return out

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            if params.get("mode", "nearest") not in MODES:
                return None
            return "paddle.nn.functional.interpolate(x, size, scale_factor, mode, align_corners, align_mode=0, recompute_scale_factor, antialias)"
        calls = {
            "conv_transpose": "paddle.nn.functional.conv{n}d_transpose(x, w, bias, stride, padding, output_padding, groups, dilation)",
            "max_pool": "paddle.nn.functional.max_pool{n}d(x, k, stride, padding, return_mask=True, ceil_mode)",
            "max_unpool": "paddle.nn.functional.max_unpool{n}d(x, indices, k, stride, padding, output_size)",
            "pixel_shuffle": "paddle.nn.functional.pixel_shuffle(x, r)",
            "pixel_unshuffle": "paddle.nn.functional.pixel_unshuffle(x, r)",
        }
        return calls.get(op)

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        paddle = self._lib()
        leaves = []
        for p in primals:
            leaf = p.detach()
            leaf.stop_gradient = False
            leaves.append(leaf)
        with no_kernel_is_unsupported():
            out = forward(*leaves)
            check_cotangent(cotangent, out.shape)
            grads = paddle.grad([out], leaves, grad_outputs=[cotangent], allow_unused=True)
        return [paddle.zeros_like(p) if g is None else g for p, g in zip(primals, grads)]

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
            raise Unsupported(f"paddle.nn.functional.interpolate has no mode {mode!r}")
        if mode == "nearest" and len(x.shape) == 3:
            raise Unsupported("paddle's nearest takes 4-D and 5-D inputs only")
        if isinstance(size, int):
            size = [size] * len(plan.output_size)  # Paddle takes a list (torch's int is every axis)
        if mode == "area" and size is None:
            # Paddle's area takes a size only; area depends on the output size alone, torch's as resolved
            size, scale_factor, recompute_scale_factor = list(plan.output_size), None, None
        F = self._lib().nn.functional
        with no_kernel_is_unsupported():
            return F.interpolate(
                x,
                size=size,
                scale_factor=scale_factor,
                mode=mode,
                align_corners=bool(align_corners),
                align_mode=0,
                recompute_scale_factor=recompute_scale_factor,
                antialias=antialias,
            )

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
        n = len(plan.kernel)
        call = getattr(self._lib().nn.functional, f"conv{n}d_transpose")
        with no_kernel_is_unsupported():
            y = call(
                x if plan.batched else x.unsqueeze(0),
                weight,
                bias=bias,
                stride=list(plan.stride),
                padding=list(plan.padding),
                output_padding=list(plan.output_padding),
                groups=plan.groups,
                dilation=list(plan.dilation),
            )
        return y if plan.batched else y.squeeze(0)

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
        if any(d != 1 for d in plan.dilation):
            raise Unsupported("paddle's max_pool takes no dilation")
        n = len(plan.kernel)
        batched = len(x.shape) == n + 2
        paddle = self._lib()
        call = getattr(paddle.nn.functional, f"max_pool{n}d")
        with no_kernel_is_unsupported():
            values, mask = call(
                x if batched else x.unsqueeze(0),
                list(plan.kernel),
                stride=list(plan.stride),
                padding=list(plan.padding),
                return_mask=True,
                ceil_mode=ceil_mode,
            )
        mask = paddle.cast(mask, "int64")
        return (values, mask) if batched else (values.squeeze(0), mask.squeeze(0))

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        out = plan_max_unpool(
            tuple(x.shape), tuple(indices.shape), _numpy_dtype(indices), kernel_size, stride, padding, output_size
        )
        check_unpool_indices(indices.numpy(), out)
        n = spatial_rank(len(x.shape), kernel_size)
        batched = len(x.shape) == n + 2
        k = [int(v) for v in (kernel_size if not isinstance(kernel_size, int) else [kernel_size] * n)]
        call = getattr(self._lib().nn.functional, f"max_unpool{n}d")
        with no_kernel_is_unsupported():
            y = call(
                x if batched else x.unsqueeze(0),
                indices if batched else indices.unsqueeze(0),
                k,
                stride=stride,
                padding=padding,
                output_size=None if output_size is None else list(out),
            )
        return y if batched else y.squeeze(0)

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        check_shuffle("pixel_shuffle", tuple(x.shape), _numpy_dtype(x), upscale_factor)
        return self._shuffle("pixel_shuffle", x, int(upscale_factor))

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        check_shuffle("pixel_unshuffle", tuple(x.shape), _numpy_dtype(x), downscale_factor)
        return self._shuffle("pixel_unshuffle", x, int(downscale_factor))

    def _shuffle(self, op: str, x: Any, r: int) -> Any:
        *lead, c, h, w = (int(n) for n in x.shape)
        images = x.reshape([math.prod(lead), c, h, w])
        with no_kernel_is_unsupported():
            y = getattr(self._lib().nn.functional, op)(images, r)
        return y.reshape([*lead, *(int(n) for n in y.shape[1:])])
