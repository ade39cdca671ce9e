"""``torch.compile`` (TorchDynamo + Inductor, CPU) as a backend: torch's own
functional ops, compiled, against eager torch.

=====================================  ==================================================================
torch                                  torch-compile
=====================================  ==================================================================
``F.interpolate(x, ...)``              ``torch.compile(F.interpolate, dynamic=True, fullgraph=True)``
                                       called with the same arguments (every op alike: the functional
                                       call torch's backend makes, ``backends.torch_backend``)
``conv_transpose``, ``max_pool``,      the same, compiled
``max_unpool``, ``pixel_(un)shuffle``
the aliases (``F.upsample*``,          the same, compiled (``nn.Upsample*`` built inside the compiled
``nn.Upsample*``)                      function, as a model holding one is traced)
gradients                              ``torch.autograd.grad`` through the compiled forward:
                                       AOTAutograd's compiled backward
=====================================  ==================================================================

One compiled function per op, made on first use, with dynamic shapes
(``dynamic=True``: sizes are symbols, so a new input shape reuses the graph;
Dynamo still specialises sizes 0 and 1) and unspecialised floats
(``torch._dynamo.config.specialize_float = False``: a new ``scale_factor``
reuses it too), so a run does not compile per case; a new mode,
``align_corners`` or dtype is a guard that compiles once more.
``fullgraph=True`` and ``fail_on_recompile_limit_hit``: a graph break or a
recompile limit raises instead of falling back to eager torch, which would
check torch against itself.  The settings are process-wide: the backend runs
in a worker process of its own (the harness's default), never beside the
oracle.

The first call of a signature compiles (seconds); the harness times each
cell's first call apart from its steady state (``compiles = True``).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from backends.frameworks import TORCH_ALIASES, TORCH_OPS, FrameworkBackend
from backends.torch_backend import TorchBackend

#: The protocol ops compiled: the computing ops and the aliases.
OPS = (*TORCH_OPS, *TORCH_ALIASES)
#: The torch call each op is (``call_used``).
_CALLS = {
    "interpolate": "F.interpolate",
    "conv_transpose": "F.conv_transpose{n}d",
    "max_pool": "F.max_pool{n}d(return_indices=True)",
    "max_unpool": "F.max_unpool{n}d",
    "pixel_shuffle": "F.pixel_shuffle",
    "pixel_unshuffle": "F.pixel_unshuffle",
}
COMPILE_ARGS = "dynamic=True, fullgraph=True"


class TorchCompileBackend(FrameworkBackend):
    """``torch.compile(..., dynamic=True, fullgraph=True)`` of each op, Inductor on the CPU."""

    name = "torch-compile"
    module = "torch"
    compiles = True

    def __init__(self) -> None:
        self._eager = TorchBackend()
        self._compiled: dict[str, Callable[..., Any]] = {}

    def availability(self) -> tuple[bool, str]:
        ok, why = self._eager.availability()
        if ok and not any(shutil.which(cc) for cc in ("g++", "c++", "clang++")):
            return False, "Inductor compiles C++ for the CPU: install a C++ compiler (g++ or clang++) on PATH"
        return ok, why

    def from_numpy(self, array: np.ndarray) -> Any:
        return self._eager.from_numpy(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return self._eager.to_numpy(array)

    def call_used(self, op: str, params: Any) -> str | None:
        call = _CALLS.get(op, f"F.{op}" if op.startswith("upsample") else f"nn.{op}(...).forward")
        return f"torch.compile({call}, {COMPILE_ARGS})"

    def compiled(self, op: str) -> Callable[..., Any]:
        """The op's compiled function (made on first use): torch's backend's op
        (``TorchBackend``), an alias called as torch has it (``F.upsample*``,
        ``nn.Upsample*(...)(x)``: the backend's own alias methods silence the
        deprecation warnings, which Dynamo cannot trace; here the caller does)."""
        if op not in self._compiled:
            torch = self._lib()
            _configure(torch)
            function = getattr(self._eager, op) if op in TORCH_OPS else _alias(torch, op)
            self._compiled[op] = torch.compile(function, dynamic=True, fullgraph=True)
        return self._compiled[op]

    def warm_up(self) -> None:
        """Start Inductor's toolchain (its first compile in a process takes tens
        of seconds): a throw-away compile, made at load in the backend's worker."""
        torch = self._lib()
        _configure(torch)
        torch.compile(lambda x: x * 2 + 1, dynamic=True, fullgraph=True)(torch.ones(3))

    def _torch(self) -> Any:
        return self._lib()

    #: torch's autograd through the compiled forward (``TorchBackend.vjp`` calls the op on this backend).
    vjp = TorchBackend.vjp


def _configure(torch: Any) -> None:
    """Dynamo's settings for a run: floats as symbols, no silent fall-back to eager."""
    dynamo = torch._dynamo.config
    dynamo.specialize_float = False
    dynamo.recompile_limit = 10_000
    dynamo.accumulated_recompile_limit = 1_000_000
    dynamo.fail_on_recompile_limit_hit = True
    # one compile thread: no pool of compile processes inside the harness's worker
    torch._inductor.config.compile_threads = 1


def _alias(torch: Any, name: str) -> Callable[..., Any]:
    """torch's alias ``name`` as a function of ``(x, **kwargs)``."""
    function = getattr(torch.nn.functional, name, None)
    if function is not None:
        return lambda x, **kwargs: function(x, **kwargs)
    return lambda x, **kwargs: getattr(torch.nn, name)(**kwargs)(x)


def _compiled_op(op: str) -> Callable[..., Any]:
    def method(self: TorchCompileBackend, x: Any, *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # F.upsample* warn that they are deprecated
            return self.compiled(op)(x, *args, **kwargs)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"``torch.compile`` of torch's ``{op}``."
    return method


for _op in OPS:
    setattr(TorchCompileBackend, _op, _compiled_op(_op))
