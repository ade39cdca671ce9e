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
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from backends.protocol import BackendBase


class LibraryBackend(BackendBase):
    """Defaults for an adapter: import on first use, availability that says
    which extra to install, and the library's version."""

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
