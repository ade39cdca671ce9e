"""Discriminating cases: for every semantic variant and cell, small inputs on
which the variant and torch's semantics differ.

``search`` asks Hypothesis (derandomized: the same cases on every machine) for
a case of the cell's own strategy that the variant, run as a backend, fails
under the tolerance policy; each case found is then tried on every other
variant of the op, so one case may separate several.  The cases are cached in
``discriminating_cases.json`` beside this module (``python -m conformance
discriminate`` rebuilds it); every run checks a cell's cached cases before
Hypothesis explores, and counts which variants the backend's passing cases
separate from torch's semantics: the power of its verdict.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from backends.reference_backend import ReferenceBackend
from backends.variant_backend import VariantBackend
from conformance import ops
from conformance.cases import Case
from conformance.execute import Oracle
from conformance.forms import other_forms
from conformance.power import CACHE, Discriminating, cell_key, read
from conformance.search import Cell, case_strategy
from conformance.verdict import check_case
from reference.variants import Variant, variants_for

#: Drawn cases tried per variant and cell before the search gives up.
SEARCH_EXAMPLES = 400

def applicable(op: str, direction: str) -> tuple[Variant, ...]:
    """The variants of ``op`` that a cell in ``direction`` can separate."""
    return tuple(v for v in variants_for(op) if direction == "forward" or v.backward)


def separates(variant: Variant, case: Case, oracle: Oracle) -> bool:
    """The variant, as a backend, fails ``case`` (an error would be a bug of
    the variant's own code, which separates nothing)."""
    return check_case(case, VariantBackend(variant.name), oracle).status == "fail"


_REFERENCE = ReferenceBackend()


def discriminates(variant: Variant, case: Case, oracle: Oracle) -> bool:
    """The variant fails ``case`` while torch's semantics (the reference,
    rounded) pass it: a backend passing it is not that variant."""
    return separates(variant, case, oracle) and check_case(case, _REFERENCE, oracle).status == "pass"


def _find(variant: Variant, cell: Cell, oracle: Oracle, examples: int) -> Case | None:
    backend = VariantBackend(variant.name)
    if variant.dtypes is not None:
        cell = Cell(cell.op, cell.cell, cell.direction, dtypes=variant.dtypes)
    strategy = case_strategy(cell, backend)
    if strategy is None:
        return None
    quick = settings(
        database=None,
        derandomize=True,
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    try:
        return find(strategy, lambda case: discriminates(variant, case, oracle), settings=quick)
    except (NoSuchExample, Unsatisfiable):
        return None


def search(cell: Cell, oracle: Oracle, examples: int = SEARCH_EXAMPLES) -> tuple[list[Discriminating], list[str]]:
    """Discriminating cases of one cell, and the variants none was found for."""
    pending = list(applicable(cell.op, cell.direction))
    found: list[Discriminating] = []
    missed: list[str] = []
    while pending:
        variant = pending.pop(0)
        case = _find(variant, cell, oracle, examples)
        if case is None:
            missed.append(variant.name)
            continue
        also = [v for v in pending if separates(v, case, oracle)]
        found.append(Discriminating(case, (variant.name, *(v.name for v in also))))
        pending = [v for v in pending if v not in also]
    return found, missed


def all_cells(op_names: Iterable[str] | None = None) -> list[Cell]:
    cells = []
    for op in op_names or ops.names():
        info = ops.get(op)
        for direction in info.directions():
            if applicable(op, direction):
                cells += [Cell(op, cell, direction) for cell in info.cells]
    return cells


def build(
    op_names: Iterable[str] | None = None,
    path: Path = CACHE,
    examples: int = SEARCH_EXAMPLES,
    report: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Search every cell of ``op_names`` (all ops) and write the cache (cells of
    other ops already in it are kept)."""
    oracle = Oracle()
    data = read(path)
    warnings.simplefilter("ignore", RuntimeWarning)  # special values make NumPy warn on every variant
    for cell in all_cells(op_names):
        start = time.monotonic()
        found, missed = search(cell, oracle, examples)
        data["cells"][cell_key(cell.op, cell.cell, cell.direction)] = {
            "cases": [d.to_json() for d in found],
            "not_found": missed,
        }
        report(f"{cell.describe()}: {len(found)} case(s), {len(missed)} variant(s) not separated, "
               f"{time.monotonic() - start:.1f} s")
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    _search_harder(data, op_names, oracle, examples * 10, report)
    add_twins(data, op_names, report=report)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def _search_harder(
    data: dict[str, Any], op_names: Iterable[str] | None, oracle: Oracle, examples: int, report: Callable[[str], None]
) -> None:
    """A variant no cell separated gets a longer search, cell by cell, until one does."""
    separated = {v for entry in data["cells"].values() for d in entry["cases"] for v in d["separates"]}
    for cell in all_cells(op_names):
        for variant in applicable(cell.op, cell.direction):
            if variant.name in separated:
                continue
            case = _find(variant, cell, oracle, examples)
            if case is None:
                continue
            also = [v.name for v in applicable(cell.op, cell.direction) if v != variant and separates(v, case, oracle)]
            entry = data["cells"][cell_key(cell.op, cell.cell, cell.direction)]
            entry["cases"].append(Discriminating(case, (variant.name, *also)).to_json())
            separated.add(variant.name)
            report(f"{cell.describe()}: a longer search separates {variant.name}")


def twins_of(d: Discriminating, oracle: Oracle) -> list[Case]:
    """``d.case`` in each of its other input forms (``conformance.forms``)
    where torch's semantics still pass it and every variant it separates
    still fails it."""
    found = []
    for twin in other_forms(d.case):
        if check_case(twin, _REFERENCE, oracle).status != "pass":
            continue
        if all(separates(VariantBackend(name).variant, twin, oracle) for name in d.separates):
            found.append(twin)
    return found


def add_twins(
    data: dict[str, Any], op_names: Iterable[str] | None = None, report: Callable[[str], None] = print
) -> dict[str, Any]:
    """Give every cached case of ``op_names`` (all ops) its twins in the
    other input forms (``twins_of``): seconds, where finding the cases takes
    minutes (``python -m conformance discriminate --twins``)."""
    oracle = Oracle()
    warnings.simplefilter("ignore", RuntimeWarning)
    wanted = set(op_names or ops.names())
    for key, entry in data["cells"].items():
        if key.split("/")[0] not in wanted:
            continue
        cases = [Discriminating.from_json(c) for c in entry["cases"]]
        cases = [Discriminating(d.case, d.separates, tuple(twins_of(d, oracle))) for d in cases]
        entry["cases"] = [d.to_json() for d in cases]
        report(f"{key}: {sum(bool(d.twins) for d in cases)} of {len(cases)} case(s) with a twin in another form")
    return data


def twins_only(op_names: Iterable[str] | None = None, path: Path = CACHE) -> dict[str, Any]:
    """``add_twins`` on the cache at ``path``, written back."""
    data = add_twins(read(path), op_names)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data
