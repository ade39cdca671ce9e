"""A repro of a backend loaded from a module outside the checkout (a
directory on ``PYTHONPATH``, or the directory the run started in) says where
the module was and puts that directory on ``sys.path``: it runs from anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.cli import main
from conformance.repro import CHECKOUT, backend_module

ROOT = Path(__file__).resolve().parent.parent
PORT = '''"""A port outside the checkout: tests/broken_backends.py's pixel_shuffle with swapped sub-pixels."""
from tests.broken_backends import PixelShuffleSwapsSubpixels as Backend
'''


def test_a_repro_finds_a_backend_module_outside_the_checkout(tmp_path, monkeypatch):
    ports = tmp_path / "ports"
    (ports / "outside_port_pkg").mkdir(parents=True)
    (ports / "outside_port_pkg" / "__init__.py").write_text("")
    (ports / "outside_port_pkg" / "adapter.py").write_text(PORT)
    monkeypatch.syspath_prepend(str(ports))
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", "outside_port_pkg.adapter:Backend", "--op", "pixel_shuffle", "--no-grad"]
    argv += ["--examples", "10", "--seed", "0", "--quiet", "--no-isolation", "--shrink-seconds", "5"]
    assert main([*argv, "--results", str(results)]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    script = next(r["repro"] for r in records if r.get("minimal") and r["status"] == "fail")
    assert f"sys.path.insert(0, {str(ports.resolve())!r})" in script
    assert str((ports / "outside_port_pkg" / "adapter.py").resolve()) in script  # the module's file, recorded

    # run where the port's directory is on no path: the repro puts it there
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "repro.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "repro.py"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "max |actual - expected| =" in run.stdout and "element(s) differ" in run.stdout, run.stdout


def test_backends_found_without_a_path_say_nothing():
    """Built-ins, variants, modules of the checkout and installed ones need no path."""
    for spec in ("numpy", "variant:bicubic-a-half", "torch@threads=1"):
        assert backend_module(spec) is None, spec
    tests_module = "tests.broken_backends:PixelShuffleSwapsSubpixels"
    here = Path(__file__).resolve().parent.parent
    if CHECKOUT == here:  # the harness runs from this checkout (PYTHONPATH, an editable install)
        assert backend_module(tests_module) is None
    else:  # tox installs the harness: this checkout's tests/ is outside it, so the repro needs its path
        assert backend_module(tests_module) == (str(here / "tests" / "broken_backends.py"), str(here))
    assert backend_module("numpy.linalg:norm") is None  # installed
    assert backend_module("no_such_module_anywhere:X") is None
