"""OpenCV's ``cv2.resize`` as a backend: ``interpolate`` only.

Each (batch, channel) plane is one single-channel image (H, W), OpenCV's own
layout for one channel, so no channel limit applies and no HWC transpose is
needed; a 1-D input (N, C, W) is a 1 x W image.  ``cv2.resize(src, dsize)``
derives its scale from the sizes (``dsize / src.size``), so torch's output
size is passed as ``dsize = (W_out, H_out)``; ``fx``/``fy`` would round the
output size where torch floors it, and are ignored once ``dsize`` is set.

============================  =================================================  ==========================
torch ``interpolate``         ``cv2.resize(plane, (W_out, H_out), interpolation=``  notes
============================  =================================================  ==========================
nearest                       ``cv2.INTER_NEAREST``                              floor(i * scale), torch's rule
nearest-exact                 ``cv2.INTER_NEAREST_EXACT``                        floor((i + 0.5) * scale)
linear (1-D, as 1 x W)        ``cv2.INTER_LINEAR``                               half-pixel centres
bilinear                      ``cv2.INTER_LINEAR``                               (``INTER_LINEAR_EXACT`` is bit-exact
                                                                                 fixed point for uint8: further from torch)
bicubic                       ``cv2.INTER_CUBIC``                                Keys A = -0.75, as torch
area                          ``cv2.INTER_AREA``                                 pixel-area overlap, not torch's
                                                                                 adaptive average pooling windows
lanczos (antialias)           ``cv2.INTER_LANCZOS4``                             a = 4, never stretched: only upscaling
============================  =================================================  ==========================

Not expressible (``Unsupported``): 3-D input (trilinear, 5-D nearest/area:
``cv2.resize`` is 2-D); ``align_corners=True`` (no call takes corner-aligned
coordinates); ``antialias=True`` with an axis shrinking (no antialiased
bilinear/bicubic/lanczos; INTER_AREA is a box average, torch's ``area`` mode
maps to it); a ``scale_factor`` torch uses as given whose ratio is not
``n_out / n_in`` (see ``given_scale_reason``); float16, bfloat16 (resize
asserts on CV_16F here).  uint8, float32, float64 are taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backends.libraries import LibraryBackend, given_scale_reason, map_planes, shrinks
from reference.interpolate import ResizePlan

#: torch mode -> cv2 interpolation flag.
FLAGS: dict[str, str] = {
    "nearest": "INTER_NEAREST",
    "nearest-exact": "INTER_NEAREST_EXACT",
    "linear": "INTER_LINEAR",
    "bilinear": "INTER_LINEAR",
    "bicubic": "INTER_CUBIC",
    "area": "INTER_AREA",
    "lanczos": "INTER_LANCZOS4",
}


class OpenCVBackend(LibraryBackend):
    """``cv2.resize``, one call per (batch, channel) plane."""

    name = "opencv"
    module = "cv2"
    extra = "opencv"
    interpolate_dtypes = ("uint8", "float32", "float64")

    def resize_unsupported(self, plan: ResizePlan, dtype: np.dtype) -> str | None:
        if len(plan.input_size) == 3:
            return "cv2.resize is 2-D: no 3-D (volumetric) resize"
        if plan.align_corners:
            return "cv2.resize has no align_corners=True: it always maps half-pixel centres"
        if plan.antialias and shrinks(plan):
            return f"cv2.resize has no antialiased {plan.mode} when shrinking (INTER_AREA is a box average)"
        return given_scale_reason(plan, "cv2.resize")

    def resize(self, x: np.ndarray, plan: ResizePlan) -> np.ndarray:
        cv2 = self._lib()
        flag = getattr(cv2, FLAGS[plan.mode])
        out = plan.output_size
        if len(out) == 1:  # a 1-D signal: a 1 x W image
            dsize = (out[0], 1)
            return map_planes(x, out, lambda p: cv2.resize(np.ascontiguousarray(p[None]), dsize, interpolation=flag))
        dsize = (out[1], out[0])
        return map_planes(x, out, lambda p: cv2.resize(np.ascontiguousarray(p), dsize, interpolation=flag))

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        mode = params.get("mode", "nearest")
        if op != "interpolate" or mode not in FLAGS or params.get("align_corners"):
            return None
        return f"cv2.resize(x[n, c], (W_out, H_out), interpolation=cv2.{FLAGS[mode]})"
