"""What real backends do that a verdict must take (issue 27), each shown by a
wrapper of the numpy backend (``tests/real_backends.py``): exceptions of a
subclass of torch's class, a log written to stderr on every call, a cache
that makes a failure depend on earlier calls, and evidence that names how a
failing case's input was drawn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from backends import load
from conformance.capture import output_log
from conformance.cases import Case, values_text
from conformance.execute import Oracle, Raised
from conformance.history import LABEL, shrink
from conformance.ops import invalid_calls
from conformance.repro import repro
from conformance.verdict import check_case, own_backend, own_spec
from reports.html import write_report
from tests.cli_runner import ROOT, run_cli, run_repro
from tests.real_backends import NOISE

REAL = "tests.real_backends:"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _run(tmp_path: Path, spec: str, *args: str, name: str = "r.jsonl"):
    results = tmp_path / name
    proc = run_cli("run", "--backend", spec, "--no-grad", "--jobs", "1", "--results", str(results), *args)
    return proc, _records(results)


# --- 1. exception classes by isinstance; the message check apart ---------------


def test_an_exception_of_a_subclass_of_torchs_class_conforms(tmp_path):
    """A compiled backend re-raises each exception as a subclass of its class
    (``TorchRuntimeError`` is a ``RuntimeError``), the message kept: code that
    catches torch's class catches it, so it conforms, and the record keeps
    the exact class (and the whole text, the cause it was raised from too)."""
    args = ["--op", "pixel_shuffle", "--op", "max_unpool", "--mode", "invalid-calls"]
    proc, records = _run(tmp_path, REAL + "SubclassedErrors", *args)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " 0 not conforming" in proc.stdout
    raised = [r for r in records if r.get("type") == "result" and r.get("raised")]
    assert raised and all(r["status"] == "pass" for r in raised)
    first = raised[0]
    assert first["raised"]["class"].startswith("tests.real_backends.Compiled")
    assert "builtins.RuntimeError" in first["raised"]["bases"] or "builtins.ValueError" in first["raised"]["bases"]
    assert "a subclass of" in first["message"]
    assert "The above exception was the direct cause" in first["raised"]["text"]


def test_a_third_party_message_is_reported_and_fails_only_under_strict_messages(tmp_path):
    """A third-party backend raising a subclass of torch's class with its own
    wording passes, the message check reported in the summary; under
    ``--strict-messages`` it fails, and its failure card holds the whole
    exception text, chained cause included."""
    spec = REAL + "VagueSubclassedErrors"
    args = ["--op", "pixel_shuffle", "--mode", "invalid-calls"]
    proc, records = _run(tmp_path, spec, *args)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "message check" in proc.stdout and "does not name the problem" in proc.stdout
    assert any(r.get("message_check") for r in records if r.get("type") == "result")
    page = write_report([tmp_path / "r.jsonl"], tmp_path / "lenient").read_text(encoding="utf-8")
    assert "Message check" in page and "does not name the problem" in page
    strict, strict_records = _run(tmp_path, spec, *args, "--strict-messages", name="strict.jsonl")
    assert strict.returncode == 1
    # the terminal: the first line of the text, and how many more there are
    assert re.search(r"raised CompiledRuntimeError: backend='compiled' raised: \(\d+ more lines\)", strict.stdout)
    page = write_report([tmp_path / "strict.jsonl"], tmp_path / "report").read_text(encoding="utf-8")
    assert "something went wrong" in page and "The above exception was the direct cause" in page


def test_our_own_backends_fail_a_wrong_message_whatever_the_settings():
    """numpy, reference, cupy, torch (and the variants, our reference code)
    are held to torch's key phrases; a subclass in a test module is not ours."""
    assert own_spec("numpy") and own_spec("torch@avx2") and own_spec("variant:nearest-no-4d-shortcuts")
    assert not own_spec("opencv") and not own_spec(REAL + "SubclassedErrors")
    assert own_backend(load("numpy")) and own_backend(load("reference"))
    assert not own_backend(load(REAL + "SubclassedErrors"))


def test_a_wrong_class_still_fails():
    """isinstance, not anything: a ValueError where torch raises RuntimeError fails."""
    case = next(c for c in invalid_calls() if c.op == "pixel_shuffle")
    result = check_case(case, load("tests.broken_backends:VagueErrors"), Oracle())
    assert result.status == "pass"  # its class is right; only its words are vague
    wrong = Raised("builtins.ValueError", ("builtins.Exception", "builtins.BaseException", "builtins.object"), "x")
    assert not wrong.is_a(RuntimeError("x")) and wrong.is_a(ValueError("y")) and wrong.is_a(Exception("z"))


# --- 2. a backend's output captured, not printed --------------------------------


NEAREST = ["--op", "interpolate", "--mode", "nearest", "--examples", "5", "--seed", "1", "--no-grad", "--jobs", "1"]


def _terminal_lines(tmp_path: Path, spec: str) -> tuple[list[str], Path]:
    """A run in a new interpreter, as a user's terminal gets it (stdout and
    stderr together): a backend's worker writes to the process's own file
    descriptors, which only a new process shows."""
    results = tmp_path / "noisy.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--backend", spec, *NEAREST, "--results", str(results)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return (proc.stdout + proc.stderr).splitlines(), results


def test_a_noisy_backends_log_goes_to_a_file_not_the_terminal(tmp_path):
    """A backend writing ``NOISE`` lines to stderr per call (from Python and
    straight to the file descriptor) prints no more than numpy's same run
    plus a few lines: a count per cell, the log's path; the log holds them all."""
    numpy = run_cli("run", "--backend", "numpy", *NEAREST, "--results", str(tmp_path / "numpy.jsonl"))
    quiet = (numpy.stdout + numpy.stderr).splitlines()  # numpy writes nothing itself: this process shows it all
    noisy, results = _terminal_lines(tmp_path, REAL + "Noisy")
    assert len(noisy) <= len(quiet) + 3, "\n".join(noisy[:40])
    assert not any("[noisy-jit]" in line for line in noisy)
    log = output_log(results).read_text()
    assert log.count("[noisy-jit] recompiling") >= NOISE // 2 and log.count("[noisy-jit] C-level warning") >= NOISE // 2
    cell = next(line for line in noisy if line.startswith("noisy interpolate nearest"))
    assert "backend wrote" in cell and str(output_log(results)) in cell
    result = next(r for r in _records(results) if r.get("type") == "result")
    assert result["backend_output"]["lines"] >= NOISE and len(result["backend_output"]["first"]) == 5
    assert "text" not in result["backend_output"]  # in the log, not the results


# --- 3. failures that depend on earlier calls -----------------------------------


def _run_in_a_fresh_process(script: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-"],
        input=script,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _worst_against_torch(output: str) -> float:
    """The largest ``max |actual - expected| = X`` a repro prints (torch's
    own rounding differs from numpy's by an ulp or so: not a failure)."""
    found = [line.split("=")[1].split()[0] for line in output.splitlines() if "max |actual - expected| =" in line]
    assert found, output
    return max(float(x) for x in found)


def test_a_shape_keyed_cache_failure_is_labelled_and_its_repro_reproduces_it(tmp_path):
    """A cache keyed by shape returns a stale result on a second call with the
    same shape: the minimal case passes alone, so it is labelled as depending
    on earlier calls, and its repro, which makes the earlier calls found
    first, reproduces the failure in a fresh process (the case alone does not)."""
    spec = REAL + "ShapeCache"
    proc, records = _run(tmp_path, spec, "--op", "interpolate", "--mode", "bilinear", "--examples", "20", "--seed", "1")
    assert proc.returncode == 1
    minimal = next(r for r in records if r.get("minimal"))
    assert LABEL in minimal["message"] and minimal["history"]["alone"] == "pass"
    earlier = minimal["history"]["earlier"]
    assert earlier and len(earlier) <= 3
    assert "earlier call 1" in minimal["repro"]
    assert _worst_against_torch(_run_in_a_fresh_process(minimal["repro"])) > 0.01
    # the case alone (a new backend object, an empty cache) conforms
    alone = run_repro(repro(Case.from_json(minimal["case"]), spec))
    assert _worst_against_torch(alone.stdout) < 1e-4


def test_the_history_shrinks_to_the_calls_that_matter():
    """ddmin keeps a short subsequence that still reproduces, in order."""
    history = list(range(40))
    assert shrink(history, lambda seq: 7 in seq and 31 in seq) == [7, 31]
    assert shrink(history, lambda seq: 12 in seq) == [12]


# --- 5. whole evidence -------------------------------------------------------------


def test_a_nan_cases_failure_says_how_its_input_was_drawn(tmp_path):
    """A backend that reads NaN and infinities as zero fails only on the
    special-value draws: its minimal-case line and failure card say so
    (values, layout, seed), instead of reading like plain data."""
    args = ["--op", "interpolate", "--mode", "bilinear", "--examples", "5", "--seed", "1"]
    proc, records = _run(tmp_path, REAL + "ZeroesNaN", *args)
    assert proc.returncode == 1
    minimal = next(r for r in records if r.get("minimal"))
    spec = Case.from_json(minimal["case"]).input
    said = values_text(spec)
    assert "NaN" in said and f"layout {spec.layout}, seed {spec.seed}" in said
    assert f"minimal case: {Case.from_json(minimal['case']).describe()} [input: {said}]" in proc.stdout
    assert said in proc.stderr  # the cell's progress line
    page = write_report([tmp_path / "r.jsonl"], tmp_path / "report").read_text(encoding="utf-8")
    assert said.split(" (")[0] in page


def test_the_whole_exception_text_keeps_its_chained_cause():
    try:
        try:
            raise ValueError("inner detail")
        except ValueError as inner:
            raise RuntimeError("backend='inductor' raised:\nline two") from inner
    except RuntimeError as exc:
        raised = Raised.of(exc)
    assert "inner detail" in raised.chain and "line two" in raised.chain
    assert raised.describe().startswith("RuntimeError: backend='inductor' raised: (")
    assert "more lines" in raised.describe()
