"""Deliberately wrong backends, loaded by the tests as ``module:attribute``."""

from __future__ import annotations

import numpy as np

from backends import BackendBase, Unsupported
from backends.numpy_backend import NumpyBackend


class IgnoresAlignCorners(NumpyBackend):
    """Bilinear that always behaves as align_corners=False."""

    name = "ignores-align-corners"

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode in ("linear", "bilinear", "trilinear") and align_corners:
            align_corners = False
        return super().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


class NearestRoundsHalfUp(NumpyBackend):
    """'nearest' computed as round(i * scale) instead of floor: off on many cases."""

    name = "nearest-rounds"

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode != "nearest":
            return super().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        y = super().interpolate(
            x, size, scale_factor, "nearest-exact", align_corners, recompute_scale_factor, antialias
        )
        return y


class Float32Everywhere(NumpyBackend):
    """Computes float64 data in float32: fails only where float64 precision matters."""

    name = "float32-everywhere"

    def interpolate(self, x, *args, **kwargs):
        if x.dtype == np.float64:
            return super().interpolate(x.astype(np.float32), *args, **kwargs).astype(np.float64)
        return super().interpolate(x, *args, **kwargs)


ignores_align_corners = IgnoresAlignCorners()


class Float32NoLanczos(BackendBase):
    """An honest partial backend: float32 only, and no lanczos (raises Unsupported)."""

    name = "float32-no-lanczos"
    supported_dtypes = {"interpolate": ("float32",)}

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode == "lanczos":
            raise Unsupported("lanczos is not implemented")
        return NumpyBackend().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


class Uint8Only(BackendBase):
    """Takes uint8 alone: torch has no uint8 'linear', so that cell has nothing to check."""

    name = "uint8-only"
    supported_dtypes = {"interpolate": ("uint8",)}

    def interpolate(self, x, *args, **kwargs):
        return NumpyBackend().interpolate(x, *args, **kwargs)


class ConvTransposeIgnoresDilation(NumpyBackend):
    """conv_transpose that drops ``dilation``: wrong only when dilation > 1."""

    name = "conv-transpose-no-dilation"

    def conv_transpose(
        self, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, output_size=None
    ):
        return super().conv_transpose(x, weight, bias, stride, padding, output_padding, groups, 1, output_size)


class UnpoolDropsOutputSize(NumpyBackend):
    """max_unpool that ignores ``output_size`` and uses the default size."""

    name = "unpool-no-output-size"

    def max_unpool(self, x, indices, kernel_size, stride=None, padding=0, output_size=None):
        return super().max_unpool(x, indices, kernel_size, stride, padding, None)


class PixelShuffleSwapsSubpixels(NumpyBackend):
    """pixel_shuffle that interleaves the two sub-pixel axes the wrong way round."""

    name = "pixel-shuffle-swapped"

    def pixel_shuffle(self, x, upscale_factor):
        r = upscale_factor
        *lead, c, h, w = x.shape
        k = len(lead)
        y = x.reshape(*lead, c // (r * r), r, r, h, w).transpose(*range(k), k, k + 3, k + 2, k + 4, k + 1)
        return y.reshape(*lead, c // (r * r), h * r, w * r)


class BilinearAliasWithoutAlignCorners(NumpyBackend):
    """UpsamplingBilinear2d as plain bilinear: it must be align_corners=True."""

    name = "bilinear-alias-unaligned"

    def UpsamplingBilinear2d(self, x, size=None, scale_factor=None):  # noqa: N802
        return self.interpolate(x, size, scale_factor, mode="bilinear")
