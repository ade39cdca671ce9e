"""Hypothesis strategies over the argument space of each op.

Simplest choices come first in every ``one_of`` / ``sampled_from`` so that a
failing case shrinks towards a small contiguous float input, a single size and
default flags.  The strategies draw only *valid* calls (the invalid-call
catalog is separate), and only dtypes that both the backend under test and
the torch oracle take.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from conformance.cases import SPECIAL_DISTRIBUTIONS, Case, InputSpec, Operand, PooledIndices, UniqueIndices
from reference.dtypes import is_complex, is_floating
from reference.interpolate import (
    ALIGN_CORNERS_MODES,
    ANTIALIAS_MODES,
    MODE_RANKS,
    nearest_taps,
    plan_interpolate,
)
from reference.unpooling import plan_max_pool

#: ``dtypes_for(mode, antialias)`` -> the dtypes to draw for that combination.
DtypeChooser = Callable[[str, bool], Sequence[str]]

#: Scale factors worth hitting exactly: identity, exact integers, the classic
#: float pitfalls (1/3, 0.7), and ones that barely change a length.
SPECIAL_SCALES = (2.0, 1.0, 0.5, 3.0, 1.5, 4.0, 1 / 3, 0.7, 2.5, 1.0001, 0.9999, 1.25)


#: Memory layouts drawn for inputs, contiguous first (see ``cases.LAYOUTS``).
LAYOUT_CHOICES = ("contiguous", "transposed", "strided", "reversed", "fortran")

#: Order in which dtypes are drawn (and shrunk towards).
DTYPE_PREFERENCE = (
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "uint8",
    "int64",
    "int32",
    "int16",
    "int8",
    "bool",
    "complex64",
    "complex128",
)

#: One case in ``EMPTY_ONE_IN`` has a zero-size dimension (a batch of 0, or
#: for pixel (un)shuffle any dimension): empty inputs are a corner, not the
#: rule.  Non-empty comes first, so failures shrink towards it.
EMPTY_ONE_IN = 8
#: One floating-point case in ``SPECIAL_ONE_IN`` draws its values from
#: ``cases.SPECIAL_DISTRIBUTIONS`` (NaN, infinities, signed zeros; values near
#: the largest finite one; subnormals); the others ordinary values.
SPECIAL_ONE_IN = 4

#: Where float32 index arithmetic traps ``nearest``: the candidates searched
#: (scale factors ``p / q``, ``q <= 12``, from 0.2 to 4, on input lengths up to
#: 16; sizes up to 80 from lengths up to 16) -- see ``nearest_traps``.
TRAP_DENOMINATORS = range(2, 13)
TRAP_LENGTHS = range(1, 17)
TRAP_SIZES = range(1, 81)
#: One interpolate case in ``TRAP_ONE_IN`` is a nearest-index trap; for the
#: nearest modes, whose every wrong port fails only there, one in
#: ``NEAREST_TRAP_ONE_IN``.
TRAP_ONE_IN = 6
NEAREST_TRAP_ONE_IN = 3

# The strategies the composites below draw from are built once: one built
# inside a composite is built and validated again on every draw, a third of
# the draw's time (and a drawn case takes about 25 draws).  The same
# strategies draw the same values, so a seed's cases do not change.
_BOOLEANS = st.booleans()


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@functools.cache
def _sampled(choices: tuple[Any, ...] | range) -> st.SearchStrategy[Any]:
    return st.sampled_from(choices)


@functools.cache
def _none_or(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


#: Leading dimensions of a pixel (un)shuffle input: 0 to 3 of them.
_LEADING_DIMS = st.lists(_integers(1, 3), max_size=3)


@functools.cache
def _tuples(element: st.SearchStrategy[Any], n: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*[element] * n)


def spatial_extents(rank: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Input lengths of the spatial axes: small, 1 included."""
    top = {1: 12, 2: 9, 3: 5}[rank]
    return _tuples(_integers(1, top), rank)


def float64_nearest_index(n_in: int, n_out: int, scale: float | None, exact: bool) -> np.ndarray:
    """The nearest source indices as float64 (or exact rational) arithmetic
    gives them: ``floor((i + offset) * (1 / scale))`` for a scale used as
    given, ``floor((i + offset) * n_in / n_out)`` otherwise, clamped to the
    input.  torch floors a float32 (``reference.interpolate.nearest_taps``),
    which differs where a float32 reciprocal, or the float32 rounding of a
    product, lands across an integer."""
    i = np.arange(n_out)
    if scale is not None:
        index = np.floor((i + (0.5 if exact else 0.0)) * (1.0 / scale)).astype(np.int64)
    else:
        index = ((2 * i + 1) * n_in) // (2 * n_out) if exact else (i * n_in) // n_out
    return np.minimum(index, n_in - 1)


def is_nearest_trap(n_in: int, n_out: int, scale: float | None, exact: bool, shortcuts: bool = False) -> bool:
    """Does torch's nearest index for float32 data (the 1-D / 3-D kernel's
    rule; ``shortcuts``: 4-D ``nearest``'s, which copies a length kept and
    doubles a length doubled whatever the scale) differ from the float64
    formula on this axis?"""
    torch_index = nearest_taps(n_in, n_out, scale, exact, shortcuts=shortcuts).index[:, 0]
    return not np.array_equal(torch_index, float64_nearest_index(n_in, n_out, scale, exact))


@functools.cache
def nearest_traps(
    exact: bool, shortcuts: bool = False
) -> tuple[tuple[tuple[int, float], ...], tuple[tuple[int, int], ...]]:
    """``(scales, sizes)``: the ``(n_in, scale_factor)`` and ``(n_in, size)``
    pairs among the candidates where ``nearest`` (``exact``: ``nearest-exact``;
    ``shortcuts``: 4-D ``nearest``) reads another source index in float32 than
    in float64, e.g. ``(16, 2.6)``, ``(6, 74)``, 4-D's ``(4, 13 / 12)``.
    Derived once per process (a fraction of a second)."""
    ratios = sorted({Fraction(p, q) for q in TRAP_DENOMINATORS for p in range(1, 4 * q + 1)})
    scales = tuple(
        (n_in, float(r))
        for r in ratios
        if Fraction(1, 5) <= r <= 4 and r.denominator > 1
        for n_in in TRAP_LENGTHS
        if int(n_in * float(r)) >= 1 and is_nearest_trap(n_in, int(n_in * float(r)), float(r), exact, shortcuts)
    )
    sizes = tuple(
        (n_in, n_out)
        for n_in in TRAP_LENGTHS
        for n_out in TRAP_SIZES
        if is_nearest_trap(n_in, n_out, None, exact, shortcuts)
    )
    return scales, sizes


@functools.cache
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
    ndim = draw(_sampled(MODE_RANKS[mode]))
    rank = ndim - 2
    batch = _batch(draw)
    channels = draw(_integers(1, 3))
    extents = list(draw(spatial_extents(rank)))

    antialias = mode == "lanczos" or (mode in ANTIALIAS_MODES and draw(_BOOLEANS))
    params: dict[str, object] = {"mode": mode}
    if _one_in(draw, NEAREST_TRAP_ONE_IN if mode in ("nearest", "nearest-exact") else TRAP_ONE_IN):
        params.update(_draw_trap(draw, mode, extents))
    elif draw(_BOOLEANS):
        sizes = draw(_tuples(_integers(1, 16), rank))
        params["size"] = sizes[0] if rank == 1 or draw(_BOOLEANS) else sizes
        if isinstance(params["size"], int) and rank > 1 and draw(_BOOLEANS):
            params["size"] = (params["size"],) * rank
    else:
        if draw(_BOOLEANS):
            params["scale_factor"] = draw(scale_values())
        else:
            params["scale_factor"] = draw(_tuples(scale_values(), rank))
        recompute = draw(_sampled((None, False, True)))
        if recompute is not None:
            params["recompute_scale_factor"] = recompute
    shape = (batch, channels, *extents)
    if mode in ALIGN_CORNERS_MODES:
        choices = [None, False] if mode == "lanczos" else [None, False, True]
        align = draw(_sampled(tuple(choices)))
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
    dtype = draw(_sampled(tuple(dtypes)))
    distribution = _draw_values(draw, dtype)
    seed = draw(_integers(0, 2**32 - 1))
    layout = draw(_sampled(LAYOUT_CHOICES))
    return Case("interpolate", InputSpec(shape, dtype, distribution, seed, layout), params)


def _draw_trap(draw: st.DrawFn, mode: str, extents: list[int]) -> dict[str, object]:
    """``scale_factor`` or ``size`` arguments where float32 index arithmetic
    reads other inputs than float64 along one axis (``nearest_traps``; the
    union of both nearest modes' for the other modes), whose input length
    they set in ``extents``; the other axes as usual."""
    rank = len(extents)
    kinds = [mode == "nearest-exact"] if mode in ("nearest", "nearest-exact") else [False, True]
    shortcuts = mode == "nearest" and rank == 2
    scales = [t for exact in kinds for t in nearest_traps(exact, shortcuts)[0]]
    sizes = [t for exact in kinds for t in nearest_traps(exact, shortcuts)[1]]
    axis = draw(_integers(0, rank - 1))
    params: dict[str, object] = {}
    if draw(_BOOLEANS):
        n_in, n_out = draw(_sampled(tuple(sizes)))
        others = draw(_tuples(_integers(1, 16), rank))
        params["size"] = n_out if rank == 1 else tuple(n_out if d == axis else others[d] for d in range(rank))
    else:
        n_in, scale = draw(_sampled(tuple(scales)))
        if rank == 1 or draw(_BOOLEANS):
            params["scale_factor"] = scale
        else:
            others_s = draw(_tuples(scale_values(), rank))
            params["scale_factor"] = tuple(scale if d == axis else others_s[d] for d in range(rank))
        if draw(_BOOLEANS):
            params["recompute_scale_factor"] = False
    extents[axis] = n_in
    return params


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
        # the two-byte floats are drawn small: a large case checks the paths, not rounding
        dtypes = [d for d in dtypes_for(mode, bool(p.get("antialias"))) if d not in ("float16", "bfloat16")]
        for dtype in dtypes[:2]:
            cases.append(Case("interpolate", InputSpec((2, 5, *spatial), dtype, _plain_values(dtype), 1234 + i), p))
    return cases


#: The axis lengths of the edge cases: each axis goes from 1 to ``EDGE_LENGTH``
#: in one case and back in another.
EDGE_LENGTH = 5


def edge_interpolate_cases(mode: str, dtypes_for: DtypeChooser) -> list[Case]:
    """The edges of ``interpolate``'s arguments, in every rank of the mode and
    under each ``align_corners`` and ``antialias`` setting it takes: an axis
    of length 1 resized to ``EDGE_LENGTH`` (torch reads its one element) and
    one of ``EDGE_LENGTH`` resized to 1 (where ``(n_in - 1) / (n_out - 1)``
    would divide by zero, ``align_corners=True`` uses scale 0 and reads the
    first element), beside each other in one input, swapped in a second case.
    Hypothesis meets these only now and then (a length 1 is one draw in a
    dozen, an output of length 1 with ``align_corners`` one in a hundred), and
    a port's length-1 special case is where it goes wrong.  Two samples of two
    channels each, so that a plane mixed up with another shows too."""
    aligns = (None, True) if mode in ALIGN_CORNERS_MODES and mode != "lanczos" else (None,)
    antialiases = (True,) if mode == "lanczos" else (False, True) if mode in ANTIALIAS_MODES else (False,)
    cases = []
    for ndim in MODE_RANKS[mode]:
        rank = ndim - 2
        short_first = tuple(1 if d % 2 == 0 else EDGE_LENGTH for d in range(rank))
        for align in aligns:
            for antialias in antialiases:
                dtypes = sorted(dtypes_for(mode, antialias), key=DTYPE_PREFERENCE.index)
                if not dtypes:
                    continue
                params: dict[str, object] = {"mode": mode}
                if align is not None:
                    params["align_corners"] = align
                if antialias:
                    params["antialias"] = True
                for k, extents in enumerate((short_first, tuple(1 + EDGE_LENGTH - n for n in short_first))):
                    size = tuple(1 + EDGE_LENGTH - n for n in extents)
                    spec = InputSpec((2, 2, *extents), dtypes[0], _plain_values(dtypes[0]), 4321 + k)
                    cases.append(Case("interpolate", spec, {**params, "size": size}))
    return cases


def _plain_values(dtype: str) -> str:
    """The ordinary value distribution of ``dtype`` (see ``_draw_values``)."""
    if dtype == "uint8":
        return "bytes"
    if dtype == "bool":
        return "bools"
    if is_complex(dtype):
        return "complex"
    return "normal" if is_floating(dtype) else "integers"


def _draw_dtype(draw: st.DrawFn, dtypes: Sequence[str]) -> str:
    dtypes = sorted(dtypes, key=DTYPE_PREFERENCE.index)
    assume(bool(dtypes))
    return draw(_sampled(tuple(dtypes)))


def _draw_values(draw: st.DrawFn, dtype: str, extra: Sequence[str] = ()) -> str:
    """A value distribution fit for ``dtype`` (``extra``: op-specific ones):
    for floating dtypes one case in ``SPECIAL_ONE_IN`` special values, the
    others ordinary ones (first, so failures shrink towards them)."""
    # drawn for every dtype, so that each path takes as many choices and
    # shrinking still prefers float32 to uint8 (it prefers fewer choices first)
    special = _one_in(draw, SPECIAL_ONE_IN)
    ties = [e for e in extra if e == "ties"]  # NaN has no integer or bool value
    if dtype == "uint8":
        return draw(_sampled(("bytes", "extremes", *ties)))
    if dtype == "bool":
        return "bools"
    if is_complex(dtype):  # real and imaginary parts drawn independently
        return "complex_specials" if special else "complex"
    if not is_floating(dtype):  # the signed integers: their whole range, and their extremes
        return draw(_sampled(("integers", "int_extremes", *ties)))
    if special:
        return draw(_sampled(SPECIAL_DISTRIBUTIONS))
    # no "large" in float16: 1e4 times an overshoot leaves its range ("huge" is the overflow check)
    choices = ["normal", "unit", *extra] + ([] if dtype == "float16" else ["large"])
    return draw(_sampled(tuple(choices)))


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True in about one draw of ``n``; shrinks to False.  (``sampled_from``
    is close to uniform; ``integers`` favours its bounds, 0 most of all.)"""
    return bool(draw(_sampled(range(n))) == n - 1)


def _batch(draw: st.DrawFn) -> int:
    """A batch size: 1 or 2, or in one case of ``EMPTY_ONE_IN`` zero (both
    paths take the same choices: shrinking prefers fewer, then smaller ones)."""
    empty = _one_in(draw, EMPTY_ONE_IN)
    size = draw(_integers(1, 2))
    return 0 if empty else size


def _leading(draw: st.DrawFn, batched: bool) -> tuple[int, ...]:
    return (_batch(draw),) if batched else ()


@st.composite
def conv_transpose_cases(draw: st.DrawFn, rank: int, dtypes: Sequence[str]) -> Case:
    """A valid ``conv_transpose{rank}d`` call: groups, dilation, strides above
    the kernel, padding past ``kernel // 2``, 1x1 kernels, output padding up to
    its limit or an explicit ``output_size``, bias or none, unbatched inputs."""
    groups = draw(_integers(1, 3))
    c_in, c_out = groups * draw(_integers(1, 2)), draw(_integers(1, 3))
    kernel = draw(_tuples(_integers(1, 4), rank))
    stride = draw(_tuples(_integers(1, 4), rank))
    dilation = draw(_tuples(_integers(1, 3), rank))
    padding = draw(_tuples(_integers(0, 4), rank))
    top = {1: 7, 2: 5, 3: 3}[rank]
    spatial = draw(_tuples(_integers(1, top), rank))
    batched = draw(_BOOLEANS) or draw(_BOOLEANS)
    shape = (*_leading(draw, batched), c_in, *spatial)
    minimum = [
        (n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(spatial, stride, padding, dilation, kernel)
    ]
    assume(all(m >= 1 for m in minimum))
    params: dict[str, object] = {"stride": stride, "padding": padding}
    extra = draw(_sampled(("none", "output_padding", "output_size")))
    if extra == "output_padding":
        params["output_padding"] = tuple(draw(_integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    elif extra == "output_size":
        params["output_size"] = tuple(m + draw(_integers(0, s - 1)) for m, s in zip(minimum, stride))
    if groups > 1:
        params["groups"] = groups
    if any(d > 1 for d in dilation):
        params["dilation"] = dilation
    dtype = _draw_dtype(draw, dtypes)
    values = _draw_values(draw, dtype)
    seed = draw(_integers(0, 2**32 - 1))
    layout = draw(_sampled(LAYOUT_CHOICES))
    if values == "complex_specials":
        # a complex product with an infinite part is NaN or infinite by the
        # implementation's recovery rules (C99 Annex G or the textbook
        # formula: torch and NumPy differ), no contract: finite parts only
        values = "complex"
    # complex weights with imaginary parts: else dropping x's alone could pass
    weights = "complex" if is_complex(dtype) else "normal"
    operands: list[tuple[str, Operand]] = [("weight", InputSpec((c_in, c_out, *kernel), dtype, weights, seed + 1))]
    if draw(_BOOLEANS):
        operands.append(("bias", InputSpec((c_out * groups,), dtype, weights, seed + 2)))
    return Case("conv_transpose", InputSpec(shape, dtype, values, seed, layout), params, tuple(operands))


@st.composite
def max_pool_cases(draw: st.DrawFn, rank: int, dtypes: Sequence[str]) -> Case:
    """A valid ``max_pool{rank}d(..., return_indices=True)`` call, with many
    ties and NaNs among the drawn values."""
    kernel = draw(_tuples(_integers(1, 3), rank))
    params: dict[str, object] = {"kernel_size": kernel}
    if draw(_BOOLEANS):
        params["stride"] = draw(_tuples(_integers(1, 3), rank))
    params["padding"] = tuple(draw(_integers(0, k // 2)) for k in kernel)
    params["dilation"] = draw(_tuples(_integers(1, 2), rank))
    params["ceil_mode"] = draw(_BOOLEANS)
    top = {1: 9, 2: 6, 3: 4}[rank]
    batched = draw(_BOOLEANS) or draw(_BOOLEANS)
    shape = (*_leading(draw, batched), draw(_integers(1, 3)), *draw(_tuples(_integers(1, top), rank)))
    try:
        plan_max_pool(shape, **params)  # type: ignore[arg-type]
    except RuntimeError:
        assume(False)
    dtype = _draw_dtype(draw, dtypes)
    values = _draw_values(draw, dtype, ["ties", "nans"] if dtype != "uint8" else ["ties"])
    layout = draw(_sampled(LAYOUT_CHOICES))
    return Case("max_pool", InputSpec(shape, dtype, values, draw(_integers(0, 2**32 - 1)), layout), params)


@st.composite
def max_unpool_cases(draw: st.DrawFn, rank: int, dtypes: Sequence[str]) -> Case:
    """A valid ``max_unpool{rank}d`` call: indices from max-pooling a source
    (with the same kernel, stride and padding) or hand-made distinct ones,
    never repeated within a plane; ``output_size`` when drawn differs from the
    default by less than the stride."""
    kernel = draw(_tuples(_integers(1, 3), rank))
    stride = draw(_none_or(_tuples(_integers(1, 3), rank)))
    strides = kernel if stride is None else stride
    padding = tuple(draw(_integers(0, k // 2)) for k in kernel)
    spatial = draw(_tuples(_integers(1, {1: 6, 2: 4, 3: 3}[rank]), rank))
    default = [(n - 1) * s - 2 * p + k for n, s, p, k in zip(spatial, strides, padding, kernel)]
    assume(all(v >= 1 for v in default))
    pooled = draw(_BOOLEANS)
    batched = draw(_BOOLEANS) or draw(_BOOLEANS)
    shape = (*_leading(draw, batched), draw(_integers(1, 3)), *spatial)
    params: dict[str, object] = {"kernel_size": kernel, "padding": padding}
    if stride is not None:
        params["stride"] = stride
    out = list(default)
    if draw(_BOOLEANS):
        low = 0 if pooled else 1 - min(strides)
        out = [v + draw(_integers(max(low, 1 - v), s - 1)) for v, s in zip(default, strides)]
        params["output_size"] = tuple(out)
    plane = int(np.prod(out))
    per_plane = int(np.prod(spatial))
    assume(pooled or plane >= per_plane)
    dtype = _draw_dtype(draw, dtypes)
    seed = draw(_integers(0, 2**32 - 1))
    indices: Operand
    if pooled:
        source = InputSpec((*shape[:-rank], *out), dtype, draw(_sampled(("normal", "ties"))), seed + 1)
        pool = (("kernel_size", kernel), ("stride", strides), ("padding", padding))
        try:
            assume(tuple(plan_max_pool(source.shape, kernel, strides, padding).output_lengths) == tuple(spatial))
        except RuntimeError:
            assume(False)
        indices = PooledIndices(source, pool)
    else:
        indices = UniqueIndices(shape, plane, rank, seed + 1)
    values = _draw_values(draw, dtype)
    layout = draw(_sampled(LAYOUT_CHOICES))
    case = Case("max_unpool", InputSpec(shape, dtype, values, seed, layout), params, (("indices", indices),))
    if pooled:
        # Overlapping windows can repeat an index; which write torch keeps then
        # is unspecified (3-D keeps neither the first nor the last): none drawn.
        made = case.materialize()["indices"].reshape(-1, per_plane)
        assume(all(len(np.unique(row)) == per_plane for row in made))
    return case


@st.composite
def pixel_shuffle_cases(draw: st.DrawFn, op: str, dtypes: Sequence[str]) -> Case:
    """``pixel_shuffle`` / ``pixel_unshuffle`` with 0 to 3 leading dimensions,
    zero-size ones included, factors 1 to 4, every dtype."""
    r = draw(_integers(1, 4))
    lead = draw(_LEADING_DIMS)
    dims = [*lead, draw(_integers(1, 3)), draw(_integers(1, 4)), draw(_integers(1, 4))]
    if _one_in(draw, EMPTY_ONE_IN):
        dims[draw(_integers(0, len(dims) - 1))] = 0  # one zero-size dimension: leading, C, H or W
    *lead, c, h, w = dims
    shape = (*lead, c * r * r, h, w) if op == "pixel_shuffle" else (*lead, c, h * r, w * r)
    key = "upscale_factor" if op == "pixel_shuffle" else "downscale_factor"
    dtype = _draw_dtype(draw, dtypes)
    values = _draw_values(draw, dtype)
    layout = draw(_sampled(LAYOUT_CHOICES))
    return Case(op, InputSpec(tuple(shape), dtype, values, draw(_integers(0, 2**32 - 1)), layout), {key: r})


@st.composite
def alias_cases(
    draw: st.DrawFn, alias: str, interpolate_args: Callable[..., dict[str, object]], mode: str, dtypes_for: DtypeChooser
) -> Case:
    """An alias call: an interpolate case in the alias's mode, reduced to the
    arguments the alias takes (the parameters of ``interpolate_args``, which
    maps them to the interpolate call the alias stands for)."""
    base = draw(interpolate_cases(mode, dtypes_for))
    assume(not base.params.get("antialias"))
    keep = inspect.signature(interpolate_args).parameters
    params = {k: v for k, v in base.params.items() if k in keep}
    try:  # an alias's fixed flags (align_corners=True) can change which sizes are valid: re-check
        plan_interpolate(base.input.shape, **interpolate_args(**params))  # type: ignore[arg-type]
    except (ValueError, RuntimeError, TypeError, NotImplementedError):
        assume(False)
    return Case(alias, base.input, params)


def fixed_large_cases(op: str, cell: str) -> list[Case]:
    """One larger float32 case per cell of the other ops (vectorised paths,
    many channels): drawn cases stay small for speed."""
    if op == "conv_transpose":
        rank = int(cell[0])
        spatial = {1: (97,), 2: (23, 31), 3: (7, 9, 11)}[rank]
        params = {"stride": (2,) * rank, "padding": (1,) * rank}
        operands = (
            ("weight", InputSpec((8, 6, *(4,) * rank), "float32", "normal", 11)),
            ("bias", InputSpec((6,), "float32", "normal", 12)),
        )
        return [Case(op, InputSpec((2, 8, *spatial), "float32", "normal", 10), params, operands)]
    if op in ("max_pool", "max_unpool"):
        rank = int(cell[0])
        spatial = {1: (120,), 2: (30, 34), 3: (8, 10, 12)}[rank]
        kernel = (2,) * rank
        if op == "max_pool":
            return [
                Case(
                    op,
                    InputSpec((2, 6, *spatial), "float32", "ties", 20),
                    {"kernel_size": (3,) * rank, "stride": kernel, "padding": (1,) * rank},
                )
            ]
        pooled = tuple(n // 2 for n in spatial)
        source = InputSpec((2, 6, *spatial), "float32", "normal", 21)
        indices = PooledIndices(source, (("kernel_size", kernel),))
        return [
            Case(
                op,
                InputSpec((2, 6, *pooled), "float32", "normal", 22),
                {"kernel_size": kernel},
                (("indices", indices),),
            )
        ]
    if op == "pixel_shuffle":
        return [Case(op, InputSpec((2, 3, 36, 17, 19), "float32", "normal", 30), {"upscale_factor": 3})]
    if op == "pixel_unshuffle":
        return [Case(op, InputSpec((2, 3, 4, 36, 42), "float32", "normal", 31), {"downscale_factor": 3})]
    return []


def backward_case(case: Case, forward: Callable[..., object]) -> Case | None:
    """The gradient case of a forward case: the same call, plus a seeded
    normal cotangent of the output's shape as the operand ``grad_output``.
    ``None`` (dropped) where torch's backward is undefined or broken:
    max-pooling windows wholly in the padding name an index outside the input,
    and torch 2.13's pixel (un)shuffle backward fails on empty inputs.
    ``forward`` is the op's reference (it gives the output's shape)."""
    if case.op in ("pixel_shuffle", "pixel_unshuffle") and 0 in case.input.shape:
        return None
    arrays = case.materialize()
    inputs = {name: a for name, a in arrays.items() if name != "x"}
    out: Any = forward(arrays["x"], **inputs, **case.params)
    if case.op == "max_pool":
        rank = len(case.params["kernel_size"])
        if out[1].size and out[1].max() >= np.prod(case.input.shape[-rank:]):
            return None
        out = out[0]
    # a complex cotangent with an imaginary part: else a gradient conjugated the wrong way passes
    values = "complex" if is_complex(case.dtype) else "normal"
    cotangent = InputSpec(tuple(out.shape), case.dtype, values, (case.input.seed + 7919) % 2**32)
    return Case(case.op, case.input, case.params, (*case.operands, ("grad_output", cotangent)), direction="backward")
