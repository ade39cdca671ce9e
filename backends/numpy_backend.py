"""The NumPy backend: the shared array-namespace code with ``xp = numpy``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backends import xp as shared
from backends.protocol import BackendBase

IntOrSeq = int | Sequence[int]


class NumpyBackend(BackendBase):
    """Vectorised NumPy: every op, forward and backward, in every dtype torch takes."""

    name = "numpy"

    def version(self) -> str:
        return np.__version__

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
        return shared.conv_transpose(
            np, x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
        )

    def max_pool(
        self,
        x: np.ndarray,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        dilation: IntOrSeq = 1,
        ceil_mode: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        return shared.max_pool(np, x, kernel_size, stride, padding, dilation, ceil_mode)

    def max_unpool(
        self,
        x: np.ndarray,
        indices: np.ndarray,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        output_size: Sequence[int] | None = None,
    ) -> np.ndarray:
        return shared.max_unpool(np, x, indices, kernel_size, stride, padding, output_size)

    def pixel_shuffle(self, x: np.ndarray, upscale_factor: int) -> np.ndarray:
        return shared.pixel_shuffle(np, x, upscale_factor)

    def pixel_unshuffle(self, x: np.ndarray, downscale_factor: int) -> np.ndarray:
        return shared.pixel_unshuffle(np, x, downscale_factor)

    def vjp(self, op: str, grad_output: np.ndarray, x: np.ndarray, **kwargs: Any) -> dict[str, np.ndarray]:
        return shared.vjp(np, op, grad_output, x, **kwargs)

    def forward_with_residuals(self, op: str, x: np.ndarray, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        out = getattr(self, op)(x, **kwargs)
        return out, shared.residuals(np, op, out, x, **kwargs)

    def vjp_from_residuals(self, op: str, residuals: Any, grad_output: np.ndarray) -> dict[str, np.ndarray]:
        return shared.vjp_from_residuals(np, op, residuals, grad_output)
