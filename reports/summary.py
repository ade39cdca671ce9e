"""The end-of-run summary table: backend x op x mode x direction (forward,
backward), from result records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cell:
    counts: dict[str, int] = field(default_factory=lambda: {"pass": 0, "fail": 0, "error": 0, "unsupported": 0})
    worst_ulp: float = 0.0
    worst_abs: float = 0.0
    torch_off_reference: int = 0
    time_s: float = 0.0
    torch_time_s: float = 0.0
    #: Backward cases whose gradient changed between two identical calls.
    nondeterministic: int = 0
    backward: bool = False

    @property
    def ratio(self) -> float | None:
        return self.time_s / self.torch_time_s if self.torch_time_s > 0 else None


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


CellKey = tuple[str, str, str, str]


def tabulate(records: Iterable[dict[str, Any]]) -> dict[CellKey, Cell]:
    """Aggregate result records (minimal-case duplicates excluded) per cell:
    ``(backend, op, mode, direction)``."""
    cells: dict[CellKey, Cell] = {}
    for r in records:
        if r.get("type") != "result" or r.get("minimal"):
            continue
        direction = r.get("direction", "forward")
        cell = cells.setdefault((r["backend"], r["op"], r["mode"], direction), Cell())
        cell.counts[r["status"]] = cell.counts.get(r["status"], 0) + 1
        if direction == "backward":
            cell.backward = True
            cell.nondeterministic += r.get("deterministic") is False
        cmp = r.get("comparison") or {}
        if cmp:
            cell.worst_ulp = max(cell.worst_ulp, _num(cmp.get("max_ulp", 0.0)))
            cell.worst_abs = max(cell.worst_abs, _num(cmp.get("max_abs", 0.0)))
            cell.torch_off_reference += bool(cmp.get("torch_off_reference"))
        if r.get("time_s") is not None and r.get("torch_time_s") is not None:
            cell.time_s += r["time_s"]
            cell.torch_time_s += r["torch_time_s"]
    return cells


def render(cells: dict[CellKey, Cell]) -> str:
    """A plain-text table, one row per cell; forward and backward rows of a
    cell side by side.  ``nondet``: backward cases whose gradient changed
    between two identical calls (``-`` for forward rows)."""
    header = (
        "backend",
        "op",
        "mode",
        "dir",
        "pass",
        "fail",
        "error",
        "unsup",
        "worst ulp",
        "worst |err|",
        "torch off-ref",
        "nondet",
        "time/torch",
    )
    rows = [header]
    order = {"forward": 0, "backward": 1}
    for (backend, op, mode, direction), c in sorted(cells.items(), key=lambda kv: (*kv[0][:3], order[kv[0][3]])):
        ratio = c.ratio
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
                f"{c.worst_ulp:.3g}",
                f"{c.worst_abs:.3g}",
                str(c.torch_off_reference),
                str(c.nondeterministic) if c.backward else "-",
                "-" if ratio is None else f"{ratio:.2f}x",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(v.ljust(w) if i < 4 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
