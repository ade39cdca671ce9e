"""The benchmark suite's results (pytest-benchmark JSON, ``tox -e bench``).

``benchmarks/`` benchmarks each case once per implementation in one run and
names the benchmark group after the case (``benchmark.group = case.name``),
with the implementation as the ``implementation`` parameter (and the last
part of the test id: ``nearest-2x-up-numpy``). So a group pairs a numpy
timing with torch's on the same input; the ratio is numpy's median over
torch's. The case's target ratio is read, where it can be, from the case's
repr that pytest-benchmark keeps in ``params``.

A group may also hold ``floor``: a plain copy of the case's bytes into a
preallocated array (the memory floor: no kernel moving those bytes can be
faster), so each implementation is also a multiple of the floor.  Groups whose
name contains ``backward`` time gradients (the numpy backend's ``vjp``
against torch autograd's backward).  ``extra_info`` carries the targets
(``target``: ratio to torch, ``floor_target``: multiple of the floor) and,
for the numpy backend, ``peak_bytes``: the most memory one call had
allocated at once (tracemalloc, its result included) beside
``result_bytes``, the size of that result.

The same rows make the terminal table of ``tox -e bench``
(``summary_lines``), so that the table and the HTML report cannot disagree.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TARGET = re.compile(r"target=([0-9.eE+-]+|None)\)")


#: Peak memory of a call, as a multiple of its result's size, the bench aims at.
PEAK_TARGET = 2.0
#: Implementations that are yardsticks, not contenders.
BASELINES = ("torch", "floor")


@dataclass
class BenchRow:
    """One case: each implementation's median (seconds), its ratio to torch's
    and to the floor's, and the numpy backend's peak memory."""

    case: str
    shape: str
    medians: dict[str, float] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    target: float | None = None
    floor_target: float | None = None
    peaks: dict[str, int] = field(default_factory=dict)
    result_bytes: int | None = None

    def ratio(self, implementation: str, base: str = "torch") -> float | None:
        t, b = self.medians.get(implementation), self.medians.get(base)
        return t / b if t is not None and b else None

    def floor_ratio(self, implementation: str) -> float | None:
        return self.ratio(implementation, "floor")

    def peak_ratio(self, implementation: str) -> float | None:
        peak = self.peaks.get(implementation)
        return peak / self.result_bytes if peak is not None and self.result_bytes else None

    @property
    def backward(self) -> bool:
        return "backward" in self.case

    @property
    def others(self) -> list[str]:
        return sorted(i for i in self.medians if i not in BASELINES)


@dataclass
class BenchData:
    path: str
    date: str
    machine: str
    rows: list[BenchRow]
    notes: list[str] = field(default_factory=list)


def _implementation(bench: dict[str, Any]) -> str:
    params = bench.get("params")
    if isinstance(params, dict) and isinstance(params.get("implementation"), str):
        return params["implementation"]
    param = str(bench.get("param") or bench.get("name") or "")
    return param.rstrip("]").rsplit("-", 1)[-1] or "?"


def _target(bench: dict[str, Any]) -> float | None:
    params = bench.get("params")
    case = params.get("case") if isinstance(params, dict) else None
    match = _TARGET.search(case) if isinstance(case, str) else None
    if not match or match.group(1) == "None":
        return None
    try:
        return float(match.group(1))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _read_extra(row: BenchRow, implementation: str, bench: dict[str, Any], extra: dict[str, Any]) -> None:
    """Targets, peak and result size from ``extra_info``; the target from the
    case's repr in files written before ``extra_info`` carried it."""
    target = _number(extra.get("target")) if "target" in extra else _target(bench)
    row.target = row.target if row.target is not None else target
    floor_target = _number(extra.get("floor_target"))
    row.floor_target = row.floor_target if row.floor_target is not None else floor_target
    peak, result = _number(extra.get("peak_bytes")), _number(extra.get("result_bytes"))
    if peak is not None:
        row.peaks[implementation] = int(peak)
    if result is not None and row.result_bytes is None:
        row.result_bytes = int(result)


def verdict(value: float | None, target: float | None) -> str:
    """``met`` or ``MISSED`` against a target (goals, never assertions); empty without either."""
    if value is None or target is None:
        return ""
    return "met" if value <= target else "MISSED"


def _cell(value: float | None, target: float | None, digits: int = 2) -> str:
    """A ratio with its target's verdict and the target: ``0.52 met (<=1)``,
    ``1.31 MISSED (<=1)``, ``3.40 (no target)``; ``-`` when unknown."""
    if value is None:
        return "-"
    if target is None:
        return f"{value:.{digits}f} (no target)"
    return f"{value:.{digits}f} {verdict(value, target)} (<={target:g})"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.1f}"


def summary_lines(rows: list[BenchRow], implementation: str = "numpy") -> list[str]:
    """The terminal table of ``tox -e bench``: per case, ``implementation``'s
    median beside torch's and the floor's, its ratio to each (with the
    target's verdict), and its peak memory as MB and as a multiple of its
    result's size (target ``PEAK_TARGET``)."""
    header = (
        f"{'case':<36} {'shape':<16} {'ms':>8} {'torch ms':>9} {'floor ms':>9}  "
        f"{'x torch':<19} {'x floor':<19} {'peak MB':>8} {'x result':<17}"
    )
    lines = [header]
    for row in rows:
        ms = row.medians.get(implementation)
        if ms is None or "torch" not in row.medians:
            lines.append(f"{row.case:<36} {row.shape:<16} incomplete: a benchmark failed or was deselected")
            continue
        peak = row.peaks.get(implementation)
        lines.append(
            f"{row.case:<36} {row.shape:<16} {_ms(ms):>8} {_ms(row.medians['torch']):>9} "
            f"{_ms(row.medians.get('floor')):>9}  "
            f"{_cell(row.ratio(implementation), row.target):<19} "
            f"{_cell(row.floor_ratio(implementation), row.floor_target, 1):<19} "
            f"{'-' if peak is None else f'{peak / 1e6:.0f}':>8} "
            f"{_cell(row.peak_ratio(implementation), PEAK_TARGET, 1):<17}"
        )
    return lines


def _md_cell(value: float | None, target: float | None, digits: int) -> str:
    if value is None:
        return "-"
    mark = {"met": " ✓", "MISSED": " ✗"}.get(verdict(value, target), "")
    return f"{value:.{digits}f}{mark}"


def markdown_lines(rows: list[BenchRow], implementation: str = "numpy") -> list[str]:
    """The manual's table of a run (``python -c "from reports.bench import
    ..."``, see ``docs/benchmarks.md``): the terminal table's columns as
    Markdown, ✓ / ✗ for a target met or missed, forward cases first, so that
    the page is regenerated, not retyped."""
    lines = [
        "| case | shape | numpy ms | torch ms | floor ms | × torch | × floor | peak MB (× result) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(rows, key=lambda r: r.backward):  # forward cases first
        if implementation not in row.medians:
            continue
        peak, peak_ratio = row.peaks.get(implementation), row.peak_ratio(implementation)
        peak_text = "-" if peak is None else f"{peak / 1e6:.0f}"
        if peak_ratio is not None:
            peak_text += f" ({_md_cell(peak_ratio, PEAK_TARGET, 1)})"
        lines.append(
            f"| {row.case} | {row.shape} | {_ms(row.medians[implementation])} | {_ms(row.medians.get('torch'))} | "
            f"{_ms(row.medians.get('floor'))} | {_md_cell(row.ratio(implementation), row.target, 2)} | "
            f"{_md_cell(row.floor_ratio(implementation), row.floor_target, 1)} | {peak_text} |"
        )
    return lines


def load_bench(path: str | os.PathLike[str]) -> BenchData:
    """Read a pytest-benchmark JSON file; unreadable parts become notes, never errors."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return BenchData(str(p), "", "", [], [f"cannot read {p}: {type(exc).__name__}: {exc}"])
    if not isinstance(data, dict):
        return BenchData(str(p), "", "", [], [f"{p} is not a pytest-benchmark JSON file"])
    info = data.get("machine_info") if isinstance(data.get("machine_info"), dict) else {}
    cpu = info.get("cpu") if isinstance(info.get("cpu"), dict) else {}
    machine = str(cpu.get("brand_raw") or info.get("processor") or info.get("machine") or "")
    if cpu.get("count"):
        machine += f" ({cpu['count']} CPUs)"
    rows: dict[str, BenchRow] = {}
    notes = []
    benches = data.get("benchmarks") if isinstance(data.get("benchmarks"), list) else []
    for bench in benches:
        if not isinstance(bench, dict):
            continue
        stats = bench.get("stats") if isinstance(bench.get("stats"), dict) else {}
        median = stats.get("median")
        if not isinstance(median, (int, float)) or not math.isfinite(median):
            notes.append(f"{bench.get('name')}: no median")
            continue
        group = str(bench.get("group") or bench.get("name") or "?")
        extra = bench.get("extra_info") if isinstance(bench.get("extra_info"), dict) else {}
        shape = extra.get("shape")
        shape_text = "×".join(str(s) for s in shape) if isinstance(shape, list) else ""
        row = rows.setdefault(group, BenchRow(group, shape_text))
        implementation = _implementation(bench)
        row.medians[implementation] = float(median)
        if isinstance(stats.get("rounds"), int):
            row.rounds[implementation] = stats["rounds"]
        _read_extra(row, implementation, bench, extra)
    return BenchData(str(p), str(data.get("datetime") or ""), machine.strip(), list(rows.values()), notes)
