"""JAX as a backend: ``jax.image`` resizing, ``lax`` convolution, ``jax.numpy`` reshapes.

Arguments are checked and resolved as torch does (``plan_interpolate``,
``plan_conv_transpose``, the reference's pixel-shuffle checks), then mapped:

=====================================  ==================================================================
torch                                  JAX call
=====================================  ==================================================================
``nearest`` (any rank)                 ``jax.image.resize(x, shape, "nearest")``: JAX's nearest is
                                       half-pixel, ``floor((i + 0.5) * n_in / n_out)``, i.e. torch's
                                       ``nearest-exact``; torch's ``floor(i * s)`` has no JAX call, so
                                       this is the call a port makes and it differs (integer upscales
                                       agree)
``nearest-exact``                      the same call; JAX takes no scale factor, so a scale factor
                                       torch uses as given (``1 / scale_factor``) is not expressed
``linear`` / ``bilinear`` /            ``jax.image.scale_and_translate(x, shape, spatial_dims, scale,
``trilinear``, ``align_corners=False``  translation, "linear", antialias=False)`` with ``scale`` torch's
                                       (``scale_factor`` used as given, else ``n_out / n_in``) and
                                       ``translation = 0``: JAX's ``(i + 0.5) / scale - 0.5``
``align_corners=True``                 the same with ``scale = (n_out - 1) / (n_in - 1)`` and
                                       ``translation = (1 - scale) / 2``, which puts output ``i`` at
                                       ``i * (n_in - 1) / (n_out - 1)``; ``n_out = 1``: ``scale = 1,
                                       translation = 0`` (input 0); ``n_in = 1``: ``scale = n_out``
``bicubic``                            ``method="cubic-pytorch"`` (Keys, A = -0.75, edge pixels
                                       repeated), same scale and translation
``antialias=True`` (bilinear,          ``method="linear"`` / ``"cubic"`` (A = -0.5) / ``"lanczos3"``,
bicubic, lanczos)                      ``antialias=True``, ``scale = 1 / s`` with ``s`` torch's source
                                       scale, ``translation = 0``: torch centres output ``i`` at
                                       ``s * (i + 0.5)`` under ``align_corners`` too; ``s = 0`` (one
                                       output, aligned corners): ``scale = 1, translation = 1/2``
``area``                               ``jax.image.resize(x, shape, "area")``: the overlap of each output
                                       box with each input pixel; torch's adaptive average pooling
                                       takes whole pixels, so they agree only where ``n_in`` is a
                                       multiple of ``n_out`` or the other way round
an axis torch leaves alone             ``scale = 1, translation = 0`` (linear modes on an axis whose
                                       length does not change; antialiased modes likewise)
``conv_transpose{1,2,3}d``             ``lax.conv_general_dilated(x, w', window_strides=1, padding=
                                       [(d*(k-1) - p, d*(k-1) - p + output_padding)], lhs_dilation=
                                       stride, rhs_dilation=dilation, feature_group_count=groups)``:
                                       ``w'`` is the weight with input and output channels swapped per
                                       group and the kernel flipped (what a transposed convolution
                                       is); ``+ bias``; an unbatched input gets a batch axis
``pixel_shuffle`` / ``unshuffle``      ``jnp.reshape`` and ``jnp.transpose`` (JAX has no such op)
``max_pool``, ``max_unpool``           none (JAX has no unpooling): not implemented
gradients                              ``jax.vjp`` of the same calls (``backends.frameworks.shared``)
=====================================  ==================================================================

Dtypes: float16, bfloat16, float32, float64 (64-bit types are turned on:
``jax_enable_x64``), uint8 for interpolate (JAX returns float32 for it:
rounded half to even and saturated back to uint8).  The resize is a dense
weight matrix per axis (``einsum``), so a NaN or an infinity reaches every
output of its row or column, where torch's taps reach only a few.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.frameworks.shared import Differentiable, Forward, jax_pullback
from backends.libraries import LibraryBackend
from backends.libraries.torch_checks import check_shuffle, scale_and_translation, to_input_dtype
from reference.conv_transpose import plan_conv_transpose
from reference.interpolate import plan_interpolate

IntOrSeq = int | Sequence[int]

FLOATS = ("float16", "bfloat16", "float32", "float64")
#: torch's interpolate methods -> JAX's, without and with antialias.
_METHODS: dict[str, tuple[str, str]] = {
    "linear": ("linear", "linear"),
    "bilinear": ("linear", "linear"),
    "trilinear": ("linear", "linear"),
    "bicubic": ("cubic-pytorch", "cubic"),
    "lanczos": ("lanczos3", "lanczos3"),
}


class JaxBackend(Differentiable, LibraryBackend):
    """``jax.image``, ``jax.lax`` and ``jax.numpy`` on JAX's default (CPU) device."""

    name = "jax"
    module = "jax"
    extra = "jax"
    supported_dtypes: Mapping[str, Sequence[str]] = {
        "interpolate": (*FLOATS, "uint8"),
        "conv_transpose": (*FLOATS, "int64", "complex64", "complex128"),
    }

    def __init__(self) -> None:
        self._pending: Any = None

    def _lib(self) -> ModuleType:
        jax = super()._lib()
        if not jax.config.jax_enable_x64:
            # float64 stays float64 (JAX truncates it to float32 otherwise)
            jax.config.update("jax_enable_x64", True)
        return jax

    def from_numpy(self, array: np.ndarray) -> Any:
        return self._lib().numpy.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        # JAX dispatches asynchronously: wait for the last result an op returned
        if self._pending is not None:
            self._pending.block_until_ready()
            self._pending = None

    def _done(self, y: Any) -> Any:
        self._pending = y
        return y

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        grads = jax_pullback(forward, primals, cotangent)
        self._pending = grads[0]
        return grads

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            mode = params.get("mode", "nearest")
            if mode in ("nearest", "nearest-exact", "area"):
                method = "nearest" if mode != "area" else "area"
                return f'jax.image.resize(x, shape, "{method}")'
            if mode not in _METHODS:
                return None
            method = _METHODS[mode][bool(params.get("antialias"))]
            return (
                f'jax.image.scale_and_translate(x, shape, spatial_dims, scale, translation, "{method}", '
                f"antialias={bool(params.get('antialias'))})"
            )
        if op == "conv_transpose":
            return "jax.lax.conv_general_dilated(x, flipped w, padding, lhs_dilation=stride, rhs_dilation=dilation, feature_group_count=groups)"
        if op in ("pixel_shuffle", "pixel_unshuffle"):
            return "jnp.reshape + jnp.transpose"
        return None

    def interpolate(
        self,
        x: Any,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> Any:
        plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        jax = self._lib()
        shape = tuple(x.shape[:2]) + plan.output_size
        if mode in ("nearest", "nearest-exact"):
            return self._done(jax.image.resize(x, shape, "nearest"))
        if mode == "area":
            y = jax.image.resize(x, shape, "area", antialias=False)
        else:
            axes = range(len(plan.output_size))
            scales, translations = zip(*(scale_and_translation(plan, d) for d in axes))
            y = jax.image.scale_and_translate(
                x,
                shape,
                tuple(d + 2 for d in axes),
                jax.numpy.array(scales, dtype=np.float64),
                jax.numpy.array(translations, dtype=np.float64),
                method=_METHODS[mode][plan.antialias],
                antialias=plan.antialias,
                precision=jax.lax.Precision.HIGHEST,
            )
        return self._done(to_input_dtype(y, x.dtype, jax.numpy))

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
        plan = plan_conv_transpose(
            x.shape,
            weight.shape,
            None if bias is None else bias.shape,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
            output_size,
        )
        jax = self._lib()
        jnp = jax.numpy
        n = len(plan.kernel)
        g = plan.groups
        c_in, c_out_g = weight.shape[:2]
        # (C_in, C_out/g, k) -> per group (C_out/g, C_in/g, k), flipped: the
        # forward convolution whose input gradient torch's op is
        w = weight.reshape(g, c_in // g, c_out_g, *plan.kernel).swapaxes(1, 2)
        w = jnp.flip(w.reshape(g * c_out_g, c_in // g, *plan.kernel), axis=tuple(range(2, 2 + n)))
        reach = [d * (k - 1) for d, k in zip(plan.dilation, plan.kernel)]
        pads = [(r - p, r - p + op) for r, p, op in zip(reach, plan.padding, plan.output_padding)]
        y = jax.lax.conv_general_dilated(
            x if plan.batched else x[None],
            w,
            window_strides=(1,) * n,
            padding=pads,
            lhs_dilation=plan.stride,
            rhs_dilation=plan.dilation,
            feature_group_count=g,
            precision=jax.lax.Precision.HIGHEST,
        )
        if bias is not None:
            y = y + bias.reshape((1, -1) + (1,) * n)
        return self._done(y if plan.batched else y[0])

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        check_shuffle("pixel_shuffle", x.shape, x.dtype, upscale_factor)
        jnp = self._lib().numpy
        r = int(upscale_factor)
        *lead, c, h, w = x.shape
        k = len(lead)
        y = jnp.reshape(x, (*lead, c // (r * r), r, r, h, w))
        y = jnp.transpose(y, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
        return self._done(jnp.reshape(y, (*lead, c // (r * r), h * r, w * r)))

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        check_shuffle("pixel_unshuffle", x.shape, x.dtype, downscale_factor)
        jnp = self._lib().numpy
        r = int(downscale_factor)
        *lead, c, h, w = x.shape
        if x.size == 0:
            return self._done(x)  # torch keeps an empty input's shape
        k = len(lead)
        y = jnp.reshape(x, (*lead, c, h // r, r, w // r, r))
        y = jnp.transpose(y, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
        return self._done(jnp.reshape(y, (*lead, c * r * r, h // r, w // r)))
