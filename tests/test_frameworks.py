"""The framework backends of backends/frameworks/ built here, for real:
``torch-compile`` (Inductor on the CPU) and ``aten-kernels:DIR``, which need
nothing beyond torch, and ``torch-onnx`` (skipped with its install hint
where onnxruntime and onnxscript are missing); the frameworks matrix, its
divergence list and docs/frameworks.md's table.

Each has a case it conforms on and one it does not, judged by the harness's
own verdict.  torch.compile takes seconds per graph, so the default run
compiles one (the two cases share it: shapes and floats are symbols); the
rest (the crash of ``area``, gradients) runs where ``FRAMEWORKS_FULL`` is
set (``tox -e frameworks``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from backends import BackendLoadError, load
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.isolation import IsolatedChecker
from conformance.repro import repro
from conformance.results import Result
from conformance.store import ResultsWriter
from conformance.strategies import backward_case
from conformance.verdict import check_case
from reports.data import load as load_results
from reports.frameworks import DOC_BEGIN, DOC_END, framework_matrix, markdown_lines, replace_doc_table
from reports.libraries import library_matrix

ROOT = Path(__file__).resolve().parent.parent
KERNELS = Path("tests") / "aten_kernels"
FULL = bool(os.environ.get("FRAMEWORKS_FULL"))
needs_compiler = pytest.mark.skipif(
    not any(shutil.which(c) for c in ("g++", "c++", "clang++")), reason="Inductor needs a C++ compiler"
)


def _case(shape: tuple[int, ...], dtype: str = "float32", **params: Any) -> Case:
    return Case("interpolate", InputSpec(shape, dtype, "unit", seed=3), params)


#: torch-compile: bilinear with per-axis scale factors.  Eager torch leaves an
#: axis whose length the scale does not change (3 * 1.128 -> 3) as it is;
#: Inductor's decomposition resamples it at the given scale (1 / 1.128): off by
#: 0.22 on unit values (the semantic variant same-length-axis-resampled).  An
#: integer scale on every axis agrees.
COMPILE_MATCH = _case((1, 2, 3, 6), scale_factor=[2.0, 3.0], mode="bilinear")
COMPILE_DIFFER = _case((1, 2, 3, 6), scale_factor=[1.128, 3.0], mode="bilinear")


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return Oracle()


@pytest.fixture(scope="module")
def compiled() -> Any:
    backend = load("torch-compile")
    ok, why = backend.availability()
    if not ok:
        pytest.skip(why)
    return backend


@needs_compiler
def test_torch_compile_conforms_and_differs(compiled: Any, oracle: Oracle) -> None:
    agree = check_case(COMPILE_MATCH, compiled, oracle)
    assert agree.status == "pass", (agree.message, agree.extra.get("raised"))
    assert agree.extra["call"].startswith("torch.compile(F.interpolate, dynamic=True")
    # a compiling backend: every case timed after its first call, which is kept apart
    assert agree.extra["first_call_s"] > agree.time_s
    disagree = check_case(COMPILE_DIFFER, compiled, oracle)
    assert disagree.status == "fail", disagree.message
    assert disagree.comparison is not None and disagree.comparison.max_abs > 0.1


@needs_compiler
@pytest.mark.skipif(not FULL, reason="compiles more graphs (seconds each): FRAMEWORKS_FULL=1, tox -e frameworks")
def test_torch_compile_crashes_where_eager_returns_and_differentiates(compiled: Any, oracle: Oracle) -> None:
    # Inductor cannot lower adaptive average pooling with symbolic sizes
    area = check_case(_case((1, 2, 5, 7), size=(3, 3), mode="area"), compiled, oracle)
    assert area.status == "error" and "LoweringException" in area.message, area.message
    forward = _case((1, 2, 5, 7), size=(11, 13), mode="bilinear")
    backward = backward_case(forward, ops.get("interpolate").reference)
    assert backward is not None
    grad = check_case(backward, compiled, oracle)
    assert grad.status == "pass", grad.message


#: torch-onnx: exported interpolate run by onnxruntime.  Bilinear to a size agrees;
#: linear at scale_factor=1.0001 (7 -> 7 samples) is resampled where eager torch
#: leaves the axis alone; lanczos does not export.
ONNX_MATCH = _case((1, 2, 5, 7), size=(11, 13), mode="bilinear")
ONNX_DIFFER = _case((1, 2, 7), scale_factor=1.0001, mode="linear")


def test_torch_onnx_conforms_differs_and_records_the_opset(oracle: Oracle) -> None:
    backend = load("torch-onnx")
    ok, why = backend.availability()
    if not ok:
        if FULL:
            pytest.fail(f"tox -e frameworks installs it: {why}")
        pytest.skip(why)
    agree = check_case(ONNX_MATCH, backend, oracle)
    assert agree.status == "pass", (agree.message, agree.extra.get("raised"))
    assert "opset" in agree.extra["call"]
    disagree = check_case(ONNX_DIFFER, backend, oracle)
    assert disagree.status == "fail", disagree.message
    assert disagree.comparison is not None and disagree.comparison.max_abs > 1e-4


def test_aten_kernels_wrong_one_fails_while_the_oracle_stays_unpatched() -> None:
    """The kernels are registered in the backend's worker only: torch, the
    oracle, answers from another process, so the wrong kernel is caught (were
    the oracle patched, it would agree with it)."""
    differ = _case((1, 2, 5, 7), size=(11, 13), mode="nearest")
    with IsolatedChecker(f"aten-kernels:{KERNELS / 'correct'}") as checker:
        right = checker.check(differ.to_json())
    with IsolatedChecker(f"aten-kernels:{KERNELS / 'wrong'}") as checker:
        wrong = checker.check(differ.to_json())
        integer = checker.check(_case((1, 2, 5, 7), scale_factor=2.0, mode="nearest").to_json())
    assert right["status"] == "pass", right
    assert "upsample_nearest2d_implementation_v1.py" in right["call"]  # the kernel was reached
    assert wrong["status"] == "fail", wrong
    assert integer["status"] == "pass", integer  # integer upscales agree: the layout, not the harness, decides
    import torch

    x = torch.arange(5.0).reshape(1, 1, 1, 5)
    assert torch.nn.functional.interpolate(x, size=(1, 7)).flatten().tolist() == [0, 0, 1, 2, 2, 3, 4]  # unpatched here


def test_torch_compile_repro_calls_torch_compile_and_torch_directly() -> None:
    """The failure card's repro needs no harness: a bug report upstream can carry it."""
    script = repro(COMPILE_DIFFER, "torch-compile")
    assert "framework = torch.compile(op, dynamic=True, fullgraph=True)" in script
    assert "backends" not in script and "load(" not in script
    if FULL and shutil.which("g++"):
        namespace: dict[str, Any] = {}
        exec(compile(script, "<repro>", "exec"), namespace)  # prints the difference; raises nothing
        assert not (namespace["actual"][0] == namespace["expected"][0]).all()


def test_aten_kernels_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendLoadError, match="no such directory"):
        load(f"aten-kernels:{tmp_path / 'missing'}")
    (tmp_path / "upsample_nearest2d").mkdir()
    with pytest.raises(BackendLoadError, match="holds no kernel"):
        load(f"aten-kernels:{tmp_path}")


def _framework_records(path: Path, oracle: Oracle, backend: Any, spec: str, cases: list[Case]) -> None:
    with ResultsWriter(path) as writer:
        writer.write({"type": "environment", "cpu": "test"})
        writer.write({"type": "backend", "name": backend.name, "spec": spec, "kind": backend.kind})
        for case in cases:
            result: Result = check_case(case, backend, oracle)
            writer.write(result.to_json())


def test_matrix_shows_frameworks_apart_from_libraries(tmp_path: Path, oracle: Oracle) -> None:
    """aten-kernels in this process: the correct directory, so nothing torch answers is moved."""
    backend = load(f"aten-kernels:{KERNELS / 'correct'}")
    path = tmp_path / "frameworks.jsonl"
    cases = [
        _case((1, 2, 5, 7), size=(11, 13), mode="nearest"),
        _case((1, 2, 5), size=(11,), mode="nearest"),
        _case((1, 2, 5, 7), "uint8", size=(11, 13), mode="bilinear", antialias=True),
    ]
    _framework_records(path, oracle, backend, backend.name, cases)
    data = load_results([path])
    matrix = framework_matrix(data)
    assert matrix.frameworks == [backend.name]
    verdicts = {row[:5]: cell.verdict for (row, _), cell in matrix.cells.items()}
    assert verdicts[("interpolate", "nearest", "False", "False", "2-D")] == "exact"
    assert verdicts[("interpolate", "nearest", "False", "False", "1-D")] == "exact"
    assert not library_matrix(data).libraries  # a framework is not a library
    lines = markdown_lines(matrix)
    assert lines[0].startswith("| op | mode | align_corners | antialias | rank | direction |")
    assert any("exact (float32)" in line for line in lines)
    doc = f"a\n{DOC_BEGIN}\nold\n{DOC_END}\nb\n"
    assert replace_doc_table(doc, lines).split("\n")[2:4] == lines[:2]


def test_crashes_and_divergences_are_named_and_linked(tmp_path: Path) -> None:
    """Hand-made records: a crash, a difference a known variant explains, one none does."""
    from reports.html import write_report

    crash = Result("fw", _case((1, 1, 4, 4), size=(2, 2), mode="area"), "error", "raised InductorError: cannot lower")
    known = Result(
        "fw", _case((1, 1, 4, 4), size=(8, 8), mode="nearest"), "fail", "off", minimal=True, repro="print(1)"
    )
    known.extra["diagnosis"] = {"verdict": "variant", "summary": "matches nearest-half-pixel on all 1 failing case(s)"}
    unknown = Result("fw", _case((1, 1, 4, 4), size=(8, 8), mode="bilinear"), "fail", "off", minimal=True)
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path) as writer:
        writer.write({"type": "environment", "cpu": "test"})
        writer.write({"type": "backend", "name": "fw", "spec": "fw", "kind": "framework"})
        for result in (crash, known, unknown):
            writer.write(result.to_json())
    data = load_results([path])
    verdicts = {row[1]: cell.verdict for (row, _), cell in framework_matrix(data).cells.items()}
    assert verdicts == {"area": "crashes", "nearest": "differs", "bilinear": "differs"}
    page = write_report([path], tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="frameworks"' in page and "cannot lower" in page
    assert "a convention: it matches nearest-half-pixel on all 1 failing case(s)" in page
    assert page.count("likely a bug of the framework") == 2  # the crash and the unexplained difference


def test_the_frameworks_extra_names_every_framework_extra() -> None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    per_framework = {"torch-onnx", "tinygrad", "mlx", "paddle", "keras", "openvino"}
    assert per_framework <= extras.keys()
    named = {e for r in extras["frameworks"] for e in r.split("[", 1)[1].rstrip("]").split(",")}
    assert named == per_framework


def test_docs_have_the_generated_frameworks_table() -> None:
    doc = (ROOT / "docs" / "frameworks.md").read_text(encoding="utf-8")
    table = doc[doc.index(DOC_BEGIN) + len(DOC_BEGIN) : doc.index(DOC_END)].strip().splitlines()
    assert table[0].startswith("| op | mode | align_corners | antialias | rank | direction |") and len(table) > 5
