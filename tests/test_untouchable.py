"""Verdicts that the backend under test cannot move (``conformance.isolation``).

The same wrong backend (bilinear results 0.01 too high) with each kind of
tampering on top, run beside it, beside numpy and beside backends whose
modules raise or exit at import, in one run: each tampering backend fails
exactly the cells the untampered one fails, numpy passes, the backends that
did not load are reported as such, and the run ends normally.  This module
imports none of them: they load in their workers alone.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from tests.cli_runner import run_cli

WRONG = "tests.tampering_backends:AddsOneHundredth"
TAMPERING = [
    f"tests.tampering_backends:{name}"
    for name in (
        "PatchesFunctional",
        "OverridesAtenKernel",
        "PatchesNumpyComparisons",
        "PatchesReference",
        "ChangesTorchState",
        "FloodsStdout",
    )
]
DID_NOT_LOAD = {"tests.raises_at_import:Backend": "RuntimeError", "tests.exits_at_import:Backend": "SystemExit"}


def _failing_cells(records: list[dict], backend: str) -> set[tuple[str, str]]:
    return {(r["mode"], r["direction"]) for r in records if r["backend"] == backend and r["status"] == "fail"}


def test_tampering_moves_no_verdict_and_a_backend_that_does_not_load_stops_no_other(tmp_path):
    results = tmp_path / "r.jsonl"
    specs = ["numpy", WRONG, *TAMPERING, *DID_NOT_LOAD]
    argv = [a for spec in specs for a in ("--backend", spec)]
    proc = run_cli(
        "run", *argv, "--op", "interpolate", "--mode", "bilinear", "--mode", "nearest", "--no-grad",
        "--examples", "10", "--seed", "1", "--results", str(results), "--quiet", "--jobs", "1",
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    found = [r for r in records if r.get("type") == "result"]
    names = {r["spec"]: r["name"] for r in records if r.get("type") == "backend"}
    assert all(r["status"] in ("pass", "unsupported") for r in found if r["backend"] == "numpy")
    wrong = _failing_cells(found, names[WRONG])
    assert wrong == {("bilinear", "forward")}, wrong
    for spec in TAMPERING:
        assert _failing_cells(found, names[spec]) == wrong, spec
    for spec, raised in DID_NOT_LOAD.items():
        theirs = [r for r in found if r["backend"] == names[spec]]
        assert theirs and all(r["status"] == "error" and f"failed to load: {raised}" in r["message"] for r in theirs)
    done = {(r["backend"], r["mode"]) for r in records if r.get("type") == "cell_done"}
    assert {(names[s], m) for s in specs for m in ("bilinear", "nearest")} <= done  # every cell closed
    # this process, which made the verdicts, imported none of them, and NumPy's comparisons are NumPy's
    assert not {"tests.tampering_backends", "tests.raises_at_import", "tests.exits_at_import"} & set(sys.modules)
    assert not np.allclose([0.0], [1.0])


def test_forbid_torch_names_a_backend_that_calls_torch_and_passes_numpy(tmp_path):
    results = tmp_path / "r.jsonl"
    calls_torch = "tests.tampering_backends:CallsTorch"
    proc = run_cli(
        "run", "--backend", "numpy", "--backend", calls_torch, "--op", "interpolate", "--mode", "nearest",
        "--no-grad", "--examples", "5", "--seed", "0", "--forbid-torch", "--results", str(results), "--quiet",
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    found = [r for r in records if r.get("type") == "result" and r["mode"] == "nearest"]
    assert all(r["status"] == "pass" for r in found if r["backend"] == "numpy")
    theirs = [r for r in found if r["backend"] == "calls-torch" and r["dtype"] in ("float32", "float64")]
    assert theirs and all(r["status"] == "fail" and "called torch" in r["message"] for r in theirs)
    assert any("interpolate" in r["message"] for r in theirs)
    # the same backend without the flag: right answers, so it passes
    proc = run_cli("run", "--backend", calls_torch, "--op", "interpolate", "--mode", "nearest", "--no-grad",
                   "--examples", "5", "--seed", "0", "--results", str(tmp_path / "free.jsonl"), "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:]
