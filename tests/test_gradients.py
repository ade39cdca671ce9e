"""Gradient conformance: the reference's VJPs are adjoints and match torch
autograd; wrong and nondeterministic gradients are caught and reported."""

import json

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backends import load
from conformance import ops
from conformance.execute import Oracle
from conformance.search import Cell, case_strategy
from conformance.verdict import check_case
from reference.gradients import vjp
from tests.cli_runner import run_cli, run_repro

REFERENCE = load("reference")
ORACLE = Oracle()

CELLS = [(op, cell) for op in ops.names() if ops.get(op).vjp is not None for cell in ops.get(op).cells]


def float64_only(op, cell):
    return case_strategy(Cell(op, cell, "backward", dtypes=["float64"]), REFERENCE)


@pytest.mark.parametrize("op,cell", CELLS)
@settings(max_examples=25)
@given(data=st.data())
def test_reference_gradients_are_adjoints(op, cell, data):
    """<A x, y> == <x, A^T y> for every linear argument: the VJP is the
    transposed map of the forward definition (max_pool is linear in x only
    for fixed indices, which its VJP uses)."""
    case = data.draw(float64_only(op, cell))
    arrays = case.materialize()
    g = arrays.pop("grad_output")
    x = arrays.pop("x")
    assume(np.isfinite(x).all())  # NaN or an infinity poisons both inner products
    out = load("reference").__getattribute__(op)(x, **arrays, **case.params)
    out = out[0] if isinstance(out, tuple) else out
    assume(np.isfinite(out).all())  # so does -inf from a max-pooling window wholly in the padding
    grads = vjp(op, g, x, **arrays, **case.params)
    if op == "conv_transpose":  # bilinear: check each argument with the bias held at zero
        arrays.pop("bias", None)
        out = load("reference").conv_transpose(x, **arrays, **case.params)
        grads = vjp(op, g, x, **arrays, **case.params)
        assert np.isclose(np.vdot(out, g), np.vdot(arrays["weight"], grads["weight"]), rtol=1e-9, atol=1e-9)
    assert np.isclose(np.vdot(out.astype(np.float64), g), np.vdot(x, grads["x"]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("op,cell", CELLS)
@settings(max_examples=20)
@given(data=st.data())
def test_reference_gradients_match_torch_autograd(op, cell, data):
    case = data.draw(float64_only(op, cell))
    result = check_case(case, REFERENCE, ORACLE)
    # torch's antialias backward copies no unchanged axis as its forward does: flagged, not equal
    # (conformance.deviations: antialias-backward-unchanged-axis)
    assume(not (case.params.get("antialias") and result.comparison and result.comparison.torch_off_reference))
    assert result.status == "pass", result.message


def test_bias_gradient_is_the_sum_over_all_but_channels():
    g = np.arange(24.0).reshape(2, 3, 4)
    grads = vjp("conv_transpose", g, np.zeros((2, 1, 4)), weight=np.zeros((1, 3, 1)), bias=np.zeros(3))
    np.testing.assert_array_equal(grads["bias"], g.sum(axis=(0, 2)))


def test_max_pool_gradient_adds_overlapping_windows():
    x = np.array([[[0.0, 5.0, 1.0]]])
    grads = vjp("max_pool", np.array([[[1.0, 2.0]]]), x, kernel_size=(2,), stride=(1,))
    np.testing.assert_array_equal(grads["x"], [[[0.0, 3.0, 0.0]]])


def test_torch_autograd_oracle_names_every_differentiable_input():
    t = load("torch")
    x, w, b = (torch.ones(1, 2, 3), torch.ones(2, 3, 2), torch.ones(3))
    grads = t.vjp("conv_transpose", torch.ones(1, 3, 4), x, weight=w, bias=b)
    assert set(grads) == set(ops.get("conv_transpose").differentiable)


def test_a_wrong_gradient_only_is_caught_with_a_minimal_repro(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:WrongBilinearGradient",
        "--op",
        "interpolate",
        "--mode",
        "bilinear",
        "--examples",
        "60",
        "--seed",
        "0",
        "--results",
        str(results),
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    forward = [r for r in records if r.get("type") == "result" and r["direction"] == "forward"]
    assert forward and all(r["status"] == "pass" for r in forward)
    minimal = [r for r in records if r.get("minimal")]
    assert len(minimal) == 1 and minimal[0]["direction"] == "backward"
    assert "mode='bilinear'" in minimal[0]["repro"] and "backend.vjp(" in minimal[0]["repro"]
    out = run_repro(minimal[0]["repro"])
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split("max |actual - expected| =")[1].split()[0]) > 0
    assert "bwd" in proc.stdout  # the summary shows backward rows beside forward ones


def test_wrong_residuals_fail_though_the_plain_vjp_is_right(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:WrongResidualIndices",
        "--op",
        "max_pool",
        "--examples",
        "40",
        "--seed",
        "0",
        "--results",
        str(results),
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    outcomes = [r for r in records if r.get("type") == "result" and r["status"] != "unsupported"]
    assert all(r["status"] == "pass" for r in outcomes if r["direction"] == "forward")
    failed = [r for r in outcomes if r["status"] == "fail"]
    assert failed and all(r["direction"] == "backward" for r in failed)
    assert any("through its residuals" in r["message"] for r in failed)


def test_nondeterministic_gradients_are_reported(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:NondeterministicGradient",
        "--op",
        "pixel_shuffle",
        "--examples",
        "20",
        "--seed",
        "0",
        "--no-isolation",
        "--results",
        str(results),
    )
    records = [json.loads(line) for line in results.read_text().splitlines()]
    backward = [
        r
        for r in records
        if r.get("type") == "result" and r["direction"] == "backward" and r["status"] != "unsupported"
    ]
    assert any(r.get("deterministic") is False for r in backward)
    row = next(line for line in proc.stdout.splitlines() if "pixel_shuffle" in line and " bwd " in line)
    assert int(row.split()[-3]) > 0  # the nondet column (then variants, time/torch)


def test_no_grad_checks_forward_only(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "reference",
        "--op",
        "pixel_unshuffle",
        "--examples",
        "5",
        "--seed",
        "0",
        "--no-grad",
        "--jobs",  # one job: the test pays for no job's forkserver
        "1",
        "--results",
        str(results),
    )
    assert proc.returncode == 0
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert all(r.get("direction", "forward") == "forward" for r in records if r.get("type") == "result")
