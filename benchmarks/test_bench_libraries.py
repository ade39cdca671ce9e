"""Each resize library beside torch CPU on the common cases (``tox -e bench``).

One group per case (pytest-benchmark's table prints each group's
implementations side by side): torch's ``F.interpolate`` on one thread
(conftest.py) and each installed library through its adapter
(``backends/libraries/``), which calls the library once per (batch, channel)
plane, as a user of the library with NCHW data would.  The libraries are
single-threaded here too, as far as they allow: OpenCV's own threads are
turned off (``cv2.setNumThreads(0)``).  A library that cannot express a case
(``Unsupported``) or is not installed is skipped with the reason.  Times are
measured, never asserted; the output is only checked to have torch's shape.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
import torch

from backends import load
from backends.protocol import Unsupported

LIBRARIES = ("opencv", "pillow", "scipy", "skimage")
SHAPE = (2, 16, 128, 128)
#: (name, interpolate arguments): the cases people resize with most.
CASES = (
    ("nearest-exact 2x up", {"scale_factor": 2.0, "mode": "nearest-exact"}),
    ("bilinear 2x up", {"size": (256, 256), "mode": "bilinear"}),
    ("bicubic 2x up", {"size": (256, 256), "mode": "bicubic"}),
    ("bilinear 2x down", {"size": (64, 64), "mode": "bilinear"}),
    ("bilinear antialias 2x down", {"size": (64, 64), "mode": "bilinear", "antialias": True}),
    ("area 2x down", {"size": (64, 64), "mode": "area"}),
)


@functools.lru_cache(maxsize=1)
def _input() -> np.ndarray:
    return np.random.default_rng(0).random(SHAPE, dtype=np.float32)


def _library(name: str) -> Any:
    backend = load(name)
    ok, why = backend.availability()
    if not ok:
        pytest.skip(why)
    if name == "opencv":
        backend._lib().setNumThreads(0)  # one thread, as torch here
    return backend


@pytest.mark.parametrize(("case", "params"), CASES, ids=[c for c, _ in CASES])
@pytest.mark.parametrize("implementation", ("torch", *LIBRARIES))
def test_library_resize(benchmark: Any, case: str, params: dict[str, Any], implementation: str) -> None:
    benchmark.group = f"libraries: {case} {'x'.join(map(str, SHAPE))} float32"
    benchmark.extra_info["params"] = params
    x = _input()
    expected_shape = tuple(torch.nn.functional.interpolate(torch.from_numpy(x), **params).shape)
    if implementation == "torch":
        call = functools.partial(torch.nn.functional.interpolate, torch.from_numpy(x), **params)
    else:
        backend = _library(implementation)
        call = functools.partial(backend.interpolate, x, **params)
        try:
            call()
        except Unsupported as exc:
            pytest.skip(f"{implementation}: {exc}")
    out = benchmark.pedantic(call, rounds=3, warmup_rounds=1)
    assert tuple(out.shape) == expected_shape  # a shape check, not a timing
