"""The CuPy backend: the shared array-namespace code with ``xp = cupy``.

Every op of the protocol runs on the GPU through ``backends.xp``, the same
code the NumPy backend runs (interpolate in one block: ``block_bytes=None``,
since cache blocking is a CPU concern).  Timings are honest: the harness
times an op between two ``synchronize()`` calls, which wait for the current
CUDA stream, and times ``from_numpy`` (the host-to-device copy) separately.

Without CuPy, or without a CUDA device, ``availability()`` says which, and
``python -m conformance list`` shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends import xp as shared
from backends.protocol import BackendBase

IntOrSeq = int | Sequence[int]


def _import_cupy() -> ModuleType:
    import cupy

    return cupy


class CupyBackend(BackendBase):
    """CuPy on the current CUDA device; float16, float32, float64 and uint8
    where torch takes them (bfloat16: unsupported, CuPy has none).

    ``module`` replaces the ``cupy`` module (the tests pass NumPy to run the
    adapter's own code on a machine without a GPU)."""

    name = "cupy"

    def __init__(self, module: ModuleType | None = None) -> None:
        self._module = module

    @property
    def cp(self) -> ModuleType:
        if self._module is None:
            self._module = _import_cupy()
        return self._module

    def version(self) -> str:
        try:
            return str(self.cp.__version__)
        except ImportError:
            return "not installed"

    def availability(self) -> tuple[bool, str]:
        try:
            cp = self.cp
        except ImportError as exc:
            return False, f"CuPy is not installed ({exc}); on a CUDA machine: pip install cupy-cuda12x"
        except Exception as exc:  # a broken CUDA install raises at import
            return False, f"CuPy fails to import: {type(exc).__name__}: {exc}"
        if cp is np:
            return True, ""
        try:
            count = cp.cuda.runtime.getDeviceCount()
        except Exception as exc:
            return False, f"CuPy finds no usable CUDA device ({type(exc).__name__}: {exc})"
        if count < 1:
            return False, "CuPy finds no CUDA device"
        return True, ""

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        # CuPy has no bfloat16 dtype (nor takes ml_dtypes arrays), so not even
        # data movement can hold one; with NumPy standing in (tests) it can
        if dtype == "bfloat16" and self.cp is not np:
            return "CuPy has no bfloat16 dtype"
        return super().unsupported_reason(op, dtype, params)

    def from_numpy(self, array: np.ndarray) -> Any:
        return self.cp.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        if self.cp is np:
            return np.asarray(array)
        return self.cp.asnumpy(array)

    def synchronize(self) -> None:
        if self.cp is not np:
            self.cp.cuda.get_current_stream().synchronize()

    def interpolate(
        self,
        x: Any,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> Any:
        return shared.interpolate(
            self.cp,
            x,
            size,
            scale_factor,
            mode,
            align_corners,
            recompute_scale_factor,
            antialias,
            block_bytes=None,
        )

    def conv_transpose(
        self,
        x: Any,
        weight: Any,
        bias: Any | None = None,
        stride: IntOrSeq = 1,
        padding: IntOrSeq = 0,
        output_padding: IntOrSeq = 0,
        groups: int = 1,
        dilation: IntOrSeq = 1,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        return shared.conv_transpose(
            self.cp,
            x,
            weight,
            bias,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
            output_size,
            block_bytes=None,
        )

    def max_pool(
        self,
        x: Any,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        dilation: IntOrSeq = 1,
        ceil_mode: bool = False,
    ) -> tuple[Any, Any]:
        return shared.max_pool(self.cp, x, kernel_size, stride, padding, dilation, ceil_mode, block_bytes=None)

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        return shared.max_unpool(self.cp, x, indices, kernel_size, stride, padding, output_size)

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        return shared.pixel_shuffle(self.cp, x, upscale_factor)

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        return shared.pixel_unshuffle(self.cp, x, downscale_factor)

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        return shared.vjp(self.cp, op, grad_output, x, **kwargs)

    def forward_with_residuals(self, op: str, x: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        out = getattr(self, op)(x, **kwargs)
        return out, shared.residuals(self.cp, op, out, x, **kwargs)

    def vjp_from_residuals(self, op: str, residuals: Any, grad_output: Any) -> dict[str, Any]:
        return shared.vjp_from_residuals(self.cp, op, residuals, grad_output)
