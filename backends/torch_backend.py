"""torch as a backend: the oracle (CPU) and torch on CUDA where present."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends.protocol import BackendBase
from backends.torch_dtypes import interpolate_unsupported


class TorchBackend(BackendBase):
    """``torch.nn.functional`` on a device (``"cpu"`` by default)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.name = "torch" if device == "cpu" else f"torch-{device}"

    def _torch(self) -> Any:
        import torch

        return torch

    def version(self) -> str:
        try:
            return self._torch().__version__
        except ImportError:
            return "not installed"

    def availability(self) -> tuple[bool, str]:
        try:
            torch = self._torch()
        except ImportError as exc:
            return False, f"torch is not installed ({exc})"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return False, "torch finds no CUDA device (torch.cuda.is_available() is False)"
        return True, ""

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        if op == "interpolate":
            return interpolate_unsupported(dtype, params)
        return super().unsupported_reason(op, dtype, params)

    def from_numpy(self, array: np.ndarray) -> Any:
        torch = self._torch()
        if any(s < 0 for s in array.strides):
            array = array.copy()  # torch.from_numpy rejects negative strides
        return torch.from_numpy(array).to(self.device)

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def synchronize(self) -> None:
        if self.device.startswith("cuda"):
            self._torch().cuda.synchronize()

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
        import torch.nn.functional as F

        return F.interpolate(
            x,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
            antialias=antialias,
        )


class TorchCudaBackend(TorchBackend):
    """torch on the first CUDA device."""

    def __init__(self) -> None:
        super().__init__("cuda")
