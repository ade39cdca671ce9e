"""The floating-point environment a backend leaves behind.

A backend can turn on flush-to-zero (FTZ: a subnormal result becomes 0) and
denormals-are-zero (DAZ: a subnormal operand reads as 0) for the thread it
runs in: ``torch.set_flush_denormal(True)`` does, and so does loading a
library built with ``-ffast-math``.  The mode outlives the call, so in the
process that checks the backend it would flush the inputs drawn, torch's and
the reference's answers and the comparison with them, and the backend would
pass on exactly the values it gets wrong.  ``SubnormalMode`` keeps the
harness's own steps in IEEE arithmetic and gives the backend its own mode
back for its calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from conformance.results import Result

#: Said with a failure of a backend that flushes subnormals: a likely cause.
FLUSHES = (
    "the backend flushes subnormals to zero (FTZ/DAZ: torch.set_flush_denormal(True), or a library built "
    "with -ffast-math); torch keeps them"
)


def flushes_subnormals() -> bool:
    """Does this thread flush subnormal results to zero (FTZ) or read
    subnormal operands as zero (DAZ)?"""
    tiny = np.float32(np.finfo(np.float32).tiny)
    smallest = np.float32(np.finfo(np.float32).smallest_subnormal)
    return bool(tiny * np.float32(0.5) == 0 or smallest * np.float32(1) == 0)


class SubnormalMode:
    """Tracks one backend's mode across the steps of its checks (``step(name)``
    as each step starts, the names of ``conformance.verdict``'s phases): after
    a step of the backend's (its loading counts as one) it notes whether the
    backend left flushing on and, if so, turns it off for the harness's steps
    and on again for the backend's next one."""

    def __init__(self) -> None:
        #: The backend's own mode, as last seen after its step.
        self.backend_flushes = False
        self._in_backend = True

    def step(self, name: str) -> None:
        entering = name == "backend"
        if self._in_backend and not entering:
            self.backend_flushes = flushes_subnormals()
            if self.backend_flushes:
                _set_flush(False)
        elif entering and not self._in_backend and self.backend_flushes:
            _set_flush(True)
        self._in_backend = entering

    def explain(self, result: Result) -> Result:
        """``result``, its message naming the likely cause when it failed and the backend flushes."""
        if self.backend_flushes and result.failed:
            result.message = f"{result.message}; {FLUSHES}" if result.message else FLUSHES
        return result


def _set_flush(on: bool) -> None:
    import torch

    torch.set_flush_denormal(on)  # both FTZ and DAZ of this thread, where the CPU has them
