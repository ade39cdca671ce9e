"""The pytest plugin: one item per backend x op x cell x dtype x direction,
node ids a person can ``-k``, JUnit XML through pytest, xfail from an
expected file, failing items whose message holds the repro, and the same
results store the CLI writes."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _installed() -> bool:
    """Whether the package is installed with its pytest11 entry point (tox)."""
    return any(ep.value == "conformance.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))


def pytest_run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], ET.Element]:
    xml = tmp_path / "out.xml"
    plugin = [] if _installed() else ["-p", "conformance.pytest_plugin"]
    argv = [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path)]
    argv += ["--conformance-results", str(tmp_path / "results.jsonl"), f"--junitxml={xml}", *args]
    # not this test's own xdist worker's settings: the inner run is a pytest run of its own
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore::RuntimeWarning")
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    return proc, ET.parse(xml).getroot()


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in root.iter("testcase")}


def test_numpy_items_pass_under_xdist_with_one_testcase_each(tmp_path):
    proc, root = pytest_run(
        tmp_path, "--conformance-backend", "numpy", "--conformance-op", "pixel_shuffle",
        "--conformance-examples", "10", "-n", "2",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    names = set(cases(root))
    # forward in every dtype torch takes, backward in the floating ones, and the invalid calls
    assert {f"conformance[numpy-pixel_shuffle-all-{d}-fwd]" for d in ("float16", "float32", "float64", "uint8")} <= names
    assert "conformance[numpy-pixel_shuffle-all-float32-bwd]" in names
    assert "conformance[numpy-pixel_shuffle-invalid-calls]" in names
    # the workers' results were merged into the one file, which the report renders
    results = tmp_path / "results.jsonl"
    assert results.is_file() and not list(tmp_path.glob("results.jsonl.gw*"))
    report = subprocess.run(
        [sys.executable, "-m", "conformance", "report", "--results", str(results), "--out", str(tmp_path / "html")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
    )
    assert report.returncode == 0, report.stderr


def test_a_broken_backends_failing_cells_are_failing_testcases_with_the_repro(tmp_path):
    proc, root = pytest_run(
        tmp_path, "--conformance-backend", "tests.broken_backends:PixelShuffleSwapsSubpixels",
        "--conformance-op", "pixel_shuffle", "--conformance-examples", "10", "--conformance-no-grad",
        "-k", "float32 or float64",
    )
    assert proc.returncode == 1
    found = cases(root)
    assert set(found) == {f"conformance[pixel-shuffle-swapped-pixel_shuffle-all-{d}-fwd]" for d in ("float32", "float64")}
    for case in found.values():
        failure = case.find("failure")
        assert failure is not None
        assert "repro:" in failure.text and "import numpy as np" in failure.text


def test_an_expected_entry_makes_the_item_an_xfail(tmp_path):
    expected = tmp_path / "expected.toml"
    expected.write_text(
        '[[expected]]\nbackend = "pixel-shuffle-swapped"\nop = "pixel_shuffle"\ndtype = "float32"\n'
        'reason = "sub-pixel order not fixed yet"\n'
    )
    proc, root = pytest_run(
        tmp_path, "--conformance-backend", "tests.broken_backends:PixelShuffleSwapsSubpixels",
        "--conformance-op", "pixel_shuffle", "--conformance-examples", "10", "--conformance-no-grad",
        "--conformance-expected", str(expected), "-k", "float32 or float64",
    )
    found = cases(root)
    skipped = found["conformance[pixel-shuffle-swapped-pixel_shuffle-all-float32-fwd]"].find("skipped")
    assert skipped is not None and "sub-pixel order not fixed yet" in skipped.get("message", "")
    assert found["conformance[pixel-shuffle-swapped-pixel_shuffle-all-float64-fwd]"].find("failure") is not None
    assert proc.returncode == 1
