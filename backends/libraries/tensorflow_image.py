"""TensorFlow as a backend: ``tf.image`` resizing, ``tf.nn`` transposed convolution and depth-to-space.

Arguments are checked and resolved as torch does (``plan_interpolate``,
``plan_conv_transpose``, the reference's pixel-shuffle checks).  TensorFlow's
image ops take channels-last images (NHWC): the adapter transposes torch's
NCHW input there and the result back (data movement, exact).  A 1-D resize
(N, C, W) runs as an image of height 1; TensorFlow has no 3-D resize.

=====================================  ==================================================================
torch                                  TensorFlow call
=====================================  ==================================================================
``nearest``                            ``tf.compat.v1.image.resize_nearest_neighbor(x, size,
                                       align_corners=False, half_pixel_centers=False)``:
                                       ``floor(i * n_in / n_out)`` in float32; TensorFlow takes no
                                       scale factor, so one torch uses as given is not expressed
``nearest-exact``                      ``tf.image.resize(x, size, "nearest")`` (half-pixel centres:
                                       ``floor((i + 0.5) * n_in / n_out)``)
``(bi)linear``, ``align_corners=       ``tf.image.resize(x, size, "bilinear", antialias=False)``
False``, size or recomputed scale
the same with a scale factor used as   ``tf.raw_ops.ScaleAndTranslate(x, size, scale, translation=0,
given                                  kernel_type="triangle", antialias=False)``, ``scale`` torch's
``(bi)linear``, ``align_corners=True`` ``tf.compat.v1.image.resize_bilinear(x, size, align_corners=True)``
``bicubic``, ``align_corners=True``    ``tf.compat.v1.image.resize_bicubic(x, size, align_corners=True)``
                                       (Keys A = -0.75, edges repeated, as torch; TensorFlow reads the
                                       weights from a table of 1024 steps)
``bicubic``, ``align_corners=False``   ``tf.image.resize(x, size, "bicubic")``: half-pixel centres with
                                       Keys A = -0.5 and the outside taps dropped; no TensorFlow call
                                       has torch's A = -0.75 with half-pixel centres, so this differs
``antialias=True`` (bilinear,          ``tf.image.resize(x, size, "bilinear" | "bicubic" | "lanczos3",
bicubic, lanczos), size given          antialias=True)`` (kernels triangle, Keys A = -0.5, Lanczos-3:
                                       torch's antialias filters)
``antialias=True`` with a scale        ``tf.raw_ops.ScaleAndTranslate(..., kernel_type="triangle" |
factor used as given, or               "keyscubic" | "lanczos3", antialias=True)`` with ``scale = 1 / s``
``align_corners=True``                 (``s`` torch's source scale) and ``translation = 0``: torch
                                       centres output ``i`` at ``s * (i + 0.5)``
``area``                               ``tf.image.resize(x, size, "area")``: the overlap of each output
                                       box with each input pixel; torch's adaptive average pooling
                                       takes whole pixels (they agree where one length divides the other)
``trilinear``, 3-D resizes             none (``tf.image`` resizes 2-D images): unsupported
``conv_transpose{1,2,3}d``             ``tf.nn.conv{1,2,3}d_transpose(x, w, output_shape, strides,
                                       padding="VALID")`` with channels last, ``w`` as
                                       ``(k..., C_out, C_in)``, ``output_shape`` the uncropped length
                                       ``(L - 1) * stride + k + output_padding``, then ``padding``
                                       cropped off both ends and ``+ bias``; ``groups > 1``,
                                       ``dilation > 1`` (TensorFlow's CPU kernels refuse it) and
                                       ``output_padding >= stride``: unsupported
``pixel_shuffle``                      ``tf.nn.depth_to_space(x, r)`` (NHWC).  Its channel order is
                                       DCR (output ``(h*r + i, w*r + j, c)`` reads channel
                                       ``(i*r + j)*C + c``), torch's is CRD (``c*r*r + i*r + j``): the
                                       adapter reorders the channels before the call; leading
                                       dimensions become the batch
``pixel_unshuffle``                    ``tf.nn.space_to_depth(x, r)``, the channels reordered from DCR
                                       to CRD after it
``max_pool``, ``max_unpool``           none (TensorFlow has no unpooling): not implemented
gradients                              ``tf.GradientTape`` over the same calls, the cotangent as
                                       ``output_gradients``; an op without a registered gradient
                                       (``ResizeArea``): unsupported
factor 1 of the pixel shuffles       none (TensorFlow's block size is at least 2): unsupported
=====================================  ==================================================================

TensorFlow's resizes return float32 (nearest: the input's dtype): the result
is cast back to the input's dtype, so float64 comes back with float32's
precision, and uint8 is rounded half to even and saturated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.frameworks.shared import Differentiable, Forward, check_cotangent
from backends.libraries import LibraryBackend
from backends.libraries.torch_checks import check_shuffle, scale_and_translation
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.interpolate import MODE_RANKS, ResizePlan, plan_interpolate

IntOrSeq = int | Sequence[int]

FLOATS = ("float16", "bfloat16", "float32", "float64")
#: torch's antialiased modes -> (tf.image.resize method, ScaleAndTranslate kernel).
_ANTIALIAS = {
    "bilinear": ("bilinear", "triangle"),
    "bicubic": ("bicubic", "keyscubic"),
    "lanczos": ("lanczos3", "lanczos3"),
}


def _scale_given(plan: ResizePlan) -> bool:
    """A scale factor torch uses as given on an axis whose length changes:
    its sample positions are not ``tf.image.resize``'s then."""
    return any(s is not None and a != b for s, a, b in zip(plan.scales, plan.input_size, plan.output_size))


def _resize_call(mode: str, align_corners: bool, antialias: bool, scale_given: bool) -> str:
    """The TensorFlow call for a resize (a key of ``_CALLS``)."""
    if mode in ("nearest", "nearest-exact", "area"):
        return mode
    if antialias:
        return "scale_and_translate" if scale_given or align_corners else "resize_antialias"
    if mode == "bicubic":
        return "v1_bicubic" if align_corners else "bicubic"
    if align_corners:
        return "v1_bilinear"
    return "scale_and_translate" if scale_given else "bilinear"


#: What ``call_used`` names for each of ``_resize_call``'s keys.
_CALLS = {
    "nearest": "tf.compat.v1.image.resize_nearest_neighbor(x, size, align_corners=False, half_pixel_centers=False)",
    "nearest-exact": 'tf.image.resize(x, size, "nearest")',
    "area": 'tf.image.resize(x, size, "area")',
    "bilinear": 'tf.image.resize(x, size, "bilinear", antialias=False)',
    "bicubic": 'tf.image.resize(x, size, "bicubic", antialias=False)',
    "v1_bilinear": "tf.compat.v1.image.resize_bilinear(x, size, align_corners=True)",
    "v1_bicubic": "tf.compat.v1.image.resize_bicubic(x, size, align_corners=True)",
    "resize_antialias": 'tf.image.resize(x, size, "{method}", antialias=True)',
    "scale_and_translate": (
        'tf.raw_ops.ScaleAndTranslate(x, size, scale, translation, kernel_type="{kernel}", antialias={antialias})'
    ),
}


class TensorflowBackend(Differentiable, LibraryBackend):
    """TensorFlow's eager ops on the CPU."""

    name = "tensorflow"
    module = "tensorflow"
    extra = "tensorflow"
    supported_dtypes: Mapping[str, Sequence[str]] = {
        "interpolate": (*FLOATS, "uint8"),
        "conv_transpose": FLOATS,
    }

    def _lib(self) -> ModuleType:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter on stderr
        return super()._lib()

    def from_numpy(self, array: np.ndarray) -> Any:
        return self._lib().constant(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.numpy()

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        tf = self._lib()
        with tf.GradientTape() as tape:
            for p in primals:
                tape.watch(p)
            out = forward(*primals)
        check_cotangent(cotangent, tuple(out.shape))
        try:
            grads = tape.gradient(
                out, primals, output_gradients=cotangent, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
        except LookupError as exc:  # "No gradient defined for operation ... (op type: ResizeArea)"
            raise Unsupported(f"TensorFlow has no gradient here: {exc}") from exc
        return list(grads)

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            mode = str(params.get("mode", "nearest"))
            # from the parameters alone: a scale factor counts as given unless recomputed
            # (torch ignores it on an axis whose length does not change; the call then is tf.image.resize's)
            scale_given = params.get("scale_factor") is not None and not params.get("recompute_scale_factor")
            call = _resize_call(mode, bool(params.get("align_corners")), bool(params.get("antialias")), scale_given)
            if mode == "trilinear" or mode not in MODE_RANKS:
                return None
            kernel = _ANTIALIAS.get(mode, ("bilinear", "triangle"))
            return _CALLS[call].format(method=kernel[0], kernel=kernel[1], antialias=bool(params.get("antialias")))
        if op == "conv_transpose":
            return "tf.nn.conv{1,2,3}d_transpose(x, w, output_shape, strides, padding='VALID'), cropped"
        if op == "pixel_shuffle":
            return "tf.nn.depth_to_space(x, r), channels reordered CRD -> DCR before"
        if op == "pixel_unshuffle":
            return "tf.nn.space_to_depth(x, r), channels reordered DCR -> CRD after"
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
        plan = plan_interpolate(
            tuple(x.shape), size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
        )
        if len(plan.output_size) == 3:
            raise Unsupported("tf.image has no 3-D resize")
        tf = self._lib()
        if len(plan.output_size) == 1:
            # a 1-D resize as an image of height 1 (an axis resized 1 -> 1 is left as it is)
            plan = ResizePlan(
                plan.mode,
                (1, *plan.input_size),
                (1, *plan.output_size),
                (None, *plan.scales),
                plan.align_corners,
                plan.antialias,
            )
            y = self._resize2d(tf, x[:, :, None, :], plan)
            return y[:, :, 0, :]
        return self._resize2d(tf, x, plan)

    def _resize2d(self, tf: ModuleType, x: Any, plan: ResizePlan) -> Any:
        image = tf.transpose(x, (0, 2, 3, 1))  # NCHW -> NHWC
        size = list(plan.output_size)
        call = _resize_call(plan.mode, plan.align_corners, plan.antialias, _scale_given(plan))
        v1 = tf.compat.v1.image
        if call == "nearest":
            y = v1.resize_nearest_neighbor(image, size, align_corners=False, half_pixel_centers=False)
        elif call == "nearest-exact":
            y = tf.image.resize(image, size, "nearest")
        elif call in ("area", "bilinear", "bicubic"):
            y = tf.image.resize(image, size, call, antialias=False)
        elif call == "v1_bilinear":
            y = v1.resize_bilinear(image, size, align_corners=True)
        elif call == "v1_bicubic":
            y = v1.resize_bicubic(image, size, align_corners=True)
        elif call == "resize_antialias":
            y = tf.image.resize(image, size, _ANTIALIAS[plan.mode][0], antialias=True)
        else:
            scales, translations = zip(*(scale_and_translation(plan, d) for d in range(2)))
            y = tf.raw_ops.ScaleAndTranslate(
                images=image,
                size=size,
                scale=np.array(scales, np.float32),
                translation=np.array(translations, np.float32),
                kernel_type=_ANTIALIAS.get(plan.mode, ("", "triangle"))[1],
                antialias=plan.antialias,
            )
        return _to_dtype(tf, tf.transpose(y, (0, 3, 1, 2)), x.dtype)

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
            tuple(x.shape),
            tuple(weight.shape),
            None if bias is None else tuple(bias.shape),
            stride,
            padding,
            output_padding,
            groups,
            dilation,
            output_size,
        )
        if plan.groups > 1:
            raise Unsupported("tf.nn.conv*_transpose take no groups")
        if any(d > 1 for d in plan.dilation):
            raise Unsupported("TensorFlow's CPU transposed convolutions take no dilation > 1")
        if any(op >= s for op, s in zip(plan.output_padding, plan.stride)):
            raise Unsupported("output_padding >= stride: no VALID output shape of tf.nn.conv*_transpose has it")
        tf = self._lib()
        n = len(plan.kernel)
        xb = x if plan.batched else x[None]
        channels_last = (0, *range(2, n + 2), 1)
        image = tf.transpose(xb, channels_last)
        # torch (C_in, C_out, k...) -> TensorFlow (k..., C_out, C_in)
        w = tf.transpose(weight, (*range(2, n + 2), 1, 0))
        full = [int(xb.shape[0]), *plan.uncropped_lengths, int(weight.shape[1])]
        function = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}[n]
        y = function(image, w, full, list(plan.stride), padding="VALID")
        y = tf.transpose(y, (0, n + 1, *range(1, n + 1)))
        y = y[(slice(None), slice(None), *plan.crop())]
        if bias is not None:
            y = y + tf.reshape(bias, (1, -1) + (1,) * n)
        return y if plan.batched else y[0]

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        check_shuffle("pixel_shuffle", tuple(x.shape), x.dtype.as_numpy_dtype, upscale_factor)
        tf = self._lib()
        r = _block_size(upscale_factor)
        *lead, c, h, w = (int(n) for n in x.shape)
        image = tf.transpose(tf.reshape(x, (math.prod(lead), c, h, w)), (0, 2, 3, 1))
        # torch's channel c*r*r + k (CRD) becomes k*C' + c (DCR), C' = c // (r*r)
        image = tf.reshape(
            tf.transpose(tf.reshape(image, (-1, h, w, c // (r * r), r * r)), (0, 1, 2, 4, 3)), (-1, h, w, c)
        )
        y = tf.nn.depth_to_space(image, r)
        return tf.reshape(tf.transpose(y, (0, 3, 1, 2)), (*lead, c // (r * r), h * r, w * r))

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        check_shuffle("pixel_unshuffle", tuple(x.shape), x.dtype.as_numpy_dtype, downscale_factor)
        tf = self._lib()
        r = _block_size(downscale_factor)
        *lead, c, h, w = (int(n) for n in x.shape)
        if math.prod(x.shape) == 0:
            return x  # torch keeps an empty input's shape
        image = tf.transpose(tf.reshape(x, (math.prod(lead), c, h, w)), (0, 2, 3, 1))
        y = tf.nn.space_to_depth(image, r)
        # DCR channel k*C + c back to torch's c*r*r + k
        y = tf.reshape(
            tf.transpose(tf.reshape(y, (-1, h // r, w // r, r * r, c)), (0, 1, 2, 4, 3)),
            (-1, h // r, w // r, c * r * r),
        )
        return tf.reshape(tf.transpose(y, (0, 3, 1, 2)), (*lead, c * r * r, h // r, w // r))


def _block_size(factor: int) -> int:
    if factor < 2:
        raise Unsupported("tf.nn.depth_to_space / space_to_depth take a block size of at least 2")
    return int(factor)


def _to_dtype(tf: ModuleType, y: Any, dtype: Any) -> Any:
    """TensorFlow's float32 result in the input's dtype: integers rounded half
    to even and saturated, floats cast."""
    if y.dtype == dtype:
        return y
    if dtype.is_integer:
        return tf.saturate_cast(tf.round(y), dtype)
    return tf.cast(y, dtype)
