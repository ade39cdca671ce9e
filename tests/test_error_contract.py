"""The error contract: every invalid call raises the exception class torch
raises, with a message that carries torch's key phrase.

Two sources of invalid calls are checked, against torch 2.13 itself:

* the op registry's catalog (``conformance.ops.invalid_calls()``): every word
  of an entry is a phrase of torch's own message for that call, and the
  reference and numpy backends raise torch's class with a message holding one
  of them;
* torch's own error inputs for these ops (the ``error_inputs_func`` of the
  OpInfos in ``torch/testing/_internal/common_methods_invocations.py`` and
  ``module_error_inputs_func`` in ``common_modules.py``), reproduced here as
  plain calls (``torch.testing._internal`` needs ``expecttest``, which the
  harness does not install).  torch 2.13 has them for ``max_pool{1,2,3}d``,
  ``max_unpool{1,2,3}d`` and ``nn.MaxPool2d``; its OpInfos of interpolate,
  the upsample aliases, ``conv_transpose{1,2,3}d`` and pixel (un)shuffle have
  none.  The harness runs ``max_pool{n}d(..., return_indices=True)``, whose
  messages for 1-D inputs differ from those ``error_regex`` names (they are
  written for ``max_pool1d`` without indices); where they do, the key phrase
  is taken from torch's message for the call the harness makes.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import backends
from conformance import ops
from conformance.execute import Oracle, invoke

BACKENDS = ("reference", "numpy")
ORACLE = Oracle()


def _raised(fn: Any) -> BaseException | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as exc:  # the exception is what is checked
        return exc
    return None


def _mismatch(torch_exc: BaseException, ours: BaseException | None, carries: Any) -> str | None:
    """Why ``ours`` breaks the contract (``None``: it keeps it)."""
    if ours is None:
        return f"returned a result; torch raises {type(torch_exc).__name__}: {torch_exc}"
    if type(ours) is not type(torch_exc):
        return f"raised {type(ours).__name__}: {ours}; torch raises {type(torch_exc).__name__}: {torch_exc}"
    if not carries(str(ours)):
        return f"message {str(ours)!r} misses torch's key phrase (torch: {str(torch_exc)!r})"
    return None


# --------------------------------------------------------------------------
# The registry's catalog of invalid calls
# --------------------------------------------------------------------------


def _check_catalog_entry(case: Any, loaded: dict[str, Any]) -> list[str]:
    """The problems of one catalog entry (empty: it keeps the contract)."""
    words = [w.lower() for w in case.names_problem]
    torch_exc = _raised(lambda: ORACLE.run_torch(case, case.materialize()))
    if torch_exc is None:
        return ["torch accepts it"]
    message = str(torch_exc).lower()
    problems = [f"word {w!r} is not in torch's message {str(torch_exc)!r}" for w in words if w not in message]
    if not words:
        problems.append("it names no phrase of torch's message")
    for name, backend in loaded.items():
        arrays = {k: backend.from_numpy(a) for k, a in case.materialize().items()}
        ours = _raised(lambda b=backend, a=arrays: invoke(b, case, a))
        why = _mismatch(torch_exc, ours, lambda text: any(w in text.lower() for w in words))
        if why:
            problems.append(f"{name} {why}")
    return problems


def test_catalog_entries_raise_torchs_class_with_torchs_key_phrase(capsys):
    loaded = {name: backends.load(name) for name in BACKENDS}
    cases = ops.invalid_calls()
    failures = {case.describe(): p for case in cases if (p := _check_catalog_entry(case, loaded))}
    matching = len(cases) - len(failures)
    with capsys.disabled():
        print(f"\ncatalog entries matching torch's key phrase: {matching}/{len(cases)}")
    assert matching == len(cases), "\n".join(f"{call}: {'; '.join(p)}" for call, p in failures.items())


def test_the_catalog_covers_every_op_with_an_error():
    """Every registered op has invalid calls, and no two entries are the same call."""
    assert all(info.invalid_calls for info in ops.REGISTRY.values()), [
        name for name, info in ops.REGISTRY.items() if not info.invalid_calls
    ]
    calls = [c.to_json() for c in ops.invalid_calls()]
    assert len({repr(c) for c in calls}) == len(calls)


# --------------------------------------------------------------------------
# torch's own error inputs, reproduced
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchErrorInput:
    """One of torch's error inputs: ``F.<fn>(x[, indices], **kwargs)``."""

    source: str  # where torch defines it
    fn: str  # max_pool1d, max_unpool2d, ...
    shape: tuple[int, ...]
    kwargs: dict[str, Any]
    #: torch's ``error_regex`` for it.
    error_regex: str
    #: The key phrase of torch's message for the harness's call, where that
    #: message does not match ``error_regex`` (1-D pooling with indices).
    phrase: str | None = None
    indices: tuple[int, ...] | None = None
    requires_grad: bool = False

    @property
    def rank(self) -> int:
        return int(self.fn[-2])

    @property
    def op(self) -> str:
        return "max_unpool" if "unpool" in self.fn else "max_pool"

    def key(self) -> str:
        """A regular expression for torch's key phrase."""
        return self.error_regex if self.phrase is None else re.escape(self.phrase)

    def describe(self) -> str:
        grad = ", requires_grad" if self.requires_grad else ""
        indices = f", indices{list(self.indices)}" if self.indices is not None else ""
        return f"{self.fn}(x{list(self.shape)}{indices}, {self.kwargs}{grad})  [{self.source}]"

    def arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        x = np.random.default_rng(0).standard_normal(self.shape).astype(np.float32)
        return x, None if self.indices is None else np.zeros(self.indices, dtype=np.int64)

    def run_torch(self) -> None:
        x, indices = self.arrays()
        t = torch.from_numpy(x).requires_grad_(self.requires_grad)
        if indices is None:  # the harness's call: always with indices
            kwargs = {k: v for k, v in self.kwargs.items() if k != "return_indices"}
            getattr(F, self.fn)(t, return_indices=True, **kwargs)
        else:
            getattr(F, self.fn)(t, torch.from_numpy(indices), **self.kwargs)

    def backend_kwargs(self) -> dict[str, Any]:
        """The call through the backend protocol, which takes the rank from
        ``len(kernel_size)``: an int kernel becomes ``rank`` ints."""
        kwargs = {k: v for k, v in self.kwargs.items() if k != "return_indices"}
        k = kwargs["kernel_size"]
        kwargs["kernel_size"] = (k,) * self.rank if isinstance(k, int) else tuple(k)
        return kwargs

    def run(self, backend: Any) -> None:
        x, indices = self.arrays()
        if indices is None:
            backend.max_pool(backend.from_numpy(x), **self.backend_kwargs())
        else:
            backend.max_unpool(backend.from_numpy(x), backend.from_numpy(indices), **self.backend_kwargs())


def _max_pool1d_inputs(requires_grad: bool) -> list[TorchErrorInput]:
    """``error_inputs_max_pool1d``: each input twice, with and without ``requires_grad``."""
    expected_2d_3d = r"Expected 2D or 3D \(batch mode\) tensor with optional 0 dim batch size for input"
    empty = "(batch mode) tensor with optional 0 dim batch size for input"
    rows: list[tuple[tuple[int, ...], dict[str, Any], str, str | None]] = [
        (
            (0, 1, 49),
            {"kernel_size": 2, "stride": 50, "padding": -1, "return_indices": True},
            "pad must be non-negative",
            None,
        ),
        (
            (0, 1, 49),
            {"kernel_size": 2, "stride": 50, "padding": 4, "return_indices": True},
            "pad should be at most half of effective kernel size",
            None,
        ),
        (
            (0, 1, 49),
            {"kernel_size": 3, "dilation": 2, "stride": 1, "padding": 3, "return_indices": True},
            "pad should be at most half of effective kernel size",
            None,
        ),
        ((), {"kernel_size": 1}, expected_2d_3d, "Expected 2 to 3 dimensions"),
        ((0,), {"kernel_size": 1}, expected_2d_3d, "Expected 2 to 3 dimensions"),
        ((0, 10), {"kernel_size": 1}, expected_2d_3d, empty),
        ((1, 10, 0), {"kernel_size": 1}, expected_2d_3d, empty),
        (
            (3, 3, 3),
            {"kernel_size": 1, "stride": 0},
            "stride must be greater than zero, but got 0",
            "stride should not be zero",
        ),
        (
            (3, 3, 3),
            {"kernel_size": 1, "stride": 1, "padding": 0, "dilation": 0},
            "dilation must be greater than zero, but got 0",
            "dilation should be greater than zero",
        ),
        (
            (2, 2, 2),
            {"kernel_size": 5, "stride": 1, "padding": 0, "dilation": 1},
            "Invalid computed output size: -2",
            "Output size is too small",
        ),
        # the stride defaults to the kernel: torch's kernel names the stride
        ((0, 1, 49), {"kernel_size": 0}, "kernel_size must be greater than zero", "stride should not be zero"),
        ((0, 1, 49), {"kernel_size": 2, "stride": 0}, "stride must be greater than zero", "stride should not be zero"),
    ]
    return [
        TorchErrorInput("error_inputs_max_pool1d", "max_pool1d", shape, kwargs, regex, phrase, None, requires_grad)
        for shape, kwargs, regex, phrase in rows
    ]


def _max_pool_nd_inputs(n: int) -> list[TorchErrorInput]:
    """``error_inputs_max_pool2d`` and ``error_inputs_max_pool3d``."""
    x = (0, 1, 49) if n == 2 else (0, 1, 49, 50)
    kernel = (3, 2) if n == 2 else (3, 2, 2)
    empty = (
        r"Expected 3D or 4D \(batch mode\) tensor with optional 0 dim batch size for input"
        if n == 2
        else r"Expected input\'s non-batch dimensions to have positive length"
    )
    rows: list[tuple[tuple[int, ...], dict[str, Any], str]] = [
        (x, {"kernel_size": 2, "stride": 50, "padding": -1, "return_indices": True}, "pad must be non-negative"),
        (x, {"kernel_size": kernel, "stride": 50, "padding": -1, "return_indices": True}, "pad must be non-negative"),
        (
            x,
            {"kernel_size": 2, "stride": 50, "padding": 4, "return_indices": True},
            "pad should be at most half of effective kernel size",
        ),
        (
            x,
            {"kernel_size": kernel, "stride": 50, "padding": 4, "return_indices": True},
            "pad should be at most half of effective kernel size",
        ),
        ((1, 0, 10) if n == 2 else (0, 1, 2, 10), {"kernel_size": 1}, empty),
        ((2, 1, 10, 0) if n == 2 else (2, 1, 0, 1, 2), {"kernel_size": 1}, empty),
        ((1, 1, 4) if n == 2 else (1, 1, 1, 4, 4), {"kernel_size": 2}, "Output size is too small"),
    ]
    source = f"error_inputs_max_pool{n}d"
    return [TorchErrorInput(source, f"max_pool{n}d", s, kw, regex) for s, kw, regex in rows]


def _max_unpool_inputs() -> list[TorchErrorInput]:
    """``error_inputs_max_unpool``: indices of another shape than the input."""
    shapes = {1: ((8, 8), (8, 7)), 2: ((1, 1, 4, 4), (1, 1, 4, 1)), 3: ((1, 1, 4, 4, 4), (1, 1, 4, 4, 1))}
    return [
        TorchErrorInput(
            "error_inputs_max_unpool",
            f"max_unpool{n}d",
            x,
            {"kernel_size": 3, "stride": 2, "padding": 0},
            "Expected shape of indices to be",
            indices=indices,
        )
        for n, (x, indices) in shapes.items()
    ]


def _max_pool2d_module_inputs() -> list[TorchErrorInput]:
    """``module_error_inputs_torch_nn_MaxPool2d`` (``nn.MaxPool2d(k, padding=p)(x)``)."""
    rank = r"non-empty 3D or 4D \(batch mode\) tensor expected for input"
    rows = [
        ((3, 4), {"kernel_size": 2}, rank),
        ((1, 2, 3, 4, 5), {"kernel_size": 2}, rank),
        ((1, 1, 10, 10), {"kernel_size": 3, "padding": 5}, "pad should be at most half of effective kernel size"),
    ]
    return [TorchErrorInput("module_error_inputs_torch_nn_MaxPool2d", "max_pool2d", s, kw, r) for s, kw, r in rows]


TORCH_ERROR_INPUTS = [
    *_max_pool1d_inputs(True),
    *_max_pool1d_inputs(False),
    *_max_pool_nd_inputs(2),
    *_max_pool_nd_inputs(3),
    *_max_unpool_inputs(),
    *_max_pool2d_module_inputs(),
]


def _check_torch_error_input(e: TorchErrorInput, loaded: dict[str, Any]) -> list[str]:
    torch_exc = _raised(e.run_torch)
    if torch_exc is None:
        return ["torch accepts it"]
    key = e.key()
    if not re.search(key, str(torch_exc)):
        return [f"the key phrase {key!r} is not in torch's message {str(torch_exc)!r}"]
    problems = []
    for name, backend in loaded.items():
        ours = _raised(lambda b=backend: e.run(b))
        why = _mismatch(torch_exc, ours, lambda text: re.search(key, text, re.IGNORECASE) is not None)
        if why:
            problems.append(f"{name} {why}")
    return problems


def test_torchs_own_error_inputs_raise_torchs_class_with_torchs_key_phrase(capsys):
    loaded = {name: backends.load(name) for name in BACKENDS}
    failures = {e.describe(): p for e in TORCH_ERROR_INPUTS if (p := _check_torch_error_input(e, loaded))}
    total = len(TORCH_ERROR_INPUTS)
    with capsys.disabled():
        print(f"\ntorch's own error inputs matching torch's key phrase: {total - len(failures)}/{total}")
    assert not failures, "\n".join(f"{call}: {'; '.join(p)}" for call, p in failures.items())


def test_the_catalog_covers_every_class_of_torchs_own_error_inputs():
    """For each of torch's error inputs, a catalog entry of the same op names
    a phrase of torch's message for it: the catalog has that class of error."""
    uncovered = []
    for e in TORCH_ERROR_INPUTS:
        message = str(_raised(e.run_torch)).lower()
        words = {w.lower() for c in ops.invalid_calls([e.op]) for w in c.names_problem}
        if not any(w in message for w in words):
            uncovered.append(f"{e.describe()}: {message}")
    assert not uncovered, "\n".join(uncovered)


@pytest.mark.parametrize(
    "shape,kernel",
    [((0, 10), 1), ((0, 10), (1,)), ((0, 3, 4), (1, 1)), ((0, 1, 2, 10), (1, 1, 1))],
    ids=str,
)
@pytest.mark.parametrize("name", BACKENDS)
def test_max_pool_refuses_an_unbatched_input_without_channels(name, shape, kernel):
    """torch refuses zero channels on an unbatched input (a batched input may
    have no samples); an empty result would hide the error."""
    backend = backends.load(name)
    with pytest.raises(RuntimeError, match="non-batch dimensions to have positive length|0 dim batch size"):
        backend.max_pool(backend.from_numpy(np.zeros(shape, np.float32)), kernel_size=kernel)
    no_samples = (0, 1, *shape[1:])  # batched, one channel, no samples: taken
    values, indices = backend.max_pool(backend.from_numpy(np.zeros(no_samples, np.float32)), kernel_size=kernel)
    assert backend.to_numpy(values).shape == backend.to_numpy(indices).shape == no_samples
