"""The power of a verdict: which semantic variants a run's cases separate from
torch's semantics.

A cell's discriminating cases (``conformance.discriminating`` finds them, and
``discriminating_cases.json`` beside this module caches them) each name the
variants they separate: on such a case the variant fails while torch's
semantics pass.  A backend that passes the case is therefore none of those
variants.  A cell's power is the set of variants its passing discriminating
cases separate, out of the variants its cases can separate at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.cases import Case

CACHE = Path(__file__).with_name("discriminating_cases.json")


@dataclass(frozen=True)
class Discriminating:
    """A case, and the variants it separates from torch's semantics."""

    case: Case
    separates: tuple[str, ...]
    #: The case in its other input forms (``conformance.forms``) that still
    #: separate the same variants: what a backend declining ``case`` is given.
    twins: tuple[Case, ...] = ()

    def to_json(self) -> dict[str, Any]:
        twins = {"twins": [t.to_json() for t in self.twins]} if self.twins else {}
        return {"case": self.case.to_json(), "separates": list(self.separates), **twins}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Discriminating:
        twins = tuple(Case.from_json(t) for t in data.get("twins", ()))
        return cls(Case.from_json(data["case"]), tuple(data["separates"]), twins)


def cell_key(op: str, cell: str, direction: str) -> str:
    return f"{op}/{cell}/{direction}"


def read(path: Path = CACHE) -> dict[str, Any]:
    """The cache: ``{"format": 1, "cells": {key: {"cases": [...], "not_found": [...]}}}``."""
    if not path.is_file():
        return {"format": 1, "cells": {}}
    return json.loads(path.read_text())


_LOADED: dict[str, Any] | None = None


def cached(op: str, cell: str, direction: str = "forward") -> tuple[list[Discriminating], list[str]]:
    """The cached cases of a cell, and the variants none of them separates."""
    global _LOADED
    if _LOADED is None:
        _LOADED = read()
    entry = _LOADED["cells"].get(cell_key(op, cell, direction), {"cases": [], "not_found": []})
    return [Discriminating.from_json(d) for d in entry["cases"]], list(entry["not_found"])


@dataclass
class Power:
    """Variants separated in one cell, out of those its cases can separate."""

    separated: set[str] = field(default_factory=set)
    total: set[str] = field(default_factory=set)

    def expect(self, cases: Iterable[Discriminating]) -> None:
        for d in cases:
            self.total.update(d.separates)

    def passed(self, separates: Iterable[str]) -> None:
        self.separated.update(separates)

    def to_json(self) -> dict[str, list[str]]:
        return {"separated": sorted(self.separated), "total": sorted(self.total)}

    def describe(self) -> str:
        return f"{len(self.separated)}/{len(self.total)}"
