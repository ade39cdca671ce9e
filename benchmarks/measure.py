"""What the benchmark modules share: the memory floor, peak memory, result sizes.

Imported as ``measure`` (pytest puts ``benchmarks/`` on ``sys.path``, as for
``conftest.py``); ``conftest.py`` has set the thread counts before numpy loads.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

#: Implementations timed in every group: the numpy backend, torch, and the floor.
IMPLEMENTATIONS = ("numpy", "torch", "floor")
#: Rounds per benchmark (one warm-up round before them, untimed); fewer with
#: ``BENCH_ROUNDS`` for a quick look while developing.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def peak_bytes(call: Callable[[], Any]) -> tuple[int, Any]:
    """The most memory ``call()`` had allocated at once (its result included),
    as tracemalloc sees it, and the result.  NumPy reports its array buffers
    to tracemalloc, torch's allocator does not: only numpy calls are measured.
    Run outside the timed part (tracing slows allocation)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        if not was_tracing:
            tracemalloc.stop()


def nbytes(result: Any) -> int:
    """The size of a result: an array, a tensor, or a tuple / dict of them."""
    if isinstance(result, dict):
        return sum(nbytes(v) for v in result.values())
    if isinstance(result, (tuple, list)):
        return sum(nbytes(v) for v in result)
    return int(result.nbytes)


class Floor:
    """The memory floor of a case: a copy of ``size`` bytes into a preallocated
    array.  ``size`` is the larger of what the op reads and writes: for the
    growing and same-size cases that is the output (the issue's "copy into an
    output-sized array"); for shrinking ones (area, antialias 2x down,
    max_pool) the input, since an output-sized copy would be cheaper than
    merely reading it.  Both buffers are written once here, so page faults
    stay out of the timing."""

    def __init__(self, size: int) -> None:
        self.src = np.ones(size, dtype=np.uint8)
        self.dst = np.zeros(size, dtype=np.uint8)

    def __call__(self) -> None:
        np.copyto(self.dst, self.src)


def run(
    benchmark: Any,
    record_timing: Any,
    case: Any,
    implementation: str,
    call: Callable[[], Any],
    result_bytes: int,
) -> Any:
    """Time ``call`` as ``implementation`` in ``case``'s group (``case`` has
    ``name``, ``shape``, ``target``, ``floor_target``), measure the numpy
    backend's peak memory once more, untimed, and record both for the table.
    Returns the timed call's result, for the caller's agreement check."""
    benchmark.group = case.name
    benchmark.extra_info["shape"] = list(case.shape)
    result = benchmark.pedantic(call, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    peak = peak_bytes(call)[0] if implementation == "numpy" and benchmark.stats else None
    record_timing(
        case.name,
        case.shape,
        implementation,
        benchmark,
        target=case.target,
        floor_target=case.floor_target,
        peak=peak,
        result_bytes=result_bytes,
    )
    return result
