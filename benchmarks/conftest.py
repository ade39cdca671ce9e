"""Benchmark session setup and the numpy-vs-torch summary table.

Both implementations run on one thread: numpy's elementwise kernels are
single-threaded, so torch is pinned with ``torch.set_num_threads(1)`` and BLAS
(which numpy's matmul uses) with the ``*_NUM_THREADS`` variables, set here
unless the caller (``tox -e bench``) already set them.  They only take effect
when set before numpy loads BLAS, hence at import time of this file.

Speed is measured, never asserted: a ratio above its target is printed as
MISSED in the table, and the session still passes.
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

_TIMINGS = pytest.StashKey[dict]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TIMINGS] = {}


@pytest.fixture
def record_timing(request: pytest.FixtureRequest) -> Any:
    """``record_timing(case, shape, implementation, target, benchmark)`` keeps the
    benchmark's median for the summary table (nothing when benchmarks are disabled)."""

    def record(case: str, shape: tuple[int, ...], implementation: str, target: float | None, benchmark: Any) -> None:
        if benchmark.stats:
            row = request.config.stash[_TIMINGS].setdefault(case, {"shape": shape, "target": target})
            row[implementation] = benchmark.stats["median"]

    return record


def _target_text(target: float | None) -> str:
    return "none" if target is None else f"<= {target:g}"


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    timings = config.stash.get(_TIMINGS, {})
    if not timings:
        return
    write = terminalreporter.write_line
    terminalreporter.section("numpy backend vs torch CPU (1 thread each, median)")
    write(f"{'case':<28} {'shape':<20} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}  {'target':<7} result")
    for case, row in timings.items():
        numpy_s, torch_s, target = row.get("numpy"), row.get("torch"), row["target"]
        shape = "x".join(map(str, row["shape"]))
        if numpy_s is None or torch_s is None:
            write(f"{case:<28} {shape:<20} incomplete: a benchmark failed or was deselected")
            continue
        ratio = numpy_s / torch_s
        if target is None:
            verdict = "reported"
        else:
            verdict = "met" if ratio <= target else "MISSED"
        write(
            f"{case:<28} {shape:<20} {numpy_s * 1e3:9.1f} {torch_s * 1e3:9.1f} {ratio:6.2f}  "
            f"{_target_text(target):<7} {verdict}"
        )
    write(f"torch threads: {torch.get_num_threads()}; ratio = numpy / torch; targets are goals, not assertions")
