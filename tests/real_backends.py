"""Wrappers of the numpy backend that behave as real backends do (issue 27),
loaded by the tests as ``module:attribute``: a compiled backend's exception
subclasses, a JIT's log on stderr, a compile cache keyed by shape."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from backends import Unsupported
from backends.numpy_backend import NumpyBackend

#: The protocol's calls a wrapper passes through ``around``.
OPS = (
    "interpolate",
    "conv_transpose",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "vjp",
    "forward_with_residuals",
    "vjp_from_residuals",
)


class _Wrapper(NumpyBackend):
    """Numpy's ops, each call passed through ``around(op, call)``."""

    def around(self, op: str, call: Any) -> Any:
        raise NotImplementedError

    def __getattribute__(self, name: str) -> Any:
        method = super().__getattribute__(name)
        if name not in OPS:
            return method
        around = super().__getattribute__("around")
        return lambda *args, **kwargs: around(name, lambda: method(*args, **kwargs))


#: One subclass per exception class, as a compiler's wrapper raises it.
_SUBCLASSES: dict[type, type] = {}


def subclass_of(cls: type[BaseException]) -> type[BaseException]:
    if cls not in _SUBCLASSES:
        _SUBCLASSES[cls] = type(f"Compiled{cls.__name__}", (cls,), {"__module__": __name__})
    return _SUBCLASSES[cls]


class SubclassedErrors(_Wrapper):
    """Re-raises each exception as a subclass of its class with the same
    message, from the original (``torch.compile``'s ``TorchRuntimeError``)."""

    name = "subclassed-errors"

    def words(self, exc: Exception) -> tuple[Any, ...]:
        return exc.args

    def around(self, op: str, call: Any) -> Any:
        try:
            return call()
        except Unsupported:
            raise
        except Exception as exc:
            raise subclass_of(type(exc))(*self.words(exc)) from exc


class VagueSubclassedErrors(SubclassedErrors):
    """Raises a subclass of each exception's class with a message of its own
    (a third-party backend's wording, naming nothing of torch's)."""

    name = "vague-subclassed-errors"

    def words(self, exc: Exception) -> tuple[Any, ...]:
        return ("backend='compiled' raised:\nsomething went wrong",)


#: Lines a ``Noisy`` backend writes per call.
NOISE = 50


class Noisy(_Wrapper):
    """Writes ``NOISE`` lines to stderr per call, half from Python, half
    straight to the file descriptor (as C code does): a JIT's recompile log."""

    name = "noisy"

    def around(self, op: str, call: Any) -> Any:
        half = NOISE // 2
        for i in range(half):
            print(f"[noisy-jit] recompiling {op} (guard {i} failed)", file=sys.stderr)
        sys.stderr.flush()
        os.write(2, "".join(f"[noisy-jit] C-level warning {i}\n" for i in range(NOISE - half)).encode())
        return call()


class ShapeCache(NumpyBackend):
    """Caches interpolate's result by input shape, dtype and arguments, and
    returns the cached array for a later call with the same ones (a compile
    cache that keeps a stale output buffer: a real JIT bug class)."""

    name = "shape-cache"

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[Any, np.ndarray] = {}

    def interpolate(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        key = (x.shape, str(x.dtype), repr(args), repr(sorted(kwargs.items())))
        if key not in self.cache:
            self.cache[key] = super().interpolate(x, *args, **kwargs)
        return self.cache[key].copy()


class ZeroesNaN(NumpyBackend):
    """Reads a NaN or infinite input value as zero (``np.nan_to_num`` first):
    right on plain data, wrong wherever the input holds NaN or infinities."""

    name = "zeroes-nan"

    def interpolate(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if x.dtype.kind == "f":
            x = np.where(np.isfinite(x), x, 0).astype(x.dtype)
        return super().interpolate(x, *args, **kwargs)
