"""A case's other input forms: the same call on the same values, batched or
unbatched.  A backend that declines one form (a port onto a framework with no
unbatched inputs) is given the case in the form it takes: a fixed or edge
case as is, a discriminating case where its twin still separates the same
variants (``conformance.discriminating.add_twins`` checks that, and the cache
keeps the twins)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.cases import Case, Operand, PooledIndices, UniqueIndices, cell_rank

#: Operands that carry the input's leading (batch) axis with it.
_BATCHED_OPERANDS = ("grad_output", "indices")


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
    """``case`` in its other batch form: an unbatched input (of the op's
    spatial rank plus one axis) with a batch of one added, or a batch of one
    taken away; ``[]`` where there is none (interpolate and pixel shuffle
    read no batch axis of their own; a batch of several; an invalid call)."""
    rank = cell_rank(case)
    if rank is None or case.names_problem or case.op not in ("conv_transpose", "max_pool", "max_unpool"):
        return []
    if any(isinstance(s, UniqueIndices) and s.rank != rank for _, s in case.operands):
        return []
    ndim = len(case.input.shape)
    if ndim == rank + 1:
        return [_reshaped(case, add=True)]
    if ndim == rank + 2 and case.input.shape[0] == 1:
        return [_reshaped(case, add=False)]
    return []


def is_unbatched(case: Case) -> bool:
    """Whether ``case``'s input has no batch axis (conv_transpose, pooling)."""
    rank = cell_rank(case)
    return rank is not None and len(case.input.shape) == rank + 1
