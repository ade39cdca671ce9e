"""scikit-image's ``transform.resize`` as a backend: ``interpolate`` only.

Each (batch, channel) plane is resized on its own, 1-D to 3-D (``resize`` is
N-d): resizing the whole (N, C, ...) array would interpolate, and smooth,
across batch and channels too.  ``resize`` samples output ``i`` at ``(i +
0.5) * n_in / n_out - 0.5`` (it calls ``scipy.ndimage.zoom`` with
``grid_mode=True``): torch's ``align_corners=False`` with the scale taken
from the sizes.  Arguments chosen closest to torch: ``mode="edge"`` (torch
clamps its source index), ``preserve_range=True`` (no rescaling to [0, 1]),
``clip=False`` (the default ``clip=True`` cuts bicubic's overshoot to the
input's range, which torch keeps), ``anti_aliasing`` as torch's
``antialias`` (skimage's default turns it on for every downscale).

==========================  =====================================================================  ======================
torch ``interpolate``       ``skimage.transform.resize(plane, out_size, order, mode="edge",``       notes
                            ``preserve_range=True, clip=False, anti_aliasing=...)``
==========================  =====================================================================  ======================
nearest-exact               ``order=0, anti_aliasing=False``                                       rounds half-pixel
                                                                                                   centres
linear, bilinear,           ``order=1, anti_aliasing=False``
trilinear
bicubic                     ``order=3, anti_aliasing=False``                                       cubic B-spline,
                                                                                                   not Keys'
bilinear / bicubic,         ``order=1 / 3, anti_aliasing=True``                                    a Gaussian prefilter
antialias=True                                                                                     (sigma (k - 1) / 2),
                                                                                                   not torch's stretched
                                                                                                   kernel
==========================  =====================================================================  ======================

Not expressible (``Unsupported``): ``nearest`` (torch floors ``i * scale``;
order 0 rounds); ``align_corners=True`` (resize has no corner-aligned
grid); a ``scale_factor`` torch uses as given whose ratio is not ``n_out /
n_in`` (``rescale`` also ends in ``resize`` by sizes); ``area`` and
``lanczos`` (no such kernel in ``resize``); uint8 and float16 (resize
returns float32/float64: the rounding back would be the caller's, not the
library's); bfloat16.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backends.libraries import LibraryBackend, given_scale_reason, map_planes
from reference.interpolate import ResizePlan

#: torch mode -> spline order.
ORDERS: dict[str, int] = {"nearest-exact": 0, "linear": 1, "bilinear": 1, "trilinear": 1, "bicubic": 3}


class SkimageBackend(LibraryBackend):
    """``skimage.transform.resize``, per (batch, channel) plane."""

    name = "skimage"
    module = "skimage"
    extra = "skimage"
    interpolate_dtypes = ("float32", "float64")

    def resize_unsupported(self, plan: ResizePlan, dtype: np.dtype) -> str | None:
        if plan.mode not in ORDERS:
            if plan.mode == "nearest":
                return "skimage.transform.resize has no nearest that floors i * scale (torch's nearest): order 0 rounds"
            return f"skimage.transform.resize has no {plan.mode} kernel"
        if plan.align_corners:
            return "skimage.transform.resize has no align_corners=True: it always maps half-pixel centres"
        return given_scale_reason(plan, "skimage.transform.resize")

    def resize(self, x: np.ndarray, plan: ResizePlan) -> np.ndarray:
        from skimage.transform import resize

        order = ORDERS[plan.mode]
        out = plan.output_size
        kwargs = dict(order=order, mode="edge", preserve_range=True, clip=False, anti_aliasing=plan.antialias)
        return map_planes(x, out, lambda p: resize(p, out, **kwargs))

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        mode = params.get("mode", "nearest")
        if op != "interpolate" or mode not in ORDERS or params.get("align_corners"):
            return None
        return (
            f"skimage.transform.resize(x[n, c], out_size, order={ORDERS[mode]}, mode='edge', preserve_range=True, "
            f"clip=False, anti_aliasing={bool(params.get('antialias'))})"
        )
