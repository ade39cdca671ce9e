"""A toy op registered from outside the harness: ``flip_axis(x, dim)``
reverses one axis (``torch.flip(x, dims=[dim])``).  Importing this module
registers it (so a worker process that loads ``ToyBackend`` by its spec has
it too); ``register()`` registers it again after a test removed it."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from backends.numpy_backend import NumpyBackend
from conformance import ops
from conformance.cases import Case, InputSpec

NAME = "flip_axis"


def flip_axis(x: np.ndarray, dim: int) -> np.ndarray:
    """The reference: ``x`` with axis ``dim`` reversed; torch's IndexError for a bad ``dim``."""
    x = np.asarray(x)
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], but got {dim})")
    return np.flip(x, dim)


@st.composite
def _cases(draw: st.DrawFn, dtypes: list[str]) -> Case:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    dtype = draw(st.sampled_from(dtypes))
    return Case(NAME, InputSpec(shape, dtype, "normal", draw(st.integers(0, 2**32 - 1))), {"dim": dim})


def _strategy(cell: str, dtypes_for: ops.registry.DtypeRule) -> object:
    dtypes = list(dtypes_for("", False))
    return _cases(dtypes) if dtypes else None


TOY = ops.OpInfo(
    name=NAME,
    summary="torch.flip(x, dims=[dim]): a toy op for the registry's tests",
    cells=("all",),
    reference=flip_axis,
    torch_code=lambda case: ["out = torch.flip(t['x'], dims=[kwargs['dim']])"],
    strategy=_strategy,
    dtypes=lambda mode, antialias: ("float32", "float64"),
    exact=True,
    invalid_calls=(ops.invalid_call(NAME, (2, 3), {"dim": 5}, "out of range", "dimension"),),
)


def register() -> ops.OpInfo:
    return ops.register(TOY)


register()


class ToyBackend(NumpyBackend):
    """The NumPy backend plus ``flip_axis``."""

    name = "toy"

    def flip_axis(self, x: np.ndarray, dim: int) -> np.ndarray:
        return flip_axis(x, dim).copy()


class WrongToyBackend(ToyBackend):
    """Flips the wrong axis whenever there are two or more."""

    name = "wrong-toy"

    def flip_axis(self, x: np.ndarray, dim: int) -> np.ndarray:
        return flip_axis(x, 0 if x.ndim > 1 and dim % x.ndim != 0 else dim).copy()
