"""Hypothesis strategies over the argument space of each op.

Simplest choices come first in every ``one_of`` / ``sampled_from`` so that a
failing case shrinks towards a small contiguous float input, a single size and
default flags.  The strategies draw only *valid* calls (the invalid-call
catalog is separate), and only dtypes that both the backend under test and
the torch oracle take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import assume
from hypothesis import strategies as st

from conformance.cases import Case, InputSpec
from reference.interpolate import (
    ALIGN_CORNERS_MODES,
    ANTIALIAS_MODES,
    MODE_RANKS,
    plan_interpolate,
)

#: ``dtypes_for(mode, antialias)`` -> the dtypes to draw for that combination.
DtypeChooser = Callable[[str, bool], Sequence[str]]

#: Scale factors worth hitting exactly: identity, exact integers, the classic
#: float pitfalls (1/3, 0.7), and ones that barely change a length.
SPECIAL_SCALES = (2.0, 1.0, 0.5, 3.0, 1.5, 4.0, 1 / 3, 0.7, 2.5, 1.0001, 0.9999, 1.25)


#: Order in which dtypes are drawn (and shrunk towards).
DTYPE_PREFERENCE = ("float32", "float64", "float16", "uint8")


def spatial_extents(rank: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Input lengths of the spatial axes: small, 1 included."""
    top = {1: 12, 2: 9, 3: 5}[rank]
    return st.tuples(*[st.integers(1, top)] * rank)


def scale_values() -> st.SearchStrategy[float]:
    """Scale factors: the special ones, Python ints (torch takes them too), any."""
    return st.one_of(
        st.sampled_from(SPECIAL_SCALES),
        st.integers(1, 4),
        st.floats(0.2, 4.0, allow_nan=False).map(lambda s: round(s, 3)),
    )


@st.composite
def interpolate_cases(draw: st.DrawFn, mode: str, dtypes_for: DtypeChooser) -> Case:
    """A valid ``interpolate`` call in ``mode``; rejected via ``assume`` when the
    backend and torch share no dtype for the drawn flags."""
    ndim = draw(st.sampled_from(MODE_RANKS[mode]))
    rank = ndim - 2
    batch = draw(st.integers(1, 2) | st.just(0))
    channels = draw(st.integers(1, 3))
    extents = draw(spatial_extents(rank))
    shape = (batch, channels, *extents)

    antialias = mode == "lanczos" or (mode in ANTIALIAS_MODES and draw(st.booleans()))
    params: dict[str, object] = {"mode": mode}
    if draw(st.booleans()):
        sizes = draw(st.tuples(*[st.integers(1, 16)] * rank))
        params["size"] = sizes[0] if rank == 1 or draw(st.booleans()) else sizes
        if isinstance(params["size"], int) and rank > 1 and draw(st.booleans()):
            params["size"] = (params["size"],) * rank
    else:
        if draw(st.booleans()):
            params["scale_factor"] = draw(scale_values())
        else:
            params["scale_factor"] = draw(st.tuples(*[scale_values()] * rank))
        recompute = draw(st.sampled_from([None, False, True]))
        if recompute is not None:
            params["recompute_scale_factor"] = recompute
    if mode in ALIGN_CORNERS_MODES:
        choices = [None, False] if mode == "lanczos" else [None, False, True]
        align = draw(st.sampled_from(choices))
        if align is not None:
            params["align_corners"] = align
    if antialias:
        params["antialias"] = True

    try:
        plan = plan_interpolate(shape, **params)  # type: ignore[arg-type]
    except (ValueError, RuntimeError, TypeError, NotImplementedError):
        plan = None
    assume(plan is not None and all(n >= 1 for n in plan.output_size))

    # float32 first: failures shrink towards the most common dtype
    dtypes = sorted(dtypes_for(mode, antialias), key=DTYPE_PREFERENCE.index)
    assume(bool(dtypes))
    dtype = draw(st.sampled_from(dtypes))
    if dtype == "uint8":
        distribution = draw(st.sampled_from(["bytes", "extremes"]))
    else:
        distribution = draw(st.sampled_from(["normal", "unit", "large"]))
        if dtype == "float16" and distribution == "large":
            distribution = "normal"  # 1e4 * overshoot leaves float16's range
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided"]))
    return Case("interpolate", InputSpec(shape, dtype, distribution, seed, layout), params)


def fixed_interpolate_cases(mode: str, dtypes_for: DtypeChooser) -> list[Case]:
    """A few large cases per mode: the paths small inputs never take
    (vectorised inner loops, many channels, long axes)."""
    ndim = MODE_RANKS[mode][-1] if mode in ("nearest", "nearest-exact", "area") else MODE_RANKS[mode][0]
    spatial = {3: (301,), 4: (67, 93), 5: (9, 17, 23)}[ndim]
    cases = []
    for i, params in enumerate(
        [
            {"scale_factor": 2.0},
            {"size": tuple(max(1, (n * 5) // 7) for n in spatial)},
        ]
    ):
        p: dict[str, object] = {"mode": mode, **params}
        if mode == "lanczos" or (mode in ANTIALIAS_MODES and i == 1):
            p["antialias"] = True
        dtypes = [d for d in dtypes_for(mode, bool(p.get("antialias"))) if d != "float16"]
        for dtype in dtypes[:2]:
            distribution = "bytes" if dtype == "uint8" else "normal"
            cases.append(Case("interpolate", InputSpec((2, 5, *spatial), dtype, distribution, 1234 + i), p))
    return cases
