"""torch as a backend: the oracle (CPU) and torch on CUDA where present.

Each protocol op maps onto the torch API a user calls: ``F.interpolate``,
``F.conv_transpose{n}d`` (or ``nn.ConvTranspose{n}d`` when an
``output_size`` is given, as only the module takes it), ``F.max_pool{n}d``
with ``return_indices=True``, ``F.max_unpool{n}d``, ``F.pixel_(un)shuffle``,
and the aliases themselves (``F.upsample*``, ``nn.Upsample``,
``nn.UpsamplingNearest2d``, ``nn.UpsamplingBilinear2d``), so that the harness
can show each alias equal to the ``interpolate`` call it stands for.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from backends.protocol import BackendBase
from reference.dtypes import BFLOAT16
from reference.unpooling import spatial_rank


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
            install = "python -m pip install -c constraints.txt -e ."
            return False, f"torch is not installed ({exc}); from the checkout's root: {install}"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return False, "torch finds no CUDA device (torch.cuda.is_available() is False)"
        return True, ""

    def from_numpy(self, array: np.ndarray) -> Any:
        torch = self._torch()
        if any(s < 0 for s in array.strides):
            array = array.copy()  # torch.from_numpy rejects negative strides
        if array.dtype == BFLOAT16:
            # torch.from_numpy takes no ml_dtypes array: the same bits as int16
            # (strides kept), reinterpreted as torch's bfloat16 -- exact
            return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16).to(self.device)
        return torch.from_numpy(array).to(self.device)

    def to_numpy(self, array: Any) -> np.ndarray:
        array = array.detach().cpu()
        if array.dtype == self._torch().bfloat16:  # .numpy() refuses bfloat16: the bits, as from_numpy
            return array.view(self._torch().int16).numpy().view(BFLOAT16)
        return array.numpy()

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

    def conv_transpose(
        self,
        x: Any,
        weight: Any,
        bias: Any | None = None,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        dilation: int | Sequence[int] = 1,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        torch = self._torch()
        n = weight.dim() - 2
        fn = getattr(torch.nn.functional, f"conv_transpose{n}d")
        if output_size is not None:
            # What nn.ConvTranspose{n}d.forward(x, output_size) does: derive the
            # output padding, then the functional call (which keeps autograd).
            module = getattr(torch.nn, f"ConvTranspose{n}d")(
                weight.shape[0],
                weight.shape[1] * groups,
                tuple(weight.shape[2:]),
                stride=stride,
                padding=padding,
                groups=groups,
                bias=False,
                dilation=dilation,
                device="meta",
            )
            output_padding = module._output_padding(
                x,
                list(output_size),
                list(module.stride),
                list(module.padding),
                list(module.kernel_size),
                n,
                list(module.dilation),
            )
        return fn(x, weight, bias, stride, padding, output_padding, groups, dilation)

    def max_pool(
        self,
        x: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        ceil_mode: bool = False,
    ) -> tuple[Any, Any]:
        n = spatial_rank(x.dim(), kernel_size)
        fn = getattr(self._torch().nn.functional, f"max_pool{n}d")
        return fn(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        n = spatial_rank(x.dim(), kernel_size)
        fn = getattr(self._torch().nn.functional, f"max_unpool{n}d")
        return fn(x, indices, kernel_size, stride, padding, None if output_size is None else list(output_size))

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        return self._torch().nn.functional.pixel_shuffle(x, upscale_factor)

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        return self._torch().nn.functional.pixel_unshuffle(x, downscale_factor)

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        """torch autograd: the gradient of ``op`` with respect to every
        floating-point or complex tensor given (``x``, ``weight``, ``bias``;
        integer ``indices`` have none)."""
        torch = self._torch()
        arrays = {"x": x, **{k: v for k, v in kwargs.items() if isinstance(v, torch.Tensor)}}
        params = {k: v for k, v in kwargs.items() if k not in arrays}
        leaves = {
            k: v.detach().clone().requires_grad_(True) for k, v in arrays.items() if v.is_floating_point() or v.is_complex()
        }
        inputs = {**arrays, **leaves}
        out = getattr(self, op)(inputs.pop("x"), **inputs, **params)
        out = out[0] if isinstance(out, tuple) else out  # max_pool: the values
        grads = torch.autograd.grad(out, list(leaves.values()), grad_output, allow_unused=True)
        return {k: torch.zeros_like(leaves[k]) if g is None else g for k, g in zip(leaves, grads)}

    def _alias(self, name: str, x: Any, **kwargs: Any) -> Any:
        torch = self._torch()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # F.upsample* warn that they are deprecated
            function = getattr(torch.nn.functional, name, None)  # F.upsample*
            if function is None:  # nn.Upsample*: the arguments construct the module
                return getattr(torch.nn, name)(**kwargs)(x)
            return function(x, **kwargs)

    def upsample(
        self,
        x: Any,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
    ) -> Any:
        return self._alias("upsample", x, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners)

    def upsample_nearest(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:
        return self._alias("upsample_nearest", x, size=size, scale_factor=scale_factor)

    def upsample_bilinear(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:
        return self._alias("upsample_bilinear", x, size=size, scale_factor=scale_factor)

    def Upsample(
        self,
        x: Any,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",  # noqa: N802
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> Any:
        return self._alias(
            "Upsample",
            x,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
        )

    def UpsamplingNearest2d(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:  # noqa: N802
        return self._alias("UpsamplingNearest2d", x, size=size, scale_factor=scale_factor)

    def UpsamplingBilinear2d(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:  # noqa: N802
        return self._alias("UpsamplingBilinear2d", x, size=size, scale_factor=scale_factor)


class TorchCudaBackend(TorchBackend):
    """torch on the first CUDA device."""

    def __init__(self) -> None:
        super().__init__("cuda")
