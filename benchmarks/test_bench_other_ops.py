"""Timings of the other upsampling ops: the numpy backend beside torch CPU and the floor.

Same scheme as ``test_bench_interpolate.py``: each case is benchmarked once per
implementation (numpy, torch, ``floor``) in one run, on inputs built once from
a seeded rng, one thread each (see conftest.py), forward and backward
(``vjp`` against ``torch.autograd.grad`` through a graph built once, untimed).
Timings are only reported, in the same summary table; what is asserted,
outside the timed part, is that the two implementations agree (values to a
loose tolerance, ``max_pool`` indices exactly).

The numpy backend's backward is its residual path (``vjp_from_residuals``,
``backends.protocol.ResidualBackend``): ``max_pool``'s reads the indices its
forward kept, as torch's backward reads the ones its forward saved
(``calls.py``).

``max_unpool`` unpools what ``max_pool2d`` made of a random input: its values
and indices are computed once, by torch, when the case's inputs are built.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from calls import Arrays, Case, suite


def _conv_transpose_inputs(rng: np.random.Generator) -> Arrays:
    x = rng.standard_normal((8, 64, 64, 64), dtype=np.float32)
    # Scaled so that the 64 * 4 terms of each output sum to O(1).
    weight = rng.standard_normal((64, 32, 4, 4), dtype=np.float32) / np.float32(16)
    return {"x": x, "weight": weight}


def _pixel_shuffle_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 256, 64, 64), dtype=np.float32)}


def _unshuffle_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 64, 128, 128), dtype=np.float32)}


def _pool_inputs(rng: np.random.Generator) -> Arrays:
    return {"x": rng.standard_normal((8, 64, 128, 128), dtype=np.float32)}


def _unpool_inputs(rng: np.random.Generator) -> Arrays:
    x = torch.from_numpy(rng.standard_normal((8, 64, 128, 128), dtype=np.float32))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    return {"values": values.numpy(), "indices": indices.numpy()}


CASES = [
    Case(
        "conv_transpose2d k4 s2 p1",
        (8, 64, 64, 64),
        _conv_transpose_inputs,
        lambda nb, a: nb.conv_transpose(a["x"], a["weight"], None, stride=2, padding=1),
        lambda t: F.conv_transpose2d(t["x"], t["weight"], None, stride=2, padding=1),
        "conv_transpose",
        lambda a: (a["x"], {"weight": a["weight"], "stride": 2, "padding": 1}),
        (("x", "x"), ("weight", "weight")),
    ),
    Case(
        "pixel_shuffle r2",
        (8, 256, 64, 64),
        _pixel_shuffle_inputs,
        lambda nb, a: nb.pixel_shuffle(a["x"], 2),
        lambda t: F.pixel_shuffle(t["x"], 2),
        "pixel_shuffle",
        lambda a: (a["x"], {"upscale_factor": 2}),
        floor_target=2.0,
    ),
    Case(
        "pixel_unshuffle r2",
        (8, 64, 128, 128),
        _unshuffle_inputs,
        lambda nb, a: nb.pixel_unshuffle(a["x"], 2),
        lambda t: F.pixel_unshuffle(t["x"], 2),
        "pixel_unshuffle",
        lambda a: (a["x"], {"downscale_factor": 2}),
        floor_target=2.0,
    ),
    Case(
        "max_unpool2d 2x2 to 128x128",
        (8, 64, 64, 64),
        _unpool_inputs,
        lambda nb, a: nb.max_unpool(a["values"], a["indices"], (2, 2)),
        lambda t: F.max_unpool2d(t["values"], t["indices"], 2),
        "max_unpool",
        lambda a: (a["values"], {"indices": a["indices"], "kernel_size": (2, 2)}),
        (("values", "x"),),
        floor_target=2.0,
    ),
    Case(
        "max_pool2d 2x2 + indices",
        (8, 64, 128, 128),
        _pool_inputs,
        lambda nb, a: nb.max_pool(a["x"], (2, 2)),
        lambda t: F.max_pool2d(t["x"], 2, return_indices=True),
        "max_pool",
        lambda a: (a["x"], {"kernel_size": (2, 2)}),
    ),
]


test_other_ops, test_other_ops_backward = suite(CASES)
