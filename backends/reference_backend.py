"""The float64 reference as a backend: results rounded to the input's dtype."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import reference
from backends.protocol import BackendBase

IntOrSeq = int | Sequence[int]


@np.errstate(over="ignore")  # float16 overflows to inf, as it should
def to_dtype(exact: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round an exact float64 result to ``dtype`` (uint8: half up, clamped)."""
    if np.dtype(dtype) == np.uint8:
        return np.clip(np.floor(exact + 0.5), 0, 255).astype(np.uint8)
    return exact.astype(dtype)


class ReferenceBackend(BackendBase):
    """``reference`` behind the backend protocol; takes every known dtype."""

    name = "reference"

    def version(self) -> str:
        return reference.__version__

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

    def conv_transpose(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        stride: IntOrSeq = 1,
        padding: IntOrSeq = 0,
        output_padding: IntOrSeq = 0,
        groups: int = 1,
        dilation: IntOrSeq = 1,
        output_size: Sequence[int] | None = None,
    ) -> np.ndarray:
        if weight.dtype != x.dtype:
            raise RuntimeError(f"Input type ({x.dtype}) and weight type ({weight.dtype}) should be the same")
        exact = reference.conv_transpose(
            x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
        )
        return to_dtype(exact, x.dtype)

    def max_pool(self, x: np.ndarray, *args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        return reference.max_pool(x, *args, **kwargs)

    def max_unpool(self, x: np.ndarray, indices: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        return reference.max_unpool(x, indices, *args, **kwargs)

    def vjp(self, op: str, grad_output: np.ndarray, x: np.ndarray, **kwargs: Any) -> dict[str, np.ndarray]:
        from reference.gradients import vjp

        exact = vjp(op, grad_output, x, **kwargs)
        return {name: to_dtype(g, kwargs.get(name, x).dtype) for name, g in exact.items()}

    def pixel_shuffle(self, x: np.ndarray, upscale_factor: int) -> np.ndarray:
        return reference.pixel_shuffle(x, upscale_factor)

    def pixel_unshuffle(self, x: np.ndarray, downscale_factor: int) -> np.ndarray:
        return reference.pixel_unshuffle(x, downscale_factor)
