"""The HTML report says, per cell, how many cases the backend declined and
why (grouped by reason): in the matrix (a column, and each dtype's title)
and on the cell's failure card; and the variants a restriction lost."""

from __future__ import annotations

import html
import re

import pytest

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2 (tox installs it)")

from tests.test_report_defects import comparison, environment, failure_section, page, result  # noqa: E402


def _cell_done(**extra):
    return {"run_id": "hand", "type": "cell_done", "backend": "bk", "op": "interpolate", "mode": "bicubic", **extra}


def _records(declined_in_done: bool):
    declined = [result("unsupported", message="scale_factor is not taken") for _ in range(3)]
    declined.append(result("unsupported", message="antialias is not taken", dtype="float64"))
    fail = result("fail", message="values differ", comparison=comparison(passed=False, max_abs=1.0))
    done = {"declined": {"scale_factor is not taken": 3, "antialias is not taken": 1}} if declined_in_done else {}
    variants = {"separated": ["a"], "total": ["a", "b"], "lost": {"--dtype float32": ["b"]}}
    return [
        environment(),
        *[result("pass") for _ in range(4)],
        *declined,
        fail,
        _cell_done(variants=variants, **done),
    ]


def _row(text: str) -> str:
    start = text.index('data-filter="matrix" data-backend="bk" data-op="interpolate"')
    return text[start : text.index("</tr>", start)]


@pytest.mark.parametrize("declined_in_done", [True, False], ids=["cell_done", "records"])
def test_the_matrix_and_the_card_show_the_declined_cases_by_reason(tmp_path, declined_in_done):
    text = page(tmp_path, _records(declined_in_done))
    row = _row(text)
    column = re.search(r'<td class="declined" title="([^"]*)">([^<]*)</td>', row)
    assert column is not None, row
    assert column.group(2) == "4"
    assert html.unescape(column.group(1)) == "3x scale_factor is not taken; 1x antialias is not taken"
    titles = [html.unescape(t) for t in re.findall(r'<td class="c [^"]*" title="([^"]*)"', row)]
    assert any("float32" in t and "declined: 3x scale_factor is not taken" in t for t in titles), titles
    assert any("float64" in t and "declined: 1x antialias is not taken" in t for t in titles), titles
    card = html.unescape(failure_section(text, "bk"))
    assert "declined in this cell" in card and "3x scale_factor is not taken; 1x antialias is not taken" in card


def test_a_cell_that_declined_nothing_says_so(tmp_path):
    records = [r for r in _records(True) if r.get("status") != "unsupported"]
    records[-1] = _cell_done(variants=records[-1]["variants"])
    row = _row(page(tmp_path, records))
    assert '<td class="declined" title="no case declined">-</td>' in row, row
    assert "declined in this cell" not in page(tmp_path, records, "again")


def test_the_power_title_names_what_a_restriction_lost(tmp_path):
    row = html.unescape(_row(page(tmp_path, _records(True))))
    assert "lost under --dtype float32: b" in row
