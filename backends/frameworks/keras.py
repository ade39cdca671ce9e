"""Keras 3 on its JAX backend as a backend: ``keras.ops.image.resize``, ``keras.ops.conv_transpose``.

The worker sets ``KERAS_BACKEND=jax`` before Keras is imported (Keras picks
its backend once, at import); JAX's 64-bit types are turned on so float64
stays float64.  Arguments are checked as torch does first
(``plan_interpolate``, ``plan_conv_transpose``, the pixel-shuffle checks), so
an invalid call raises torch's error; a valid one is mapped:

=====================================  ==================================================================
torch                                  Keras call
=====================================  ==================================================================
``nearest`` / ``nearest-exact``        ``keras.ops.image.resize(x, size, "nearest",
                                       data_format="channels_first")``: the call a port makes for
                                       either (Keras has one nearest); a 1-D input as an image of
                                       height 1
``bilinear`` / ``linear``,             ``resize(x, size, "bilinear" | "bicubic", antialias=False)``
``bicubic``
``antialias=True`` (bilinear,          ``resize(x, size, "bilinear" | "bicubic" | "lanczos3",
bicubic, lanczos)                      antialias=True)``
a scale factor torch uses as given     none (Keras takes a size: the sample positions of another
(its ratio not the sizes'),            scale, or of aligned corners, are not expressed): unsupported
``align_corners=True``, 3-D resizes,
``area`` (Keras 3.15's resize has none)
``conv_transpose{1,2,3}d``             ``keras.ops.conv_transpose(x, w, strides, padding="valid",
                                       output_padding, data_format="channels_first", dilation_rate)``
                                       with ``w`` as ``(k..., C_out, C_in)``, then torch's ``padding``
                                       cropped off both ends and ``+ bias``; ``groups > 1``:
                                       unsupported (Keras's op takes none)
``max_pool``, ``max_unpool``           none (``keras.ops.max_pool`` returns no indices; no unpooling)
``pixel_(un)shuffle``                  ``keras.ops.reshape`` and ``keras.ops.transpose``
gradients                              ``jax.vjp`` of the same calls (Keras's ops on JAX are JAX's)
=====================================  ==================================================================
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.frameworks import FrameworkBackend
from backends.frameworks.shared import Differentiable, Forward, ReshapeShuffles, jax_pullback
from backends.libraries import given_scale_reason
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.interpolate import plan_interpolate

IntOrSeq = int | Sequence[int]

#: torch's modes -> Keras's interpolation, without and with antialias.
MODES: dict[str, tuple[str | None, str | None]] = {
    "nearest": ("nearest", None),
    "nearest-exact": ("nearest", None),
    "linear": ("bilinear", "bilinear"),
    "bilinear": ("bilinear", "bilinear"),
    "bicubic": ("bicubic", "bicubic"),
    "lanczos": (None, "lanczos3"),
}


class KerasBackend(ReshapeShuffles, Differentiable, FrameworkBackend):
    """``keras.ops`` with ``KERAS_BACKEND=jax``, on JAX's CPU device."""

    name = "keras"
    module = "keras"
    extra = "keras"
    compiles = True  # JAX compiles each op per new signature

    def __init__(self) -> None:
        self._pending: Any = None

    def _lib(self) -> ModuleType:
        os.environ["KERAS_BACKEND"] = "jax"
        jax = importlib.import_module("jax")
        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        keras = super()._lib()
        if keras.backend.backend() != "jax":
            raise ImportError(f"keras was imported on its {keras.backend.backend()} backend before KERAS_BACKEND=jax")
        return keras

    def from_numpy(self, array: np.ndarray) -> Any:
        self._lib()
        return importlib.import_module("jax.numpy").asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.block_until_ready()

    def _done(self, y: Any) -> Any:
        self._pending = y
        return y

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            method = MODES.get(params.get("mode", "nearest"), (None, None))[bool(params.get("antialias"))]
            if method is None:
                return None
            return f'keras.ops.image.resize(x, size, "{method}", antialias={bool(params.get("antialias"))}, data_format="channels_first")'
        calls = {
            "conv_transpose": 'keras.ops.conv_transpose(x, w, strides, "valid", output_padding, "channels_first", dilation_rate), cropped, + bias',
            "pixel_shuffle": "keras.ops.reshape + keras.ops.transpose",
            "pixel_unshuffle": "keras.ops.reshape + keras.ops.transpose",
        }
        return calls.get(op)

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        grads = jax_pullback(forward, primals, cotangent)
        self._pending = grads[0]
        return grads

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
        method = MODES.get(mode, (None, None))[antialias]
        if method is None:
            raise Unsupported(f"keras.ops.image.resize has no {mode}{' antialias' if antialias else ''}")
        if len(plan.output_size) == 3:
            raise Unsupported("keras.ops.image.resize has no 3-D resize")
        if plan.align_corners:
            raise Unsupported("keras.ops.image.resize has no align_corners")
        reason = given_scale_reason(plan, "keras.ops.image.resize")
        if reason:
            raise Unsupported(reason)
        resize = self._lib().ops.image.resize
        flat = len(plan.output_size) == 1  # a 1-D resize as an image of height 1
        image = x[:, :, None, :] if flat else x
        out_size = (1, *plan.output_size) if flat else plan.output_size
        y = resize(image, out_size, interpolation=method, antialias=antialias, data_format="channels_first")
        return self._done(y[:, :, 0, :] if flat else y)

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
        if plan.groups > 1:
            raise Unsupported("keras.ops.conv_transpose takes no groups")
        ops = self._lib().ops
        n = len(plan.kernel)
        xb = x if plan.batched else x[None]
        w = ops.transpose(weight, (*range(2, n + 2), 1, 0))  # torch (C_in, C_out, k...) -> Keras (k..., C_out, C_in)
        y = ops.conv_transpose(
            xb,
            w,
            strides=plan.stride,
            padding="valid",
            output_padding=plan.output_padding,
            data_format="channels_first",
            dilation_rate=plan.dilation,
        )
        y = y[(slice(None), slice(None), *plan.crop())]
        if bias is not None:
            y = y + ops.reshape(bias, (1, -1) + (1,) * n)
        return self._done(y if plan.batched else y[0])

    def max_pool(self, x: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        raise Unsupported("keras.ops.max_pool returns no indices")

    def max_unpool(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("keras has no max unpooling")

    def permuted(self, x: Any, split: tuple[int, ...], order: tuple[int, ...], shape: tuple[int, ...]) -> Any:
        ops = self._lib().ops
        return ops.reshape(ops.transpose(ops.reshape(x, split), order), shape)
