"""The results store: JSON lines, appended and flushed as results arrive.

Schema (one object per line, each with a ``type``):

``environment``
    Opens a run: ``run_id`` plus the fields of ``conformance.environment``
    (harness version and commit, date, Python, NumPy, torch, CuPy, CPU, GPU,
    seed, examples per cell, argv).
``backend``
    ``run_id``, ``name``, ``spec`` (as given to ``--backend``), ``version``,
    ``available``, ``reason``.
``result``
    ``run_id``, ``backend``, ``op``, ``mode``, ``dtype``, ``status`` (pass,
    fail, error, unsupported), ``message``, ``case`` (op, params, input spec:
    enough to rebuild the input), ``comparison`` (max_abs, max_rel, max_ulp,
    mismatches, worst_index, bound, torch_max_abs, torch_off_reference,
    max_abs_vs_torch; null when no arrays were compared), ``time_s`` and
    ``torch_time_s`` (seconds, the op alone), ``minimal`` (true for the shrunk
    failing case of a cell) and ``repro`` (a Python script, on minimal cases).

Non-finite floats are written as strings (``"nan"``, ``"inf"``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from conformance.cases import dumps


class ResultsWriter:
    """Appends records of one run to a JSONL file, flushing every line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run_id = uuid.uuid4().hex[:12]
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
