"""Report and terminal defects a user met, each pinned so it cannot come back:
timing-chart labels cut off, a raw ``transfer_s``, a reference header naming
the wrong dtype, torch's error without a unit and off-reference cases that
read alike, the command as a path to ``__main__.py``, invalid calls shown one
per cell with a values window, overflow warnings from the tolerance code,
``0`` where nothing was checked, ``unsupported`` counted differently for a
missing op and a missing mode, and huge ULP figures on passing cells."""

from __future__ import annotations

import copy
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2 (tox installs it)")

from conformance.tolerance import EPS, SLACK_ULPS, compare_exact, compare_numeric  # noqa: E402
from reports.data import tally  # noqa: E402

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


def environment(**extra: Any) -> dict[str, Any]:
    return {
        "run_id": "hand",
        "type": "environment",
        "date": "2026-01-01T00:00:00+00:00",
        "python": "3.11.7",
        "numpy": "2.4.6",
        "torch": "2.13.0+cpu",
        "cpu": "Test CPU",
        "seed": 1,
        "examples": 3,
        **extra,
    }


def result(status: str, mode: str = "bicubic", backend: str = "bk", dtype: str = "float32", **extra: Any):
    case = copy.deepcopy(CASE)
    case["params"]["mode"] = mode
    case["input"]["dtype"] = dtype
    return {
        "run_id": "hand",
        "type": "result",
        "backend": backend,
        "op": "interpolate",
        "mode": mode,
        "dtype": dtype,
        "status": status,
        "message": "",
        "case": case,
        "comparison": None,
        "time_s": 0.002 if status == "pass" else None,
        "torch_time_s": 0.001 if status == "pass" else None,
        "minimal": False,
        "repro": None,
        **extra,
    }


def comparison(**values: Any) -> dict[str, Any]:
    cmp = {
        "passed": True,
        "reason": "",
        "max_abs": 0.0,
        "max_rel": 0.0,
        "max_ulp": 0.0,
        "mismatches": 0,
        "worst_index": [0, 0, 0, 0],
        "bound": 1e-6,
        "torch_max_abs": 0.0,
        "torch_off_reference": False,
        "max_abs_vs_torch": 0.0,
    }
    return cmp | values


def page(tmp_path: Path, records: list[dict[str, Any]], name: str = "r") -> str:
    from reports.html import write_report

    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return write_report([path], tmp_path / f"{name}-out").read_text(encoding="utf-8")


def failure_section(page_text: str, backend: str) -> str:
    start = page_text.index(f'data-filter="failure" data-backend="{backend}"')
    return page_text[start : page_text.index("</section>", start)]


# --- 1. timing-chart labels cut off ------------------------------------------------


def test_chart_columns_fit_their_longest_texts() -> None:
    from reports.charts import PAD, Bar, layout, text_width, value_text

    bars = [
        Bar(
            "a-backend-with-a-rather-long-name",
            500.0,
            "500×   (1.00 s; torch 2 ms)",
            "t",
            group="nearest-exact · backward",
        ),
        Bar("numpy", 1 / 300, "0.00×   (10 µs; torch 3.00 ms)", "t", group="nearest-exact · backward"),
        Bar("reference", 1.2, "1.20×   (2 µs; torch 2 µs)", "t", group="bilinear"),
    ]
    chart = layout("interpolate", bars)
    for bar in chart.bars:
        assert bar.label_text == bar.label  # these fit without abbreviating
        assert bar.group_text == (bar.group if bar.show_group else "")
        group = text_width(bar.group_text, bold=True) + PAD if bar.show_group else 0.0
        assert 4 + group + text_width(bar.label_text) <= chart.plot_left - PAD  # no overlap, nothing off the left
        assert chart.value_x + text_width(value_text(bar)) <= chart.width  # "(beyond the axis)" whole
    assert [b.clipped for b in chart.bars] == [True, True, False]


def test_a_label_too_long_for_any_column_is_abbreviated_with_the_full_text_in_a_title(tmp_path: Path) -> None:
    from reports.charts import MAX_LABEL_W, text_width

    long_name = "backend-" + "x" * 150
    records = [environment(), result("pass", backend=long_name), result("pass", backend="bk", time_s=1.0)]
    page_text = page(tmp_path, records)
    svg = page_text[page_text.index('<svg class="chart"') : page_text.index("</svg>")]
    width = float(re.search(r'width="([\d.]+)"', svg).group(1))
    assert f"<title>{long_name}</title>" in svg  # the full name on hover
    shown = re.findall(r'text-anchor="end">([^<]*)<', svg)
    assert any(s.endswith("…") and s[:-1] in long_name for s in shown)
    for x, value in re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="value">([^<]*)</text>', svg):
        assert float(x) + text_width(value.replace("&#39;", "'")) <= width
    plot_left = float(re.search(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end">', svg).group(1)) + 8
    assert plot_left <= MAX_LABEL_W
    assert "(beyond the axis)" in svg  # 1 s against 1 ms: 1000x, clipped, and its text drawn whole


# --- 2. a raw transfer_s in a failure card --------------------------------------------


def test_transfer_time_is_shown_with_a_unit_or_not_at_all(tmp_path: Path) -> None:
    failing = result("fail", minimal=True, repro="print(1)", transfer_s=1.75e-06, comparison=comparison(passed=False))
    invalid = result("fail", mode="invalid-calls", backend="other", transfer_s=2.5e-06)
    invalid["case"]["names_problem"] = ["size"]
    page_text = page(tmp_path, [environment(), failing, invalid])
    card = failure_section(page_text, "bk")
    assert "1.75 µs" in card and "input transfer" in card
    assert "transfer_s" not in page_text and "1.75e-06" not in page_text
    assert "transfer" not in failure_section(page_text, "other")  # a call that should raise: no transfer to speak of


# --- 3. the reference grid's header -------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "ref_dtype", "title"),
    [
        ("float32", np.float64, "reference (exact, to 9 significant digits)"),
        ("float16", np.float64, "reference (exact, to 5 significant digits)"),
        ("float64", np.float64, "reference (exact)"),
        ("float32", np.float32, "reference (exact)"),  # data movement: the exact result in the case's dtype
        ("uint8", np.float64, "reference (exact)"),
    ],
)
def test_reference_header_names_no_dtype_but_its_own(dtype: str, ref_dtype: Any, title: str) -> None:
    from conformance.windows import failure_values

    torch_out = np.zeros((1, 1, 2, 2), dtype)
    exact = np.zeros((1, 1, 2, 2), ref_dtype)
    values = failure_values(dtype, {"torch": (torch_out,), "backend": (torch_out,), "reference": (exact,)}, None, "bk")
    ref = values["grids"][2]
    assert ref["title"] == title and ref["dtype"] == np.dtype(ref_dtype).name
    # the page prints "<title> <dtype> <shape>": no other dtype in the title
    assert not any(d in ref["title"] for d in ("float16", "float32", "float64", "uint8"))


def test_an_older_files_reference_header_reads_right(tmp_path: Path) -> None:
    from conformance.windows import failure_values

    a = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    values = failure_values("float32", {"torch": (a,), "backend": (a + 1,), "reference": (a,)}, None, "bk")
    values["grids"][2]["title"] = "reference (exact, float64)"  # as an older harness wrote it, over a float32 grid
    record = result("fail", minimal=True, repro="print(1)", values=values, comparison=comparison(passed=False))
    page_text = page(tmp_path, [environment(), record])
    assert "reference (exact, float64)" not in page_text
    assert re.search(r'gridtitle">reference \(exact\) <span class="muted small">float32 \[1, 1, 2, 2\]', page_text)


# --- 4. torch's error without a unit, off-reference cases that read alike ------------------


def test_off_reference_entries_say_their_unit_and_what_tells_them_apart(tmp_path: Path) -> None:
    records = [environment()]
    for seed in (3, 4):
        r = result("pass", mode="area", comparison=comparison(torch_off_reference=True, torch_max_abs=0.5))
        r["case"]["input"]["seed"] = seed
        records.append(r)
    records.append(result("fail", minimal=True, repro="print(1)", comparison=comparison(passed=False)))
    page_text = page(tmp_path, records)
    offref = page_text[page_text.index('id="offref"') : page_text.index('id="timings"')]
    assert "torch's max error (absolute, |torch − exact|)" in offref
    rows = re.findall(r"<tr><td>area</td>(.*?)</tr>", offref)
    assert len(rows) == 2 and rows[0] != rows[1]  # same shape and parameters, told apart by their values
    assert "normal values, seed 3" in rows[0] and "normal values, seed 4" in rows[1]
    card = failure_section(page_text, "bk")
    assert "torch&#39;s own max error (absolute" in card
    assert "max ULP error (float32 ULPs at the case&#39;s magnitude)" in card


def test_the_failure_message_names_the_unit_of_torchs_error() -> None:
    exact = np.array([1.0, 2.0])
    c = compare_numeric(np.array([1.0, 3.0], np.float32), exact, exact.astype(np.float32), "float32")
    assert not c.passed and "torch's own max absolute error" in c.reason


# --- 5. the command row -----------------------------------------------------------------


def test_the_command_is_recorded_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.environment import command_line

    typed = ["/work/venv/bin/python", "-m", "conformance", "run", "--op", "interpolate"]
    monkeypatch.setattr(sys, "orig_argv", typed, raising=False)
    monkeypatch.setattr(sys, "argv", ["/work/main/conformance/__main__.py", "run", "--op", "interpolate"])
    assert command_line() == ["python", "-m", "conformance", "run", "--op", "interpolate"]
    monkeypatch.setattr(sys, "orig_argv", [], raising=False)  # an interpreter without orig_argv
    assert command_line() == ["python", "-m", "conformance", "run", "--op", "interpolate"]


def test_an_older_files_command_renders_as_typed(tmp_path: Path) -> None:
    argv = ["/work/main/conformance/__main__.py", "run", "--backend", "numpy", "--results", "my results.jsonl"]
    page_text = page(tmp_path, [environment(argv=argv), result("pass")])
    row = re.search(r"<th>command</th><td>(.*?)</td>", page_text).group(1)
    assert row == "python -m conformance run --backend numpy --results &#39;my results.jsonl&#39;"
    assert "__main__.py" not in page_text


# --- 6. invalid calls -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def invalid_call_records() -> list[dict[str, Any]]:
    """max_unpool's invalid calls on a backend that ignores ``output_size``:
    two of them return a result where torch raises."""
    from conformance.execute import Oracle
    from conformance.search import check_invalid_calls
    from tests.broken_backends import UnpoolDropsOutputSize

    records: list[dict[str, Any]] = []
    check_invalid_calls("max_unpool", UnpoolDropsOutputSize(), Oracle(), lambda r: records.append(r.to_json()))
    return [{**r, "run_id": "hand"} for r in records]


def test_every_failing_invalid_call_is_listed_with_what_torch_and_the_backend_did(
    invalid_call_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    failing = [r for r in invalid_call_records if r["status"] != "pass"]
    assert len(failing) == 2
    for r in failing:
        assert r["values"] is None  # nothing to set side by side
        assert r["exceptions"]["torch"].startswith("raised ValueError: ")
        assert r["exceptions"]["backend"] == "returned float32[1, 2, 6, 6]"
    page_text = page(tmp_path, [environment(), *invalid_call_records])
    sections = re.findall(r'<section class="failure', page_text)
    assert len(sections) == 1  # one card for the cell
    card = failure_section(page_text, "unpool-no-output-size")
    # the catalog's 15, and torch's own error inputs where they import
    assert f"2 of the {len(invalid_call_records)} invalid calls checked" in card
    for r in failing:
        assert r["exceptions"]["torch"].replace('"', "&#34;").replace("'", "&#39;") in card
    assert card.count("returned float32[1, 2, 6, 6]") == 2
    assert card.count("returned a result where torch raises") == 2
    assert "gridtitle" not in card and "no values were recorded" not in card and "transfer" not in card


def test_a_drawn_call_torch_refuses_records_what_each_did_and_no_values() -> None:
    from backends.numpy_backend import NumpyBackend
    from conformance.cases import Case, InputSpec
    from conformance.execute import Oracle
    from conformance.verdict import check_case

    class Accepts(NumpyBackend):
        name = "accepts"

        def pixel_shuffle(self, x, upscale_factor):
            return x

    case = Case("pixel_shuffle", InputSpec((1, 3, 2, 2), "float32"), {"upscale_factor": 2})
    r = check_case(case, Accepts(), Oracle())
    assert r.status == "fail" and r.message.startswith("returned a result; torch raises RuntimeError")
    assert r.extra["values"] is None
    assert r.extra["exceptions"] == {
        "torch": r.message.split("; torch raises ", 1)[1].join(["raised ", ""]),
        "backend": "returned float32[1, 3, 2, 2]",
    }


# --- 7. overflow warnings from the tolerance code ------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_comparisons_of_huge_and_non_finite_values_warn_nothing(dtype: str) -> None:
    from conformance.windows import failure_values

    big = float(np.finfo(dtype).max)
    exact = np.array([0.9 * big, -0.9 * big, 1.0, 1e-30, np.inf, np.nan, 70000.0, 0.0])
    actuals = [
        np.array([-big, big, big, big, 1.0, 1.0, np.inf, -big]),
        np.array([np.inf, -np.inf, np.nan, -big, -np.inf, np.inf, big, big]),
    ]
    with np.errstate(over="ignore"):  # the test's own inputs: 70000 overflows float16
        rounded, actuals = exact.astype(dtype), [a.astype(dtype) for a in actuals]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a in actuals:
            for torch_out in (rounded, a):
                c = compare_numeric(a, exact, torch_out, dtype)
                assert not c.passed and not np.isnan(c.max_ulp)
                compare_exact(a, rounded, torch_out)
                failure_values(dtype, {"torch": (torch_out,), "backend": (a,), "reference": (exact,)}, c, "bk")
            compare_numeric(a, exact, rounded, dtype, magnitude=np.inf)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("distribution", ["huge", "large"])
def test_drawing_values_past_a_narrow_dtypes_range_warns_nothing(dtype: str, distribution: str) -> None:
    """The main job printed a thousand "overflow encountered in cast" lines:
    values past float16's range become inf on purpose, silently."""
    from conformance.cases import Case, InputSpec

    case = Case("interpolate", InputSpec((1, 1, 8, 8), dtype, distribution, 3), {"scale_factor": 2.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = case.materialize()["x"]
    assert x.dtype.name == dtype


# --- 8. "0" where nothing was checked ----------------------------------------------------------------


def test_rows_with_nothing_compared_show_dashes_not_zeros(tmp_path: Path) -> None:
    from reports.summary import render, tabulate

    done = {"type": "cell_done", "backend": "bk", "op": "interpolate", "mode": "lanczos"}
    done["variants"] = {"separated": [], "total": ["a", "b"]}
    records = [
        result("pass", mode="bilinear", comparison=comparison(max_ulp=2.0, max_abs=1e-7)),
        *[result("unsupported", mode="lanczos", message="lanczos is not implemented") for _ in range(3)],
        done,
        result("pass", mode="invalid-calls", time_s=None, torch_time_s=None),  # torch raised: no time
    ]
    table = render(tabulate(records)).splitlines()
    header = table[0].split()
    at = {name: header.index(name) for name in ("ulp", "|err|", "off-ref", "variants")}
    rows = {line.split()[2]: line.split() for line in table[2:]}
    bilinear, lanczos, invalid = rows["bilinear"], rows["lanczos"], rows["invalid-calls"]
    assert bilinear[-6:-4] == ["float32", "1e-07"] and bilinear[-7] == "2"  # worst ulp with its dtype
    for row in (lanczos, invalid):
        assert row[-6:] == ["-", "-", "-", "-", "-", "-"], row  # ulp, |err|, off-ref, nondet, variants, time
    assert len(at) == 4
    page_text = page(tmp_path, [environment(), *records])
    power = re.search(r'<td>lanczos</td>\s*<td class="power"[^>]*>([^<]*)</td>', page_text).group(1)
    assert power == "-"


# --- 9. unsupported counted once per cell not taken -------------------------------------------------------


def test_unsupported_counts_one_per_cell_the_backend_does_not_take() -> None:
    probe = [result("unsupported", mode="all", message="bk has no pixel_shuffle")]
    declined = [result("unsupported", mode="lanczos", message="lanczos is not implemented") for _ in range(104)]
    assert tally(probe).by_status["unsupported"] == tally(declined).by_status["unsupported"] == 1
    partly = [result("pass"), result("pass"), result("unsupported"), result("unsupported")]
    assert tally(partly).by_status == {"pass": 2, "fail": 0, "error": 0, "unsupported": 2} | {
        k: 0 for k in tally(partly).by_status if k not in ("pass", "fail", "error", "unsupported")
    }


def test_a_missing_op_and_a_missing_mode_read_alike_in_a_real_run(tmp_path: Path) -> None:
    from conformance.cli import main
    from conformance.store import read_records
    from reports.summary import render, tabulate

    results = tmp_path / "r.jsonl"
    argv = [
        "run",
        "--backend",
        "tests.broken_backends:Float32NoLanczos",
        "--op",
        "interpolate",
        "--op",
        "pixel_shuffle",
    ]
    argv += ["--mode", "lanczos", "--mode", "all", "--examples", "5", "--no-grad", "--no-isolation", "--quiet"]
    assert main([*argv, "--seed", "0", "--results", str(results)]) == 0
    records = list(read_records(results))
    raw = {m: sum(r.get("mode") == m and r.get("status") == "unsupported" for r in records) for m in ("lanczos", "all")}
    assert raw["all"] == 1 and raw["lanczos"] > 1  # a record per declined case, one for the missing op
    table = render(tabulate(records)).splitlines()
    unsup = table[0].split().index("unsup")
    assert sorted(line.split()[unsup] for line in table[2:]) == ["1", "1"]


# --- 10. ULP figures on passing cells ---------------------------------------------------------------


def test_a_small_element_beside_huge_ones_is_not_measured_on_its_own_spacing() -> None:
    # cancellation (bicubic overshoot, conv sums, special values): torch is
    # off by a fraction of an ulp of the data's magnitude at an element near 1
    exact = np.array([1e30, -1e30, 0.5])
    torch_out = exact.astype(np.float32)
    torch_out[2] += np.float32(1e22)
    c = compare_numeric(torch_out.copy(), exact, torch_out, "float32")
    assert c.passed
    assert c.max_ulp <= 1.0  # was 1e22 / spacing(1.0): 8e28 "ULPs"
    ulp = float(np.spacing(np.float32(1e30)))
    assert c.max_ulp == pytest.approx(float(np.abs(torch_out.astype(np.float64) - exact).max()) / ulp)
    # a passing case stays within torch's own ULP error plus about the slack
    backend = torch_out.copy()
    backend[2] += np.float32(SLACK_ULPS["float32"] * EPS["float32"] * 1e30 / 2)
    c = compare_numeric(backend, exact, torch_out, "float32")
    assert c.passed and c.max_ulp <= 1.0 + 2 * SLACK_ULPS["float32"]
    # conv_transpose: the magnitude is the sum of absolute terms, not the result's
    c = compare_numeric(
        np.array([1.0 + 2**-10], np.float32), np.array([1.0]), np.array([1.0], np.float32), "float32", 2.0**20
    )
    assert c.max_ulp == pytest.approx(2**-10 / float(np.spacing(np.float32(2.0**20))))


def test_the_worst_ulp_carries_its_dtype() -> None:
    records = [
        result("pass", dtype="float32", comparison=comparison(max_ulp=3.0)),
        result("pass", dtype="float16", comparison=comparison(max_ulp=0.5)),
    ]
    counts = tally(records)
    assert (counts.worst_ulp, counts.worst_ulp_dtype, counts.worst_ulp_text) == (3.0, "float32", "3 float32")
    assert tally([result("unsupported")]).worst_ulp_text == "-"
