"""Diagnosis: a failing backend is matched to the semantic variant it follows,
and a bug that is no variant gets "no known variant", never a false name."""

from __future__ import annotations

import json

from conformance.cli import main
from reports.html import write_report


def _diagnoses(tmp_path, backend, op, *extra):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", backend, "--op", op, "--examples", "40", "--seed", "0", "--quiet", "--no-isolation"]
    assert main([*argv, "--results", str(results), "--shrink-seconds", "5", *extra]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    return [r["diagnosis"] for r in records if r.get("minimal") and r["status"] == "fail"]


def test_a_hand_written_variant_is_named(tmp_path, capsys):
    """tests/broken_backends.py's conv_transpose without dilation is the
    catalog's conv-transpose-dilation-ignored, though written independently."""
    found = _diagnoses(tmp_path, "tests.broken_backends:ConvTransposeIgnoresDilation", "conv_transpose", "--mode", "2d", "--no-grad")
    assert found and all("conv-transpose-dilation-ignored" in d["variants"] for d in found), found
    assert "diagnosis: matches conv-transpose-dilation-ignored" in capsys.readouterr().out
    page = write_report([tmp_path / "r.jsonl"], tmp_path / "report", None).read_text()
    assert "diagnosis</b>: matches conv-transpose-dilation-ignored" in page  # the failure card
    assert "; diagnosis: matches conv-transpose-dilation-ignored" in page  # the matrix cell's tooltip
    assert 'class="power"' in page


def test_a_bug_that_is_no_variant_gets_no_name(tmp_path):
    """A gradient 1% too large is none of the catalog's variants."""
    found = _diagnoses(tmp_path, "tests.broken_backends:WrongBilinearGradient", "interpolate", "--mode", "bilinear")
    assert found and all(d["verdict"] == "none" and not d["variants"] for d in found), found
    assert all("no known variant" in d["summary"] for d in found)


def test_a_shuffled_channel_order_is_named(tmp_path):
    found = _diagnoses(tmp_path, "tests.broken_backends:PixelShuffleSwapsSubpixels", "pixel_shuffle", "--no-grad")
    assert found and all(d["verdict"] == "variant" for d in found), found
    assert all("pixel-shuffle-subpixels-transposed" in d["variants"] for d in found), found
