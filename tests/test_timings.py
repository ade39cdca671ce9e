"""Timings that mean something: the first case of a cell is timed after a
warm-up call on both sides (yet its first call's outputs are the ones judged),
and a cell's speed is the median of per-case ratios with its quartiles, so a
few slow calls cannot decide it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from backends.numpy_backend import NumpyBackend
from conformance import execute
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.verdict import check_case
from reports.data import quantile, tally
from reports.summary import render, tabulate


def case(size: int, mode: str = "bilinear") -> Case:
    return Case("interpolate", InputSpec((1, 2, 3, 4), "float32"), {"mode": mode, "size": (size, size)})


class SlowFirstCall(NumpyBackend):
    """Pays 0.2 s of set-up on its first call of each op, as a lazy kernel does."""

    name = "slow-first-call"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def interpolate(self, x, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            time.sleep(0.2)
        return super().interpolate(x, *args, **kwargs)


class WrongOnFirstCall(NumpyBackend):
    """Right on every call but its first: a warm-up must not hide that call."""

    name = "wrong-on-first-call"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def interpolate(self, x, *args, **kwargs):
        self.calls += 1
        out = super().interpolate(x, *args, **kwargs)
        return out + 1 if self.calls == 1 else out


@pytest.fixture(autouse=True)
def cold(monkeypatch):
    """Every test starts with no cell warmed in this process."""
    monkeypatch.setattr(execute, "_warmed", set())


def test_the_first_case_of_a_cell_is_timed_after_a_warm_up():
    backend = SlowFirstCall()
    r = check_case(case(5), backend, Oracle())
    assert r.status == "pass" and backend.calls == 2
    assert r.time_s < 0.1, "the set-up of the first call was timed"
    assert check_case(case(6), backend, Oracle()).status == "pass" and backend.calls == 3  # no second warm-up


class CompilesOnEachSize(NumpyBackend):
    """A JIT: compiles (0.2 s) on the first call of each output size."""

    name = "compiles-on-each-size"
    compiles = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: set = set()

    def interpolate(self, x, *args, **kwargs):
        key = str(kwargs.get("size"))
        if key not in self.seen:
            self.seen.add(key)
            time.sleep(0.2)
        return super().interpolate(x, *args, **kwargs)


def test_the_first_call_is_kept_apart_from_the_steady_state():
    """The warm-up call's time is recorded (``first_call_s``) on the cell's first case only."""
    backend = SlowFirstCall()
    first, later = (check_case(case(n), backend, Oracle()) for n in (5, 6))
    assert first.extra["first_call_s"] >= 0.2 > first.time_s
    assert "first_call_s" not in later.extra


def test_every_case_of_a_backend_that_compiles_is_timed_after_its_first_call():
    """A new signature on a later case compiles too: its compile time is no kernel time."""
    backend = CompilesOnEachSize()
    results = [check_case(case(n), backend, Oracle()) for n in (5, 6, 7)]
    assert all(r.status == "pass" for r in results)
    assert all(r.extra["first_call_s"] >= 0.2 > r.time_s for r in results)
    counts = tally([r.to_json() for r in results])
    assert counts.timing is not None and counts.timing.first_call_s >= 0.2 > counts.timing.time_s


def test_the_warm_up_does_not_hide_the_first_calls_outputs():
    r = check_case(case(5), WrongOnFirstCall(), Oracle())
    assert r.status == "fail"


def test_torch_is_warmed_up_too(monkeypatch):
    oracle, runs = Oracle(), []
    run = oracle._run_torch
    monkeypatch.setattr(oracle, "_run_torch", lambda c, a: (runs.append(c), run(c, a))[1])
    oracle.run_torch(case(5), {"x": np.ones((1, 2, 3, 4), np.float32)})
    oracle.run_torch(case(6), {"x": np.ones((1, 2, 3, 4), np.float32)})
    oracle.run_torch(case(5, "bicubic"), {"x": np.ones((1, 2, 3, 4), np.float32)})
    assert len(runs) == 5  # twice for each cell's first case, once after


def record(t: float, tt: float) -> dict:
    return {
        "type": "result",
        "backend": "bk",
        "op": "pixel_shuffle",
        "mode": "all",
        "dtype": "float32",
        "status": "pass",
        "time_s": t,
        "torch_time_s": tt,
        "minimal": False,
    }


def test_a_few_slow_calls_do_not_decide_a_cells_ratio():
    # torch's first call paid 50 ms of set-up; every case is 8 us against torch's 13 us
    records = [record(8e-6, 0.05)] + [record(8e-6, 13e-6) for _ in range(20)]
    timing = tally(records).timing
    assert timing is not None and timing.cases == 21
    assert timing.ratio == pytest.approx(8 / 13)
    assert timing.low == pytest.approx(8 / 13) and timing.high == pytest.approx(8 / 13)
    assert timing.time_s == pytest.approx(8e-6) and timing.torch_time_s == pytest.approx(13e-6)
    assert "0.62x(0.62-0.62)" in render(tabulate(records))


def test_the_spread_is_the_middle_half_of_the_per_case_ratios():
    timing = tally([record(r, 1.0) for r in (1, 2, 3, 4, 5)]).timing
    assert (timing.low, timing.ratio, timing.high) == (2, 3, 4)
    assert timing.spread == "2.00-4.00x"
    assert quantile([1.0, 2.0], 0.5) == 1.5


def test_no_time_reads_as_a_dash():
    records = [dict(record(0, 0), time_s=None, torch_time_s=None)]
    assert tally(records).timing is None
    assert render(tabulate(records)).splitlines()[-1].rstrip().endswith("-")
