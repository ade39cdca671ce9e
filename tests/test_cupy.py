"""The CuPy backend: its adapter code here, its kernels on a GPU.

Without CuPy or a CUDA device the GPU tests skip and say which is missing;
the adapter (conversions, synchronisation hooks, the shared code in one
block) is still exercised with NumPy standing in for the ``cupy`` module.
"""

import numpy as np
import pytest

from backends import load
from backends.cupy_backend import CupyBackend
from conformance.execute import Oracle
from conformance.search import Cell, search_cell

CUPY = load("cupy")
AVAILABLE, WHY = CUPY.availability()
needs_gpu = pytest.mark.skipif(not AVAILABLE, reason=f"cupy backend unavailable here: {WHY}")


def test_availability_says_what_is_missing():
    if AVAILABLE:
        assert WHY == ""
    else:
        assert "CuPy" in WHY or "CUDA" in WHY


@pytest.mark.parametrize(
    "op,cell",
    [
        ("interpolate", "bilinear"),
        ("interpolate", "nearest"),
        ("conv_transpose", "2d"),
        ("max_pool", "2d"),
        ("max_unpool", "1d"),
        ("pixel_shuffle", "all"),
    ],
)
def test_adapter_conforms_with_numpy_standing_in_for_cupy(op, cell):
    """The adapter's own code paths (block_bytes=None, from/to numpy, vjp) on the CPU."""
    backend = CupyBackend(module=np)
    outcome = search_cell(Cell(op, cell, examples=15), backend, "cupy-on-numpy", Oracle(), lambda r: None)
    assert outcome.counts["fail"] == outcome.counts["error"] == 0, outcome.minimal
    backward = search_cell(Cell(op, cell, "backward", 10), backend, "cupy-on-numpy", Oracle(), lambda r: None)
    assert backward.counts["fail"] == backward.counts["error"] == 0, backward.minimal


@needs_gpu
def test_cupy_conforms_on_the_gpu(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--backend",
            "cupy",
            "--examples",
            "20",
            "--seed",
            "0",
            "--results",
            str(tmp_path / "r.jsonl"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@needs_gpu
def test_cupy_arrays_stay_on_the_device():
    import cupy

    x = CUPY.from_numpy(np.ones((1, 2, 4, 4), np.float32))
    y = CUPY.interpolate(x, scale_factor=2.0, mode="bilinear")
    assert isinstance(y, cupy.ndarray)
