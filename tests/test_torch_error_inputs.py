"""torch's own error inputs as part of the error contract.

Every ``error_input`` of torch's OpInfos for the registry's ops
(``conformance.torch_errors``, read from the installed torch) that crosses the
protocol must make the numpy and reference backends raise torch's
``error_type`` with a message matching torch's ``error_regex``, and torch
must raise as its OpInfo records.  torch's testing internals need
``expecttest`` (tox installs it); without it those tests skip.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import backends
from conformance import ops, torch_errors
from conformance.execute import Oracle, invoke
from conformance.search import check_invalid_calls
from tests.test_error_contract import raised

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("numpy", "reference")
_missing = torch_errors.unavailable()
needs_opinfos = pytest.mark.skipif(_missing is not None, reason=str(_missing))

INPUTS = [e for op in ops.names() for e in torch_errors.error_inputs(op)] if _missing is None else []
CROSSING = [e for e in INPUTS if e.case is not None]


@needs_opinfos
def test_coverage_of_torchs_error_inputs(capsys):
    """The counts a reader needs: OpInfos read, error inputs, crossed and
    skipped (with why); torch 2.13 has 41 for max_pool and max_unpool, all crossing."""
    consulted = [torch_errors.label(o) for op in ops.names() for o in torch_errors.opinfos(op)]
    skipped = [f"{e.describe()}: {e.skipped}" for e in INPUTS if e.case is None]
    with capsys.disabled():
        print(
            f"\ntorch's error inputs: {len(INPUTS)} from {len(consulted)} OpInfos; "
            f"{len(CROSSING)} cross the protocol, {len(skipped)} skipped",
            *skipped,
            sep="\n  ",
        )
    named = {name for op in ops.names() for name in ops.get(op).torch_opinfos}
    found = {o.name for op in ops.names() for o in torch_errors.opinfos(op)}
    assert found == named, f"OpInfos the registry names that torch lacks: {sorted(named - found)}"
    assert INPUTS, "torch's OpInfos have no error inputs for these ops"
    assert all(e.skipped for e in INPUTS if e.case is None)
    assert len(CROSSING) == len(INPUTS), "\n".join(skipped)


@needs_opinfos
@pytest.mark.parametrize("e", INPUTS, ids=lambda e: e.describe())
def test_torch_raises_as_its_opinfo_records(e):
    exc = raised(e.run_torch)
    assert isinstance(exc, e.error_type), f"torch: {exc!r}"
    assert re.search(e.error_regex, str(exc)), f"{e.error_regex!r} not in torch's {str(exc)!r}"


@needs_opinfos
@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("e", CROSSING, ids=lambda e: e.describe())
def test_backend_raises_torchs_class_with_a_message_matching_torchs_regex(e, name):
    backend = backends.load(name)
    case = e.case
    arrays = {k: backend.from_numpy(a) for k, a in case.materialize().items()}
    exc = raised(lambda: invoke(backend, case, arrays))
    assert isinstance(exc, e.error_type), f"{case.describe()}: {exc!r}; torch raises {e.error_type.__name__}"
    assert re.search(e.error_regex, str(exc)), f"{e.error_regex!r} not in {str(exc)!r}"


@needs_opinfos
def test_the_catalog_covers_every_class_of_torchs_error_inputs():
    """For each crossing input, a catalog entry of the same op names a phrase
    of torch's message for the protocol's call: the registry's catalog has
    that class of error, whatever torch's own list holds."""
    uncovered = []
    for e in CROSSING:
        message = str(torch_errors.torch_refusal(e.case)).lower()
        words = {w.lower() for c in ops.invalid_calls([e.op]) for w in c.names_problem}
        if not any(w in message for w in words):
            uncovered.append(f"{e.describe()}: {message}")
    assert not uncovered, "\n".join(uncovered)


@needs_opinfos
def test_the_runs_invalid_calls_cell_checks_each_crossing_call_once():
    """``python -m conformance run``'s invalid-calls cell takes them after the catalog."""
    recorded = []
    check_invalid_calls("max_unpool", backends.load("numpy"), Oracle(), recorded.append)
    calls = [repr(r.case.to_json()) for r in recorded]
    crossing = {repr(e.case.to_json()) for e in CROSSING if e.op == "max_unpool"}
    assert crossing and crossing <= set(calls[len(ops.get("max_unpool").invalid_calls) :])
    assert len(set(calls)) == len(calls), "a call checked twice"
    assert all(r.status == "pass" for r in recorded), [r.message for r in recorded if r.status != "pass"]


@needs_opinfos
@pytest.mark.parametrize("op", sorted({e.op for e in CROSSING}))
def test_torch_itself_conforms_on_every_crossing_call(op):
    """torch as the backend, through the protocol, passes the same calls: where
    its protocol call words the problem otherwise than the OpInfo's regex
    (``max_pool1d`` with indices: "stride should not be zero"), that wording
    names the problem too (it failed its own contract before)."""
    recorded = []
    check_invalid_calls(op, backends.load("torch"), Oracle(), recorded.append)
    assert recorded and all(r.status == "pass" for r in recorded), [
        f"{r.case.describe()}: {r.message}" for r in recorded if r.status != "pass"
    ]


def test_the_stored_calls_are_what_the_installed_torch_gives():
    """A run reads the stored calls (the same in every process); a fresh
    process computes them from torch's OpInfos, and they must be equal
    (rewrite with ``python -m conformance.torch_errors`` when torch moves)."""
    code = (
        "import json, sys; from conformance import torch_errors as t; m = t.unavailable(); "
        "print(json.dumps(None if m else t.write_stored(), sort_keys=True)); sys.exit(3 if m else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode == 3:
        pytest.skip("torch's OpInfos do not import in a fresh process here (expecttest missing?)")
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh = json.loads(proc.stdout.strip().splitlines()[-1])
    assert fresh == json.loads(torch_errors.STORED.read_text()), "rewrite it: python -m conformance.torch_errors"
    assert {op: [c.to_json() for c in torch_errors.stored_invalid_calls(op)] for op in fresh} == fresh


@pytest.mark.parametrize(
    "regex,phrase",
    [
        ("pad must be non-negative", "pad must be non-negative"),
        (r"Expected 2D or 3D \(batch mode\) tensor", "Expected 2D or 3D (batch mode) tensor"),
        (r"Expected input\'s non-batch dimensions", "Expected input's non-batch dimensions"),
        ("got .* size", None),
        (r"size \d+", None),
        ("(a|b)", None),
    ],
)
def test_a_regex_crosses_only_as_a_plain_phrase(regex, phrase):
    assert torch_errors.literal_phrase(regex) == phrase
