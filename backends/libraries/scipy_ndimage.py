"""scipy.ndimage's ``zoom`` and ``map_coordinates`` as a backend: ``interpolate`` only.

Each (batch, channel) plane is resized on its own (a zoom of the whole array
would run its spline prefilter, and carry NaN, across batch and channels),
with ``mode="nearest"`` (the edge repeated: torch clamps its source index).
``zoom(plane, n_out / n_in, grid_mode=...)`` samples output ``i`` at
``(i + 0.5) * n_in / n_out - 0.5`` with ``grid_mode=True`` (torch's
``align_corners=False``) and at ``i * (n_in - 1) / (n_out - 1)`` with
``grid_mode=False`` (``align_corners=True``), and its output shape is
``round(n_in * zoom)``, torch's by construction.  Where torch uses a given
``scale_factor`` (spacing ``1 / scale_factor``, which zoom cannot take),
``map_coordinates`` samples at torch's source coordinates
(``reference.interpolate.source_coordinate``: the coordinates only; the
interpolation is scipy's).  Order 0 rounds a coordinate half up.

==========================  ========================================================  =========================
torch ``interpolate``       scipy call (per plane, ``mode="nearest"``)                 notes
==========================  ========================================================  =========================
nearest-exact               ``zoom(p, n_out / n_in, order=0, grid_mode=True)``         round((i + 0.5) s - 0.5)
linear, bilinear,           ``zoom(p, n_out / n_in, order=1, grid_mode=True)``         align_corners=True:
trilinear                                                                              ``grid_mode=False``
bicubic                     ``zoom(p, n_out / n_in, order=3, grid_mode=True)``         cubic B-spline (prefiltered),
                                                                                       not Keys' convolution
any of them, a given        ``map_coordinates(p, torch's coordinates, order=...)``     same orders
scale_factor
==========================  ========================================================  =========================

Not expressible (``Unsupported``): ``nearest`` (torch floors ``i * scale``;
order 0 rounds to the nearest sample); ``area`` and ``lanczos`` (no box or
Lanczos kernel); ``antialias=True`` with an axis shrinking (ndimage never
prefilters for aliasing); float16 and bfloat16 (ndimage: "data type not
supported").  uint8 output is scipy's own cast of its float64 result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backends.libraries import LibraryBackend, map_planes, shrinks
from reference.interpolate import ResizePlan, source_coordinate, source_scale

#: torch mode -> spline order.
ORDERS: dict[str, int] = {"nearest-exact": 0, "linear": 1, "bilinear": 1, "trilinear": 1, "bicubic": 3}


def _uses_given_scale(plan: ResizePlan) -> bool:
    """torch samples at ``1 / scale_factor`` spacing (a scale used as given;
    ``align_corners=True`` ignores it): ``map_coordinates`` then, at torch's
    coordinates, where ``zoom`` only takes the spacing of the sizes."""
    return not plan.align_corners and any(s is not None for s in plan.scales)


class ScipyBackend(LibraryBackend):
    """``scipy.ndimage.zoom`` (``map_coordinates`` for a given scale), per plane."""

    name = "scipy"
    module = "scipy.ndimage"
    extra = "scipy"
    interpolate_dtypes = ("uint8", "float32", "float64")

    def version(self) -> str:
        try:
            import scipy
        except ImportError:
            return "not installed"
        return scipy.__version__

    def resize_unsupported(self, plan: ResizePlan, dtype: np.dtype) -> str | None:
        if plan.mode not in ORDERS:
            if plan.mode == "nearest":
                return "scipy.ndimage has no nearest that floors i * scale (torch's nearest): order 0 rounds"
            return f"scipy.ndimage has no {plan.mode} kernel"
        if plan.antialias and shrinks(plan):
            return "scipy.ndimage does not antialias: no antialiased resize when shrinking"
        return None

    def resize(self, x: np.ndarray, plan: ResizePlan) -> np.ndarray:
        ndi = self._lib()
        order = ORDERS[plan.mode]
        if not _uses_given_scale(plan):
            zoom = tuple(n_out / n_in for n_in, n_out in zip(plan.input_size, plan.output_size))
            grid = not plan.align_corners
            return map_planes(
                x, plan.output_size, lambda p: ndi.zoom(p, zoom, order=order, mode="nearest", grid_mode=grid)
            )
        axes = [
            source_coordinate(
                np.arange(n_out, dtype=np.float64), source_scale(n_in, n_out, plan.align_corners, s), plan.align_corners
            )
            for n_in, n_out, s in zip(plan.input_size, plan.output_size, plan.scales)
        ]
        coordinates = np.stack(np.meshgrid(*axes, indexing="ij"))
        return map_planes(
            x, plan.output_size, lambda p: ndi.map_coordinates(p, coordinates, order=order, mode="nearest")
        )

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        mode = params.get("mode", "nearest")
        if op != "interpolate" or mode not in ORDERS:
            return None
        order = ORDERS[mode]
        given = params.get("scale_factor") is not None and not params.get("recompute_scale_factor")
        if given and not params.get("align_corners"):
            return f"scipy.ndimage.map_coordinates(x[n, c], torch's source coordinates, order={order}, mode='nearest')"
        grid = not params.get("align_corners")
        return f"scipy.ndimage.zoom(x[n, c], n_out / n_in, order={order}, mode='nearest', grid_mode={grid})"
