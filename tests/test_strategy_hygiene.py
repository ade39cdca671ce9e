"""The strategies' proportions: corners get a modest share, never the bulk.

Measured over a few hundred seeded draws (``derandomize``: the same on every
machine): empty inputs (a zero-size dimension) are a minority of every op's
cases; special values a modest share of floating-point ones; and for the
``nearest`` modes a few percent of draws are float32 index traps, where the
source index torch computes (``reference.interpolate.nearest_taps``, through
``axis_taps``) differs from the float64 one.  Shrinking still heads for small,
non-empty, ordinary cases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, find, settings

from conformance import ops
from conformance.cases import SPECIAL_DISTRIBUTIONS
from conformance.strategies import (
    float64_nearest_index,
    interpolate_cases,
    is_nearest_trap,
    nearest_traps,
)
from reference.interpolate import axis_taps, nearest_taps, plan_interpolate
from tests import drawing

FLOATS = ("float32", "float64", "float16")
ALL = (*FLOATS, "uint8")
DRAWS = 300


def every_dtype(mode: str, antialias: bool) -> list[str]:
    return list(ALL)


def draw_many(strategy, n: int = DRAWS) -> list:
    return drawing.draw_many(strategy, n)


def share(cases, predicate) -> float:
    return sum(1 for c in cases if predicate(c)) / len(cases)


def is_empty(case) -> bool:
    return 0 in case.input.shape


#: (op, cell) pairs whose strategies can draw an empty input.
EMPTY_CELLS = [
    ("interpolate", "bilinear"),
    ("interpolate", "nearest"),
    ("interpolate", "area"),
    ("conv_transpose", "1d"),
    ("conv_transpose", "2d"),
    ("max_pool", "1d"),
    ("max_pool", "2d"),
    ("max_unpool", "1d"),
    ("max_unpool", "2d"),
    ("pixel_shuffle", "all"),
    ("pixel_unshuffle", "all"),
]


def op_cases(op: str, cell: str, n: int = DRAWS) -> list:
    return draw_many(ops.get(op).strategy(cell, every_dtype), n)


@pytest.fixture(scope="module")
def empty_shares() -> dict[tuple[str, str], float]:
    return {(op, cell): share(op_cases(op, cell), is_empty) for op, cell in EMPTY_CELLS}


def test_empty_inputs_are_a_minority(empty_shares):
    # Hypothesis's draws are not independent (it mutates earlier examples), so
    # one cell's share wanders around the nominal 1 in 8 (1 in 8 of batched
    # cases): each cell has some, none more than 30%, and all together 5-20%.
    shares = ", ".join(f"{op} {cell} {v:.1%}" for (op, cell), v in empty_shares.items())
    assert all(0 < v <= 0.30 for v in empty_shares.values()), shares
    overall = sum(empty_shares.values()) / len(empty_shares)
    assert 0.05 <= overall <= 0.20, f"{overall:.1%} overall; {shares}"


@pytest.mark.parametrize("op,cell", [("interpolate", "bicubic"), ("conv_transpose", "2d"), ("max_unpool", "2d")])
def test_special_values_are_a_modest_share(op, cell):
    floating = [c for c in op_cases(op, cell) if c.dtype in FLOATS]
    special = share(floating, lambda c: c.input.distribution in SPECIAL_DISTRIBUTIONS)
    assert 0.05 <= special <= 0.40, f"{op} {cell}: {special:.0%} of {len(floating)} floating draws"
    # every special distribution is reached
    assert {c.input.distribution for c in floating} >= set(SPECIAL_DISTRIBUTIONS)


def nearest_trap_axes(case) -> list[int]:
    """The spatial axes where torch's source index (the reference's rule for
    this dtype and rank) differs from the float64 formula."""
    plan = plan_interpolate(case.input.shape, **case.params).with_opmath(case.dtype)
    exact = plan.mode == "nearest-exact"
    ndim = len(case.input.shape)
    axes = []
    for d in range(len(plan.input_size)):
        n_in, n_out, scale = plan.input_size[d], plan.output_size[d], plan.scales[d]
        torch_index = axis_taps(plan, d, ndim).index[:, 0]
        if not np.array_equal(torch_index, float64_nearest_index(n_in, n_out, scale, exact)):
            axes.append(d)
    return axes


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_draws_hit_float32_index_traps(mode):
    cases = draw_many(interpolate_cases(mode, every_dtype))
    traps = share(cases, lambda c: bool(nearest_trap_axes(c)))
    assert traps >= 0.05, f"{mode}: only {traps:.1%} of {len(cases)} draws are float32 index traps"


def test_the_trap_family_holds_the_known_traps():
    scales, sizes = nearest_traps(exact=False)
    assert (16, 2.6) in scales  # (1, 1, 16) at scale 2.6: output 13 reads input 5 in float32, 4 in float64
    assert (6, 74) in sizes  # (1, 1, 6) to size 74: output 37 reads input 2 in float32, 3 in float64
    exact_scales, exact_sizes = nearest_traps(exact=True)
    assert exact_scales and exact_sizes
    for exact, (scales_, sizes_) in ((False, (scales, sizes)), (True, (exact_scales, exact_sizes))):
        for n_in, scale in scales_:
            assert is_nearest_trap(n_in, int(n_in * scale), scale, exact)
        for n_in, n_out in sizes_:
            assert is_nearest_trap(n_in, n_out, None, exact)


def test_4d_nearest_shortcut_traps_are_reached_by_hypothesis_alone():
    # e.g. (1, 1, 4, 4) at scale_factor 1.0001 or 13/12: 4 outputs, which 4-D
    # nearest copies (its shortcut) while the formula reads 0, 0, 1, 2
    def shortcut_trap(case) -> bool:
        if len(case.input.shape) != 4:
            return False
        plan = plan_interpolate(case.input.shape, **case.params)
        for d, (n_in, n_out) in enumerate(zip(plan.input_size, plan.output_size)):
            scale = plan.scales[d]
            if not np.array_equal(
                nearest_taps(n_in, n_out, scale, False, shortcuts=True).index,
                nearest_taps(n_in, n_out, scale, False).index,
            ):
                return True
        return False

    found = find(interpolate_cases("nearest", every_dtype), shortcut_trap, settings=SEARCH)
    assert shortcut_trap(found)


#: A search for a property Hypothesis reaches by itself (the discriminating search's budget).
SEARCH = settings(database=None, derandomize=True, max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
SHRINK = settings(database=None, max_examples=2000, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("op,cell", [("interpolate", "bilinear"), ("conv_transpose", "1d"), ("pixel_shuffle", "all")])
def test_shrinking_heads_for_non_empty_cases(op, cell):
    strategy = ops.get(op).strategy(cell, every_dtype)
    # (the old ``integers(1, 2) | just(0)`` batch shrank every case to an empty one)
    assert not is_empty(find(strategy, lambda case: True, settings=SHRINK))
    special = find(strategy, lambda case: case.input.distribution == "specials", settings=SHRINK)
    assert not is_empty(special), special.describe()
    # an empty case, when a failure needs one, shrinks to one empty dimension
    empty = find(strategy, is_empty, settings=SHRINK)
    assert sum(1 for n in empty.input.shape if n == 0) == 1, empty.describe()


@pytest.mark.parametrize("exact", [False, True], ids=["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_the_reference_reads_what_torch_reads_on_every_trap(exact, dtype):
    # the traps are where the index rule matters: torch's generic kernel (1-D,
    # 3-D) computes in float64 for float64 data, its 4-D kernel in float32
    import torch
    import torch.nn.functional as F

    import reference

    scales, sizes = nearest_traps(exact)
    calls = [(n_in, "scale_factor", scale) for n_in, scale in scales] + [(n, "size", m) for n, m in sizes]
    for ndim in (3, 4, 5):
        ones = (1,) * (ndim - 3)  # leading spatial axes of length 1, left as they are
        for n_in, key, value in calls:
            x = np.arange(n_in, dtype=np.float64).astype(dtype).reshape((1, 1, *ones, n_in))
            unchanged = tuple(float(n) for n in ones) if key == "scale_factor" else ones
            params = {"mode": "nearest-exact" if exact else "nearest", key: (*unchanged, value) if ones else value}
            want = F.interpolate(torch.from_numpy(x), **params).numpy()
            assert np.array_equal(reference.interpolate(x, **params), want), (dtype, ndim, n_in, key, value)
