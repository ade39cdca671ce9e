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
