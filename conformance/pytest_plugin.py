"""The harness as pytest items: ``pytest --conformance-backend SPEC``.

Registered as a ``pytest11`` entry point (``pyproject.toml``), so an installed
harness adds these options to any pytest run; from a plain checkout, add
``-p conformance.pytest_plugin``.  Each backend x op x cell x dtype x
direction is one test item, with a node id a person can ``-k``::

    conformance[numpy-interpolate-bicubic-float32-fwd]
    conformance[numpy-conv_transpose-2d-float16-bwd]
    conformance[numpy-interpolate-invalid-calls]

An item runs the CLI's engine (``conformance.session``) on its cell alone and
fails with each minimal failing case, its diagnosis and its repro; an item
whose failures an ``--conformance-expected`` entry covers is an xfail (with
``--conformance-strict``, an item whose entry matched nothing fails: stale).
Results go to the same JSONL store the CLI writes (``--conformance-results``;
under pytest-xdist each worker writes its own file, merged into it at the
end), so ``python -m conformance report`` renders the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance import ops
from conformance.expected import judge, run_expectations
from conformance.isolation import RemoteBackend
from conformance.results import TRUSTS_BACKEND, evidence_lines, trusts_backend_process
from conformance.search import Cell, shared_dtypes
from conformance.session import DEFAULT_RESULTS, ConfigError, RunConfig, Session, load

DIRECTION_TAGS = {"forward": "fwd", "backward": "bwd"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "upsample-conformance: backends checked against torch's semantics")
    group.addoption("--conformance-backend", action="append", default=[], metavar="SPEC",
                    help="backend to check (repeatable): a registered name or module:attribute")
    group.addoption("--conformance-op", action="append", default=[], metavar="OP",
                    help="op to check (repeatable; default: all)")
    group.addoption("--conformance-examples", type=int, default=100, metavar="N",
                    help="Hypothesis examples per item (default 100)")
    group.addoption("--conformance-seed", type=int, default=0, metavar="N", help="Hypothesis seed (default 0)")
    group.addoption("--conformance-expected", default=None, metavar="FILE",
                    help="TOML file of [[expected]] deviations: the items they cover are xfail")
    group.addoption("--conformance-strict", action="store_true",
                    help="an item whose expected entry matched no failure fails (stale)")
    group.addoption("--conformance-strict-messages", action="store_true",
                    help="a third-party backend's error message naming none of torch's key phrases fails "
                    "(default: reported)")
    group.addoption("--conformance-no-grad", action="store_true", help="forward items only")
    group.addoption("--conformance-isolation", action="store_true",
                    help="check each item's cases in a worker process (the default; kept for older command lines)")
    group.addoption("--conformance-no-isolation", action="store_true",
                    help="run the backend in pytest's own process, beside torch and the verdict (for debugging: "
                    "its verdicts then trust the backend's process, and each item's message says so)")
    group.addoption("--conformance-results", default=str(DEFAULT_RESULTS), metavar="PATH",
                    help=f"JSON-lines results file (default {DEFAULT_RESULTS})")


class ConformanceItem(pytest.Item):
    """One backend x op x cell x dtype x direction (or an op's invalid calls)."""

    def __init__(self, *, spec: str, op: str, cell: str, dtype: str | None, direction: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec, self.op, self.cell, self.dtype, self.direction = spec, op, cell, dtype, direction
        self.add_marker(pytest.mark.conformance)

    def _config(self) -> RunConfig:
        option = self.config.option
        return RunConfig(
            backend=[self.spec],
            op=[self.op],
            mode=[self.cell],
            dtype=[self.dtype] if self.dtype else None,
            direction=[self.direction],
            examples=option.conformance_examples,
            seed=option.conformance_seed,
            no_isolation=option.conformance_no_isolation,
            expected=option.conformance_expected,
            strict=option.conformance_strict,
            strict_messages=option.conformance_strict_messages,
        )

    def runtest(self) -> None:
        try:
            records = Session(self._config(), _results_path(self.config)).run()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from exc
        judgement = judge(records, run_expectations(records))
        if judgement.unexpected:
            minimal = [r for r in records if r.get("type") == "result" and r.get("minimal")]
            text = _failure_text(minimal or judgement.unexpected[:1])
            raise ConformanceFailure(f"{text}\n{TRUSTS_BACKEND}" if trusts_backend_process(records) else text)
        if judgement.expected:
            reasons = sorted({entry.reason for _, entry in judgement.expected})
            pytest.xfail("expected deviation: " + "; ".join(reasons))
        if judgement.stale and self.config.option.conformance_strict:
            raise ConformanceFailure("stale expected entry (nothing failed): " + "; ".join(
                e.describe() for e in judgement.stale))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "conformance", None, self.name


class ConformanceFailure(Exception):
    """An item's cases did not conform: the message holds each minimal case and its repro."""


def _failure_text(records: list[dict[str, Any]]) -> str:
    parts = []
    for r in records:
        parts += [f"{r['status']}: {r.get('message', '')}", *evidence_lines(r)]
        diagnosis = r.get("diagnosis")
        if isinstance(diagnosis, dict) and diagnosis.get("summary"):
            parts.append(f"diagnosis: {diagnosis['summary']}")
        if r.get("repro"):
            parts += ["repro:", r["repro"]]
    return "\n".join(parts)


def _results_path(config: pytest.Config) -> Path:
    """The results file of this process: the option's, or under pytest-xdist
    a per-worker file merged into it when the run ends."""
    path = Path(config.option.conformance_results)
    worker = _worker(config)
    return path.with_name(f"{path.name}.{worker}") if worker else path


def _worker(config: pytest.Config) -> str | None:
    """This process's pytest-xdist worker id; ``None`` on the controller or without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("workerid") if isinstance(workerinput, dict) else None


def items_for(backend: Any, op_names: list[str], no_grad: bool) -> list[tuple[str, str, str | None, str]]:
    """``(op, cell, dtype, direction)`` of every item of a backend, in registry
    order: each cell's dtypes that torch and the backend both take."""
    found: list[tuple[str, str, str | None, str]] = []
    for op in op_names or ops.names():
        info = ops.get(op)
        for direction in info.directions():
            if direction == "backward" and no_grad:
                continue
            for cell in info.cells:
                rule = shared_dtypes(Cell(op, cell, direction), backend)
                dtypes = {d for antialias in (False, True) for d in rule(cell, antialias)}
                found += [(op, cell, d, direction) for d in ops.KNOWN_DTYPES if d in dtypes]
        if info.invalid_calls:
            found.append((op, ops.INVALID_CALLS_CELL, None, "forward"))
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the conformance items (before ``-k`` and ``-m`` select among them)."""
    option = config.option
    if not option.conformance_backend:
        return
    for op in option.conformance_op:
        if op not in ops.REGISTRY:
            raise pytest.UsageError(f"--conformance-op: unknown op {op!r}; use one of {', '.join(ops.names())}")
    for spec in option.conformance_backend:
        try:
            # asked of its worker (loaded there alone), unless --conformance-no-isolation
            backend = load(spec, RunConfig(backend=[spec], no_isolation=option.conformance_no_isolation))
            found = items_for(backend, option.conformance_op, option.conformance_no_grad)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from exc
        name = backend.name
        if isinstance(backend, RemoteBackend):
            backend.worker.close()
        for op, cell, dtype, direction in found:
            parts = [name, op, cell, *([dtype, DIRECTION_TAGS[direction]] if dtype else [])]
            items.append(
                ConformanceItem.from_parent(
                    session,
                    name=f"conformance[{'-'.join(parts)}]",
                    spec=spec,
                    op=op,
                    cell=cell,
                    dtype=dtype,
                    direction=direction,
                )
            )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: an upsample-conformance item (backend x op x cell x dtype x direction)")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the controller of a pytest-xdist run, merge the workers' results files."""
    config = session.config
    if not config.option.conformance_backend or _worker(config):
        return
    path = Path(config.option.conformance_results)
    parts = sorted(path.parent.glob(f"{path.name}.gw*")) if path.parent.is_dir() else []
    if not parts:
        return
    with path.open("a", encoding="utf-8") as out:
        for part in parts:
            out.write(part.read_text(encoding="utf-8"))
            part.unlink()
