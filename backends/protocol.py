"""The backend contract: torch-like op signatures, arrays in and out.

A backend is any object with the attributes below.  The harness never calls an
op on arrays it made itself: it converts its NumPy inputs with ``from_numpy``,
times the op between two ``synchronize()`` calls, and reads the result back with
``to_numpy``.  A backend that does not implement an op, mode or dtype says so
with ``unsupported_reason`` (checked before the call) or by raising
``Unsupported`` from the op; both are reported as *unsupported*, not as
failures.

Subclass ``BackendBase`` for sensible defaults, or write the methods yourself:
``Backend`` is a ``typing.Protocol``, so no inheritance is required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from reference.aliases import bilinear_args, module_upsample_args, nearest_args, upsample_args


class Unsupported(Exception):
    """Raised by a backend op for an op, mode or dtype it does not implement."""


@runtime_checkable
class Backend(Protocol):
    """What the harness needs from a backend."""

    #: Short name shown in results and reports, e.g. ``"numpy"``.
    name: str

    def version(self) -> str:
        """The version of the library behind the backend."""
        ...

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` when usable here, else ``(False, why not)``."""
        ...

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        """``None`` when ``op`` with these keyword ``params`` on ``dtype`` input is
        implemented, else a short reason (e.g. ``"float16 antialias"``)."""
        ...

    def from_numpy(self, array: np.ndarray) -> Any:
        """The backend's array for a NumPy array (strides kept where it can)."""
        ...

    def to_numpy(self, array: Any) -> np.ndarray:
        """A NumPy array for one of the backend's arrays."""
        ...

    def synchronize(self) -> None:
        """Wait for queued work to finish (a no-op on synchronous backends)."""
        ...

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
        """``torch.nn.functional.interpolate``: same arguments, same errors."""
        ...

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
        """``conv_transpose{1,2,3}d`` (rank from ``weight``); ``output_size`` as
        ``nn.ConvTranspose*d.forward(input, output_size)`` takes it."""
        ...

    def max_pool(
        self,
        x: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        ceil_mode: bool = False,
    ) -> tuple[Any, Any]:
        """``max_pool{n}d(..., return_indices=True)``: ``(values, int64 indices)``;
        ``n = len(kernel_size)`` (an int kernel: ``x.ndim - 2``)."""
        ...

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        """``max_unpool{n}d``, rank as for ``max_pool``."""
        ...

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any: ...

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any: ...

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        """Gradients of ``op`` (a vector-Jacobian product): ``op`` called as
        ``op(x, **kwargs)``, ``grad_output`` the cotangent of its output (of the
        values, for ``max_pool``).  One array per differentiable input:
        ``{"x"}``, and ``"weight"``, ``"bias"`` (when given) for conv_transpose.
        Asked only where ``unsupported_reason(f"{op}:backward", ...)`` is None."""
        ...


@runtime_checkable
class ResidualBackend(Protocol):
    """The residual path of gradients: optional, beside ``vjp``.

    torch's autograd and JAX's ``vjp`` split a gradient in two: the forward
    saves what its backward needs (its *residuals*: max_pool's indices, an
    interpolation's index and weight tables, conv_transpose's input and
    weight), and the backward reads them instead of running the forward
    again.  A backend offers the same split with both methods below; the
    harness then checks every backward case through both paths (the plain
    ``vjp`` and these two calls), against the same oracle, and the bench
    times this path beside torch's backward (which reads what its forward
    saved).  The contract:

    * ``forward_with_residuals(op, x, **kwargs) -> (out, residuals)``: ``out``
      is exactly what ``getattr(backend, op)(x, **kwargs)`` returns;
      ``residuals`` is the backend's own object, opaque to the harness (any
      arrays, tables or parameters the backward needs; it may hold
      references to ``x`` and the other arguments, which are not modified
      until the backward has run).
    * ``vjp_from_residuals(op, residuals, grad_output) -> dict``: what
      ``vjp(op, grad_output, x, **kwargs)`` returns for the call the
      residuals were kept from (the same keys, shapes and dtypes, values
      within the same tolerance), reading ``residuals`` instead of ``x``.
      ``residuals`` may be used for several backward calls.

    Both are asked only where ``unsupported_reason(f"{op}:backward", ...)``
    is None; either may raise ``Unsupported`` for an op it keeps no
    residuals for (the harness then checks the plain ``vjp`` alone)."""

    def forward_with_residuals(self, op: str, x: Any, **kwargs: Any) -> tuple[Any, Any]: ...

    def vjp_from_residuals(self, op: str, residuals: Any, grad_output: Any) -> dict[str, Any]: ...


class BackendBase:
    """Defaults for a synchronous backend whose arrays are NumPy arrays.

    Subclasses set ``name`` and implement the ops; ``supported_dtypes`` maps an
    op to the dtypes it takes (an op absent from it takes every dtype the
    harness draws, which are the dtypes torch takes there).
    """

    name: str = "unnamed"
    supported_dtypes: Mapping[str, Sequence[str]] = {}

    def version(self) -> str:
        return "unknown"

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        if op.endswith(":backward"):
            if type(self).vjp is BackendBase.vjp:
                return f"{self.name} has no gradients"
            op = op.removesuffix(":backward")
        if not callable(getattr(self, op, None)):
            return f"{self.name} has no {op}"
        dtypes = self.supported_dtypes.get(op)
        if dtypes is not None and dtype not in dtypes:
            return f"{op} on {dtype}"
        return None

    def from_numpy(self, array: np.ndarray) -> Any:
        return array

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        return None

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        """No gradients unless a backend defines them."""
        raise Unsupported(f"{self.name} has no gradients")

    # The aliases, through ``interpolate`` as torch defines them (the
    # reference's ``*_args`` say which call each stands for); a backend with
    # its own alias implementations overrides these.
    def upsample(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """``F.upsample(x, size, scale_factor, mode, align_corners)``."""
        return self.interpolate(x, **upsample_args(*args, **kwargs))  # type: ignore[attr-defined]

    def upsample_nearest(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """``F.upsample_nearest(x, size, scale_factor)``."""
        return self.interpolate(x, **nearest_args(*args, **kwargs))  # type: ignore[attr-defined]

    def upsample_bilinear(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """``F.upsample_bilinear(x, size, scale_factor)``."""
        return self.interpolate(x, **bilinear_args(*args, **kwargs))  # type: ignore[attr-defined]

    def Upsample(self, x: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        """``nn.Upsample(size, scale_factor, mode, align_corners, recompute_scale_factor)(x)``."""
        return self.interpolate(x, **module_upsample_args(*args, **kwargs))  # type: ignore[attr-defined]

    def UpsamplingNearest2d(self, x: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        """``nn.UpsamplingNearest2d(size, scale_factor)(x)``."""
        return self.interpolate(x, **nearest_args(*args, **kwargs))  # type: ignore[attr-defined]

    def UpsamplingBilinear2d(self, x: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        """``nn.UpsamplingBilinear2d(size, scale_factor)(x)``."""
        return self.interpolate(x, **bilinear_args(*args, **kwargs))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<backend {self.name}>"
