"""Semantic variants: the plausible wrong versions of each op.

A variant is what a porter writes when one rule of torch's is missed: the
source index computed in float64 instead of torch's float32, ``align_corners``
inverted, the cubic coefficient of another library, ties broken the other way,
sub-pixels in the other channel order.  Each is a small named function with
the op's own signature, written beside (on top of) the reference definition it
perturbs, in one module per op family.

The harness uses them three ways: it searches, for each variant and cell, for
small inputs on which the variant and torch's semantics differ (the
discriminating cases every run checks first); it reports how many variants a
run's cases separate from torch's semantics (a verdict's power); and it runs
each variant as a backend (``variant:NAME``) to prove that it is caught.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: What a variant gets wrong, to group them in reports.
KINDS = ("coordinates", "rounding", "kernel", "special-values", "structure", "arguments")


@dataclass(frozen=True)
class Variant:
    """One plausible wrong version of an op."""

    #: Kebab-case id, unique over all ops (``variant:NAME`` loads it as a backend).
    name: str
    #: The harness's op name it stands in for.
    op: str
    #: What it does differently, as a porter would have written it.
    summary: str
    #: Its forward, with the op's signature (float64 results, like the reference,
    #: for ops that compute; the input dtype for ops that move data).
    forward: Callable[..., Any]
    kind: str = "coordinates"
    #: The input dtypes whose path it perturbs (``None``: every dtype).
    dtypes: tuple[str, ...] | None = None
    #: Also a wrong gradient: the VJP of ``forward`` (its transpose).
    backward: bool = True
    #: Its own gradient with respect to ``x``, ``vjp(grad_output, x, **params)``
    #: in float64, where the port's backward is wrong on its own (ties split,
    #: sums in a narrow dtype); ``None``: the transpose of ``forward``.
    vjp: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", self.name):
            raise ValueError(f"variant name {self.name!r} is not kebab-case")
        if self.kind not in KINDS:
            raise ValueError(f"variant {self.name!r}: kind {self.kind!r} is not one of {KINDS}")


#: The op families with variants, one module each.
FAMILIES = ("interpolate", "conv_transpose", "pooling", "pixel_shuffle")
_ALL: dict[str, Variant] = {}


def variant(name: str, op: str, summary: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the decorated function as variant ``name`` of ``op``."""

    def register(forward: Callable[..., Any]) -> Callable[..., Any]:
        if name in _ALL:
            raise ValueError(f"two variants are named {name!r}")
        _ALL[name] = Variant(name, op, summary, forward, **options)
        return forward

    return register


def _load() -> dict[str, Variant]:
    for family in FAMILIES:
        importlib.import_module(f"reference.variants.{family}")
    return _ALL


def all_variants() -> list[Variant]:
    return list(_load().values())


def variants_for(op: str) -> tuple[Variant, ...]:
    return tuple(v for v in _load().values() if v.op == op)


def get(name: str) -> Variant:
    try:
        return _load()[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r}: python -m conformance list --variants names them") from None


def summed_in(dtype: Any, jacobian: Any, g: Any) -> Any:
    """``jacobian^T g`` summed as a port without a float32 accumulator sums a
    gradient of ``dtype`` data: each product ``jacobian[i, j] * g[p, i]`` and
    the running sum rounded to ``dtype`` after every term, outputs ``i`` in
    order.  ``jacobian``: ``(n_out, n_in)`` float64; ``g``: ``(planes, n_out)``;
    the result ``(planes, n_in)`` in float64 (its values ``dtype``'s)."""
    import numpy as np

    def rounded(v: Any) -> Any:
        return np.asarray(v).astype(dtype).astype(np.float64)

    jacobian = rounded(jacobian)  # the weights such a port holds
    g = np.asarray(g, np.float64)
    total = np.zeros((g.shape[0], jacobian.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(jacobian.shape[0]):
            reads = jacobian[i] != 0  # the inputs output i reads: a zero tap adds nothing
            term = rounded(g[:, i : i + 1] * jacobian[i])
            total = np.where(reads, rounded(total + term), total)
    return total
