"""``interpolate`` timings: the numpy backend beside torch CPU and the memory floor.

Each case is benchmarked once per implementation in one run, on one input
built from a seeded rng: the numpy backend, torch, and ``floor`` (a plain
copy of the case's bytes, ``measure.Floor``).  Both ops run on one thread:
numpy's elementwise kernels are single-threaded anyway, and torch is pinned
to one thread (and BLAS by OMP/OPENBLAS/MKL_NUM_THREADS=1, see conftest.py),
so the ratio compares kernels, not core counts.

Every case is timed forward and backward.  Backward is the numpy backend's
residual path (``vjp_from_residuals`` on the tables ``forward_with_residuals``
kept) against ``torch.autograd.grad`` on the same input and cotangent; the
forward is left out on both sides (each runs once, untimed: torch's with
``requires_grad``, the timed call being the backward through its graph, kept
with ``retain_graph``).

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
from measure import IMPLEMENTATIONS, Floor, run

from backends import load

# Loose on purpose: this guards against broken kernels, the conformance suite
# checks accuracy.  Inputs are standard normal, so results are O(1).
RTOL = ATOL = 1e-3


@dataclass(frozen=True)
class Case:
    name: str
    shape: tuple[int, ...]
    params: dict[str, Any]
    #: numpy time / torch time the numpy backend aims at; None: reported only.
    target: float | None = 1.0
    #: numpy time / floor time the numpy backend aims at; None: reported only.
    floor_target: float | None = None

    def backward(self) -> Case:
        return Case(f"{self.name} backward", self.shape, self.params, self.target)


CASES = [
    Case("nearest 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "nearest"}, 1.0, 2.0),
    Case("nearest-exact 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "nearest-exact"}, 1.0, 2.0),
    Case(
        "bilinear 2x up",
        (8, 64, 128, 128),
        {"scale_factor": 2, "mode": "bilinear", "align_corners": False},
        1.0,
        2.0,
    ),
    Case("bicubic 2x up", (8, 64, 128, 128), {"scale_factor": 2, "mode": "bicubic", "align_corners": False}),
    Case("area 2x down", (8, 64, 128, 128), {"scale_factor": 0.5, "mode": "area"}, 1.0, 2.0),
    Case("trilinear 2x up", (2, 16, 32, 64, 64), {"scale_factor": 2, "mode": "trilinear", "align_corners": False}),
    Case(
        "bilinear antialias 2x down",
        (8, 64, 128, 128),
        {"scale_factor": 0.5, "mode": "bilinear", "align_corners": False, "antialias": True},
    ),
]
BACKWARD = [c.backward() for c in CASES]


def _as_numpy(result: Any) -> np.ndarray:
    return result.numpy() if isinstance(result, torch.Tensor) else np.asarray(result)


class Prepared:
    """One case's input, its timed calls, and each implementation's result computed at most once."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.x = np.random.default_rng(0).standard_normal(case.shape, dtype=np.float32)
        self.calls = {
            "numpy": functools.partial(load("numpy").interpolate, self.x, **case.params),
            "torch": functools.partial(torch.nn.functional.interpolate, torch.from_numpy(self.x), **case.params),
        }
        self._results: dict[str, np.ndarray] = {}

    def result(self, implementation: str) -> np.ndarray:
        if implementation not in self._results:
            self._results[implementation] = _as_numpy(self.calls[implementation]())
        return self._results[implementation]

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(self.x.nbytes, self.result("torch").nbytes))


class PreparedBackward(Prepared):
    """The forward run once by torch with ``requires_grad`` (its graph kept),
    a seeded cotangent of its output's shape, and the two backward calls."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        x = torch.from_numpy(self.x).requires_grad_(True)
        out = torch.nn.functional.interpolate(x, **case.params)
        self.g = np.random.default_rng(1).standard_normal(tuple(out.shape), dtype=np.float32)
        backend = load("numpy")
        saved = backend.forward_with_residuals("interpolate", self.x, **case.params)[1]
        self.calls = {
            "numpy": functools.partial(backend.vjp_from_residuals, "interpolate", saved, self.g),
            "torch": functools.partial(torch.autograd.grad, out, (x,), torch.from_numpy(self.g), retain_graph=True),
        }

    def result(self, implementation: str) -> np.ndarray:
        if implementation not in self._results:
            result = self.calls[implementation]()
            self._results[implementation] = _as_numpy(result["x"] if isinstance(result, dict) else result[0])
        return self._results[implementation]

    @functools.cached_property
    def floor(self) -> Floor:
        return Floor(max(self.x.nbytes, self.g.nbytes))


@functools.lru_cache(maxsize=1)  # one case's arrays alive at a time: memory stays modest
def prepared(name: str) -> Prepared:
    return Prepared(next(c for c in CASES if c.name == name))


@functools.lru_cache(maxsize=1)
def prepared_backward(name: str) -> PreparedBackward:
    return PreparedBackward(next(c for c in CASES if c.backward().name == name))


def _bench(benchmark: Any, record_timing: Any, case: Case, implementation: str, data: Prepared) -> None:
    benchmark.extra_info["params"] = case.params
    call = data.floor if implementation == "floor" else data.calls[implementation]
    result_bytes = data.x.nbytes if isinstance(data, PreparedBackward) else data.result("torch").nbytes
    run(benchmark, record_timing, case, implementation, call, result_bytes)
    if implementation == "floor":
        return
    # Untimed: agree with the other implementation.
    other = "torch" if implementation == "numpy" else "numpy"
    np.testing.assert_allclose(
        data.result(implementation), data.result(other), rtol=RTOL, atol=ATOL, err_msg=f"{implementation} vs {other}"
    )


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.name.replace(' ', '-')}-{i}" for c in cases for i in IMPLEMENTATIONS]


@pytest.mark.parametrize(
    ("case", "implementation"), [(c, i) for c in CASES for i in IMPLEMENTATIONS], ids=_ids(CASES)
)
def test_interpolate(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    _bench(benchmark, record_timing, case, implementation, prepared(case.name))


@pytest.mark.parametrize(
    ("case", "implementation"), [(c, i) for c in BACKWARD for i in IMPLEMENTATIONS], ids=_ids(BACKWARD)
)
def test_interpolate_backward(benchmark: Any, record_timing: Any, case: Case, implementation: str) -> None:
    _bench(benchmark, record_timing, case, implementation, prepared_backward(case.name))
