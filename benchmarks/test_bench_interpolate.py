"""``interpolate`` timings: the numpy backend beside torch CPU on the same input.

Each case is benchmarked twice in one run, once per implementation, on one
input built from a seeded rng.  Both run on one thread: numpy's elementwise
kernels are single-threaded anyway, and torch is pinned to one thread here (and
BLAS by OMP/OPENBLAS/MKL_NUM_THREADS=1, see conftest.py), so the ratio compares
kernels, not core counts.

Timings are only measured and reported (``pytest_terminal_summary`` in
conftest.py prints the ratios against their targets); they are never asserted.
What is asserted, once per benchmark and outside the timed part, is that the
result agrees with the other implementation's, so that a broken kernel is not
reported as fast.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from backends import load

# Loose on purpose: this guards against broken kernels, the conformance suite
# checks accuracy.  Inputs are standard normal, so results are O(1).
RTOL = ATOL = 1e-3
ROUNDS = 7


@dataclass(frozen=True)
class Case:
    name: str
    shape: tuple[int, ...]
    params: dict[str, Any]
    #: numpy time / torch time the numpy backend aims at; None: reported only.
    target: float | None


CASES = [
    Case("nearest 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "nearest"}, 1.0),
    Case("bilinear 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}, 1.5),
    Case("bicubic 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "bicubic", "align_corners": False}, 2.5),
    Case("area 2x down", (8, 64, 128, 128), {"scale_factor": 0.5, "mode": "area"}, 1.5),
    Case(
        "trilinear 2x up",
        (2, 16, 32, 64, 64),
        {"scale_factor": 2, "mode": "trilinear", "align_corners": False},
        1.5,
    ),
    Case(
        "bilinear antialias 2x down",
        (8, 64, 128, 128),
        {"scale_factor": 0.5, "mode": "bilinear", "align_corners": False, "antialias": True},
        None,
    ),
]
IMPLEMENTATIONS = ("numpy", "torch")


def _numpy_call(case: Case, x: np.ndarray) -> Any:
    backend = load("numpy")
    return functools.partial(backend.interpolate, x, **case.params)


def _torch_call(case: Case, x: np.ndarray) -> Any:
    return functools.partial(torch.nn.functional.interpolate, torch.from_numpy(x), **case.params)


CALLS = {"numpy": _numpy_call, "torch": _torch_call}


def _as_numpy(result: Any) -> np.ndarray:
    return result.numpy() if isinstance(result, torch.Tensor) else np.asarray(result)


class Prepared:
    """One case's input, and each implementation's result computed at most once."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.x = np.random.default_rng(0).standard_normal(case.shape, dtype=np.float32)
        self._results: dict[str, np.ndarray] = {}

    def result(self, implementation: str) -> np.ndarray:
        if implementation not in self._results:
            self._results[implementation] = _as_numpy(CALLS[implementation](self.case, self.x)())
        return self._results[implementation]


@functools.lru_cache(maxsize=1)  # one case's arrays alive at a time: memory stays modest
def prepared(name: str) -> Prepared:
    return Prepared(next(c for c in CASES if c.name == name))


@pytest.mark.parametrize(
    ("case", "implementation"),
    [(c, i) for c in CASES for i in IMPLEMENTATIONS],
    ids=[f"{c.name.replace(' ', '-')}-{i}" for c in CASES for i in IMPLEMENTATIONS],
)
def test_interpolate(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    data = prepared(case.name)
    benchmark.group = case.name
    benchmark.extra_info.update(shape=list(case.shape), params=case.params)
    result = benchmark.pedantic(CALLS[implementation](case, data.x), rounds=ROUNDS, iterations=1, warmup_rounds=1)

    # Untimed: agree with the other implementation.
    other = next(i for i in IMPLEMENTATIONS if i != implementation)
    np.testing.assert_allclose(
        _as_numpy(result), data.result(other), rtol=RTOL, atol=ATOL, err_msg=f"{implementation} vs {other}"
    )
    record_timing(case.name, case.shape, implementation, case.target, benchmark)
