"""The end-of-run summary table: backend x op x mode x direction (forward,
backward), from result records, aggregated as the HTML report aggregates them
(``reports.data.tally``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reports.data import CellKey, Counts, cell_key, power_of, power_text, tally


@dataclass
class Cell:
    """One row of the table: the cell's ``Counts``, the same aggregation the
    HTML report draws (``reports.data``)."""

    tally: Counts = field(default_factory=Counts)
    #: ``(separated, total)`` variants, from the cell's ``cell_done`` record.
    power: tuple[list[str], list[str]] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Cases per status (``pass``, ``fail``, ``error``, ``unsupported``, and any other seen)."""
        return self.tally.by_status

    @property
    def worst_ulp(self) -> float:
        return self.tally.worst_ulp

    @property
    def worst_abs(self) -> float:
        return self.tally.worst_abs

    @property
    def torch_off_reference(self) -> int:
        return self.tally.torch_off_reference

    @property
    def nondeterministic(self) -> int:
        """Backward cases whose gradient changed between two identical calls."""
        return self.tally.nondeterministic

    @property
    def backward(self) -> bool:
        return self.tally.backward

    @property
    def ratio(self) -> float | None:
        return self.tally.ratio


def tabulate(records: Iterable[dict[str, Any]]) -> dict[CellKey, Cell]:
    """Aggregate result records (minimal-case duplicates excluded) per cell:
    ``(backend, op, mode, direction)``."""
    groups: dict[CellKey, list[dict[str, Any]]] = {}
    powers: dict[CellKey, Any] = {}
    for r in records:
        if isinstance(r, dict) and r.get("type") == "result" and not r.get("minimal"):
            groups.setdefault(cell_key(r), []).append(r)
        elif isinstance(r, dict) and r.get("type") == "cell_done":
            powers[cell_key(r)] = power_of(r.get("variants"))
    return {key: Cell(tally(rs), powers.get(key)) for key, rs in groups.items()}


def render(cells: dict[CellKey, Cell]) -> str:
    """A plain-text table, one row per cell; forward and backward rows of a
    cell side by side.  ``nondet``: backward cases whose gradient changed
    between two identical calls (``-`` for forward rows); ``variants``: the
    semantic variants the cell's passing discriminating cases separate from
    torch's semantics, of those its cases can separate (``-``: none recorded).
    ``worst ulp`` names the dtype of its case (ULPs at the case's magnitude:
    ``conformance.tolerance``); the error columns read ``-`` where nothing was
    compared with the reference, ``variants`` where the backend took no case;
    ``unsup`` counts as ``reports.data.tally`` does; ``time/torch`` is the
    median over cases of the per-case ratio, its quartiles in brackets
    (one word, so the table splits on whitespace)."""
    header = (
        "backend",
        "op",
        "mode",
        "dir",
        "pass",
        "fail",
        "error",
        "unsup",
        "expected",
        "worst ulp",
        "worst |err|",
        "torch off-ref",
        "nondet",
        "variants",
        "time/torch",
    )
    rows = [header]
    order = {"forward": 0, "backward": 1}
    for (backend, op, mode, direction), c in sorted(cells.items(), key=lambda kv: (*kv[0][:3], order.get(kv[0][3], 2))):
        timing = c.tally.timing
        rows.append(
            (
                backend,
                op,
                mode,
                "bwd" if direction == "backward" else "fwd",
                str(c.counts["pass"]),
                str(c.counts["fail"]),
                str(c.counts["error"]),
                str(c.counts["unsupported"]),
                str(c.counts.get("expected", 0)),
                c.tally.worst_ulp_text,
                f"{c.worst_abs:.3g}" if c.tally.compared else "-",
                str(c.torch_off_reference) if c.tally.compared else "-",
                str(c.nondeterministic) if c.backward else "-",
                power_text(c.power if c.tally.checked else None),
                "-" if timing is None else f"{timing.ratio:.2f}x({timing.low:.2f}-{timing.high:.2f})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(v.ljust(w) if i < 4 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
