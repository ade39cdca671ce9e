"""Adapters for the popular resize libraries, each behind the backend protocol.

One module per library (``opencv``, ``pillow``, ...).  An adapter calls the
library's own kernel, never a NumPy re-implementation of it: the point is to
show where that library agrees with torch's semantics.  Arguments are checked
and resolved the way torch does (``reference.interpolate.plan_interpolate``), so
an invalid call raises torch's error and a valid one reaches the library with
torch's output size; a case no call of the library expresses raises
``Unsupported`` with the reason.

Each adapter's docstring holds its mapping from torch's arguments to the
library's call as a table; ``call_used`` returns the call made for one case, so
the report's library matrix can name it per cell.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from backends.protocol import BackendBase, Unsupported
from reference.interpolate import ResizePlan, plan_interpolate


class LibraryBackend(BackendBase):
    """Defaults for an adapter: import on first use, availability that says
    which extra to install, and the library's version."""

    #: Which matrix of the report its results belong to (``"library"``; frameworks: ``"framework"``).
    kind = "library"

    #: The module imported to reach the library, e.g. ``"cv2"``.
    module: str = ""
    #: The ``pyproject.toml`` extra that installs it, e.g. ``"opencv"``.
    extra: str = ""

    def _lib(self) -> ModuleType:
        return importlib.import_module(self.module)

    def version(self) -> str:
        try:
            return str(getattr(self._lib(), "__version__", "unknown"))
        except ImportError:
            return "not installed"

    def availability(self) -> tuple[bool, str]:
        try:
            self._lib()
        except ImportError as exc:
            return False, (
                f"{self.module} is not installed ({exc}); from the checkout's root: "
                f"python -m pip install -c constraints.txt -e '.[{self.extra}]'"
            )
        return True, ""

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        """The library call a case of ``op`` with these keyword ``params`` maps to
        (e.g. ``"cv2.resize(x, (W, H), interpolation=cv2.INTER_LINEAR)"``), or
        ``None`` where no call expresses it."""
        return None

    # -- interpolate, shared by the resize adapters ------------------------
    #: The dtypes the library's resize takes (others raise ``Unsupported``
    #: from the op, so the matrix shows them as not expressible, with why).
    interpolate_dtypes: tuple[str, ...] = ()

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
        """torch's checks and output size (``plan_interpolate``), then the
        library's call on each (batch, channel) plane (``resize``)."""
        x = np.asarray(x)
        plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        if str(x.dtype) not in self.interpolate_dtypes:
            raise Unsupported(
                f"{self.name}'s resize takes no {x.dtype} (it takes {', '.join(self.interpolate_dtypes)})"
            )
        reason = self.resize_unsupported(plan, x.dtype)
        if reason:
            raise Unsupported(reason)
        out_shape = (*x.shape[:2], *plan.output_size)
        if 0 in out_shape:  # nothing to compute (an empty batch, or area's empty output): no library call
            return np.empty(out_shape, x.dtype)
        return self.resize(x, plan)

    def resize_unsupported(self, plan: ResizePlan, dtype: np.dtype) -> str | None:
        """Why no call of the library expresses the resolved case, or ``None``."""
        return None

    def resize(self, x: np.ndarray, plan: ResizePlan) -> np.ndarray:
        """The library's resize of ``x`` (N, C, spatial...) as ``plan`` says."""
        raise NotImplementedError


def map_planes(x: np.ndarray, out_spatial: Sequence[int], resize_plane: Callable[[np.ndarray], Any]) -> np.ndarray:
    """``resize_plane`` on every (batch, channel) plane of ``x``, stacked back
    into (N, C, *out_spatial).  Resizing plane by plane keeps channels apart:
    a library resizing the whole array would also filter (and carry NaN)
    across the batch and channel axes, and cv2 caps the channels of one image."""
    planes = x.reshape(-1, *x.shape[2:])
    out = np.empty((planes.shape[0], *out_spatial), x.dtype)
    for i, plane in enumerate(planes):
        out[i] = np.asarray(resize_plane(plane)).reshape(out_spatial)
    return out.reshape(*x.shape[:2], *out_spatial)


def given_scale_reason(plan: ResizePlan, library: str) -> str | None:
    """A library that derives its scale from the sizes (``n_out / n_in``)
    cannot express torch using a given ``scale_factor`` whose ratio differs
    (e.g. 1.5 on 5 pixels: output 7, but torch samples at 1/1.5 spacing)."""
    for n_in, n_out, s in zip(plan.input_size, plan.output_size, plan.scales):
        if s is not None and 1.0 / s != n_in / n_out:
            return (
                f"{library} scales by output/input size ({n_out}/{n_in}); torch uses the given scale_factor {s!r} "
                "as is (recompute_scale_factor=True or a size would match)"
            )
    return None


def shrinks(plan: ResizePlan) -> bool:
    """Whether some axis gets smaller (where antialiasing matters)."""
    return any(n_out < n_in for n_in, n_out in zip(plan.input_size, plan.output_size))
