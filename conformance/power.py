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

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.cases import Case

CACHE = Path(__file__).with_name("discriminating_cases.json")


#: Twins stored as the steps that make them from their case (``forms.twin``).
Steps = tuple[str, ...]


@dataclass(frozen=True)
class Discriminating:
    """A case, and the variants it separates from torch's semantics."""

    case: Case
    separates: tuple[str, ...]
    #: The steps to the case's twins in other input forms and dtypes
    #: (``conformance.forms``) that still separate the same variants: what a
    #: backend declining ``case``, or a run not checking its dtype, is given.
    steps: tuple[Steps, ...] = ()
    #: A stand-in found for a restricted run (``discriminating.add_reserves``):
    #: checked only where the cell's other cases it took leave its variants unreached.
    reserve: bool = False

    @functools.cached_property
    def twins(self) -> tuple[Case, ...]:
        from conformance.forms import twin

        made = (twin(self.case, s) for s in self.steps)
        return tuple(t for t in made if t is not None)

    def to_json(self) -> dict[str, Any]:
        twins = {"twins": [list(s) for s in self.steps]} if self.steps else {}
        reserve = {"reserve": True} if self.reserve else {}
        return {"case": self.case.to_json(), "separates": list(self.separates), **twins, **reserve}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Discriminating:
        # (a store of an older format holds whole cases: their twins are left out)
        steps = tuple(tuple(s) for s in data.get("twins", ()) if isinstance(s, list))
        return cls(Case.from_json(data["case"]), tuple(data["separates"]), steps, bool(data.get("reserve")))


def cell_key(op: str, cell: str, direction: str) -> str:
    return f"{op}/{cell}/{direction}"


#: 2: twins stored as steps (``forms.twin``), reserve cases, ``lost_in``.
FORMAT = 2


def read(path: Path = CACHE) -> dict[str, Any]:
    """The cache: ``{"format": 2, "cells": {key: {"cases": [...], "not_found":
    [...], "lost_in": {dtype: [...]}}}}``; ``not_found``: the variants no case
    of the cell separates; ``lost_in``: those its cases separate, but none in
    that dtype."""
    if not path.is_file():
        return {"format": FORMAT, "cells": {}}
    return json.loads(path.read_text())


def write(data: dict[str, Any], path: Path = CACHE) -> None:
    """``data`` as ``read`` reads it, one case a line (a diff shows which cases changed)."""
    lines = ["{", f' "format": {FORMAT},', ' "cells": {']
    cells = sorted(data["cells"].items())
    for i, (key, entry) in enumerate(cells):
        lines.append(f"  {json.dumps(key)}: {{")
        rest = {k: v for k, v in sorted(entry.items()) if k != "cases"}
        cases = [f"    {json.dumps(c, sort_keys=True)}" for c in entry["cases"]]
        lines.append('   "cases": [' + ("\n" + ",\n".join(cases) + "\n   ]" if cases else "]") + ("," if rest else ""))
        lines += [f"   {json.dumps(k)}: {json.dumps(v, sort_keys=True)}," for k, v in rest.items()]
        if rest:
            lines[-1] = lines[-1][:-1]
        lines.append("  }" + ("," if i < len(cells) - 1 else ""))
    lines += [" }", "}"]
    path.write_text("\n".join(lines) + "\n")


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
    """Variants separated in one cell, out of those its cases can separate,
    and those a restriction of the run lost: no case separating them was
    checked (``lost``: the restriction, ``"--dtype float32"`` or a backend's
    reason for declining, and the variants it lost)."""

    separated: set[str] = field(default_factory=set)
    total: set[str] = field(default_factory=set)
    lost: dict[str, set[str]] = field(default_factory=dict)

    def expect(self, cases: Iterable[Discriminating]) -> None:
        for d in cases:
            self.total.update(d.separates)

    def passed(self, separates: Iterable[str]) -> None:
        self.separated.update(separates)

    def lose(self, why: str, variants: Iterable[str]) -> None:
        self.lost.setdefault(why, set()).update(variants)

    def to_json(self) -> dict[str, Any]:
        lost = {"lost": {why: sorted(vs) for why, vs in sorted(self.lost.items())}} if self.lost else {}
        return {"separated": sorted(self.separated), "total": sorted(self.total), **lost}

    def describe(self) -> str:
        return f"{len(self.separated)}/{len(self.total)}"


def describe_lost(lost: dict[str, Iterable[str]]) -> str:
    """``"lost under --dtype float32: X, Y"``: what each restriction of a run lost."""
    return "; ".join(f"lost under {why}: {', '.join(sorted(vs))}" for why, vs in sorted(lost.items()) if vs)
