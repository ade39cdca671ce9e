"""The HTML report (``python -m conformance report``): what the page says about
passes, failures, errors and unsupported cells, timings, environments, several
machines, and that nothing from a results file can inject markup."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

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
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


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
    dtypes = [d for d in ("float16", "float32", "float64", "uint8") if any(r["dtype"] == d for r in records)]
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
    # values rebuilt around the worst spot: torch, the backend and the reference side by side
    assert "expected (torch)" in failing_page and "actual (ignores-align-corners)" in failing_page
    assert "reference (exact, float64)" in failing_page
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
    assert status_of(cells["lanczos"]) == "unsupported" and counts_in(cells["lanczos"]) == {"unsupported": 2}
    assert status_of(cells["bicubic"]) == "error" and counts_in(cells["bicubic"]) == {"pass": 1, "error": 2}
    # an erroring cell without a minimal case shows its first erroring case
    assert [f["status"] for f in page.failures] == ["error"]
    assert "first failing case (no minimal case recorded)" in page_text
    assert "raised RuntimeError: boom; torch returns a result" in page_text
    # the values are rebuilt with the run's backend spec (this one no longer raises)
    assert "actual (partial)" in page_text and "red&nbsp;</span>: different from torch" in page_text
    # totals, torch off the reference, timings (3 passes at 2 ms against torch's 1 ms)
    assert re.search(r"<span>unsupported</span><b>2</b>", page_text)
    assert (
        "torch off the reference (1)" in page_text and "Test CPU 9000 · 2026-01-01 00:00: 1 distinct case" in page_text
    )
    assert "2.00×" in page_text
    assert "does not conform: 1 of 4 cells" in page_text


def test_failing_case_whose_backend_cannot_be_rebuilt(tmp_path: Path) -> None:
    minimal = result("fail", "bicubic", "1 element(s) off", minimal=True, repro="print('repro')")
    broken = result("fail", "bicubic", "2 element(s) off", backend="raises", minimal=True, repro="print(2)")
    unsafe = result("fail", "bilinear", "unsafe", backend="raises", minimal=True)
    unsafe["case"]["input"]["dtype"] = "float32); import os; os.system('touch /tmp/pwned'"
    records = [
        environment(),
        {"run_id": "hand", "type": "backend", "name": "partial", "spec": "no_such_module:Thing", "version": "1"},
        {"run_id": "hand", "type": "backend", "name": "raises", "spec": "tests.broken_backends:Float32NoLanczos"},
        minimal,
        broken | {"mode": "lanczos", "case": {**CASE, "params": {"mode": "lanczos", "size": [3, 3]}}},
        unsafe,
    ]
    page_text = report(tmp_path, write_jsonl(tmp_path / "r.jsonl", records))
    assert "cannot be loaded here: BackendLoadError: cannot import" in page_text
    assert "backend raises raises Unsupported: lanczos is not implemented" in page_text
    assert "values not rebuilt: the case is not rebuilt here (unknown dtype)" in page_text
    assert "expected (torch)" in page_text  # torch's values are still shown
    assert not Path("/tmp/pwned").exists()
    no_rebuild = report(tmp_path / "n", write_jsonl(tmp_path / "r.jsonl", records), extra=("--no-rebuild",))
    assert "values not rebuilt (--no-rebuild)" in no_rebuild and "expected (torch)" not in no_rebuild


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
    path = write_report([write_jsonl(tmp_path / "odd.jsonl", records)], tmp_path / "out")
    assert "values could not be rebuilt" in path.read_text() or "not rebuilt" in path.read_text()


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
    assert "values are shown for forward cases only" in page_text
