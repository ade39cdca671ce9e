"""``--mode`` picks cells by mode; an op's invalid-calls cell is none of them.
A run that leaves it out says so where its verdict is read (the summary, under
``--quiet`` too) and says how to check it; naming it checks it."""

from __future__ import annotations

import contextlib
import io
import json

from conformance.cli import main

NOTE = "--mode left out the invalid-calls cell of pixel_shuffle: add --mode invalid-calls to check it too"


def _run(tmp_path, *modes):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", "numpy", "--op", "pixel_shuffle", "--examples", "5", "--no-grad", "--seed", "0"]
    argv += ["--quiet", "--no-isolation", "--results", str(results)]
    for mode in modes:
        argv += ["--mode", mode]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(argv) == 0
    cells = {json.loads(line).get("mode") for line in results.read_text().splitlines()}
    return out.getvalue(), cells


def test_mode_says_it_left_out_the_invalid_calls_cell(tmp_path):
    printed, cells = _run(tmp_path, "all")
    assert "invalid-calls" not in cells
    assert NOTE in printed


def test_mode_invalid_calls_checks_it(tmp_path):
    printed, cells = _run(tmp_path, "all", "invalid-calls")
    assert "invalid-calls" in cells
    assert "left out" not in printed


def test_no_mode_checks_it_without_a_note(tmp_path):
    printed, cells = _run(tmp_path)
    assert "invalid-calls" in cells and "left out" not in printed
