"""Benchmark cases given as calls: what ``test_bench_other_ops.py`` and
``test_bench_models.py`` share.

A ``Case`` names its inputs (built once from a seeded rng), its forward call
on the numpy backend and on torch, and its backward: torch's
``torch.autograd.grad`` through a graph built once, untimed, beside the numpy
backend's residual path (``vjp_from_residuals`` on what
``forward_with_residuals`` kept, the forward run once, untimed): both
backwards read what their forward saved (max_pool's indices, interpolate's
tables), so they are timed on equal terms.  ``bench`` times one
implementation of one case (numpy, torch or ``floor``) and checks, outside
the timed part, that numpy and torch agree.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from measure import IMPLEMENTATIONS, Floor, nbytes, run

from backends import load

# Loose on purpose: a guard against broken kernels, the conformance suite checks accuracy.
RTOL = ATOL = 1e-3

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Case:
    name: str
    #: The shape shown in the table (the main input's).
    shape: tuple[int, ...]
    inputs: Callable[[np.random.Generator], Arrays]
    #: ``(backend, arrays) -> result`` and ``(tensors) -> result``: the timed forward calls.
    numpy: Callable[[Any, Arrays], Any]
    torch: Callable[[dict[str, torch.Tensor]], Any]
    #: The backward: the op's name for ``vjp``, ``arrays -> (x, keyword arguments)``
    #: as ``vjp`` takes them, and (array name, ``vjp`` key) of each
    #: differentiable input, in the order torch's gradients are asked for.
    op: str
    vjp_args: Callable[[Arrays], tuple[np.ndarray, dict[str, Any]]]
    grads: tuple[tuple[str, str], ...] = (("x", "x"),)
    #: numpy time / torch time the numpy backend aims at; None: reported only.
    target: float | None = 1.0
    #: numpy time / floor time the numpy backend aims at; None: reported only.
    floor_target: float | None = None
    #: Where the call comes from (model, layer, public source); the model-shapes suite's provenance.
    source: str = ""

    def backward(self) -> Case:
        return dataclasses.replace(self, name=f"{self.name} backward", floor_target=None)


def as_numpy(result: Any) -> tuple[np.ndarray, ...]:
    """A result as a tuple of arrays (``max_pool`` gives two, a ``vjp`` a dict, torch's backward a tuple)."""
    parts = tuple(result.values()) if isinstance(result, dict) else result
    parts = parts if isinstance(parts, tuple) else (parts,)
    return tuple(p.numpy() if isinstance(p, torch.Tensor) else np.asarray(p) for p in parts)


class Prepared:
    """One case's inputs, its timed calls, and each implementation's result computed at most once."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.arrays = case.inputs(np.random.default_rng(0))
        tensors = {k: torch.from_numpy(v) for k, v in self.arrays.items()}
        self.calls = {
            "numpy": functools.partial(case.numpy, load("numpy"), self.arrays),
            "torch": functools.partial(case.torch, tensors),
        }
        self._results: dict[str, tuple[np.ndarray, ...]] = {}

    def result(self, implementation: str) -> tuple[np.ndarray, ...]:
        if implementation not in self._results:
            self._results[implementation] = as_numpy(self.calls[implementation]())
        return self._results[implementation]

    @functools.cached_property
    def result_bytes(self) -> int:
        return nbytes(self.result("torch"))

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(nbytes(self.arrays), self.result_bytes))


class PreparedBackward(Prepared):
    """torch's forward run once with ``requires_grad`` on the differentiable
    inputs (its graph kept), the numpy backend's once with its residuals
    kept, a seeded cotangent of the output's shape (of the values, for
    ``max_pool``), and the two backward calls."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        tensors = {k: torch.from_numpy(v) for k, v in self.arrays.items()}
        inputs = tuple(tensors[name].requires_grad_(True) for name, _ in case.grads)
        out = case.torch(tensors)
        out = out[0] if isinstance(out, tuple) else out
        self.g = np.random.default_rng(1).standard_normal(tuple(out.shape), dtype=np.float32)
        backend = load("numpy")
        x, kwargs = case.vjp_args(self.arrays)
        saved = backend.forward_with_residuals(case.op, x, **kwargs)[1]
        keys = [key for _, key in case.grads]
        self.calls = {
            "numpy": lambda: {
                k: v for k, v in backend.vjp_from_residuals(case.op, saved, self.g).items() if k in keys
            },
            "torch": functools.partial(torch.autograd.grad, out, inputs, torch.from_numpy(self.g), retain_graph=True),
        }

    @functools.cached_property
    def result_bytes(self) -> int:
        return sum(self.arrays[name].nbytes for name, _ in self.case.grads)

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(self.g.nbytes, self.result_bytes))


@functools.lru_cache(maxsize=1)  # one case's arrays alive at a time: memory stays modest
def prepared(case: Case) -> Prepared:
    return Prepared(case)


@functools.lru_cache(maxsize=1)
def prepared_backward(case: Case) -> PreparedBackward:
    return PreparedBackward(case)


def _assert_agree(ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...], message: str) -> None:
    assert len(ours) == len(theirs), message
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{message}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
        if a.dtype.kind in "iu":
            np.testing.assert_array_equal(a, b, err_msg=message)
        else:
            # Scaled to the result: a weight's gradient sums ~1e4 products, O(100) each.
            scale = max(1.0, float(np.abs(b).max(initial=0.0)))
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * scale, err_msg=message)


def bench(benchmark: Any, record_timing: Any, case: Case, implementation: str, backward: bool = False) -> None:
    """Time ``implementation`` on ``case`` (its backward when ``backward``:
    ``case`` is then the forward case) in the group of the case's name."""
    data = prepared_backward(case) if backward else prepared(case)
    timed = case.backward() if backward else case
    if case.source:
        benchmark.extra_info["source"] = case.source
    call = data.floor if implementation == "floor" else data.calls[implementation]
    run(benchmark, record_timing, timed, implementation, call, data.result_bytes)
    if implementation != "floor":  # untimed: agree with the other implementation
        other = "torch" if implementation == "numpy" else "numpy"
        _assert_agree(data.result(implementation), data.result(other), f"{implementation} vs {other}")


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.name.replace(' ', '-')}-{i}" for c in cases for i in IMPLEMENTATIONS]


def suite(cases: list[Case]) -> tuple[Any, Any]:
    """A suite's two test functions, forward and backward, each parametrized
    over ``(case, implementation)`` (the backward's ids name the backward
    groups); a module binds them to its own ``test_...`` names."""
    params = [(c, i) for c in cases for i in IMPLEMENTATIONS]

    @pytest.mark.parametrize(("case", "implementation"), params, ids=_ids(cases))
    def forward(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
        bench(benchmark, record_timing, case, implementation)

    @pytest.mark.parametrize(("case", "implementation"), params, ids=_ids([c.backward() for c in cases]))
    def backward(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
        bench(benchmark, record_timing, case, implementation, backward=True)

    return forward, backward
