"""Benchmark session setup and the numpy-vs-torch summary table.

Both implementations run on one thread: numpy's elementwise kernels are
single-threaded, so torch is pinned with ``torch.set_num_threads(1)`` and BLAS
(which numpy's matmul uses) with the ``*_NUM_THREADS`` variables, set here
unless the caller (``tox -e bench``) already set them.  They only take effect
when set before numpy loads BLAS, hence at import time of this file.

Speed is measured, never asserted: a ratio above its target is printed as
MISSED in the table, and the session still passes.  Each case's group also
times ``floor`` (``Floor``: a plain copy of the case's bytes), the yardstick
no kernel moving those bytes can beat, and the numpy backend's peak memory
per call is measured once, untimed (``measure.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# ``pytest benchmarks`` from a checkout that is not installed: import the repo's packages.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import torch  # noqa: E402

torch.set_num_threads(1)  # numpy is single-threaded: compare one thread with one thread

from reports.bench import PEAK_TARGET, BenchRow, summary_lines  # noqa: E402

_TIMINGS = pytest.StashKey[dict[str, BenchRow]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TIMINGS] = {}


@pytest.fixture
def record_timing(request: pytest.FixtureRequest) -> Any:
    """``record_timing(case, shape, implementation, benchmark, target=...,
    floor_target=..., peak=..., result_bytes=...)`` keeps the benchmark's
    median for the summary table (nothing when benchmarks are disabled) and
    puts the targets, peak and result size in its ``extra_info`` (the JSON
    file, read by ``reports/bench.py``)."""

    def record(
        case: str,
        shape: tuple[int, ...],
        implementation: str,
        benchmark: Any,
        *,
        target: float | None = None,
        floor_target: float | None = None,
        peak: int | None = None,
        result_bytes: int | None = None,
    ) -> None:
        benchmark.extra_info.update(target=target, floor_target=floor_target, result_bytes=result_bytes)
        if peak is not None:
            benchmark.extra_info["peak_bytes"] = peak
        if not benchmark.stats:
            return
        row = request.config.stash[_TIMINGS].setdefault(case, BenchRow(case, "x".join(map(str, shape))))
        row.target, row.floor_target = target, floor_target
        row.result_bytes = row.result_bytes or result_bytes
        row.medians[implementation] = benchmark.stats["median"]
        if peak is not None:
            row.peaks[implementation] = peak

    return record


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    rows = config.stash.get(_TIMINGS, {})
    if not rows:
        return
    terminalreporter.section("numpy backend vs torch CPU and the memory floor (1 thread each, median)")
    forward = [r for r in rows.values() if not r.backward]
    backward = [r for r in rows.values() if r.backward]
    for title, group in (("forward", forward), ("backward (vjp vs torch.autograd.grad)", backward)):
        if group:
            terminalreporter.write_line(f"-- {title}")
            for line in summary_lines(group):
                terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"torch threads: {torch.get_num_threads()}; x torch = numpy / torch (target <= 1), "
        "x floor = numpy / a copy of the case's bytes (target <= 2 where set), "
        f"peak = numpy's most memory allocated at once per call, tracemalloc (target <= {PEAK_TARGET:g}x its result); "
        "targets are goals, not assertions"
    )
