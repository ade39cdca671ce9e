"""Failures that depend on earlier calls.

A backend with state across calls (a compile cache keyed by shape, a
workspace reused between calls, a global flag one call sets) can fail a case
only after some other case ran in the same process.  Such a failure's
minimal case then passes in a fresh process, and a repro of it alone shows
nothing.  So a cell's minimal failing case is run once more alone, in a
fresh worker; where it passes there, the failure is labelled "depends on
earlier calls", and the cell's earlier cases (every case its worker ran
before the failing one, in order) are replayed before it in fresh workers,
the sequence shrunk by delta debugging (``shrink``) to a short one that
still reproduces it.  Its repro replays that sequence first
(``conformance.repro``).  It is bounded: at most ``MAX_REPLAYS`` fresh
workers, within the cell's failure budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from conformance.cases import Case
from conformance.results import Result

#: Fresh workers a history-dependent failure's search may start (the alone run included).
MAX_REPLAYS = 24
#: The label of a failure that passes alone in a fresh worker.
LABEL = "depends on earlier calls"

#: Runs cases in order in a fresh worker: the last one's result (``None``: the worker could not run it).
Replayer = Callable[[Sequence[Case]], Result | None]


def fresh_replayer(spec: str, name: str, settings: dict[str, Any]) -> Replayer:
    """A ``Replayer`` of backend ``spec`` (named ``name`` in its results):
    each call starts a new worker (``IsolatedChecker`` with ``settings``),
    runs the cases but the last on the backend alone (no oracle, no
    verdict), checks the last, and stops the worker."""

    def replay(cases: Sequence[Case]) -> Result | None:
        from conformance.isolation import IsolatedChecker

        with IsolatedChecker(spec, **settings) as worker:
            worker.name = name
            for case in cases[:-1]:
                worker.run(case.to_json())
            last = cases[-1]
            record = worker.check(last.to_json())
        if record.get("status") == "error" and "failed to load" in str(record.get("message")):
            return None
        return Result.from_json(record, last, name)

    return replay


def before(history: Sequence[Case], case: Case) -> list[Case]:
    """The cases run before the last run of ``case`` in ``history``."""
    key = case.to_json()
    for i in range(len(history) - 1, -1, -1):
        if history[i].to_json() == key:
            return list(history[:i])
    return list(history)


def shrink(history: list[Case], reproduces: Callable[[list[Case]], bool]) -> list[Case]:
    """A short subsequence of ``history`` that still ``reproduces`` the
    failure (``history`` does): Zeller's ddmin, on chunks, then on their
    complements, the order kept."""
    n = 2
    while len(history) >= 2:
        size = -(-len(history) // n)
        chunks = [history[i : i + size] for i in range(0, len(history), size)]
        smaller = next((c for c in chunks if reproduces(c)), None)
        if smaller is not None:
            history, n = smaller, 2
            continue
        rest = None
        if n > 2:
            complements = ([x for j, c in enumerate(chunks) if j != i for x in c] for i in range(len(chunks)))
            rest = next((c for c in complements if reproduces(c)), None)
        if rest is not None:
            history, n = rest, max(n - 1, 2)
        elif n >= len(history):
            break
        else:
            n = min(len(history), 2 * n)
    return history


def dependence(failing: Result, history: Sequence[Case], replay: Replayer, deadline: float) -> dict[str, Any] | None:
    """Whether ``failing`` (a minimal case's result, after ``history`` ran in
    its worker) depends on earlier calls: ``None`` where it fails alone in a
    fresh worker too (or could not be run there); else the record
    (``history``): the label, the alone run's status, and the shortest
    sequence of earlier cases found that reproduces it (``earlier``; ``None``
    where the cell's own history does not), with how many replays it took."""
    replays = [0]

    def reproduces(earlier: list[Case]) -> bool:
        if replays[0] >= MAX_REPLAYS or time.monotonic() > deadline:
            return False  # out of replays: the sequence so far stands
        replays[0] += 1
        result = replay([*earlier, failing.case])
        return result is not None and result.failed and not result.extra.get("isolation")

    alone = replay([failing.case])
    replays[0] += 1
    if alone is None or alone.failed:
        return None
    earlier = before(history, failing.case)
    found = shrink(earlier, reproduces) if earlier and reproduces(earlier) else None
    record: dict[str, Any] = {"label": LABEL, "alone": alone.status, "replays": replays[0]}
    record["earlier"] = None if found is None else [c.to_json() for c in found]
    record["text"] = _text(found, len(earlier))
    return record


def _text(found: list[Case] | None, ran: int) -> str:
    """What the record says, for the result's message."""
    if found is None:
        return (
            f"{LABEL}: it passes when run alone in a fresh worker, and replaying the cell's {ran} earlier "
            "case(s) did not reproduce it (it may depend on an earlier cell's calls, or be flaky)"
        )
    return (
        f"{LABEL}: it passes when run alone in a fresh worker, and fails after {len(found)} earlier "
        f"case(s) of the cell (of {ran}), which its repro runs first"
    )
