"""Timings of the other upsampling ops: the numpy backend beside torch CPU.

Same scheme as ``test_bench_interpolate.py``: each case is benchmarked once per
implementation in one run, on inputs built once from a seeded rng, one thread
each (see conftest.py).  Timings are only reported, in the same summary table;
what is asserted, outside the timed part, is that the two implementations
agree (values to a loose tolerance, ``max_pool`` indices exactly).

``max_unpool`` unpools what ``max_pool2d`` made of a random input: its values
and indices are computed once, by torch, when the case's inputs are built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backends import load

# Loose on purpose, as for interpolate: a guard against broken kernels.
RTOL = ATOL = 1e-3
ROUNDS = 7

Arrays = dict[str, np.ndarray]


def _conv_transpose_inputs(rng: np.random.Generator) -> Arrays:
    x = rng.standard_normal((8, 64, 64, 64), dtype=np.float32)
    # Scaled so that the 64 * 4 terms of each output sum to O(1).
    weight = rng.standard_normal((64, 32, 4, 4), dtype=np.float32) / np.float32(16)
    return {"x": x, "weight": weight}


def _pixel_shuffle_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 256, 64, 64), dtype=np.float32)}


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
    #: ``(backend, arrays) -> result`` and ``(tensors) -> result``: the timed calls.
    numpy: Callable[[Any, Arrays], Any]
    torch: Callable[[dict[str, torch.Tensor]], Any]
    #: numpy time / torch time the numpy backend aims at; None: reported only.
    target: float | None


CASES = [
    Case(
        "conv_transpose2d k4 s2 p1",
        (8, 64, 64, 64),
        _conv_transpose_inputs,
        lambda nb, a: nb.conv_transpose(a["x"], a["weight"], None, stride=2, padding=1),
        lambda t: F.conv_transpose2d(t["x"], t["weight"], None, stride=2, padding=1),
        2.0,
    ),
    Case(
        "pixel_shuffle r2",
        (8, 256, 64, 64),
        _pixel_shuffle_inputs,
        lambda nb, a: nb.pixel_shuffle(a["x"], 2),
        lambda t: F.pixel_shuffle(t["x"], 2),
        1.5,
    ),
    Case(
        "max_unpool2d 2x2 to 128x128",
        (8, 64, 64, 64),
        _unpool_inputs,
        lambda nb, a: nb.max_unpool(a["values"], a["indices"], (2, 2)),
        lambda t: F.max_unpool2d(t["values"], t["indices"], 2),
        1.5,
    ),
    Case(
        "max_pool2d 2x2 + indices",
        (8, 64, 128, 128),
        _pool_inputs,
        lambda nb, a: nb.max_pool(a["x"], (2, 2)),
        lambda t: F.max_pool2d(t["x"], 2, return_indices=True),
        None,
    ),
]
IMPLEMENTATIONS = ("numpy", "torch")


def _as_numpy(result: Any) -> tuple[np.ndarray, ...]:
    """A result as a tuple of arrays (``max_pool`` gives two)."""
    parts = result if isinstance(result, tuple) else (result,)
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


@functools.lru_cache(maxsize=1)  # one case's arrays alive at a time: memory stays modest
def prepared(name: str) -> Prepared:
    return Prepared(next(c for c in CASES if c.name == name))


def _assert_agree(ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...], message: str) -> None:
    assert len(ours) == len(theirs), message
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{message}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
        if a.dtype.kind in "iu":
            np.testing.assert_array_equal(a, b, err_msg=message)
        else:
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=message)


@pytest.mark.parametrize(
    ("case", "implementation"),
    [(c, i) for c in CASES for i in IMPLEMENTATIONS],
    ids=[f"{c.name.replace(' ', '-')}-{i}" for c in CASES for i in IMPLEMENTATIONS],
)
def test_other_ops(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    data = prepared(case.name)
    benchmark.group = case.name
    benchmark.extra_info.update(shape=list(case.shape))
    result = benchmark.pedantic(data.calls[implementation], rounds=ROUNDS, iterations=1, warmup_rounds=1)

    # Untimed: agree with the other implementation.
    other = next(i for i in IMPLEMENTATIONS if i != implementation)
    _assert_agree(_as_numpy(result), data.result(other), f"{implementation} vs {other}")
    record_timing(case.name, case.shape, implementation, case.target, benchmark)
