"""A run: every chosen backend x cell, recorded to the results store.

``RunConfig`` holds a run's settings (the CLI builds it from its arguments;
``--resume`` rebuilds it from the run's environment record).  ``run`` loads
the backends and the oracle, writes the run's header records, checks each
(backend, op, cell, direction) in registry order, closes each with a
``cell_done`` record, and returns the records of the run.
"""

from __future__ import annotations

import dataclasses
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import backends
from backends import Backend, BackendLoadError
from conformance import ops
from conformance.cases import Case
from conformance.environment import environment
from conformance.execute import Oracle
from conformance.isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT, IsolatedChecker
from conformance.results import CellOutcome, Result
from conformance.search import DEFAULT_SHRINK_SECONDS, Cell, check_invalid_calls, search_cell
from conformance.store import ResultsWriter, current_results, read_records

#: Backends checked when none is named: every built-in one that is no oracle.
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_RESULTS = Path("results") / "conformance.jsonl"


class ConfigError(Exception):
    """Settings that cannot make a run (unknown op, unavailable backend, ...)."""


@dataclass
class RunConfig:
    """The settings of a run; recorded in its environment record (``config``)
    under these names, so ``--resume`` can reuse them."""

    backend: list[str] = field(default_factory=lambda: list(DEFAULT_BACKENDS))
    op: list[str] | None = None
    mode: list[str] | None = None
    dtype: list[str] | None = None
    examples: int = 100
    seed: int | None = None
    oracle: str = "torch"
    no_grad: bool = False
    timeout: float = DEFAULT_TIMEOUT
    memory_limit_gib: float = DEFAULT_MEMORY_LIMIT / 2**30
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS
    no_isolation: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        """Older results files may lack settings added since: their defaults apply."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def validate(self) -> None:
        if self.examples < 1:
            raise ConfigError("--examples must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("--timeout must be positive")
        for op in self.op or []:
            if op not in ops.REGISTRY:
                raise ConfigError(f"unknown op {op!r}: use one of {', '.join(ops.names())}")
        chosen = self.op or ops.names()
        for mode in self.mode or []:
            if mode != ops.INVALID_CALLS_CELL and not any(mode in ops.get(op).cells for op in chosen):
                raise ConfigError(f"unknown mode {mode!r} for {', '.join(chosen)}")
        for dtype in self.dtype or []:
            if dtype not in ops.KNOWN_DTYPES:
                raise ConfigError(f"unknown dtype {dtype!r}: use one of {', '.join(ops.KNOWN_DTYPES)}")

    def cells(self) -> Iterator[Cell]:
        """The cells in run order: each op's cells forward, then backward (ops
        with gradients, unless ``no_grad``), then its invalid calls."""
        for op in self.op or ops.names():
            info = ops.get(op)
            chosen = [c for c in info.cells if not self.mode or c in self.mode]
            directions = [d for d in info.directions() if d == "forward" or not self.no_grad]
            for direction in directions:
                for cell in chosen:
                    yield Cell(op, cell, direction, self.examples, self.seed or 0, self.dtype, self.shrink_seconds)
            if info.invalid_calls and (not self.mode or ops.INVALID_CALLS_CELL in self.mode):
                yield Cell(op, ops.INVALID_CALLS_CELL)


class Progress(Protocol):
    """What a run reports as it goes (the CLI draws it)."""

    def start(self, label: str) -> None: ...

    def update(self, result: Result) -> None: ...

    def finish(self, note: str = "") -> None: ...


def load_backend(spec: str) -> Backend:
    """A backend that can run here, or ``ConfigError`` saying why not."""
    try:
        backend = backends.load(spec)
    except BackendLoadError as exc:
        raise ConfigError(str(exc)) from exc
    ok, why = backend.availability()
    if not ok:
        raise ConfigError(f"backend {spec!r} is not available here: {why}")
    return backend


def resume_state(path: Path) -> tuple[str, RunConfig, set[tuple[str, str, str, str]]]:
    """The last run in ``path``: its id, its settings, and its finished cells."""
    if not path.exists():
        raise ConfigError(f"--resume: {path} does not exist; start a run with --results {path}")
    records = list(read_records(path))
    runs = [r for r in records if r.get("type") == "environment" and "config" in r]
    if not runs:
        raise ConfigError(f"--resume: {path} holds no run to resume")
    run_id, config = runs[-1]["run_id"], RunConfig.from_json(runs[-1]["config"])
    done = {
        (r["backend"], r["op"], r["mode"], r.get("direction", "forward"))
        for r in records
        if r.get("type") == "cell_done" and r.get("run_id") == run_id
    }
    return run_id, config, done


@dataclass
class Session:
    """One run's state: where it writes, what is done, who reports progress."""

    config: RunConfig
    results: Path = DEFAULT_RESULTS
    progress: Progress | None = None
    run_id: str | None = None
    done: set[tuple[str, str, str, str]] = field(default_factory=set)

    def run(self) -> list[dict[str, Any]]:
        """Check every backend x cell; returns the run's current records."""
        config = self.config
        # Backends first: a plug-in module may register ops of its own on import.
        loaded = [(spec, load_backend(spec)) for spec in config.backend]
        config.validate()
        oracle = Oracle(load_backend(config.oracle))
        if config.seed is None:
            config.seed = 0 if os.environ.get("CI") else random.randrange(2**31)
        with ResultsWriter(self.results, self.run_id) as writer:
            self._header(writer, loaded)
            for spec, backend in loaded:
                self._backend(writer, spec, backend, oracle)
        return current_results(r for r in read_records(self.results) if r.get("run_id") == writer.run_id)

    def _header(self, writer: ResultsWriter, loaded: list[tuple[str, Backend]]) -> None:
        env = environment(self.config.seed or 0, self.config.examples)
        if self.run_id is not None:  # resumed: the run's header is already there
            writer.write({"type": "resume", "date": env["date"]})
            return
        writer.write({**env, "config": self.config.to_json()})
        for spec, backend in loaded:
            record = {"type": "backend", "name": backend.name, "spec": spec, "version": backend.version()}
            writer.write({**record, "available": True, "reason": ""})

    def _checker(self, spec: str, backend: Backend) -> tuple[IsolatedChecker | None, Any, Any]:
        """The worker that checks the backend's cases, and how to ask it for a
        verdict against torch or against a semantic variant (a diagnosis)."""
        if self.config.no_isolation:
            return None, None, None
        memory = self.config.memory_limit_gib * 2**30 or None
        isolated = IsolatedChecker(spec, self.config.timeout, memory, self.config.oracle)

        def checker(case: Case) -> Result:
            return Result.from_json(isolated.check(case.to_json()), case, backend.name)

        def variant_checker(case: Case, variant: str) -> Result:
            return Result.from_json(isolated.check(case.to_json(), variant), case, backend.name)

        return isolated, checker, variant_checker

    def _backend(self, writer: ResultsWriter, spec: str, backend: Backend, oracle: Oracle) -> None:
        isolated, *checkers = self._checker(spec, backend)
        try:
            for cell in self.config.cells():
                if (backend.name, cell.op, cell.cell, cell.direction) not in self.done:
                    self._cell(writer, cell, spec, backend, oracle, checkers)
        finally:
            if isolated is not None:
                isolated.close()

    def _cell(
        self,
        writer: ResultsWriter,
        cell: Cell,
        spec: str,
        backend: Backend,
        oracle: Oracle,
        checkers: list[Any],
    ) -> CellOutcome:
        attempt = uuid.uuid4().hex[:8]

        def record(result: Result) -> None:
            writer.write({**result.to_json(), "attempt": attempt})
            if self.progress is not None:
                self.progress.update(result)

        if self.progress is not None:
            self.progress.start(f"{backend.name} {cell.describe()}")
        checker, variant_checker = checkers
        if cell.cell == ops.INVALID_CALLS_CELL:
            outcome = check_invalid_calls(cell.op, backend, oracle, record, checker)
        else:
            outcome = search_cell(cell, backend, spec, oracle, record, checker, variant_checker)
        key = {"backend": backend.name, "op": cell.op, "mode": cell.cell, "direction": cell.direction}
        done = {"type": "cell_done", **key, "attempt": attempt, "counts": outcome.counts}
        writer.write({**done, "variants": outcome.power.to_json()})
        if self.progress is not None:
            notes = [f"variants separated {outcome.power.describe()}"] if outcome.power.total else []
            if outcome.minimal is not None:
                notes.append(f"FAILS, minimal case: {outcome.minimal.case.describe()}")
            self.progress.finish("  ".join(notes))
        return outcome


def resume(results: Path, progress: Progress | None = None) -> Session:
    """The session that continues the last run in ``results`` with its own settings."""
    run_id, config, done = resume_state(results)
    return Session(config, results, progress, run_id, done)
