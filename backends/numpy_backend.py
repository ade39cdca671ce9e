"""The NumPy backend: the shared array-namespace code with ``xp = numpy``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends import xp as shared
from backends.protocol import BackendBase
from backends.torch_dtypes import interpolate_unsupported


class NumpyBackend(BackendBase):
    """Vectorised NumPy; float16, float32, float64 and uint8 where torch takes them."""

    name = "numpy"

    def version(self) -> str:
        return np.__version__

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            return interpolate_unsupported(dtype, params)
        return super().unsupported_reason(op, dtype, params)

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
        return shared.interpolate(np, x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
