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

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from backends.reference_backend import ReferenceBackend
from backends.variant_backend import VariantBackend
from conformance import ops
from conformance.cases import Case
from conformance.execute import Oracle
from conformance.forms import candidate_steps
from conformance.forms import twin as make_twin
from conformance.power import CACHE, Discriminating, Steps, cell_key, read, write
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
        dtypes = [d for d in cell.dtypes or variant.dtypes if d in variant.dtypes]
        cell = Cell(cell.op, cell.cell, cell.direction, dtypes=dtypes)
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
        report(
            f"{cell.describe()}: {len(found)} case(s), {len(missed)} variant(s) not separated, "
            f"{time.monotonic() - start:.1f} s"
        )
        write(data, path)
    _search_harder(data, op_names, oracle, examples * 10, report)
    add_twins(data, op_names, report=report)
    add_reserves(data, op_names, examples // 4, report=report)
    write(data, path)
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


def cell_dtypes(op: str, cell: str, direction: str) -> tuple[str, ...]:
    """Every dtype a cell draws in ``direction`` (interpolate: with antialias and without)."""
    info = ops.get(op)
    flags = (False, True) if cell in info.antialias_cells else (False,)
    found = [d for antialias in flags for d in info.dtypes_for(direction)(cell, antialias)]
    return tuple(dict.fromkeys(found))


def _dtypes_of(case: Case) -> tuple[str, ...]:
    """The dtypes torch takes for ``case``'s mode and flags in its direction."""
    info = ops.get(case.op)
    return tuple(info.dtypes_for(case.direction)(info.mode_of(case.params), bool(case.params.get("antialias"))))


def _dtype_of(case: Case, steps: Steps) -> str:
    named = [s.partition("=")[2] for s in steps if s.startswith("dtype=")]
    return named[-1] if named else case.dtype


def twins_of(d: Discriminating, oracle: Oracle) -> tuple[Steps, ...]:
    """The steps to ``d.case``'s twins (``conformance.forms.candidate_steps``:
    its other input forms, and the dtypes torch takes for it; a reserve's in
    its own dtype only) on which torch's semantics still pass and every
    variant it separates still fails.  The other forms of a dtype are tried
    only where the case in that dtype separates: a form alone seldom brings
    back what a dtype lost."""
    variants = [VariantBackend(name).variant for name in d.separates]
    kept: list[Steps] = []
    lost_dtypes: set[str] = set()
    for steps in candidate_steps(d.case, () if d.reserve else _dtypes_of(d.case)):
        dtype = _dtype_of(d.case, steps)
        if dtype in lost_dtypes or any(v.dtypes is not None and dtype not in v.dtypes for v in variants):
            continue
        twin = make_twin(d.case, steps)
        keep = twin is not None and all(separates(v, twin, oracle) for v in variants)
        keep = keep and check_case(twin, _REFERENCE, oracle).status == "pass"  # type: ignore[arg-type]
        if keep:
            kept.append(steps)
        elif len(steps) == 1 and steps[0].startswith("dtype="):
            lost_dtypes.add(dtype)
    return tuple(kept)


def add_twins(
    data: dict[str, Any], op_names: Iterable[str] | None = None, report: Callable[[str], None] = print
) -> dict[str, Any]:
    """Give every cached case of ``op_names`` (all ops) its twins in the
    other input forms and dtypes (``twins_of``): minutes, where finding the
    cases takes an hour (``python -m conformance discriminate --twins``)."""
    oracle = Oracle()
    warnings.simplefilter("ignore", RuntimeWarning)
    wanted = set(op_names or ops.names())
    for key, entry in data["cells"].items():
        if key.split("/")[0] not in wanted:
            continue
        start = time.monotonic()
        cases = [Discriminating.from_json(c) for c in entry["cases"]]
        cases = [replace(d, steps=twins_of(d, oracle)) for d in cases]
        entry["cases"] = [d.to_json() for d in cases]
        report(
            f"{key}: {sum(len(d.steps) for d in cases)} twin(s) of {len(cases)} case(s) in other forms "
            f"and dtypes, {time.monotonic() - start:.1f} s"
        )
    return data


def _gaps(cases: list[Discriminating], cell: Cell, dtype: str) -> list[Variant]:
    """The variants the cell's cases separate, but none in ``dtype`` (its case or a twin)."""
    separated = {v for d in cases for v in d.separates}
    covered = {v for d in cases for t in (d.case, *d.twins) if t.dtype == dtype for v in d.separates}
    return [
        v
        for v in applicable(cell.op, cell.direction)
        if v.name in separated - covered and (v.dtypes is None or dtype in v.dtypes)
    ]


def add_reserves(
    data: dict[str, Any],
    op_names: Iterable[str] | None = None,
    examples: int = SEARCH_EXAMPLES // 4,
    report: Callable[[str], None] = print,
) -> dict[str, Any]:
    """For each cell and dtype it draws, search that dtype alone for the
    variants the cell separates but no case or twin in that dtype does: the
    cases found are reserves (``Discriminating.reserve``), checked only by a
    run whose other cases leave their variants unreached (``--dtype``).  The
    variants still unseparated in a dtype are recorded (``lost_in``)."""
    oracle = Oracle()
    warnings.simplefilter("ignore", RuntimeWarning)
    for cell in all_cells(op_names):
        start = time.monotonic()
        entry = data["cells"][cell_key(cell.op, cell.cell, cell.direction)]
        cases = [Discriminating.from_json(c) for c in entry["cases"] if not c.get("reserve")]
        lost: dict[str, list[str]] = {}
        for dtype in cell_dtypes(cell.op, cell.cell, cell.direction):
            gaps = _gaps(cases, cell, dtype)
            restricted = Cell(cell.op, cell.cell, cell.direction, dtypes=(dtype,))
            while gaps:
                variant = gaps.pop(0)
                case = _find(variant, restricted, oracle, examples)
                if case is None:
                    lost.setdefault(dtype, []).append(variant.name)
                    continue
                also = [v for v in gaps if separates(v, case, oracle)]
                found = Discriminating(case, (variant.name, *(v.name for v in also)), reserve=True)
                cases.append(replace(found, steps=twins_of(found, oracle)))
                gaps = [v for v in gaps if v not in also]
        entry["cases"] = [d.to_json() for d in cases]
        entry.pop("lost_in", None)
        entry.update({"lost_in": lost} if lost else {})
        reserves = sum(d.reserve for d in cases)
        report(
            f"{cell.describe()}: {reserves} reserve case(s), {sum(map(len, lost.values()))} variant-dtype pair(s) "
            f"not separated, {time.monotonic() - start:.1f} s"
        )
    return data


def twins_only(op_names: Iterable[str] | None = None, path: Path = CACHE, reserves: bool = True) -> dict[str, Any]:
    """``add_twins`` (and ``add_reserves``) on the cache at ``path``, written back."""
    data = add_twins(read(path), op_names)
    if reserves:
        data = add_reserves(data, op_names)
    write(data, path)
    return data
