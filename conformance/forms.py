"""A case's other input forms and dtypes: the same call on the same values,
batched or unbatched, with ``size`` or with ``scale_factor``, in another
memory layout, or in another dtype of its cell.

A backend that declines one form (a port onto a framework with no unbatched
inputs, or one without ``scale_factor``) is given the case in the form it
takes: a fixed or edge case as is, a discriminating case where its twin still
separates the same variants (``conformance.discriminating.add_twins`` checks
that, and the cache keeps the twins).  A run restricted to some dtypes
(``--dtype``) is given a discriminating case's twin in a dtype it checks.

A twin is stored as the steps that make it from its case (``twin``):
``"batch"`` (a batch of one added, or taken away), ``"size"`` (a
``scale_factor`` call given its output size instead), ``"scale_factor"`` (a
``size`` call given the scale factors of that size, recomputed),
``"layout=NAME"`` and ``"dtype=NAME"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from conformance.cases import Case, InputSpec, Operand, PooledIndices, UniqueIndices, cell_rank
from reference.dtypes import is_complex, is_floating

#: Operands that carry the input's leading (batch) axis with it.
_BATCHED_OPERANDS = ("grad_output", "indices")
#: Operands that take the input's dtype (max_unpool's indices are int64 whatever it is).
_SAME_DTYPE_OPERANDS = ("weight", "bias", "grad_output")
#: The non-contiguous layout a contiguous case's twin takes (``cases.LAYOUTS``).
TWIN_LAYOUT = "transposed"


def _lead(spec: Operand, add: bool) -> Operand:
    """``spec`` with a leading axis of 1 added, or its leading axis (of 1) removed."""
    if isinstance(spec, PooledIndices):
        return replace(spec, source=_lead(spec.source, add))  # type: ignore[arg-type]
    shape = (1, *spec.shape) if add else spec.shape[1:]
    return replace(spec, shape=tuple(shape))  # type: ignore[type-var]


def _params(case: Case, rank: int, add: bool) -> dict[str, Any]:
    """The keyword arguments in the other form: an int kernel (whose rank is
    the input's less two) spelled out; a full ``output_size`` given its
    leading axis, or without it."""
    params = dict(case.params)
    if isinstance(params.get("kernel_size"), int):
        params["kernel_size"] = (params["kernel_size"],) * rank
    size = params.get("output_size")
    if isinstance(size, tuple) and len(size) == len(case.input.shape):
        params["output_size"] = (1, *size) if add else size[1:]
    return params


def _reshaped(case: Case, add: bool) -> Case:
    rank = cell_rank(case)
    assert rank is not None
    operands = tuple((n, _lead(s, add) if n in _BATCHED_OPERANDS else s) for n, s in case.operands)
    return replace(case, input=_lead(case.input, add), operands=operands, params=_params(case, rank, add))


def other_forms(case: Case) -> list[Case]:
    """``case`` in its other input forms, in its own dtype (``form_steps``):
    its other batch form, its ``size`` or ``scale_factor`` form, another
    memory layout; what a fixed or edge case the backend declines is checked in."""
    made = (step(case, name) for name in form_steps(case))
    return [t for t in made if t is not None]


def _batch(case: Case) -> Case | None:
    """An unbatched input (of the op's spatial rank plus one axis) with a
    batch of one added, or a batch of one taken away; ``None`` where there is
    none (interpolate and pixel shuffle read no batch axis of their own; a
    batch of several; an invalid call)."""
    rank = cell_rank(case)
    if rank is None or case.names_problem or case.op not in ("conv_transpose", "max_pool", "max_unpool"):
        return None
    if any(isinstance(s, UniqueIndices) and s.rank != rank for _, s in case.operands):
        return None
    ndim = len(case.input.shape)
    if ndim == rank + 1:
        return _reshaped(case, add=True)
    if ndim == rank + 2 and case.input.shape[0] == 1:
        return _reshaped(case, add=False)
    return None


def is_unbatched(case: Case) -> bool:
    """Whether ``case``'s input has no batch axis (conv_transpose, pooling)."""
    rank = cell_rank(case)
    return rank is not None and len(case.input.shape) == rank + 1


def _output_size(case: Case) -> tuple[int, ...] | None:
    from reference.interpolate import plan_interpolate

    try:
        return tuple(plan_interpolate(case.input.shape, **case.params).output_size)
    except (ValueError, RuntimeError, TypeError, NotImplementedError):
        return None


def _as_size(case: Case) -> Case | None:
    """A ``scale_factor`` call of interpolate given the output size it makes."""
    if case.op != "interpolate" or case.params.get("scale_factor") is None or case.names_problem:
        return None
    out = _output_size(case)
    if out is None:
        return None
    params = {k: v for k, v in case.params.items() if k not in ("scale_factor", "recompute_scale_factor")}
    params["size"] = out[0] if len(out) == 1 else out
    return replace(case, params=params)


def _as_scale_factor(case: Case) -> Case | None:
    """A ``size`` call of interpolate given per-axis scale factors
    (``n_out / n_in``, recomputed: the same output size and coordinates);
    ``None`` where no float gives that size."""
    if case.op != "interpolate" or case.params.get("size") is None or case.names_problem:
        return None
    out = _output_size(case)
    if out is None:
        return None
    spatial = case.input.shape[2:]
    if 0 in spatial:
        return None
    params = {k: v for k, v in case.params.items() if k != "size"}
    params["scale_factor"] = tuple(n_out / n_in for n_in, n_out in zip(spatial, out, strict=True))
    params["recompute_scale_factor"] = True
    twin = replace(case, params=params)
    return twin if _output_size(twin) == out else None


def _relaid(case: Case, layout: str) -> Case | None:
    if len(case.input.shape) < 2 or case.input.layout == layout:
        return None
    return replace(case, input=replace(case.input, layout=layout))


#: Value distributions each kind of dtype draws (``strategies._draw_values``);
#: a twin in a dtype its case's values do not fit takes the first.
_FITS: dict[str, tuple[str, ...]] = {
    "uint8": ("bytes", "extremes", "ties"),
    "bool": ("bools",),
    "complex": ("complex", "complex_specials"),
    "signed": ("integers", "int_extremes", "ties"),
    "float16": ("normal", "unit", "nans", "ties", "subnormal", "huge", "specials"),
    "floating": ("normal", "unit", "large", "nans", "ties", "subnormal", "huge", "specials"),
}


def _values_for(dtype: str, distribution: str) -> str:
    if dtype in ("uint8", "bool", "float16"):
        kind = dtype
    elif is_complex(dtype):
        kind = "complex"
    else:
        kind = "floating" if is_floating(dtype) else "signed"
    fits = _FITS[kind]
    return distribution if distribution in fits else fits[0]


def _in_dtype(case: Case, dtype: str) -> Case | None:
    """``case`` with its input (and the operands that share its dtype) in
    ``dtype``, their values drawn the way that dtype's are where theirs do not fit it."""
    if case.dtype == dtype or case.names_problem:
        return None

    def relabel(spec: InputSpec) -> InputSpec:
        return replace(spec, dtype=dtype, distribution=_values_for(dtype, spec.distribution))

    operands = tuple(
        (n, relabel(s) if n in _SAME_DTYPE_OPERANDS and isinstance(s, InputSpec) else s) for n, s in case.operands
    )
    return replace(case, input=relabel(case.input), operands=operands)


def step(case: Case, name: str) -> Case | None:
    """``case`` after one step (see the module's docstring); ``None`` where it has no such form."""
    key, _, value = name.partition("=")
    if key == "batch":
        return _batch(case)
    if key == "size":
        return _as_size(case)
    if key == "scale_factor":
        return _as_scale_factor(case)
    if key == "layout":
        return _relaid(case, value)
    if key == "dtype":
        return _in_dtype(case, value)
    raise ValueError(f"unknown form step {name!r}")


def twin(case: Case, steps: Sequence[str]) -> Case | None:
    """``case`` after each of ``steps`` in turn; ``None`` where one does not apply."""
    for name in steps:
        made = step(case, name)
        if made is None:
            return None
        case = made
    return case


def form_steps(case: Case) -> list[str]:
    """The steps to ``case``'s other input forms that apply to it (in its own dtype)."""
    layout = TWIN_LAYOUT if case.input.layout == "contiguous" else "contiguous"
    names = ["batch", "size", "scale_factor", f"layout={layout}"]
    return [n for n in names if step(case, n) is not None]


def candidate_steps(case: Case, dtypes: Sequence[str]) -> list[tuple[str, ...]]:
    """Every twin worth trying: each other form in the case's dtype, then in
    each other dtype of ``dtypes`` the case itself and its batch or
    ``size``/``scale_factor`` forms (a run restricted to one dtype, of a
    backend that declines a form, still gets a twin it takes)."""
    forms = form_steps(case)
    found: list[tuple[str, ...]] = [(f,) for f in forms]
    for dtype in dtypes:
        if dtype == case.dtype or _in_dtype(case, dtype) is None:
            continue
        found.append((f"dtype={dtype}",))
        found += [(f"dtype={dtype}", f) for f in forms if not f.startswith("layout=")]
    return found
