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

#: The ops of the protocol, in the order the harness checks them.
OPS: tuple[str, ...] = ("interpolate",)

#: The dtypes the harness knows how to draw, by NumPy name.
DTYPES: tuple[str, ...] = ("float16", "float32", "float64", "uint8")


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


class BackendBase:
    """Defaults for a synchronous backend whose arrays are NumPy arrays.

    Subclasses set ``name`` and implement the ops; ``supported_dtypes`` maps an
    op to the dtypes it takes (every known dtype when the op is absent).
    """

    name: str = "unnamed"
    supported_dtypes: Mapping[str, Sequence[str]] = {}

    def version(self) -> str:
        return "unknown"

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        if not callable(getattr(self, op, None)):
            return f"{self.name} has no {op}"
        dtypes = self.supported_dtypes.get(op, DTYPES)
        if dtype not in dtypes:
            return f"{op} on {dtype}"
        return None

    def from_numpy(self, array: np.ndarray) -> Any:
        return array

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<backend {self.name}>"
