"""Timings of the other upsampling ops: the numpy backend beside torch CPU and the floor.

Same scheme as ``test_bench_interpolate.py``: each case is benchmarked once per
implementation (numpy, torch, ``floor``) in one run, on inputs built once from
a seeded rng, one thread each (see conftest.py), forward and backward
(``vjp`` against ``torch.autograd.grad`` through a graph built once, untimed).
Timings are only reported, in the same summary table; what is asserted,
outside the timed part, is that the two implementations agree (values to a
loose tolerance, ``max_pool`` indices exactly).

``max_pool``'s ``vjp`` takes the input, not the indices (the backend
protocol's contract), so it runs the forward again inside; torch's backward
reads the indices its forward saved.  That difference is the contract's and is
timed as such.

``max_unpool`` unpools what ``max_pool2d`` made of a random input: its values
and indices are computed once, by torch, when the case's inputs are built.
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
import torch.nn.functional as F
from measure import IMPLEMENTATIONS, Floor, nbytes, run

from backends import load

# Loose on purpose, as for interpolate: a guard against broken kernels.
RTOL = ATOL = 1e-3

Arrays = dict[str, np.ndarray]


def _conv_transpose_inputs(rng: np.random.Generator) -> Arrays:
    x = rng.standard_normal((8, 64, 64, 64), dtype=np.float32)
    # Scaled so that the 64 * 4 terms of each output sum to O(1).
    weight = rng.standard_normal((64, 32, 4, 4), dtype=np.float32) / np.float32(16)
    return {"x": x, "weight": weight}


def _pixel_shuffle_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 256, 64, 64), dtype=np.float32)}


def _unshuffle_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 64, 128, 128), dtype=np.float32)}


def _pool_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 64, 128, 128), dtype=np.float32)}


def _unpool_inputs(rng: np.random.Generator) -> Arrays:
    x = torch.from_numpy(rng.standard_normal((8, 64, 128, 128), dtype=np.float32))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    return {"values": values.numpy(), "indices": indices.numpy()}


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

    def backward(self) -> Case:
        return dataclasses.replace(self, name=f"{self.name} backward", floor_target=None)


CASES = [
    Case(
        "conv_transpose2d k4 s2 p1",
        (8, 64, 64, 64),
        _conv_transpose_inputs,
        lambda nb, a: nb.conv_transpose(a["x"], a["weight"], None, stride=2, padding=1),
        lambda t: F.conv_transpose2d(t["x"], t["weight"], None, stride=2, padding=1),
        "conv_transpose",
        lambda a: (a["x"], {"weight": a["weight"], "stride": 2, "padding": 1}),
        (("x", "x"), ("weight", "weight")),
    ),
    Case(
        "pixel_shuffle r2",
        (8, 256, 64, 64),
        _pixel_shuffle_inputs,
        lambda nb, a: nb.pixel_shuffle(a["x"], 2),
        lambda t: F.pixel_shuffle(t["x"], 2),
        "pixel_shuffle",
        lambda a: (a["x"], {"upscale_factor": 2}),
        floor_target=2.0,
    ),
    Case(
        "pixel_unshuffle r2",
        (8, 64, 128, 128),
        _unshuffle_inputs,
        lambda nb, a: nb.pixel_unshuffle(a["x"], 2),
        lambda t: F.pixel_unshuffle(t["x"], 2),
        "pixel_unshuffle",
        lambda a: (a["x"], {"downscale_factor": 2}),
    ),
    Case(
        "max_unpool2d 2x2 to 128x128",
        (8, 64, 64, 64),
        _unpool_inputs,
        lambda nb, a: nb.max_unpool(a["values"], a["indices"], (2, 2)),
        lambda t: F.max_unpool2d(t["values"], t["indices"], 2),
        "max_unpool",
        lambda a: (a["values"], {"indices": a["indices"], "kernel_size": (2, 2)}),
        (("values", "x"),),
    ),
    Case(
        "max_pool2d 2x2 + indices",
        (8, 64, 128, 128),
        _pool_inputs,
        lambda nb, a: nb.max_pool(a["x"], (2, 2)),
        lambda t: F.max_pool2d(t["x"], 2, return_indices=True),
        "max_pool",
        lambda a: (a["x"], {"kernel_size": (2, 2)}),
    ),
]
BACKWARD = [c.backward() for c in CASES]


def _as_numpy(result: Any) -> tuple[np.ndarray, ...]:
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
            self._results[implementation] = _as_numpy(self.calls[implementation]())
        return self._results[implementation]

    @functools.cached_property
    def result_bytes(self) -> int:
        return nbytes(self.result("torch"))

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(nbytes(self.arrays), self.result_bytes))


class PreparedBackward(Prepared):
    """torch's forward run once with ``requires_grad`` on the differentiable
    inputs (its graph kept), a seeded cotangent of its output's shape (of the
    values, for ``max_pool``), and the two backward calls."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        tensors = {k: torch.from_numpy(v) for k, v in self.arrays.items()}
        inputs = tuple(tensors[name].requires_grad_(True) for name, _ in case.grads)
        out = case.torch(tensors)
        out = out[0] if isinstance(out, tuple) else out
        self.g = np.random.default_rng(1).standard_normal(tuple(out.shape), dtype=np.float32)
        x, kwargs = case.vjp_args(self.arrays)
        vjp = functools.partial(load("numpy").vjp, case.op, self.g, x, **kwargs)
        keys = [key for _, key in case.grads]
        self.calls = {
            "numpy": lambda: {k: v for k, v in vjp().items() if k in keys},
            "torch": functools.partial(torch.autograd.grad, out, inputs, torch.from_numpy(self.g), retain_graph=True),
        }

    @functools.cached_property
    def result_bytes(self) -> int:
        return sum(self.arrays[name].nbytes for name, _ in self.case.grads)

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(self.g.nbytes, self.result_bytes))


@functools.lru_cache(maxsize=1)  # one case's arrays alive at a time: memory stays modest
def prepared(name: str) -> Prepared:
    return Prepared(next(c for c in CASES if c.name == name))


@functools.lru_cache(maxsize=1)
def prepared_backward(name: str) -> PreparedBackward:
    return PreparedBackward(next(c for c in BACKWARD if c.name == name))


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


def _bench(benchmark: Any, record_timing: Any, case: Case, implementation: str, data: Prepared) -> None:
    call = data.floor if implementation == "floor" else data.calls[implementation]
    run(benchmark, record_timing, case, implementation, call, data.result_bytes)
    if implementation != "floor":  # untimed: agree with the other implementation
        other = "torch" if implementation == "numpy" else "numpy"
        _assert_agree(data.result(implementation), data.result(other), f"{implementation} vs {other}")


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.name.replace(' ', '-')}-{i}" for c in cases for i in IMPLEMENTATIONS]


@pytest.mark.parametrize(
    ("case", "implementation"), [(c, i) for c in CASES for i in IMPLEMENTATIONS], ids=_ids(CASES)
)
def test_other_ops(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    _bench(benchmark, record_timing, case, implementation, prepared(case.name))


@pytest.mark.parametrize(
    ("case", "implementation"), [(c, i) for c in BACKWARD for i in IMPLEMENTATIONS], ids=_ids(BACKWARD)
)
def test_other_ops_backward(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    _bench(benchmark, record_timing, case, implementation, prepared_backward(case.name))
