"""The float64 reference as a backend: results rounded to the input's dtype."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import reference
from backends.protocol import BackendBase


def to_dtype(exact: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round an exact float64 result to ``dtype`` (uint8: half up, clamped)."""
    if np.dtype(dtype) == np.uint8:
        return np.clip(np.floor(exact + 0.5), 0, 255).astype(np.uint8)
    return exact.astype(dtype)


class ReferenceBackend(BackendBase):
    """``reference`` behind the backend protocol; takes every known dtype."""

    name = "reference"

    def version(self) -> str:
        from conformance import __version__

        return __version__

    def interpolate(
        self,
        x: np.ndarray,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> np.ndarray:
        exact = reference.interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        return to_dtype(exact, x.dtype)
