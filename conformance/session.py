"""A run: every chosen backend x cell, recorded to the results store.

``RunConfig`` holds a run's settings (the CLI builds it from its arguments;
``--resume`` rebuilds it from the run's environment record).  ``run`` loads
the backends and the oracle, writes the run's header records, checks each
(backend, op, cell, direction) in registry order, closes each with a
``cell_done`` record, and returns the records of the run.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import backends
from backends import Backend, BackendLoadError
from backends.torch_backend import CpuPathSettings, cpu_path, describe_path
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.environment import environment
from conformance.execute import Oracle
from conformance.expected import Expectation, ExpectedFileError, builtin_expectations
from conformance.expected import load as load_expected
from conformance.expected import validate as validate_expected
from conformance.isolation import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIMEOUT,
    DEFAULT_TIMEOUT_SCALE,
    IsolatedChecker,
    RemoteBackend,
    oracle_outside,
)
from conformance.parallel import Pool
from conformance.results import CellOutcome, Result
from conformance.search import DEFAULT_FAILURE_BUDGET, DEFAULT_SHRINK_SECONDS, Cell, check_invalid_calls, search_cell
from conformance.store import ResultsWriter, current_results, read_records

#: Backends checked when none is named: every built-in one that is no oracle.
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_RESULTS = Path("results") / "conformance.jsonl"


class ConfigError(Exception):
    """Settings that cannot make a run (unknown op, unavailable backend, ...)."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)``, 1 <= K <= N; ``ConfigError`` saying what is wrong."""
    k, slash, n = str(text).partition("/")
    if not (slash and k.strip().isdigit() and n.strip().isdigit()):
        raise ConfigError(f"--shard {text!r}: use K/N (shard K of N, e.g. 1/3)")
    shard, shards = int(k), int(n)
    if shards < 1:
        raise ConfigError(f"--shard {text!r}: N must be at least 1")
    if not 1 <= shard <= shards:
        raise ConfigError(f"--shard {text!r}: K must be 1 to N (1/{shards} to {shards}/{shards})")
    return shard, shards


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
    #: The backend's step of a case may take this many times the oracle's
    #: time on it (plus an allowance, within ``timeout``); 0: the whole
    #: ``timeout`` (``conformance.isolation.limit_of``).
    timeout_scale: float = DEFAULT_TIMEOUT_SCALE
    memory_limit_gib: float = DEFAULT_MEMORY_LIMIT / 2**30
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS
    #: Seconds a failing cell's shrink, diagnosis and later special cases may take (``conformance.search``).
    failure_budget: float = DEFAULT_FAILURE_BUDGET
    no_isolation: bool = False
    #: Only these directions ("forward", "backward"); None: both (unless ``no_grad``).
    direction: list[str] | None = None
    #: The expected-deviations file (``conformance.expected``), and whether its
    #: stale entries fail the run.
    expected: str | None = None
    strict: bool = False
    #: Job processes checking cells side by side (``conformance.parallel``);
    #: 1: one cell after another, in this process.  Results do not depend on it.
    jobs: int = 1
    #: ``"K/N"``: only the K-th of N shares of the run's cells (cell i of the
    #: run's cell list belongs to shard i mod N + 1); None: every cell.
    shard: str | None = None
    #: Modules that register ops of their own (``--op-module``), imported by
    #: every process of the run before it checks (the oracle side's: a
    #: backend's module is never imported there); the run records them all.
    op_module: list[str] | None = None
    #: The backends may not call torch (``--forbid-torch``): a call fails the case, naming it.
    forbid_torch: bool = False

    def import_op_modules(self) -> None:
        """Import ``op_module`` (``ConfigError`` naming one that does not
        import), then record every module that registered an op outside the harness."""
        for module in self.op_module or []:
            try:
                importlib.import_module(module)
            except Exception as exc:
                raise ConfigError(f"--op-module {module}: it does not import ({type(exc).__name__}: {exc})") from exc
        self.op_module = ops.plugin_modules() or None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        """Older results files may lack settings added since: their defaults apply."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def validate(self) -> None:
        if self.oracle not in ("torch", "torch-cuda") and not self.oracle.startswith("torch@"):
            raise ConfigError(f"--oracle {self.oracle!r}: use torch, torch-cuda or torch@SETTINGS")
        if self.oracle.startswith("torch@"):
            try:
                settings = CpuPathSettings.parse(self.oracle.removeprefix("torch@"))
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
            if settings.capability:
                raise ConfigError(
                    f"--oracle {self.oracle}: the oracle's CPU capability is the run's; set "
                    f"ATEN_CPU_CAPABILITY={settings.capability} for the whole run instead"
                )
        if self.examples < 1:
            raise ConfigError("--examples must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("--timeout must be positive")
        if self.failure_budget < 0:
            raise ConfigError("--failure-budget must not be negative")
        if self.timeout_scale < 0:
            raise ConfigError("--timeout-scale must be 0 (off) or positive")
        if self.jobs < 1:
            raise ConfigError("--jobs must be at least 1")
        if self.shard is not None:
            parse_shard(self.shard)
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
        self.expectations([])

    def expectations(
        self, loaded: list[tuple[str, str]], paths: dict[str, dict[str, Any] | None] | None = None
    ) -> list[Expectation]:
        """The expected deviations of the run: the ``expected`` file's entries
        (an entry may name a backend by its spec or its name), then torch's own
        for a torch backend, those that show on its CPU path (``paths``, by
        backend name: ``torch_paths``); ``ConfigError`` on a bad file."""
        try:
            entries = load_expected(self.expected) if self.expected else []
            validate_expected(entries)
        except ExpectedFileError as exc:
            raise ConfigError(str(exc)) from exc
        names = dict(loaded)
        entries = [dataclasses.replace(e, backend=names.get(e.backend, e.backend)) for e in entries]
        return [*entries, *builtin_expectations(names.values(), paths)]

    def cells(self) -> Iterator[Cell]:
        """The cells in run order: each op's cells forward, then backward (ops
        with gradients, unless ``no_grad``), then its invalid calls."""
        for op in self.op or ops.names():
            info = ops.get(op)
            chosen = [c for c in info.cells if not self.mode or c in self.mode]
            directions = [
                d
                for d in info.directions()
                if (d == "forward" or not self.no_grad) and (not self.direction or d in self.direction)
            ]
            for direction in directions:
                for cell in chosen:
                    seed, budget = self.seed or 0, self.failure_budget
                    yield Cell(op, cell, direction, self.examples, seed, self.dtype, self.shrink_seconds, budget)
            forward = not self.direction or "forward" in self.direction
            if info.invalid_calls and forward and (not self.mode or ops.INVALID_CALLS_CELL in self.mode):
                yield Cell(op, ops.INVALID_CALLS_CELL)


class Progress(Protocol):
    """What a run reports as it goes (the CLI draws it)."""

    def start(self, label: str) -> None: ...

    def update(self, result: Result) -> None: ...

    def finish(self, note: str = "") -> None: ...


def torch_paths(loaded: list[tuple[str, Backend]], oracle_path: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    """The CPU path of each torch backend of the run, by name: the oracle's for
    ``torch``, the oracle's as its settings change it for ``torch@PATH``
    (``None``: not a CPU run, or the oracle's path unknown)."""
    paths: dict[str, dict[str, Any] | None] = {}
    for spec, backend in loaded:
        if backend.name == "torch":
            paths[backend.name] = oracle_path
        elif spec.startswith("torch@") and oracle_path is not None:
            paths[backend.name] = CpuPathSettings.parse(spec.removeprefix("torch@")).applied_to(oracle_path)
    return paths


def oracle_cpu_path(oracle_spec: str) -> dict[str, Any] | None:
    """The CPU path of the oracle's torch (this process's: the oracle's workers
    start from it), or ``None`` for an oracle on another device or without torch."""
    if oracle_spec != "torch" and not oracle_spec.startswith("torch@"):
        return None
    try:
        here = cpu_path()
    except ImportError:
        return None
    if oracle_spec == "torch":
        return here
    return CpuPathSettings.parse(oracle_spec.removeprefix("torch@")).applied_to(here)


def _described(path: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CPU path as records keep it: its facts, and the line the report shows (``summary``)."""
    return None if path is None else {**path, "summary": describe_path(path)}


def load(spec: str, config: RunConfig) -> Backend:
    """The run's backend ``spec``: a ``RemoteBackend`` (loaded in its worker
    alone: this process never imports it), or, with ``no_isolation``, loaded
    here.  ``ConfigError`` where the spec names nothing loadable or the
    backend is not available here; a backend that raised, exited, crashed or
    hung while loading stays in the run, and each of its cases says why."""
    if config.no_isolation:
        backend = load_backend(spec)
        if config.forbid_torch:
            backend.uses_torch = False  # type: ignore[attr-defined] # observe_case's guard, in this process
        return backend
    memory = config.memory_limit_gib * 2**30 or None
    worker = IsolatedChecker(
        spec, config.timeout, memory, config.oracle, timeout_scale=config.timeout_scale, forbid_torch=config.forbid_torch
    )
    backend = RemoteBackend(spec, worker)
    error = backend.load_error or ""
    if error.startswith(BackendLoadError.__name__):
        worker.close()
        raise ConfigError(error.split(": ", 1)[1])
    ok, why = backend.availability()
    if not ok:
        worker.close()
        raise ConfigError(f"backend {spec!r} is not available here: {why}")
    return backend


def load_all(config: RunConfig) -> list[tuple[str, Backend]]:
    """Every backend of the run (``load``); where one cannot load, the workers
    of those loaded already are stopped before the ``ConfigError`` goes on."""
    loaded: list[tuple[str, Backend]] = []
    try:
        for spec in config.backend:
            loaded.append((spec, load(spec, config)))
    except ConfigError:
        close_workers(loaded)
        raise
    return loaded


def close_workers(loaded: list[tuple[str, Backend]]) -> None:
    """Stop the workers of the run's ``RemoteBackend`` s (a later question or case starts one again)."""
    for _, backend in loaded:
        if isinstance(backend, RemoteBackend):
            backend.worker.close()


def load_backend(spec: str) -> Backend:
    """A backend loaded in this process that can run here, or ``ConfigError`` saying why not."""
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
        config.import_op_modules()  # ops of its own first: validation names them
        config.validate()
        own = [spec for spec in config.backend if oracle_outside(spec)]
        if config.no_isolation and own:
            raise ConfigError(
                f"{', '.join(own)} changes torch for its whole process (its CPU capability), so it runs only "
                "in a worker of its own beside an oracle in another: drop --no-isolation"
            )
        oracle = Oracle(load_backend(config.oracle))  # before any worker starts: a missing torch is one line
        loaded = load_all(config)
        if config.seed is None:
            config.seed = 0 if os.environ.get("CI") else random.randrange(2**31)
        every, tasks = self._tasks(loaded)
        try:
            with ResultsWriter(self.results, self.run_id) as writer:
                self._header(writer, loaded)
                if config.jobs > 1 and len(tasks) > 1:
                    close_workers(loaded)  # the jobs load their own
                    self._parallel(writer, loaded, tasks)
                else:
                    for b, (spec, backend) in enumerate(loaded):
                        self._backend(writer, spec, backend, oracle, [cell for i, cell in tasks if i == b])
        finally:
            close_workers(loaded)
        records = current_results(r for r in read_records(self.results) if r.get("run_id") == writer.run_id)
        return in_run_order(records, [cell_id(loaded[b][1].name, cell) for b, cell in every])

    def _tasks(self, loaded: list[tuple[str, Backend]]) -> tuple[list[Task], list[Task]]:
        """Every cell of the run, backend after backend in registry order (a
        task: the backend's index in ``loaded``, the cell), and those this
        session checks: its shard's (``config.shard``) not done already."""
        every = [(b, cell) for b in range(len(loaded)) for cell in self.config.cells()]
        shard, shards = parse_shard(self.config.shard) if self.config.shard else (1, 1)
        mine = [task for i, task in enumerate(every) if i % shards == shard - 1]
        return every, [(b, cell) for b, cell in mine if cell_id(loaded[b][1].name, cell) not in self.done]

    def _parallel(self, writer: ResultsWriter, loaded: list[tuple[str, Backend]], tasks: list[Task]) -> None:
        """Check ``tasks`` on ``config.jobs`` job processes (``conformance.parallel``):
        their records are written as they arrive, a cell's progress line is
        drawn when it is finished, a cell whose job died gets an error result."""
        received: dict[int, list[dict[str, Any]]] = {}

        def on_message(kind: str, index: int, payload: Any) -> None:
            if kind == "record":
                writer.write(payload)
                received.setdefault(index, []).append(payload)
            elif kind == "done":
                b, cell = tasks[index]
                self._replay(loaded[b][1].name, cell, received.pop(index, []), payload)

        def on_lost(index: int, why: str) -> None:
            b, cell = tasks[index]
            records = received.pop(index, [])
            attempt = records[0]["attempt"] if records else uuid.uuid4().hex[:8]
            probe = Case(cell.op, InputSpec((1, 1, 1), "float32"), cell=cell.cell, direction=cell.direction)
            message = f"{why} while checking this cell: its results so far are kept; --resume checks it again"
            lost = {**Result(loaded[b][1].name, probe, "error", message).to_json(), "attempt": attempt}
            writer.write(lost)
            self._replay(loaded[b][1].name, cell, [*records, lost], f"JOB DIED: {why}")

        pool = Pool(self.config.jobs, Job, (self.config.to_json(), tasks), on_message, on_lost)
        # a job takes a cell's tasks of every backend one after the other: the
        # later backends check the cases the first drew (search._DRAWN)
        pool.run([(cell.op, cell.cell, cell.direction) for _, cell in tasks])

    def _replay(self, name: str, cell: Cell, records: list[dict[str, Any]], note: str) -> None:
        """The progress line of a cell a job checked, from its records."""
        if self.progress is None:
            return
        self.progress.start(f"{name} {cell.describe()}")
        for r in records:
            if r.get("type") == "result":
                result = Result.from_json(r, Case.from_json(r["case"]), name)
                result.minimal = bool(r.get("minimal"))
                self.progress.update(result)
        self.progress.finish(note)

    def _header(self, writer: ResultsWriter, loaded: list[tuple[str, Backend]]) -> None:
        env = environment(self.config.seed or 0, self.config.examples)
        if self.run_id is not None:  # resumed: the run's header is already there
            writer.write({"type": "resume", "date": env["date"]})
            return
        oracle_path = oracle_cpu_path(self.config.oracle)
        paths = torch_paths(loaded, oracle_path)
        writer.write({**env, "config": self.config.to_json(), "oracle_cpu_path": _described(oracle_path)})
        for spec, backend in loaded:
            record = {"type": "backend", "name": backend.name, "spec": spec, "version": backend.version()}
            kind = getattr(backend, "kind", None)
            if isinstance(kind, str) and kind:  # "library", "framework": the report's matrix for it
                record["kind"] = kind
            if backend.name in paths:
                record["cpu_path"] = _described(paths[backend.name])
            writer.write({**record, "available": True, "reason": ""})
        expectations = self.config.expectations([(spec, backend.name) for spec, backend in loaded], paths)
        if expectations:
            entries = [e.to_json() for e in expectations]
            writer.write({"type": "expectations", "entries": entries, "strict": self.config.strict})

    def _checker(self, spec: str, backend: Backend) -> tuple[IsolatedChecker | None, Any, Any]:
        """The worker that checks the backend's cases, and how to ask it for a
        verdict against torch or against a semantic variant (a diagnosis)."""
        if self.config.no_isolation:
            return None, None, None
        assert isinstance(backend, RemoteBackend)
        isolated = backend.worker

        def checker(case: Case) -> Result:
            return Result.from_json(isolated.check(case.to_json()), case, backend.name)

        def variant_checker(case: Case, variant: str) -> Result:
            return Result.from_json(isolated.check(case.to_json(), variant), case, backend.name)

        return isolated, checker, variant_checker

    def _backend(self, writer: ResultsWriter, spec: str, backend: Backend, oracle: Oracle, cells: list[Cell]) -> None:
        isolated, *checkers = self._checker(spec, backend)
        try:
            for cell in cells:
                self._cell(writer, cell, spec, backend, oracle, checkers)
        finally:
            if isolated is not None:
                isolated.close()

    def _cell(
        self,
        writer: ResultsWriter | _Sender,
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
        cut = {"budget_cut": outcome.budget_cut} if outcome.budget_cut else {}
        cut.update({"declined": outcome.declined} if outcome.declined else {})
        writer.write({**done, "variants": outcome.power.to_json(), **cut})
        if self.progress is not None:
            self.progress.finish(progress_note(outcome))
        return outcome


def resume(results: Path, progress: Progress | None = None) -> Session:
    """The session that continues the last run in ``results`` with its own settings."""
    run_id, config, done = resume_state(results)
    return Session(config, results, progress, run_id, done)


#: A cell to check: the index of its backend among the run's, and the cell.
Task = tuple[int, Cell]


def cell_id(backend: str, cell: Cell) -> tuple[str, str, str, str]:
    """How records name a cell: backend name, op, cell (their ``mode``), direction."""
    return backend, cell.op, cell.cell, cell.direction


def in_run_order(records: list[dict[str, Any]], cells: list[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
    """``records`` as a run of one job writes them: the run's header records
    first, then each cell's records (in the order they were written) in the
    order of ``cells``, whichever cell a job finished first."""
    rank: dict[tuple[str, ...], int] = {}
    for i, key in enumerate(cells):
        rank.setdefault(key, i)

    def position(r: dict[str, Any]) -> int:
        if r.get("type") not in ("result", "cell_done"):
            return -1
        return rank.get((r.get("backend"), r.get("op"), r.get("mode"), r.get("direction", "forward")), len(rank))

    return sorted(records, key=position)


def progress_note(outcome: CellOutcome) -> str:
    """What a cell's progress line adds once it is finished."""
    notes = [f"variants separated {outcome.power.describe()}"] if outcome.power.total else []
    if outcome.minimal is not None:
        more = len(outcome.minimals) - 1
        also = f" (+{more} other kind(s) of failure)" if more else ""
        notes.append(f"FAILS, minimal case: {outcome.minimal.case.describe()}{also}")
    return "  ".join(notes)


class _Sender:
    """A job's stand-in for the results writer: each record goes to the parent, which writes it."""

    def __init__(self, send: Callable[[str, Any], None]) -> None:
        self.send = send

    def write(self, record: dict[str, Any]) -> None:
        self.send("record", record)


class _LazyOracle:
    """The oracle, loaded when first used: where the backends' cases run in
    their workers, a job needs it only to diagnose a failure, and a job that
    never imports torch starts in a fraction of the time."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.oracle: Oracle | None = None

    def __getattr__(self, name: str) -> Any:
        if self.oracle is None:
            self.oracle = Oracle(load_backend(self.spec))
        return getattr(self.oracle, name)


class Job:
    """A job process of a parallel run (``--jobs``; ``conformance.parallel``
    starts it): checks the tasks the parent hands it as a run of one job
    would, each backend's cases in its own isolated worker (unless
    ``no_isolation``), sending the records back; returns each cell's
    progress note."""

    def __init__(self, config: dict[str, Any], tasks: list[Task]) -> None:
        self.session = Session(RunConfig.from_json(config))
        self.session.config.import_op_modules()
        # Every backend, as the parent loaded them: a plug-in may register ops of its own.
        self.loaded = load_all(self.session.config)
        self.oracle = cast(Oracle, _LazyOracle(self.session.config.oracle))
        self.tasks = tasks
        #: Per backend (its index), its worker and checkers, opened on its first task.
        self.open: dict[int, tuple[IsolatedChecker | None, list[Any]]] = {}

    def __call__(self, index: int, send: Callable[[str, Any], None]) -> str:
        b, cell = self.tasks[index]
        spec, backend = self.loaded[b]
        if b not in self.open:
            isolated, *checkers = self.session._checker(spec, backend)
            self.open[b] = (isolated, checkers)
        outcome = self.session._cell(_Sender(send), cell, spec, backend, self.oracle, self.open[b][1])
        return progress_note(outcome)

    def close(self) -> None:
        close_workers(self.loaded)
        self.open = {}
