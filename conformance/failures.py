"""A cell's distinct failures: its failing cases grouped by what went wrong,
so that each kind is shrunk, reproduced and diagnosed on its own (a port
wrong in three unrelated ways in one cell shows three minimal cases, not the
first one met).

The kind of a failure is read from its result: a crash or hang of the worker
and the step it was in; else the status and the message with every number,
shape and index blanked (``raised ValueError(...)`` of one class and wording,
``N element(s) off ...`` with a finite or an infinite worst error (a
NaN or infinity where the reference differs), ``shape [...]; torch gives [...]``) and which output it
was (a gradient's operand)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.cases import Case
from conformance.forms import is_unbatched
from conformance.results import Result

#: A cell shrinks and diagnoses at most this many kinds of failure (the
#: others are counted on the last card).
MAX_GROUPS = 4
#: Failing cases kept per kind, for its diagnosis.
MAX_SAMPLE = 8

_BRACKETS = re.compile(r"\[[^\]]*\]|\([^()]*\)")
_NUMBERS = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\b(nan|inf)\b")


def failure_kind(result: Result) -> str:
    """What went wrong in ``result`` (a failing or erroring one), as a key
    shared by every case that went wrong the same way."""
    isolation = result.extra.get("isolation")
    if isolation:
        return f"{isolation} in {result.extra.get('phase') or 'the worker'}"
    message = result.message.split("; torch itself fails here")[0]
    # an exception's own words stay; what is inside its brackets (shapes, values) goes
    text = _NUMBERS.sub("#", message)
    if not message.startswith("raised"):
        text = _BRACKETS.sub("[...]", text)
    cmp = result.comparison
    if cmp is not None and not cmp.passed:  # values off: a NaN rule is not a rounding error
        text += "; non-finite" if not math.isfinite(float(cmp.max_abs)) else "; finite"
    return f"{result.status}: {text}"


@dataclass
class Group:
    """The failing cases of one kind: the first met, how many, and a sample."""

    kind: str
    first: Result
    count: int = 0
    sample: list[Case] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.count += 1
        if len(self.sample) < MAX_SAMPLE:
            self.sample.append(result.case)


class Groups:
    """A cell's failing results, grouped by ``failure_kind`` in the order first met."""

    def __init__(self) -> None:
        self.by_kind: dict[str, Group] = {}

    def add(self, result: Result) -> None:
        kind = failure_kind(result)
        self.by_kind.setdefault(kind, Group(kind, result)).add(result)

    def __bool__(self) -> bool:
        return bool(self.by_kind)

    @property
    def first(self) -> Result | None:
        return next(iter(self.by_kind.values())).first if self.by_kind else None

    def shown(self) -> list[Group]:
        """The kinds a cell shrinks: the first ``MAX_GROUPS`` met."""
        return list(self.by_kind.values())[:MAX_GROUPS]

    def not_shown(self) -> int:
        """Failing cases of the kinds past ``MAX_GROUPS``."""
        return sum(g.count for g in list(self.by_kind.values())[MAX_GROUPS:])


def features(case: Case) -> set[str]:
    """What a case is, in words an error's diagnosis can name: its dtype,
    memory layout, value distribution, each keyword argument, an empty or
    unbatched input, an axis of length 1."""
    shape = case.input.shape
    found = {f"dtype {case.dtype}", f"a {case.input.layout} input", f"{case.input.distribution} values"}
    found |= {f"{k}={v!r}" for k, v in case.params.items() if k != "mode"}
    found |= {f"input axis {i} of length {n}" for i, n in enumerate(shape) if n in (0, 1)}
    found |= {"an empty input"} if 0 in shape else set()
    found |= {"an empty batch"} if shape and shape[0] == 0 and not is_unbatched(case) else set()
    found |= {"an unbatched input"} if is_unbatched(case) else {"a batched input"} if case.op != "interpolate" else set()
    return found


#: Shared features an error's diagnosis names, at most.
MAX_FEATURES = 3


def error_diagnosis(first: Result, group: Group, passing: list[Case]) -> dict[str, Any]:
    """What the cases of an erroring kind share that no passing case checked
    has ("raises ZeroDivisionError on every case with an empty batch"): a
    diagnosis record as ``conformance.diagnosis.Diagnosis.to_json`` writes one."""
    raised = first.message.split(";")[0]
    # one case shares every feature of its own: no pattern
    shared = set.intersection(*(features(c) for c in group.sample)) if len(group.sample) > 1 else set()
    seen_passing = set().union(*(features(c) for c in passing)) if passing else set()
    telling = sorted(shared - seen_passing, key=lambda f: (len(f), f))[:MAX_FEATURES]
    if telling:
        summary = (
            f"{raised} on every case with {' and '.join(telling)} among the {group.count} "
            f"case(s) that failed so, and on none of the {len(passing)} passing one(s) checked"
        )
    else:
        summary = f"{raised} on {group.count} case(s); no feature they share sets them apart from the passing ones"
    return {"verdict": "error", "variants": [], "failing": group.count, "passing": len(passing),
            "partial": None, "unchecked": 0, "features": telling, "summary": summary}
