"""Drawing many cases from a strategy, the same on every machine (for tests
that measure what a strategy draws)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


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
