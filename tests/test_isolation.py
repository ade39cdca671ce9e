"""A harness that survives bad backends and bad input (issue 7): isolation,
nothing lost on kill -9, --resume, the invalid-call catalog, input hygiene."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backends import load
from conformance.execute import Oracle
from conformance.ops import invalid_calls
from conformance.store import current_results, read_records
from conformance.verdict import check_case
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
INVALID_CALLS = invalid_calls()
BROKEN = "tests.broken_backends:"


def results_of(path):
    return [r for r in current_results(read_records(path)) if r.get("type") == "result"]


def test_a_mix_of_good_and_broken_backends_is_reported_backend_by_backend(tmp_path):
    results = tmp_path / "r.jsonl"
    broken = [
        "Segfaults",
        "Hangs",
        "HogsMemory",
        "WrongShape",
        "ReturnsNaN",
        "MutatesInput",
        "WrongExceptionClass",
        "ReturnsList",
        "LayoutDependent",
    ]
    args = [
        "run",
        "--backend",
        "numpy",
        *[a for b in broken for a in ("--backend", BROKEN + b)],
        "--op",
        "pixel_shuffle",
        "--op",
        "pixel_unshuffle",
        "--op",
        "interpolate",
        "--mode",
        "all",
        # one interpolate mode is enough: every broken interpolate misbehaves on bilinear
        "--mode",
        "bilinear",
        "--no-grad",
        "--mode",
        "invalid-calls",
        "--examples",
        "6",
        "--seed",
        "0",
        "--timeout",
        "3",
        "--shrink-seconds",
        "4",
        "--memory-limit-gib",
        "6",
        "--results",
        str(results),
    ]
    proc = run_cli(*args)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = results_of(results)
    by_backend = {}
    for r in records:
        by_backend.setdefault(r["backend"], []).append(r)
    numpy_bad = [r for r in by_backend["numpy"] if r["status"] not in ("pass", "unsupported")]
    assert not numpy_bad, [(r["op"], r["mode"], r["status"], r["message"][:300]) for r in numpy_bad]

    def messages(name, op=None):
        return [
            r["message"] for r in by_backend[name] if r["status"] in ("fail", "error") and (op is None or r["op"] == op)
        ]

    crash = [r for r in by_backend["segfaults"] if r.get("isolation") == "crash"]
    assert crash and all(r["phase"] == "backend" for r in crash)
    assert "SIGSEGV" in crash[0]["message"]
    hang = [r for r in by_backend["hangs"] if r.get("isolation") == "timeout"]
    # its first call may take the first-call allowance (here the whole --timeout of 3 s); once it hung,
    # a hang is called at 100x torch's time + the allowance, sooner than the --timeout
    scaled = [h for h in hang if h["limit"]["rule"] == "scaled"]
    assert scaled and all(h["limit"]["seconds"] < 3 for h in scaled), hang
    assert f"no answer within {scaled[0]['limit']['seconds']:.3g} s" in scaled[0]["message"]
    assert any("MemoryError" in m for m in messages("hogs-memory", "pixel_unshuffle"))
    assert any(m.startswith("shape") for m in messages("wrong-shape", "pixel_shuffle"))
    assert any("non-finite" in m for m in messages("returns-nan", "interpolate"))
    assert any("modified its input x" in m for m in messages("mutates-input"))
    assert any("torch raises RuntimeError" in m for m in messages("wrong-exception"))
    assert any("returned list, not its array type ndarray" in m for m in messages("returns-list"))
    assert messages("layout-dependent", "pixel_shuffle")
    # each broken backend has its minimal case with a repro; the good one none
    minimal = {r["backend"] for r in records if r.get("minimal")}
    assert "numpy" not in minimal and {"segfaults", "hangs", "wrong-shape", "mutates-input"} <= minimal
    # nothing lost: every cell of every backend was closed
    done = [r for r in read_records(results) if r.get("type") == "cell_done"]
    assert len(done) == 10 * len({(r["op"], r["mode"], r.get("direction")) for r in done})


def _killed_run(tmp_path):
    results = tmp_path / "r.jsonl"
    args = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--backend",
        "numpy",
        "--op",
        "pixel_shuffle",
        "--op",
        "pixel_unshuffle",
        "--op",
        "max_pool",
        "--examples",
        "20",
        "--seed",
        "0",
        "--jobs",  # one job: kill and resume, not the job pool (tests/test_parallel.py)
        "1",
        "--results",
        str(results),
        "--quiet",
    ]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if results.exists() and results.read_text().count('"cell_done"') >= 2:
            break
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker, mid-cell
    proc.wait()
    return results


def test_a_workers_start_up_is_not_part_of_a_cases_timeout():
    from conformance.isolation import IsolatedChecker
    from conformance.ops import get

    case = get("pixel_shuffle").invalid_calls[0]
    with IsolatedChecker(BROKEN + "SlowToLoad", timeout=2) as checker:
        record = checker.check(case.to_json())
    assert record["status"] == "pass", record.get("message")


def _small_bilinear_case():
    from conformance.cases import Case, InputSpec

    return Case("interpolate", InputSpec((1, 2, 5, 5), "float32"), {"mode": "bilinear", "scale_factor": 2.0})


def test_a_hang_on_a_small_case_is_called_at_a_hundred_times_torchs_time_not_the_timeout():
    """The first call of a kind gets the first-call allowance (set-up, a
    loaded machine); once the backend hung, the short one."""
    from conformance.isolation import FIRST_CALL_ALLOWANCE, HANG_ALLOWANCE, IsolatedChecker

    with IsolatedChecker(BROKEN + "Hang", timeout=60) as checker:
        first = checker.check(_small_bilinear_case().to_json())
        record = checker.check(_small_bilinear_case().to_json())
    assert first["limit"]["seconds"] == pytest.approx(100 * first["limit"]["oracle_s"] + FIRST_CALL_ALLOWANCE, abs=1e-3)
    limit = record["limit"]
    assert record["isolation"] == "timeout" and record["phase"] == "backend", record
    assert limit["rule"] == "scaled" and 0 < limit["oracle_s"] < 0.5, limit
    assert limit["seconds"] == pytest.approx(100 * limit["oracle_s"] + HANG_ALLOWANCE, abs=1e-3)
    assert "100x the oracle's" in record["message"] and "allowance" in record["message"]


def test_with_no_timeout_scale_a_hang_waits_the_whole_timeout():
    from conformance.isolation import IsolatedChecker

    with IsolatedChecker(BROKEN + "Hang", timeout=2.5, timeout_scale=0) as checker:
        record = checker.check(_small_bilinear_case().to_json())
    assert record["limit"]["rule"] == "timeout" and record["limit"]["seconds"] == 2.5, record
    assert "no answer within 2.5 s (the --timeout" in record["message"]


def test_the_backends_limit_scales_with_the_oracles_time_within_the_timeout():
    from conformance.isolation import HANG_ALLOWANCE, UNKNOWN, limit_of

    assert limit_of(60, 100, 0.01)[0] == pytest.approx(1 + HANG_ALLOWANCE)
    assert limit_of(60, 100, 0.01)[1]["rule"] == "scaled"
    # a large case torch takes a second on: the whole timeout, never more
    assert limit_of(60, 100, 1.0) == (60, {"seconds": 60, "oracle_s": 1.0, "rule": "timeout", "text": "the --timeout"})
    assert limit_of(60, 100, UNKNOWN)[0] == 60 and limit_of(60, 0, 0.01)[0] == 60  # torch hung; scaling off


def test_a_working_backend_is_not_cut_by_the_scaled_limit():
    """Many cases in a row on one worker: none is called a hang, the first of
    a cell (timed twice, the worker's warm-up) included."""
    from conformance.isolation import IsolatedChecker
    from conformance.ops import get

    cases = [_small_bilinear_case(), *get("interpolate").fixed_cases("bicubic", lambda mode, aa: ["float32"])]
    with IsolatedChecker("numpy", timeout=60) as checker:
        records = [checker.check(case.to_json()) for case in cases]
    assert all(r["status"] == "pass" for r in records), [r["message"] for r in records]


def test_a_killed_run_loses_nothing_and_resumes_without_repeating_work(tmp_path):
    results = _killed_run(tmp_path)
    before = list(read_records(results))
    # the killed run's file renders as it is
    report = run_cli("report", "--results", str(results), "--out", str(tmp_path / "report"), "--no-rebuild")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "index.html").stat().st_size > 1000

    def cell(r):
        return r["op"], r["mode"], r.get("direction", "forward")

    finished = {cell(r): r["attempt"] for r in before if r.get("type") == "cell_done"}
    assert len(finished) >= 2
    assert all(r.get("type") for r in before)  # every complete line reads back
    proc = run_cli("run", "--resume", "--jobs", "1", "--results", str(tmp_path / "r.jsonl"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "resuming run" in proc.stderr
    after = list(read_records(results))
    done = [r for r in after if r.get("type") == "cell_done"]
    # finished cells were not checked again; every cell is now done, once
    assert len(done) == len({cell(r) for r in done})
    for r in done:
        if cell(r) in finished:
            assert r["attempt"] == finished[cell(r)]
    assert {r["op"] for r in done} == {"pixel_shuffle", "pixel_unshuffle", "max_pool"}
    # readers keep one attempt per cell: no case counted twice
    current = [r for r in current_results(after) if r.get("type") == "result"]
    for key in {cell(r) for r in current}:
        attempts = {r["attempt"] for r in current if cell(r) == key}
        assert len(attempts) == 1
    assert len({r["run_id"] for r in after}) == 1


def test_resume_without_a_run_is_a_usage_error(tmp_path):
    proc = run_cli("run", "--resume", "--results", str(tmp_path / "none.jsonl"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_catalog_has_forty_entries_over_every_op():
    assert len(INVALID_CALLS) >= 40
    assert {c.op for c in INVALID_CALLS} >= {
        "interpolate",
        "conv_transpose",
        "max_pool",
        "max_unpool",
        "pixel_shuffle",
        "pixel_unshuffle",
    }


@pytest.mark.parametrize("spec", ["numpy", "reference", "torch"])
def test_catalog_passes_for_the_built_in_backends(spec):
    backend, oracle = load(spec), Oracle()
    failures = [
        (c.describe(), r.message) for c in INVALID_CALLS if (r := check_case(c, backend, oracle)).status != "pass"
    ]
    assert not failures


def test_a_vague_error_message_fails_the_catalog_under_strict_messages():
    oracle = Oracle()
    case = next(c for c in INVALID_CALLS if c.op == "pixel_shuffle")
    result = check_case(case, load(BROKEN + "VagueErrors"), oracle, strict_messages=True)
    assert result.status == "fail" and "does not name the problem" in result.message


def test_a_third_party_backends_vague_error_message_is_reported_not_failed():
    """The message check is a check of its own: a third-party backend that
    raises torch's class with its own wording passes, the note recorded."""
    case = next(c for c in INVALID_CALLS if c.op == "pixel_shuffle")
    result = check_case(case, load(BROKEN + "VagueErrors"), Oracle())
    assert result.status == "pass" and "does not name the problem" in result.extra["message_check"]


@pytest.mark.parametrize("layout", ["transposed", "strided", "reversed", "fortran"])
def test_layouts_give_the_same_results_as_contiguous(layout):
    from conformance.cases import Case, InputSpec

    oracle = Oracle()
    for op, params, shape in [
        ("interpolate", {"size": (5, 7), "mode": "bicubic"}, (2, 3, 4, 6)),
        ("pixel_shuffle", {"upscale_factor": 2}, (2, 8, 3, 5)),
    ]:
        case = Case(op, InputSpec(shape, "float32", "normal", 3, layout), params)
        assert not case.materialize()["x"].flags.c_contiguous
        assert check_case(case, load("numpy"), oracle).status == "pass"
        bad = check_case(case, load(BROKEN + "LayoutDependent"), oracle)
        # a backend that reads memory in storage order is caught where that order is not the logical one
        if op == "pixel_shuffle" and layout in ("transposed", "fortran"):
            assert bad.status == "fail"


TORCH_SEGFAULT_CASE = {
    "op": "conv_transpose",
    "params": {"stride": [2], "padding": [3], "groups": 2, "dilation": [2]},
    "input": {
        "kind": "array",
        "shape": [2, 4],
        "dtype": "float16",
        "distribution": "normal",
        "seed": 0,
        "layout": "contiguous",
    },
    "operands": [
        [
            "weight",
            {
                "kind": "array",
                "shape": [2, 1, 1],
                "dtype": "float16",
                "distribution": "normal",
                "seed": 1,
                "layout": "contiguous",
            },
        ],
        [
            "grad_output",
            {
                "kind": "array",
                "shape": [2, 1],
                "dtype": "float16",
                "distribution": "normal",
                "seed": 7919,
                "layout": "contiguous",
            },
        ],
    ],
    "direction": "backward",
}


def test_when_torch_itself_crashes_the_backend_is_judged_against_the_reference():
    """torch 2.13 segfaults on this float16 conv_transpose1d backward (unbatched,
    groups=2): the harness survives it, and it is not the backend's fault."""
    from conformance.isolation import IsolatedChecker

    with IsolatedChecker("numpy", timeout=60) as checker:
        result = checker.check(TORCH_SEGFAULT_CASE)
    assert result["status"] == "pass", result["message"]
    if "torch itself fails" in result["message"]:
        assert result["comparison"]["torch_off_reference"]


def test_workers_fork_from_a_server_that_imported_torch_once():
    """A restarted worker (after each crash or hang) must not import torch
    again: on POSIX the workers come from a forkserver that preloads it."""
    import multiprocessing as mp

    from conformance.isolation import PRELOAD, worker_context

    ctx = worker_context()
    if "forkserver" in mp.get_all_start_methods():
        assert ctx.get_start_method() == "forkserver" and "torch" in PRELOAD
    else:
        assert ctx.get_start_method() == "spawn"


PIXEL_SHUFFLE_CASE = {
    "op": "pixel_shuffle",
    "params": {"upscale_factor": 2},
    "input": {
        "kind": "array",
        "shape": [1, 8, 3, 3],
        "dtype": "float32",
        "distribution": "normal",
        "seed": 3,
        "layout": "contiguous",
    },
    "operands": [],
}


def test_a_later_backend_checks_a_case_against_the_oracle_answer_an_earlier_one_got():
    """torch and the reference answer once per case: the reference backend's
    worker gets numpy's worker's answer (torch's time with it, to the bit)."""
    from conformance.isolation import IsolatedChecker, SharedOracle

    shared = SharedOracle()
    key = SharedOracle.key("torch", PIXEL_SHUFFLE_CASE)
    with IsolatedChecker("numpy", shared=shared) as numpy_checker:
        first = numpy_checker.check(PIXEL_SHUFFLE_CASE)
    assert first["status"] == "pass" and shared.get(key) is not None
    with IsolatedChecker("reference", shared=shared) as reference_checker:
        second = reference_checker.check(PIXEL_SHUFFLE_CASE)
    assert second["status"] == "pass"
    assert second["torch_time_s"] == first["torch_time_s"]  # not timed again: torch did not run
    with IsolatedChecker("reference", shared=None) as alone:
        assert alone.check(PIXEL_SHUFFLE_CASE)["torch_time_s"] != first["torch_time_s"]


def test_a_plugin_that_changes_torch_in_its_worker_moves_no_verdict():
    """torch answers in a process of its own: a right backend that patches
    torch in its worker still passes (it moved its own torch, not the
    oracle), the answer kept for the next backend is torch's, and that
    backend's verdict stands."""
    from conformance.isolation import IsolatedChecker, SharedOracle

    shared = SharedOracle()
    with IsolatedChecker(BROKEN + "PatchesTorch", shared=shared) as plugin:
        assert plugin.check(PIXEL_SHUFFLE_CASE)["status"] == "pass"
    assert shared.get(SharedOracle.key("torch", PIXEL_SHUFFLE_CASE)) is not None
    with IsolatedChecker("numpy", shared=shared) as numpy_checker:
        assert numpy_checker.check(PIXEL_SHUFFLE_CASE)["status"] == "pass"


def test_shared_oracle_answers_keep_within_their_byte_budget():
    from conformance.isolation import SharedOracle

    shared = SharedOracle(max_bytes=10)
    shared.put(("torch", "a"), b"1234")
    shared.put(("torch", "b"), b"5678")
    shared.put(("torch", "c"), b"90ab")  # 12 bytes: the oldest goes
    assert shared.get(("torch", "a")) is None and shared.get(("torch", "c")) == b"90ab"
    shared.put(("torch", "d"), b"x" * 11)  # larger than the whole budget: not kept
    assert shared.get(("torch", "d")) is None and shared.get(("torch", "b")) == b"5678"


def test_a_backend_that_flushes_subnormals_fails_on_them_and_is_told_why():
    """The backend's process flushes subnormals (FTZ/DAZ set when it loaded):
    the inputs, torch, the reference and the comparison still run in IEEE
    arithmetic in its worker, and its own calls with its own mode, so the
    subnormal results it loses fail; numpy on the same case passes."""
    import torch

    from conformance.cases import Case, InputSpec
    from conformance.fpenv import FLUSHES, flushes_subnormals
    from conformance.isolation import IsolatedChecker

    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode torch can set")
    assert not flushes_subnormals()
    case = Case("interpolate", InputSpec((1, 1, 4, 4), "float32", "subnormal", 7), {"mode": "bilinear", "scale_factor": 2.0})
    with IsolatedChecker("numpy", timeout=60) as checker:
        assert checker.check(case.to_json())["status"] == "pass"
    with IsolatedChecker("tests.broken_backends:FlushesSubnormals", timeout=60) as checker:
        result = checker.check(case.to_json())
        assert checker.check(case.to_json())["status"] == "fail"  # and again: its mode is given back for its call
    assert result["status"] == "fail" and FLUSHES in result["message"], result["message"]


def test_subnormal_mode_clears_the_backends_flush_for_the_harness_and_gives_it_back():
    import torch

    from conformance.fpenv import SubnormalMode, flushes_subnormals

    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode torch can set")
    mode = SubnormalMode()
    try:
        torch.set_flush_denormal(True)  # the backend's loading sets it
        mode.step("materialize")
        assert mode.backend_flushes and not flushes_subnormals()
        mode.step("backend")
        assert flushes_subnormals()
        mode.step("compare")
        assert not flushes_subnormals()
    finally:
        torch.set_flush_denormal(False)


def test_in_process_a_flushing_backend_fails_on_subnormals_in_every_cell():
    """``--no-isolation`` and the pytest plugin check in this process: the
    backend's mode is kept from the harness's steps there too, and given back
    to the backend in each later cell (its loading set it once)."""
    import torch

    from conformance.cases import Case, InputSpec
    from conformance.fpenv import FLUSHES
    from conformance.search import in_process

    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode torch can set")
    case = Case("interpolate", InputSpec((1, 1, 4, 4), "float32", "subnormal", 7), {"mode": "bilinear", "scale_factor": 2.0})
    try:
        backend = load("tests.broken_backends:FlushesSubnormals")
        for _ in range(2):  # two cells, a checker each
            result = in_process(backend, Oracle())(case)
            assert result.status == "fail" and FLUSHES in result.message, result.message
        assert in_process(load("numpy"), Oracle())(case).status == "pass"
    finally:
        torch.set_flush_denormal(False)  # this process's, for the tests after this one
