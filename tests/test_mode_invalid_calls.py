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
    argv = ["run", "--backend", "numpy", "--op", "pixel_shuffle", "--examples", "3", "--no-grad", "--seed", "0"]
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


def test_the_note_names_only_what_was_left_out():
    """Naming the cell, or giving no --mode, leaves nothing out; every op left out is named."""
    from conformance.cli import _left_out_by_mode
    from conformance.session import RunConfig

    assert _left_out_by_mode(RunConfig(op=["pixel_shuffle"], mode=["all", "invalid-calls"])) == ""
    assert _left_out_by_mode(RunConfig(op=["pixel_shuffle"])) == ""
    assert "of pixel_shuffle, interpolate:" in _left_out_by_mode(RunConfig(op=["pixel_shuffle", "interpolate"], mode=["all"]))
