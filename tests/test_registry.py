"""The op registry: its facts hold on the installed torch, and an op added to
it alone (reference + strategy + one invalid call) is listed, run and
reported with no other edit."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from conformance import ops
from conformance.cases import Case
from conformance.cli import main
from conformance.execute import Oracle
from conformance.search import Cell, case_strategy
from tests.drawing import in_dtype

ORACLE = Oracle()
# the first example that fits, not a shrunk one: shrinking each of ~100 finds
# cost minutes, and any case that fits probes the dtypes as well
QUICK = settings(
    database=None, max_examples=200, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
)
BUILT_IN = [(op, cell) for op in ops.names() for cell in ops.get(op).cells]


def _torch_takes(case: Case) -> bool:
    try:
        ORACLE.run_torch(case, case.materialize())
    except (RuntimeError, NotImplementedError) as exc:
        if any(phrase in str(exc) for phrase in ("not implemented", "Unsupported", "could not infer output dtype")):
            return False
        if "INTERNAL ASSERT FAILED" in str(exc):
            return True  # the dtype is taken; this call hits a known torch bug (conformance/deviations.py)
        raise
    return True


def _resizes(info: ops.OpInfo, case: Case) -> bool:
    """A non-empty case; for interpolate and its aliases one that changes the
    length of every spatial axis (torch runs no kernel, and so takes any
    dtype, where nothing changes), to more than one element (area's output of
    length 1 is a mean, which takes complex too: no kernel's dtype)."""
    if 0 in case.input.shape:
        return False
    if not info.exact_modes:
        return True
    x = case.materialize()["x"]
    out = info.reference(x, **case.params)
    return all(o != i and o > 1 for o, i in zip(out.shape[2:], x.shape[2:]))


@pytest.mark.parametrize("op,cell", BUILT_IN)
def test_registry_dtypes_are_the_ones_torch_takes(op, cell):
    """Forward and backward: each dtype the registry claims runs on torch CPU,
    and each it leaves out is refused (so the contract is neither too narrow
    nor broader than torch)."""
    info = ops.get(op)
    for antialias in (False, True):
        try:
            case = find(
                info.strategy(cell, lambda m, aa: ("float32",)),
                lambda c, aa=antialias: bool(c.params.get("antialias")) == aa and _resizes(info, c),
                settings=QUICK,
            )
        except NoSuchExample:
            continue
        mode = info.mode_of(case.params)
        for direction in info.directions():
            claimed = info.dtypes_for(direction)(mode, antialias)
            for dtype in ops.KNOWN_DTYPES:
                probe = in_dtype(case, dtype)
                if direction == "backward":
                    from conformance.strategies import backward_case

                    probe = backward_case(probe, info.reference) if dtype in ops.DIFFERENTIABLE else None
                    if probe is None:
                        assert dtype not in claimed, (op, cell, dtype)
                        continue
                assert _torch_takes(probe) == (dtype in claimed), (op, cell, direction, dtype, antialias)


def test_every_op_has_what_the_harness_reads():
    for op in ops.names():
        info = ops.get(op)
        assert info.cells and info.summary, op
        assert callable(info.reference) and callable(info.torch_code) and callable(info.strategy), op
        assert all(c.op == op and c.names_problem for c in info.invalid_calls), op
        if info.alias_of is not None:
            assert info.vjp is None and set(info.alias_parameters) >= {"size", "scale_factor"}, op


def test_strategies_draw_the_registry_dtypes():
    """The numpy backend claims every dtype: what is drawn is the registry's."""
    from backends import load

    numpy = load("numpy")
    for op in ("interpolate", "max_unpool"):
        cell = ops.get(op).cells[0]
        strategy = case_strategy(Cell(op, cell), numpy)
        claimed = set(ops.get(op).forward_dtypes(cell)) | set(ops.get(op).forward_dtypes(cell, True))
        seen = {find(strategy, lambda c, d=d: c.dtype == d, settings=QUICK).dtype for d in claimed}
        assert seen == claimed, (op, seen, claimed)


# --- a toy op, registered in the registry alone ------------------------------------------


@pytest.fixture
def toy():
    from tests import toy_op

    info = toy_op.register()
    yield info
    ops.unregister(info.name)


def test_a_toy_op_is_listed(toy, capsys):
    assert main(["list"]) == 0
    assert f"{toy.name:<21} cells: all" in capsys.readouterr().out


def _run(tmp_path, backend, *extra):
    results = tmp_path / "results.jsonl"
    argv = ["run", "--backend", backend, "--op", "flip_axis", "--examples", "15", "--seed", "3"]
    code = main([*argv, "--results", str(results), "--quiet", "--shrink-seconds", "5", *extra])
    return code, [json.loads(line) for line in results.read_text().splitlines()]


def test_a_toy_op_runs_and_is_reported(toy, tmp_path, capsys):
    code, records = _run(tmp_path, "tests.toy_op:ToyBackend")
    assert code == 0, capsys.readouterr().out
    results = [r for r in records if r.get("type") == "result"]
    assert {r["mode"] for r in results} == {"all", ops.INVALID_CALLS_CELL}
    assert all(r["status"] == "pass" for r in results) and len(results) == 16

    from reports.html import write_report

    page = write_report([tmp_path / "results.jsonl"], tmp_path / "report", None).read_text()
    assert "flip_axis" in page


def test_a_wrong_toy_backend_fails_with_a_repro_that_runs(toy, tmp_path, capsys):
    code, records = _run(tmp_path, "tests.toy_op:WrongToyBackend", "--no-isolation")
    assert code == 1
    minimal = next(r for r in records if r.get("minimal"))
    assert "torch.flip" in minimal["repro"] and minimal["values"]["grids"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(minimal["repro"], "<repro>", "exec"), {})
    assert "max |actual - expected| =" in out.getvalue()


def test_the_manuals_dtype_table_is_the_registrys():
    page = (Path(__file__).resolve().parent.parent / "docs" / "generated" / "dtypes.md").read_text(encoding="utf-8")
    assert "\n" + ops.dtype_table() + "\n" in page, "docs/generated/dtypes.md differs: python -m conformance docs"
