"""The speed-up of ``python -m conformance run --jobs 2`` over ``--jobs 1``.

The same run (the default backends, three ops, a fixed seed) is timed once
with each, wall clock, start-up included (each job process and each of its
workers imports torch).  Printed, never asserted: the speed-up (the aim is
1.7x or more on two cores, less where other work shares them) and whether
the two runs recorded the same results per cell (cases, statuses, messages),
which they must.  Each run is a separate process, so the one-thread settings
of ``conftest.py`` apply to both alike.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = [
    "run",
    "--op", "pixel_shuffle",
    "--op", "max_unpool",
    "--op", "conv_transpose",
    "--examples", "150",
    "--seed", "0",
    "--quiet",
]  # fmt: skip
#: Per ``--jobs``: wall seconds, CPU seconds (the run's processes, all of them), the results per cell.
_RUNS: dict[int, tuple[float, float, dict[tuple[str, ...], list[str]]]] = {}


def _per_cell(path: Path) -> dict[tuple[str, ...], list[str]]:
    cells: dict[tuple[str, ...], list[str]] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r.get("type") == "result":
            key = (r["backend"], r["op"], r["mode"], r.get("direction", "forward"))
            cells.setdefault(key, []).append(json.dumps([r["case"], r["status"], r["message"]], sort_keys=True))
    return {k: sorted(v) for k, v in cells.items()}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(jobs: int, results: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    cpu, start = _cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", *RUN, "--jobs", str(jobs), "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return proc, time.perf_counter() - start, _cpu() - cpu


@pytest.mark.parametrize("jobs", [1, 2])
def test_conformance_run_jobs(benchmark: Any, jobs: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark.group = "conformance run --jobs (wall time)"
    benchmark.extra_info["command"] = " ".join(["python -m conformance", *RUN, "--jobs", str(jobs)])
    results = tmp_path / "r.jsonl"
    proc, seconds, cpu = benchmark.pedantic(_run, args=(jobs, results), rounds=1, iterations=1)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: a non-conforming case, still timed
    _RUNS[jobs] = (seconds, cpu, _per_cell(results))
    if jobs == 1 or 1 not in _RUNS:
        return
    (serial, serial_cpu, expected), (parallel, parallel_cpu, got) = _RUNS[1], _RUNS[2]
    same = "identical" if got == expected else "DIFFERENT"
    with capsys.disabled():
        print(
            f"\nconformance run, {len(expected)} cells, {os.cpu_count()} cores: "
            f"--jobs 1 {serial:.1f} s ({serial_cpu:.1f} s CPU), --jobs 2 {parallel:.1f} s ({parallel_cpu:.1f} s CPU): "
            f"speed-up {serial / parallel:.2f}x (aim >= 1.7x on 2 cores); results per cell {same}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
