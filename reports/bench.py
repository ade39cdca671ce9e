"""The benchmark suite's results (pytest-benchmark JSON, ``tox -e bench``).

``benchmarks/`` benchmarks each case once per implementation in one run and
names the benchmark group after the case (``benchmark.group = case.name``),
with the implementation as the ``implementation`` parameter (and the last
part of the test id: ``nearest-2x-up-numpy``). So a group pairs a numpy
timing with torch's on the same input; the ratio is numpy's median over
torch's. The case's target ratio is read, where it can be, from the case's
repr that pytest-benchmark keeps in ``params``.
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


@dataclass
class BenchRow:
    """One case: each implementation's median (seconds) and its ratio to torch's."""

    case: str
    shape: str
    medians: dict[str, float] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    target: float | None = None

    def ratio(self, implementation: str) -> float | None:
        t, base = self.medians.get(implementation), self.medians.get("torch")
        return t / base if t is not None and base else None

    @property
    def others(self) -> list[str]:
        return sorted(i for i in self.medians if i != "torch")


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
        row.target = row.target if row.target is not None else _target(bench)
    return BenchData(str(p), str(data.get("datetime") or ""), machine.strip(), list(rows.values()), notes)
