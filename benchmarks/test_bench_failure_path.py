"""The failure path: a run of the broken mix of issue 33 beside the same run
of numpy alone.

The mix is numpy and six backends that break every interpolate call
(``tests/broken_backends.py``: one crashes, one hangs, one asks for a
terabyte, one changes its input, one returns the wrong shape, one puts a
NaN in), checked on all of interpolate at 40 examples per cell, the run's
default ``--jobs``.  Each run is timed once, wall clock, start-up included.
Printed, never asserted: both wall times and the mix's exit status, and
whether every broken backend failed with a minimal case (they must;
docs/robustness.md gives the time measured).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.broken_backends import BROKEN_MIX  # noqa: E402

RUN = ["run", "--op", "interpolate", "--examples", "40", "--seed", "0", "--quiet"]
RUNS = {
    "numpy": ["--backend", "numpy"],
    "broken-mix": ["--backend", "numpy", *(a for spec in BROKEN_MIX for a in ("--backend", spec))],
}
#: Per run: wall seconds, exit status, the backends with a minimal failing case.
_TIMES: dict[str, tuple[float, int, set[str]]] = {}


def _run(backends: list[str], results: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", *RUN, *backends, "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return proc, time.perf_counter() - start


def _minimal(path: Path) -> set[str]:
    records = (json.loads(line) for line in path.read_text().splitlines())
    return {r["backend"] for r in records if r.get("type") == "result" and r.get("minimal")}


@pytest.mark.parametrize("name", list(RUNS))
def test_failure_path(benchmark: Any, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark.group = "conformance run --op interpolate --examples 40 (wall time)"
    benchmark.extra_info["command"] = " ".join(["python -m conformance", *RUN, *RUNS[name]])
    results = tmp_path / "r.jsonl"
    proc, seconds = benchmark.pedantic(_run, args=(RUNS[name], results), rounds=1, iterations=1)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    _TIMES[name] = (seconds, proc.returncode, _minimal(results))
    if len(_TIMES) < len(RUNS):
        return
    (alone, _, _), (mix, status, minimal) = _TIMES["numpy"], _TIMES["broken-mix"]
    named = sum(1 for spec in BROKEN_MIX if f"broken-{spec.rpartition(':')[2].lower()}" in minimal)
    with capsys.disabled():
        print(
            f"\nfailure path, {os.cpu_count()} cores: numpy alone {alone:.1f} s, the broken mix {mix:.1f} s "
            f"({mix / 60:.1f} min; aim < 3 min), exit {status} (must be 1), "
            f"{named} of {len(BROKEN_MIX)} broken backends with a minimal case (must be all); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
