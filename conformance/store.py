"""The results store: JSON lines, appended and flushed as results arrive.

Schema (one object per line, each with a ``type``):

``environment``
    Opens a run: ``run_id`` plus the fields of ``conformance.environment``
    (harness version and commit, date, Python, NumPy, torch, CuPy, CPU, GPU,
    seed, examples per cell, argv) and ``config``: the run's settings
    (backends, ops, modes, dtypes, examples, seed, isolation, timeout,
    timeout_scale, memory_limit, shrink_seconds, failure_budget, jobs, shard),
    which ``--resume`` reuses.
``backend``
    ``run_id``, ``name``, ``spec`` (as given to ``--backend``), ``version``,
    ``available``, ``reason``; ``kind`` where the backend has one
    (``library``, ``framework``: the report's matrix its results go to).
``result``
    ``run_id``, ``backend``, ``op``, ``mode``, ``dtype``, ``status`` (pass,
    fail, error, unsupported), ``message``, ``case`` (op, params, input spec:
    enough to rebuild the input), ``comparison`` (max_abs, max_rel, max_ulp,
    mismatches, worst_index, bound, torch_max_abs, torch_off_reference,
    max_abs_vs_torch; null when no arrays were compared), ``time_s`` and
    ``torch_time_s`` (seconds, the op alone, between two ``synchronize()``
    calls), ``transfer_s`` (the backend's ``from_numpy`` of the inputs: the
    host-to-device copy on a GPU), ``first_call_s`` (where the case was timed
    on a second call, ``time_s`` being that one's: the first call's time, a
    JIT's compile included; a cell's first case, every case of a backend
    that compiles), ``direction`` (forward or backward),
    ``deterministic`` (backward: the same bits twice), ``minimal`` (true for the shrunk
    failing case of a cell) and ``repro`` (a Python script, on minimal cases);
    ``attempt`` (which try at the cell it belongs to: see ``cell_done``);
    ``isolation`` (``crash`` or ``timeout``) and ``phase`` (the step that died:
    materialize, torch, reference, backend, compare) when the worker died;
    ``values`` (fail and error results: the values around the worst element,
    as display text, from ``conformance.windows.failure_values``; null when
    there were no outputs to show), which the HTML report draws; ``call``
    (backends with a ``call_used(op, params)``, the library adapters: the
    library call the case was mapped to; absent for unsupported cases);
    ``limit`` (a timeout: ``seconds``, ``oracle_s``, ``rule`` scaled or
    timeout, ``text``: how the hang was called, ``conformance.isolation.limit_of``);
    ``budget`` (a minimal case whose failure path the cell's failure budget
    cut short: ``seconds``, ``spent``, ``cut``, the parts it cut).
``cell_done``
    Closes a cell: ``run_id``, ``backend``, ``op``, ``mode``, ``attempt``,
    ``counts``, ``budget_cut`` (only where the failure budget cut something).  A cell without one was cut short (a killed run); ``--resume``
    checks it again, and readers keep only the finished attempt
    (``current_results``).
``resume``
    ``run_id``, ``date``: the run was continued with ``--resume``.

Non-finite floats are written as strings (``"nan"``, ``"inf"``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from conformance.cases import dumps


class ResultsWriter:
    """Appends records of one run to a JSONL file, flushing every line."""

    def __init__(self, path: str | os.PathLike[str], run_id: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._file: TextIO = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(dumps({"run_id": self.run_id, **record}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def current_results(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records that count: of each cell (run, backend, op, mode) the results
    of its finished attempt, or of its last one if none finished (a killed run
    whose cell was checked again on ``--resume`` keeps only the second try).
    Other record types pass through."""
    records = list(records)
    done = {(r.get("run_id"), r["attempt"]) for r in records if r.get("type") == "cell_done"}

    def cell(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r.get("run_id"), r["backend"], r["op"], r["mode"], r.get("direction", "forward"))

    last = {cell(r): r["attempt"] for r in records if r.get("type") == "result" and "attempt" in r}
    finished = {
        cell(r): r["attempt"]
        for r in records
        if r.get("type") == "cell_done" and (r.get("run_id"), r["attempt"]) in done
    }
    keep = {**last, **finished}
    return [r for r in records if r.get("type") != "result" or "attempt" not in r or keep.get(cell(r)) == r["attempt"]]


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every record in a results file; a torn last line (a killed run) is skipped."""
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
