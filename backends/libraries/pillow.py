"""Pillow's ``Image.resize`` as a backend: ``interpolate`` only.

Each (batch, channel) plane becomes one single-band image: mode ``F``
(float32) or ``L`` (uint8); a 1-D input (N, C, W) is a 1 x W image.  Pillow
samples output pixel ``i`` at ``box[0] + (i + 0.5) * scale`` with ``scale =
box width / output width``, and stretches its filter by ``scale`` whenever
it shrinks: it always antialiases, as torch's ``antialias=True`` (which was
written to match it).  The ``box`` argument expresses torch's coordinates
exactly: the whole image when torch scales by ``n_in / n_out``; ``(0, 0,
W_out / s_w, H_out / s_h)`` for a ``scale_factor`` torch uses as given; and
for ``align_corners=True`` (source ``i * (n_in - 1) / (n_out - 1)``) a box
of width ``n_out * (n_in - 1) / (n_out - 1)`` starting at ``0.5 - (n_in -
1) / (n_out - 1) / 2``, which fits the image only when upscaling.
``reducing_gap`` stays ``None``: with a gap Pillow first reduces by an integer
factor with a box filter, a faster approximation of the same resize.

======================================  ===============================================  ===========================
torch ``interpolate``                   ``Image.resize((W_out, H_out), resample, box)``  notes
======================================  ===============================================  ===========================
nearest-exact                           ``Image.NEAREST``                                floor of the sample point
linear (1-D), bilinear                  ``Image.BILINEAR``                               triangle filter
bilinear, antialias=True                ``Image.BILINEAR``                               the same filter, stretched
bicubic                                 ``Image.BICUBIC``                                Pillow's A = -0.5; torch's
                                                                                         plain bicubic has -0.75
bicubic, antialias=True                 ``Image.BICUBIC``                                A = -0.5, as torch's antialias
lanczos (antialias)                     ``Image.LANCZOS``                                a = 3
area                                    ``Image.BOX``                                    pixel-area overlap, not torch's
                                                                                         adaptive average pooling windows
======================================  ===============================================  ===========================

Not expressible (``Unsupported``): ``nearest`` (torch floors ``i * scale``:
Pillow's NEAREST samples pixel centres, which is ``nearest-exact``, and its
box offset cannot be negative); any axis shrinking without antialias in the
filtering modes (Pillow always antialiases there); ``align_corners=True``
where the box would leave the image (shrinking, or one output pixel); 3-D
input; dtypes other than float32 (mode F) and uint8 (mode L).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backends.libraries import LibraryBackend, map_planes
from reference.interpolate import ResizePlan

#: torch mode -> Pillow resampling filter (``Image.Resampling``).
FILTERS: dict[str, str] = {
    "nearest-exact": "NEAREST",
    "linear": "BILINEAR",
    "bilinear": "BILINEAR",
    "bicubic": "BICUBIC",
    "lanczos": "LANCZOS",
    "area": "BOX",
}
#: Modes whose Pillow filter is stretched when shrinking (antialiasing).
_FILTERING = frozenset({"linear", "bilinear", "bicubic", "lanczos"})


def _axis_box(n_in: int, n_out: int, scale: float | None, align_corners: bool) -> tuple[float, float] | None:
    """(start, end) of Pillow's box along one axis for torch's coordinates,
    ``None`` where the box would leave the image."""
    if align_corners:
        if n_out < 2 or n_out < n_in:
            return None
        step = (n_in - 1) / (n_out - 1)
        start = 0.5 - step / 2
        return start, start + n_out * step
    if scale is not None:
        return 0.0, n_out / scale
    return 0.0, float(n_in)


class PillowBackend(LibraryBackend):
    """``PIL.Image.resize``, one single-band image per (batch, channel) plane."""

    name = "pillow"
    module = "PIL.Image"
    extra = "pillow"
    interpolate_dtypes = ("uint8", "float32")

    def _boxes(self, plan: ResizePlan) -> list[tuple[float, float]] | None:
        boxes = [_axis_box(*args, plan.align_corners) for args in zip(plan.input_size, plan.output_size, plan.scales)]
        return None if any(b is None for b in boxes) else boxes  # type: ignore[return-value]

    def resize_unsupported(self, plan: ResizePlan, dtype: np.dtype) -> str | None:
        if len(plan.input_size) == 3:
            return "Image.resize is 2-D: no 3-D (volumetric) resize"
        if plan.mode not in FILTERS:
            return f"Pillow has no {plan.mode!r}: NEAREST samples pixel centres (torch's nearest-exact)"
        if (
            plan.mode in _FILTERING
            and not plan.antialias
            and any((b1 - b0) > n_out for (b0, b1), n_out in zip(self._boxes(plan) or [], plan.output_size))
        ):
            return f"Image.resize always antialiases when shrinking: no plain (antialias=False) {plan.mode}"
        if self._boxes(plan) is None:
            return "align_corners=True needs a box outside the image here (Pillow takes none past its edges)"
        return None

    def resize(self, x: np.ndarray, plan: ResizePlan) -> np.ndarray:
        image = self._lib()
        resample = getattr(image.Resampling, FILTERS[plan.mode])
        boxes = self._boxes(plan)
        assert boxes is not None
        if len(boxes) == 1:  # a 1-D signal: a 1 x W image
            (x0, x1), (y0, y1), size = boxes[0], (0.0, 1.0), (plan.output_size[0], 1)
        else:
            (y0, y1), (x0, x1), size = boxes[0], boxes[1], (plan.output_size[1], plan.output_size[0])

        def one(plane: np.ndarray) -> np.ndarray:
            img = image.fromarray(np.ascontiguousarray(plane.reshape(-1, plane.shape[-1])))
            return np.asarray(img.resize(size, resample=resample, box=(x0, y0, x1, y1), reducing_gap=None))

        return map_planes(x, plan.output_size, one)

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        mode = params.get("mode", "nearest")
        if op != "interpolate" or mode not in FILTERS:
            return None
        if params.get("align_corners"):
            box = "box=(0.5 - k_w / 2, 0.5 - k_h / 2, ...) with k = (n_in - 1) / (n_out - 1)"
        elif params.get("scale_factor") is not None and not params.get("recompute_scale_factor") and mode != "area":
            box = "box=(0, 0, W_out / scale_w, H_out / scale_h)"
        else:
            box = "box=None"
        return f"Image.fromarray(x[n, c]).resize((W_out, H_out), Image.{FILTERS[mode]}, {box}, reducing_gap=None)"
