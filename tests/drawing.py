"""Cases for tests: drawing many from a strategy, the same on every machine
(for tests that measure what a strategy draws), and a case moved to another
dtype."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.cases import Case, InputSpec


def draw_many(strategy: st.SearchStrategy[Any], n: int = 600) -> list[Any]:
    """``n`` draws of ``strategy`` from a derandomized run."""
    drawn: list[Any] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    collect()
    return drawn


def in_dtype(case: Case, dtype: str) -> Case:
    """The same call with the input and every array operand in ``dtype``
    (the same seeds: a special value stays where it was)."""
    operands = tuple(
        (name, dataclasses.replace(spec, dtype=dtype) if isinstance(spec, InputSpec) else spec)
        for name, spec in case.operands
    )
    return dataclasses.replace(case, input=dataclasses.replace(case.input, dtype=dtype), operands=operands)
