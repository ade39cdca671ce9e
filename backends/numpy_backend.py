"""The NumPy backend: the shared array-namespace code with ``xp = numpy``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends import xp as shared
from backends.protocol import BackendBase
from backends.torch_dtypes import FLOATS, unsupported_dtype

IntOrSeq = int | Sequence[int]

#: The ops with gradients (``vjp``); the aliases are interpolate calls.
GRADIENT_OPS = ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")


class NumpyBackend(BackendBase):
    """Vectorised NumPy; float16, float32, float64 and uint8 where torch takes them."""

    name = "numpy"

    def version(self) -> str:
        return np.__version__

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        base, _, direction = op.partition(":")
        if direction == "backward":
            # torch differentiates floating tensors only, where the forward runs.
            if base not in GRADIENT_OPS:
                return f"no gradients for {base}"
            if dtype not in FLOATS:
                return f"{base} gradients on {dtype}"
            return unsupported_dtype(base, dtype, params)
        return unsupported_dtype(op, dtype, params)

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
        return shared.pixel_shuffle(x, upscale_factor)

    def pixel_unshuffle(self, x: np.ndarray, downscale_factor: int) -> np.ndarray:
        return shared.pixel_unshuffle(x, downscale_factor)

    def vjp(self, op: str, grad_output: np.ndarray, x: np.ndarray, **kwargs: Any) -> dict[str, np.ndarray]:
        return shared.vjp(np, op, grad_output, x, **kwargs)
