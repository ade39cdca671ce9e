"""``aten-kernels:DIR``: a directory of kernels for torch's aten ops, as kernel
authors and kernel generators write them, checked through torch's own API.

The directory has BackendBench's layout: one folder per aten op, named after
it, holding implementation files, the first of which (sorted by name) is
used and defines ``<op>_kernel_impl(*args, **kwargs)``::

    DIR/upsample_nearest2d/upsample_nearest2d_implementation_v1.py
        def upsample_nearest2d_kernel_impl(input, output_size, scales_h=None, scales_w=None): ...

A folder named ``<op>.<overload>`` names one overload.  Each kernel is
registered with ``torch.library`` (``Library("aten", "IMPL")``) for the CPU
dispatch key, on every functional overload of its op that has a CPU kernel
of torch's (not the out= ones, and not the composite ones such as
``upsample_nearest2d.vec``, whose decomposition reaches the registered
kernel), and the ops are then called as a user calls them:
``torch.nn.functional`` (``backends.torch_backend``), gradients through
torch's autograd.  A case reaching none of the directory's kernels runs
torch's own: ``call_used`` says which kernels the last call reached.

The registration happens on the backend's first op, in the process it runs
in: the harness's worker for it (the default), never the oracle's, so torch
as the oracle stays unpatched.  Under ``--no-isolation`` the kernels would
replace the oracle's too, and a wrong kernel would agree with itself.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backends.frameworks import ATEN_KERNELS_PREFIX, TORCH_ALIASES, TORCH_OPS, FrameworkBackend
from backends.torch_backend import TorchBackend

#: The protocol ops, each torch's functional call (``TorchBackend``) with the kernels registered.
OPS = (*TORCH_OPS, *TORCH_ALIASES)


def find_kernels(directory: Path) -> dict[str, Path]:
    """``{op folder name: implementation file}`` for each op folder of ``directory``
    holding an ``<op>_implementation*.py`` (the first by name)."""
    found = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        op = folder.name.partition(".")[0]
        files = sorted(folder.glob(f"{op}_implementation*.py"))
        if files:
            found[folder.name] = files[0]
    return found


def load_kernel(folder: str, path: Path) -> Callable[..., Any]:
    """``<op>_kernel_impl`` of the implementation file ``path`` (imported as a module of its own)."""
    op = folder.partition(".")[0]
    spec = importlib.util.spec_from_file_location(f"aten_kernels_{op}_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernel = getattr(module, f"{op}_kernel_impl", None)
    if not callable(kernel):
        raise ValueError(f"{path} defines no function {op}_kernel_impl")
    return kernel


def overloads(torch: Any, folder: str) -> list[str]:
    """The aten overloads a kernel folder replaces: ``op.overload`` names one;
    ``op`` every overload with a CPU kernel of torch's that is not out= or in-place."""
    op, _, overload = folder.partition(".")
    packet = getattr(torch.ops.aten, op, None)
    if packet is None:
        raise ValueError(f"aten has no op {op!r} (folder {folder!r})")
    names = [overload] if overload else list(packet.overloads())
    chosen = []
    for name in names:
        qualified = op if name == "default" else f"{op}.{name}"
        schema = getattr(packet, name)._schema
        if overload or (
            not schema.is_mutable and torch._C._dispatch_has_kernel_for_dispatch_key(f"aten::{qualified}", "CPU")
        ):
            chosen.append(qualified)
    return chosen


class AtenKernelsBackend(FrameworkBackend):
    """torch's functional ops with a directory's aten kernels registered for the CPU."""

    module = "torch"

    def __init__(self, directory: str) -> None:
        path = Path(directory)
        if not path.is_dir():
            raise ValueError(f"{ATEN_KERNELS_PREFIX}{directory}: no such directory")
        self.name = ATEN_KERNELS_PREFIX + directory
        self.directory = path.resolve()
        self.kernels = find_kernels(self.directory)
        if not self.kernels:
            raise ValueError(
                f"{ATEN_KERNELS_PREFIX}{directory} holds no kernel: expected DIR/<op>/<op>_implementation_v1.py "
                "defining <op>_kernel_impl(*args, **kwargs) (BackendBench's layout)"
            )
        self._eager = TorchBackend()
        self._library: Any = None
        #: The aten overloads replaced (each with its folder), and those the last op call reached.
        self.registered: dict[str, str] = {}
        self.reached: set[str] = set()

    def availability(self) -> tuple[bool, str]:
        return self._eager.availability()

    def from_numpy(self, array: np.ndarray) -> Any:
        self.register()
        return self._eager.from_numpy(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return self._eager.to_numpy(array)

    def _torch(self) -> Any:
        return self._lib()

    def register(self) -> None:
        """Register every kernel with ``torch.library`` (once, in this process)."""
        if self._library is not None:
            return
        torch = self._lib()
        library = torch.library.Library("aten", "IMPL")  # kept: the registrations live as long as it
        for folder, path in self.kernels.items():
            kernel = load_kernel(folder, path)
            for qualified in overloads(torch, folder):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
                    library.impl(qualified, self._noting(qualified, kernel), "CPU")
                self.registered[qualified] = folder
        self._library = library

    def _noting(self, qualified: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def reached(*args: Any, **kwargs: Any) -> Any:
            self.reached.add(qualified)
            return kernel(*args, **kwargs)

        return reached

    def call_used(self, op: str, params: Any) -> str | None:
        """The functional call and the directory's kernels the last call reached."""
        call = "F." + op if op in TORCH_OPS else op
        if not self.reached:
            return f"{call} (torch's own kernels: none of {', '.join(self.kernels)} reached)"
        files = (f"aten.{k} ({self.kernels[self.registered[k]].name})" for k in sorted(self.reached))
        return f"{call} -> {', '.join(files)}"

    #: torch's autograd through the registered kernels (``TorchBackend.vjp`` calls the op on this backend).
    vjp = TorchBackend.vjp


def _through_kernels(op: str) -> Callable[..., Any]:
    def method(self: AtenKernelsBackend, x: Any, *args: Any, **kwargs: Any) -> Any:
        self.register()
        self.reached = set()
        return getattr(self._eager, op)(x, *args, **kwargs)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"torch's ``{op}``, the directory's aten kernels registered."
    return method


for _op in OPS:
    setattr(AtenKernelsBackend, _op, _through_kernels(_op))
