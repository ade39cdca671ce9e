"""The HTML report (``python -m conformance report``): what the page says about
passes, failures, errors and unsupported cells, timings, environments, several
machines, and that nothing from a results file can inject markup."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import ops
from reports.values import NOT_RECORDED
from tests import cli_runner

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "tests.broken_backends:IgnoresAlignCorners"
INJECT_SCRIPT = "<script>alert(1)</script>"
INJECT_IMG = '"><img src=x onerror=alert(1)>'

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2 (tox installs it)")


def esc(value: str) -> str:
    """``value`` as the page shows it (Jinja2's autoescape)."""
    from markupsafe import escape

    return str(escape(value))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, run from an empty folder: a ``results/bench.json`` that
    ``tox -e bench`` left in the checkout must not reach these reports."""
    with tempfile.TemporaryDirectory() as cwd:
        return cli_runner.run_cli(*args, cwd=cwd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def report(tmp_path: Path, *results: Path, extra: tuple[str, ...] = ()) -> str:
    out = tmp_path / "out"
    args = ["report", "--out", str(out), *extra]
    for r in results:
        args += ["--results", str(r)]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(out / "index.html") in proc.stdout
    return (out / "index.html").read_text(encoding="utf-8")


class Page(HTMLParser):
    """The parts of the page the tests read: matrix rows (their cells' status
    and text), machine column headers, failure sections and the SVG charts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.machines: list[str] = []
        self.failures: list[dict[str, str]] = []
        self.charts = 0
        self.tags: list[str] = []
        self._td: dict[str, str] | None = None
        self._th_machine: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "tr" and a.get("data-filter") == "matrix":
            self.rows.append({"backend": a["data-backend"], "op": a["data-op"], "cells": [], "texts": []})
        elif tag == "td" and self.rows and "c" in a.get("class", "").split():
            self._td = {"class": a["class"], "text": ""}
        elif tag == "th" and "machine" in a.get("class", "").split():
            self._th_machine = []
        elif tag == "section" and a.get("data-filter") == "failure":
            self.failures.append({"backend": a["data-backend"], "status": a["data-statuses"], "id": a["id"]})
        elif tag == "svg" and "chart" in a.get("class", ""):
            self.charts += 1
        elif tag == "td" and self.rows and self._td is None:
            self._td = {"class": "label", "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._td is not None:
            if self._td["class"] == "label":
                self.rows[-1]["texts"].append(self._td["text"].strip())
            else:
                self.rows[-1]["cells"].append(self._td)
            self._td = None
        elif tag == "th" and self._th_machine is not None:
            self.machines.append("".join(self._th_machine).strip())
            self._th_machine = None

    def handle_data(self, data: str) -> None:
        if self._td is not None:
            self._td["text"] += data
        if self._th_machine is not None:
            self._th_machine.append(data)

    def row(self, backend: str, op: str, mode: str) -> dict[str, Any]:
        for r in self.rows:
            if r["backend"] == backend and r["op"] == op and r["texts"][2] == mode:
                return r
        raise AssertionError(f"no matrix row {backend} {op} {mode}")


def status_of(cell: dict[str, str]) -> str:
    return next(c[2:] for c in cell["class"].split() if c.startswith("s-"))


def counts_in(cell: dict[str, str]) -> dict[str, int]:
    symbols = {"✓": "pass", "✗": "fail", "!": "error", "–": "unsupported"}
    return {symbols[s]: int(n) for n, s in re.findall(r"(\d+)\u202f(.)", cell["text"])}


# --- results made by the real CLI -------------------------------------------------


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("failing") / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        BROKEN,
        "--op",
        "interpolate",
        "--mode",
        "bilinear",
        "--examples",
        "20",
        "--seed",
        "0",
        "--results",
        str(path),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return path


@pytest.fixture(scope="module")
def failing_page(failing_run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return report(tmp_path_factory.mktemp("page"), failing_run)


def test_matrix_counts_match_the_results(failing_run: Path, failing_page: str) -> None:
    records = [r for r in read_jsonl(failing_run) if r["type"] == "result" and not r["minimal"]]
    page = Page(failing_page)
    dtypes = [d for d in ops.KNOWN_DTYPES if any(r["dtype"] == d for r in records)]  # the matrix's column order
    failing = False
    for direction in sorted({r.get("direction", "forward") for r in records}):  # gradient checks: their own row
        expected: dict[str, dict[str, int]] = {}
        for r in records:
            if r.get("direction", "forward") == direction:
                expected.setdefault(r["dtype"], {}).setdefault(r["status"], 0)
                expected[r["dtype"]][r["status"]] += 1
        label = "bilinear" if direction == "forward" else f"bilinear · {direction}"
        row = page.row("ignores-align-corners", "interpolate", label)
        assert {d: counts_in(c) for d, c in zip(dtypes, row["cells"]) if counts_in(c)} == expected
        for d, cell in zip(dtypes, row["cells"]):
            fails = bool(expected.get(d, {}).get("fail"))
            failing |= fails
            assert status_of(cell) == ("fail" if fails else "pass" if d in expected else "empty")
    assert failing, "the broken backend must fail some bilinear case"
    assert "does not conform: 1 of " in failing_page


def test_failing_cell_shows_minimal_case_errors_values_and_repro(failing_run: Path, failing_page: str) -> None:
    minimal = [r for r in read_jsonl(failing_run) if r.get("minimal")]
    assert len(minimal) == 1
    m = minimal[0]
    page = Page(failing_page)
    assert [f["status"] for f in page.failures] == ["fail"]
    assert esc(m["message"]) in failing_page
    assert esc(m["repro"]) in failing_page  # the whole repro, escaped, verbatim
    assert "minimal case: interpolate(" in failing_page
    for label in ("max ULP error", "worst index", "torch&#39;s own max error", "bound"):
        assert label in failing_page
    assert json.dumps(m["comparison"]["worst_index"]) in failing_page
    # the values around the worst spot, as the run recorded them: torch, the backend and the reference
    assert isinstance(m.get("values"), dict), "the runner records a failing case's values (conformance.windows)"
    assert "values recorded when the case ran" in failing_page
    assert "expected (torch)" in failing_page and "actual (ignores-align-corners)" in failing_page
    assert "reference (exact" in failing_page and "reference (exact, float64)" not in failing_page
    assert 'class="diff worst"' in failing_page  # the worst element differs from torch
    # the matrix links the failing cell to its details
    assert f'href="#{page.failures[0]["id"]}"' in failing_page


def test_timings_and_environment(failing_run: Path, failing_page: str) -> None:
    env = read_jsonl(failing_run)[0]
    page = Page(failing_page)
    assert page.charts == 1  # interpolate, one bar per cell and backend
    assert "slower than torch" in failing_page and "1×" in failing_page
    assert re.search(r"\d+\.\d\d×", failing_page)
    for key in ("torch", "numpy", "python", "cpu", "harness_version"):
        assert esc(str(env[key])) in failing_page
    assert f"<td>{env['seed']}</td>" in failing_page and f"<td>{env['examples']}</td>" in failing_page
    assert "--backend " + BROKEN in failing_page
    assert len(page.machines) == 1 and env["cpu"] in page.machines[0]


def test_two_files_merge_with_a_column_per_machine(failing_run: Path, tmp_path: Path) -> None:
    gpu = []
    for r in read_jsonl(failing_run):
        r = copy.deepcopy(r)
        r["run_id"] = "gpu-run"
        if r["type"] == "environment":
            r["gpu"] = {"name": "NVIDIA H100 80GB HBM3", "memory_gib": 79.2, "cuda": "12.8", "driver": "570.1"}
            r["date"] = "2030-01-02T03:04:05+00:00"
        gpu.append(r)
    page_text = report(tmp_path, failing_run, write_jsonl(tmp_path / "gpu.jsonl", gpu))
    page = Page(page_text)
    assert len(page.machines) == 2
    assert "NVIDIA H100 80GB HBM3 · 2030-01-02 03:04" in page.machines[1]
    assert read_jsonl(failing_run)[0]["cpu"] in page.machines[0]
    row = page.row("ignores-align-corners", "interpolate", "bilinear")
    half = len(row["cells"]) // 2
    assert [counts_in(c) for c in row["cells"][:half]] == [counts_in(c) for c in row["cells"][half:]]
    assert "driver 570.1" in page_text and "CUDA 12.8" in page_text
    assert len(page.failures) == 2  # one per machine
    assert page_text.count('<svg class="chart"') == 2


def test_a_later_run_on_the_same_machine_supersedes_an_earlier_one(failing_run: Path, tmp_path: Path) -> None:
    records = read_jsonl(failing_run)
    later = copy.deepcopy(records)
    for r in later:
        r["run_id"] = "later"
        if r["type"] == "environment":
            r["date"] = "2099-01-01T00:00:00+00:00"
        if r["type"] == "result":
            r["status"], r["minimal"] = "pass", False
    path = write_jsonl(tmp_path / "both.jsonl", records + [r for r in later if r.get("repro") is None])
    page_text = report(tmp_path, path)
    page = Page(page_text)
    assert len(page.machines) == 1
    assert all(status_of(c) in ("pass", "empty") for c in page.row(*later_key(later))["cells"])
    assert "1 earlier run superseded" in page_text
    assert not page.failures


def later_key(records: list[dict[str, Any]]) -> tuple[str, str, str]:
    r = next(r for r in records if r["type"] == "result")
    return r["backend"], r["op"], r["mode"]


# --- hand-written results: errors, unsupported cells, odd records ---------------------

CASE = {
    "op": "interpolate",
    "params": {"mode": "bicubic", "size": [3, 3], "align_corners": False},
    "input": {
        "kind": "array",
        "shape": [1, 1, 2, 2],
        "dtype": "float32",
        "distribution": "normal",
        "seed": 0,
        "layout": "contiguous",
    },
    "operands": [],
}


def environment(run_id: str = "hand", **extra: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "type": "environment",
        "harness_version": "0.1.0",
        "commit": "abc123",
        "date": "2026-01-01T00:00:00+00:00",
        "python": "3.11.7",
        "numpy": "2.4.6",
        "torch": "2.13.0+cpu",
        "cupy": None,
        "cpu": "Test CPU 9000",
        "cpu_count": 4,
        "gpu": None,
        "seed": 7,
        "examples": 3,
        **extra,
    }


def result(status: str, mode: str, message: str = "", run_id: str = "hand", backend: str = "partial", **extra: Any):
    case = copy.deepcopy(CASE)
    case["params"]["mode"] = mode
    return {
        "run_id": run_id,
        "type": "result",
        "backend": backend,
        "op": "interpolate",
        "mode": mode,
        "dtype": "float32",
        "status": status,
        "message": message,
        "case": case,
        "comparison": None,
        "time_s": 0.002 if status == "pass" else None,
        "torch_time_s": 0.001 if status == "pass" else None,
        "minimal": False,
        "repro": None,
        **extra,
    }


def off_reference() -> dict[str, Any]:
    r = result("pass", "area")
    r["comparison"] = {
        "passed": True,
        "reason": "",
        "max_abs": 0.5,
        "max_rel": 0.1,
        "max_ulp": 3.0,
        "mismatches": 0,
        "worst_index": [0, 0, 0, 0],
        "bound": 0.6,
        "torch_max_abs": 0.5,
        "torch_off_reference": True,
        "max_abs_vs_torch": 0.0,
    }
    return r


@pytest.fixture
def statuses_file(tmp_path: Path) -> Path:
    records = [
        environment(),
        {
            "run_id": "hand",
            "type": "backend",
            "name": "partial",
            "spec": "tests.broken_backends:Float32NoLanczos",
            "version": "1.0",
            "available": True,
            "reason": "",
        },
        *[result("pass", "bilinear") for _ in range(3)],
        *[result("unsupported", "lanczos", "lanczos is not implemented") for _ in range(2)],
        result("pass", "bicubic"),
        *[result("error", "bicubic", "raised RuntimeError: boom; torch returns a result") for _ in range(2)],
        off_reference(),
    ]
    return write_jsonl(tmp_path / "statuses.jsonl", records)


def test_error_and_unsupported_cells(statuses_file: Path, tmp_path: Path) -> None:
    page_text = report(tmp_path, statuses_file)
    page = Page(page_text)
    cells = {mode: page.row("partial", "interpolate", mode)["cells"][0] for mode in ("bilinear", "lanczos", "bicubic")}
    assert status_of(cells["bilinear"]) == "pass" and counts_in(cells["bilinear"]) == {"pass": 3}
    # a cell the backend takes no case of counts 1 unsupported, whatever its records (reports.data.tally)
    assert status_of(cells["lanczos"]) == "unsupported" and counts_in(cells["lanczos"]) == {"unsupported": 1}
    assert status_of(cells["bicubic"]) == "error" and counts_in(cells["bicubic"]) == {"pass": 1, "error": 2}
    # an erroring cell without a minimal case shows its first erroring case
    assert [f["status"] for f in page.failures] == ["error"]
    assert "first failing case (no minimal case recorded)" in page_text
    assert "raised RuntimeError: boom; torch returns a result" in page_text
    # hand-written records without "values", like an older harness's: a note, nothing rebuilt
    assert NOT_RECORDED in page_text and "expected (torch)" not in page_text
    # totals, torch off the reference, timings (3 passes at 2 ms against torch's 1 ms)
    assert re.search(r"<span>unsupported</span><b>1</b>", page_text)
    assert (
        "torch off the reference (1)" in page_text and "Test CPU 9000 · 2026-01-01 00:00: 1 distinct case" in page_text
    )
    assert "2.00×" in page_text
    assert "does not conform: 1 of 4 cells" in page_text


def test_failure_values_window_around_the_worst_element() -> None:
    from conformance.windows import failure_values

    torch_out = np.arange(48, dtype=np.float32).reshape(1, 2, 4, 6) / 4
    got = torch_out.copy()
    got[0, 1, 2, 3] += 1.0  # the worst element
    got[0, 1, 3, 4] += 0.25  # wrong, but within the window
    exact = torch_out.astype(np.float64) + 1e-6
    cmp = {"worst_index": [0, 1, 2, 3], "bound": 0.1, "max_abs": 1.0}
    values = failure_values("float32", {"torch": (torch_out,), "backend": (got,), "reference": (exact,)}, cmp, "bk")
    assert json.loads(json.dumps(values)) == values  # plain JSON, as the store writes it
    assert "around index [0, 1, 2, 3]" in values["caption"] and "recorded when the case ran" in values["caption"]
    assert "rendered" not in values["caption"]
    assert values["legend"] == "beyond the bound (0.1) from the exact value" and values["notes"] == []
    torch_grid, backend_grid, ref_grid = values["grids"]
    titles = ["expected (torch)", "actual (bk)", "reference (exact, to 9 significant digits)"]
    assert [g["title"] for g in values["grids"]] == titles and ref_grid["dtype"] == "float64"
    assert backend_grid["shape"] == [1, 2, 4, 6] and backend_grid["dtype"] == "float32"
    assert backend_grid["col_labels"] == [1, 2, 3, 4, 5]  # 5 columns around column 3, clamped into 6
    assert [i for i, _ in backend_grid["rows"]] == [0, 1, 2, 3]  # only 4 rows
    marked = {(i, col): c["classes"] for i, cells in backend_grid["rows"] for col, c in zip([1, 2, 3, 4, 5], cells)}
    assert {k: v for k, v in marked.items() if v} == {(2, 3): "diff worst", (3, 4): "diff"}
    assert dict(torch_grid["rows"])[2][2] == {"text": "9.75", "classes": "worst"}
    assert dict(backend_grid["rows"])[2][2]["text"] == "10.75"
    assert dict(ref_grid["rows"])[2][2]["text"] == "9.750001"  # float64, to float32's 9 significant digits


def test_failure_values_picks_the_differing_output() -> None:
    from conformance.windows import failure_values

    values = np.zeros((1, 1, 3, 3), np.float32)
    indices = np.arange(9, dtype=np.int64).reshape(1, 1, 3, 3)
    wrong = indices.copy()
    wrong[0, 0, 2, 0] = 7
    out = failure_values(
        "float32", {"torch": (values, indices), "backend": (values, wrong)}, {"worst_index": "odd"}, "bk"
    )
    assert out["caption"].startswith("output 1 of 2, around index [0, 0, 2, 0]")  # the first element that differs
    assert out["legend"] == "different from torch"
    assert [g["title"] for g in out["grids"]] == ["expected (torch)", "actual (bk)"]
    assert dict(out["grids"][1]["rows"])[2][0] == {"text": "7", "classes": "diff worst"}
    # nothing to show, or arrays it cannot read: a note, never an exception
    assert failure_values("float32", {}, None, "bk")["notes"] == ["no outputs were recorded"]
    assert failure_values("float32", {"backend": (object(),)}, None, "bk")["notes"][0].startswith("values not recorded")


@pytest.mark.parametrize(
    "data",
    [None, 5, "text", [], {"grids": 3}, {"grids": [{"rows": [[1, 2]]}]}, {"grids": [{"shape": ["x"]}]}, {"notes": 1}],
)
def test_window_from_malformed_values_is_a_note(data: Any) -> None:
    from reports.values import window_from_json

    window = window_from_json(data)
    assert window.notes and not window.grids


def recorded_failure(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A results file whose failing record carries values, and whose backend
    spec names a module that, if imported, leaves a marker file behind."""
    from conformance.windows import failure_values

    (tmp_path / "spy_backend.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass Thing: pass\n")
    torch_out = np.full((1, 1, 3, 3), 0.5, np.float32)
    got = torch_out.copy()
    got[0, 0, 1, 1] = 0.625
    cmp = {"worst_index": [0, 0, 1, 1], "bound": 0.01, "max_abs": 0.125}
    outputs = {"torch": (torch_out,), "backend": (got,), "reference": (torch_out.astype(np.float64),)}
    values = failure_values("float32", outputs, cmp, "spy")
    minimal = result("fail", "bicubic", "1 element(s) off", backend="spy", minimal=True, repro="print(1)")
    minimal.update(comparison=cmp, values=values)
    records = [
        environment(),
        {"run_id": "hand", "type": "backend", "name": "spy", "spec": "spy_backend:Thing", "version": "1"},
        result("fail", "bicubic", "1 element(s) off", backend="spy"),
        minimal,
    ]
    return write_jsonl(tmp_path / "r.jsonl", records), values


#: Renders a results file in a fresh interpreter where the backends package
#: cannot be imported, and checks that no backend module was loaded.
RENDER_ALONE = """
import sys
sys.modules["backends"] = None  # importing it, or any backend, raises ImportError
from reports.html import write_report
write_report([sys.argv[1]], sys.argv[2], rebuild=True)
loaded = [m for m, v in sys.modules.items() if v is not None and m.split(".")[0] in ("backends", "spy_backend")]
assert not loaded, loaded
"""


def test_recorded_values_render_without_loading_any_backend(tmp_path: Path) -> None:
    path, values = recorded_failure(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    proc = subprocess.run(
        [sys.executable, "-c", RENDER_ALONE, str(path), str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page_text = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert not (tmp_path / "imported").exists()  # the spec the file names was never imported
    assert esc(values["caption"]) in page_text and "values recorded when the case ran" in page_text
    assert "expected (torch)" in page_text and "actual (spy)" in page_text
    assert '<td class="diff worst">0.625</td>' in page_text and "<td>0.5</td>" in page_text
    assert "beyond the bound (0.01) from the exact value" in page_text
    assert NOT_RECORDED not in page_text


def test_a_record_without_values_renders_the_older_harness_note(tmp_path: Path) -> None:
    from reports.html import write_report

    unsafe = result("fail", "bilinear", "unsafe", minimal=True, repro="print(1)")
    unsafe["case"]["input"]["dtype"] = "float32); import os; os.system('touch /tmp/pwned'"
    records = [
        environment(),
        {"run_id": "hand", "type": "backend", "name": "partial", "spec": "no_such_module:Thing", "version": "1"},
        result("fail", "bicubic", "1 element(s) off", minimal=True, repro="print('repro')"),
        unsafe,
        result("fail", "lanczos", "nothing to show", minimal=True) | {"values": None},
        result("error", "nearest", "the worker crashed", minimal=True) | {"isolation": "crash", "phase": "backend"},
    ]
    path = write_jsonl(tmp_path / "r.jsonl", records)
    for rebuild in (True, False):  # ignored: the report renders the records only
        page_text = write_report([path], tmp_path / str(rebuild), rebuild=rebuild).read_text(encoding="utf-8")
        assert page_text.count(esc(NOT_RECORDED)) == 2
        assert page_text.count("no values were recorded for this case: run the repro to see them") == 2
        assert "expected (torch)" not in page_text and "cannot be loaded" not in page_text
    assert not Path("/tmp/pwned").exists()


def test_ops_and_cells_follow_the_registry_order_when_it_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from reports import data

    keys = [("b", "max_pool", "2d", "forward"), ("b", "interpolate", "nearest", "backward")]
    keys += [("b", "interpolate", "bilinear", "forward"), ("b", "interpolate", "nearest", "forward")]
    registry = types.ModuleType("conformance.ops")
    registry.ORDER = [("interpolate", ("nearest", "bilinear")), ("max_pool", ("1d", "2d"))]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "conformance.ops", registry)
    data._order.cache_clear()
    try:
        assert [k[1:] for k in sorted(keys, key=data.cell_sort_key)] == [
            ("interpolate", "nearest", "forward"),
            ("interpolate", "nearest", "backward"),
            ("interpolate", "bilinear", "forward"),
            ("max_pool", "2d", "forward"),
        ]
        assert data.mode_rank("interpolate", "bilinear") == 1
        monkeypatch.setitem(sys.modules, "conformance.ops", None)  # unimportable: alphabetical, no error
        data._order.cache_clear()
        assert [k[1:3] for k in sorted(keys, key=data.cell_sort_key)][:2] == [
            ("interpolate", "bilinear"),
            ("interpolate", "nearest"),
        ]
    finally:
        data._order.cache_clear()


def test_summary_table_and_report_share_one_aggregation(statuses_file: Path) -> None:
    from conformance.store import read_records
    from reports.data import load
    from reports.summary import render, tabulate

    records = list(read_records(statuses_file))
    cells = tabulate(records)
    machine = load([statuses_file]).machines[0]
    assert cells.keys() == machine.cells.keys()
    for key, cell in cells.items():
        assert cell.tally == machine.cells[key].counts()
    bicubic = cells[("partial", "interpolate", "bicubic", "forward")]
    assert bicubic.counts == {"pass": 1, "fail": 0, "error": 2, "expected": 0, "unsupported": 0} and bicubic.ratio == 2.0
    table = render(cells).splitlines()
    assert table[0].split()[:8] == ["backend", "op", "mode", "dir", "pass", "fail", "error", "unsup"]
    area = next(line for line in table if " area " in line).split()
    assert area[:8] == ["partial", "interpolate", "area", "fwd", "1", "0", "0", "0"]
    assert area[8] == "0"  # expected deviations
    # worst ulp with its dtype, ..., nondet, variants (none recorded), time
    assert area[9:] == ["3", "float32", "0.5", "1", "-", "-", "2.00x(2.00-2.00)"]


def test_nothing_from_a_results_file_injects_markup(tmp_path: Path) -> None:
    evil = INJECT_SCRIPT + INJECT_IMG
    records = [
        environment(run_id=evil, cpu=evil, torch=evil, argv=[evil], gpu={"name": evil, "driver": evil}),
        {"run_id": evil, "type": "backend", "name": evil, "spec": evil, "version": evil, "available": True},
        result("fail", evil, evil, run_id=evil, backend=evil, minimal=True, repro=evil, **{evil: evil}),
        result("error", "bicubic", evil, run_id=evil, backend=evil),
        result("unsupported", "bilinear", evil, run_id=evil, backend=evil) | {"op": evil, "dtype": evil},
        {"run_id": evil, "type": "result", "backend": evil, "op": "interpolate", "mode": "x", "status": evil},
    ]
    page_text = report(tmp_path, write_jsonl(tmp_path / "evil.jsonl", records))
    assert "<script>alert" not in page_text and "<img" not in page_text
    assert page_text.count("<script") == 1  # the report's own filter script
    assert 'onerror=alert(1)>"' not in page_text
    assert esc(evil) in page_text  # shown as text
    tags = set(Page(page_text).tags)
    assert "img" not in tags
    assert tags <= {
        *("html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "div", "span", "code"),
        *("nav", "a", "b", "table", "thead", "tbody", "tr", "th", "td", "section", "pre", "details", "summary"),
        *("svg", "text", "line", "g", "rect", "p", "label", "select", "option", "button", "br", "ul", "li"),
        *("script",),
    }


def test_the_page_is_self_contained(failing_page: str) -> None:
    assert "<link" not in failing_page
    assert not re.search(r"""\bsrc\s*=""", failing_page)
    assert all(v == '"#' for v in re.findall(r"href\s*=\s*(..)", failing_page))  # in-page links only
    assert "@import" not in failing_page and "url(" not in failing_page
    assert "http" not in failing_page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_benchmark_results_pair_numpy_with_torch(statuses_file: Path, tmp_path: Path) -> None:
    def bench(impl: str, median: float, target: str = "1.0") -> dict[str, Any]:
        return {
            "group": "nearest 2x up",
            "name": f"test_interpolate[nearest-2x-up-{impl}]",
            "params": {"case": f"UNSERIALIZABLE[Case(name='nearest 2x up', target={target})]", "implementation": impl},
            "param": f"nearest-2x-up-{impl}",
            "extra_info": {"shape": [8, 64, 128, 128]},
            "stats": {"median": median, "rounds": 7},
        }

    data = {
        "machine_info": {"cpu": {"brand_raw": "Bench CPU", "count": 2}},
        "datetime": "2026-01-01T00:00:00",
        "benchmarks": [bench("numpy", 0.05), bench("torch", 0.1)],
    }
    (tmp_path / "bench.json").write_text(json.dumps(data))
    page_text = report(tmp_path, statuses_file, extra=("--bench", str(tmp_path / "bench.json")))
    assert 'id="bench"' in page_text and "Bench CPU (2 CPUs)" in page_text
    assert "8×64×128×128" in page_text and "<td>50.0</td><td>100.0</td><td>0.50×</td><td>≤ 1</td>" in page_text
    assert ">met<" in page_text
    # without --bench and without results/bench.json in the working directory: no section
    if not (ROOT / "results" / "bench.json").exists():
        assert 'id="bench"' not in report(tmp_path / "b", statuses_file)


def test_benchmark_results_show_the_floor_the_backward_groups_and_the_peak(statuses_file: Path, tmp_path: Path) -> None:
    def bench(group: str, impl: str, median: float, **extra: Any) -> dict[str, Any]:
        slug = group.replace(" ", "-")
        return {
            "group": group,
            "name": f"test_x[{slug}-{impl}]",
            "params": {"case": f"UNSERIALIZABLE[Case(name={group!r})]", "implementation": impl},
            "extra_info": {"shape": [8, 64, 128, 128], "target": 1.0, "result_bytes": 100_000_000, **extra},
            "stats": {"median": median, "rounds": 7},
        }

    benches = [
        bench("nearest 2x up", "numpy", 0.03, floor_target=2.0, peak_bytes=150_000_000),
        bench("nearest 2x up", "torch", 0.06, floor_target=2.0),
        bench("nearest 2x up", "floor", 0.01, floor_target=2.0),
        bench("nearest 2x up backward", "numpy", 0.12),
        bench("nearest 2x up backward", "torch", 0.06),
    ]
    (tmp_path / "bench.json").write_text(json.dumps({"benchmarks": benches}))
    page_text = report(tmp_path, statuses_file, extra=("--bench", str(tmp_path / "bench.json")))
    assert "<td>numpy</td><td>30.0</td><td>60.0</td><td>0.50×</td><td>≤ 1</td>" in page_text
    assert "<td>10.0</td><td>3.00×</td><td>≤ 2</td>" in page_text and "150 MB (1.5× result)" in page_text
    assert "<td>nearest 2x up backward</td>" in page_text and "2.00×" in page_text
    assert ">floor<" not in page_text  # a yardstick, not a row of its own


def test_missing_or_empty_results_exit_2(tmp_path: Path) -> None:
    proc = run_cli("report", "--results", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    (tmp_path / "empty.jsonl").write_text('\n{"type": "cell_done"}\nnot json\n')
    proc = run_cli("report", "--results", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "holds no run" in proc.stderr
    assert not (tmp_path / "o" / "index.html").exists()


def test_render_survives_odd_records(tmp_path: Path) -> None:
    from reports.html import write_report

    records = [
        {"type": "result", "backend": "b", "op": "interpolate", "mode": "m"},  # no run id, status, case
        {"type": "result", "backend": "b", "op": "interpolate", "mode": "m", "status": "fail", "minimal": True},
        {"type": "result", "backend": "b", "op": "o", "mode": "m", "status": "pass", "time_s": "nan"},
        {"type": "result", "backend": "b", "op": "o", "mode": "n", "status": "pass", "time_s": 1, "torch_time_s": 0},
        {"type": "environment", "run_id": None, "gpu": "weird", "date": 5},
        {"type": "backend", "name": None},
        [1, 2],
        "text",
    ]
    bad_values = {"type": "result", "backend": "b", "op": "o", "mode": "v", "status": "fail", "values": {"grids": 1}}
    path = write_report([write_jsonl(tmp_path / "odd.jsonl", [*records, bad_values])], tmp_path / "out")
    page_text = path.read_text()
    assert esc(NOT_RECORDED) in page_text and "the recorded values cannot be shown" in page_text


def test_gradient_checks_get_their_own_rows(tmp_path: Path) -> None:
    backward = result("fail", "bilinear", "gradient off", direction="backward", minimal=True, repro="print(1)")
    records = [
        environment(),
        result("pass", "bilinear"),
        result("fail", "bilinear", "gradient off", direction="backward"),
        backward,
    ]
    page_text = report(tmp_path, write_jsonl(tmp_path / "grad.jsonl", records))
    page = Page(page_text)
    assert status_of(page.row("partial", "interpolate", "bilinear")["cells"][0]) == "pass"
    assert status_of(page.row("partial", "interpolate", "bilinear · backward")["cells"][0]) == "fail"
    assert esc(NOT_RECORDED) in page_text  # hand-written: no values recorded
