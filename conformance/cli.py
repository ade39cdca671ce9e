"""``python -m conformance``: run conformance checks, list backends and ops.

Exit status of ``run``: 0 when every checked case conforms, 1 when any case
fails or errors, 2 on bad usage (unknown backend or op, a backend that cannot
run here).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

import backends
from backends import BackendLoadError
from backends.torch_dtypes import BACKWARD_OPS
from conformance.cases import Case
from conformance.catalog import CELL as CATALOG_CELL
from conformance.catalog import invalid_calls
from conformance.environment import environment
from conformance.isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT, IsolatedChecker
from conformance.runner import DEFAULT_SHRINK_SECONDS, OP_CELLS, Oracle, Result, check_catalog, search_cell
from conformance.store import ResultsWriter, current_results, read_records
from reports.summary import render, tabulate

#: Backends checked when no --backend is given: every built-in one that is not
#: an oracle and can run here.
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_RESULTS = Path("results") / "conformance.jsonl"
#: The settings of a run, recorded in its environment record and reused by --resume.
RUN_SETTINGS = (
    "no_grad",
    "oracle",
    "backend",
    "op",
    "mode",
    "dtype",
    "examples",
    "seed",
    "timeout",
    "memory_limit_gib",
    "shrink_seconds",
    "no_isolation",
)


class UsageError(Exception):
    """Bad command-line usage: exit status 2."""


class Progress:
    """One status line per cell, rewritten in place on a terminal."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.quiet = quiet
        self.label = ""
        self.counts: dict[str, int] = {}
        self.last = 0.0

    def start(self, label: str) -> None:
        self.label, self.counts, self.last = label, {}, 0.0

    def update(self, result: Result) -> None:
        if result.minimal:
            return
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        now = time.monotonic()
        if self.tty and not self.quiet and now - self.last > 0.1:
            self.stream.write("\r\033[K" + self._line())
            self.stream.flush()
            self.last = now

    def _line(self) -> str:
        counts = " ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return f"{self.label}: {counts or 'starting'}"

    def finish(self, note: str = "") -> None:
        if self.quiet:
            return
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(prefix + self._line() + (f"  {note}" if note else "") + "\n")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="check backends against torch and the reference")
    run.add_argument(
        "--backend",
        action="append",
        metavar="SPEC",
        help="registered name or module:attribute (repeatable; default: " + ", ".join(DEFAULT_BACKENDS) + ")",
    )
    run.add_argument("--op", action="append", metavar="NAME", help="op to check (repeatable; default: all)")
    run.add_argument(
        "--mode",
        action="append",
        metavar="CELL",
        help="restrict to these modes or cells, e.g. bilinear, 2d (repeatable)",
    )
    run.add_argument(
        "--dtype",
        action="append",
        metavar="DTYPE",
        choices=list(backends.DTYPES),
        help="restrict to these input dtypes (repeatable; default: every dtype both sides take)",
    )
    run.add_argument(
        "--examples",
        type=int,
        default=100,
        metavar="N",
        help="Hypothesis examples per backend, op and mode (default 100)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="Hypothesis seed (default: 0 when CI is set, else random; always recorded)",
    )
    run.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="PATH",
        help=f"JSON-lines results file to append to (default {DEFAULT_RESULTS})",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per-case limit in the worker process (default {DEFAULT_TIMEOUT:g})",
    )
    run.add_argument(
        "--memory-limit-gib",
        type=float,
        default=DEFAULT_MEMORY_LIMIT / 2**30,
        metavar="GIB",
        help=f"address-space cap of a worker (default {DEFAULT_MEMORY_LIMIT / 2**30:g}; 0: none)",
    )
    run.add_argument(
        "--shrink-seconds",
        type=float,
        default=DEFAULT_SHRINK_SECONDS,
        metavar="SECONDS",
        help=f"time to shrink a cell's failure before reporting the smallest so far "
        f"(default {DEFAULT_SHRINK_SECONDS:g})",
    )
    run.add_argument(
        "--no-isolation",
        action="store_true",
        help="run backends in this process (faster to debug; a crash ends the run)",
    )
    run.add_argument(
        "--oracle",
        default="torch",
        choices=["torch", "torch-cuda"],
        help="the torch the backends are compared with (default torch, on the CPU; torch-cuda on a GPU machine)",
    )
    run.add_argument(
        "--no-grad",
        action="store_true",
        help="check forward results only (by default gradients are checked beside them)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the last run in --results with its own settings, skipping finished cells",
    )
    sub.add_parser("list", help="backends (available here or why not) and ops")
    _add_report_parser(sub)
    return parser


# --- report: the HTML conformance report (reports/html.py) -------------------
DEFAULT_REPORT_DIR = Path("reports") / "out"
DEFAULT_BENCH = Path("results") / "bench.json"


def _add_report_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="render the HTML report (DIR/index.html) from results files")
    report.add_argument(
        "--results",
        action="append",
        type=Path,
        metavar="PATH",
        help=f"results file (repeatable: several machines merge into one report; default {DEFAULT_RESULTS})",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help=f"output folder (default {DEFAULT_REPORT_DIR})",
    )
    report.add_argument(
        "--bench",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"pytest-benchmark JSON to include (default {DEFAULT_BENCH} when it exists)",
    )
    report.add_argument(
        "--no-rebuild",
        action="store_true",
        help="do not rerun failing cases to show their values (it imports each run's backend specs)",
    )


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    """Write ``--out/index.html``; a missing results file or one without a run is a usage error."""
    try:
        from reports.data import ReportError
        from reports.html import write_report
    except ImportError as exc:
        raise UsageError(f"the report needs Jinja2 (python3 -m pip install Jinja2): {exc}") from exc
    bench = args.bench if args.bench is not None else (DEFAULT_BENCH if DEFAULT_BENCH.is_file() else None)
    if bench is not None and not bench.is_file():
        raise UsageError(f"benchmark file {str(bench)!r} does not exist")
    try:
        path = write_report(args.results or [DEFAULT_RESULTS], args.out, bench, rebuild=not args.no_rebuild)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    out.write(f"report written to {path}\n")
    return 0


# --- end of report ------------------------------------------------------------


def _load(spec: str) -> backends.Backend:
    try:
        return backends.load(spec)
    except BackendLoadError as exc:
        raise UsageError(str(exc)) from exc


def cmd_list(out: TextIO) -> int:
    out.write("backends:\n")
    for name in backends.names():
        try:
            backend = backends.load(name)
            ok, why = backend.availability()
            version = backend.version() if ok else "-"
        except BackendLoadError as exc:
            ok, why, version = False, str(exc), "-"
        state = f"available ({version})" if ok else f"unavailable: {why}"
        out.write(f"  {name:<21} {state}\n")
    out.write("ops:\n")
    for op, modes in OP_CELLS.items():
        label = "modes" if op == "interpolate" or modes[0] not in ("all", "1d") else "cells"
        out.write(f"  {op:<21} {label}: {', '.join(modes)}\n")
    return 0


def _resume_state(path: Path) -> tuple[str, dict[str, Any], set[tuple[str, str, str]]]:
    """The last run in ``path``: its id, its settings, and its finished cells."""
    if not path.exists():
        raise UsageError(f"--resume: {path} does not exist; start a run with --results {path}")
    records = list(read_records(path))
    runs = [r for r in records if r.get("type") == "environment" and "config" in r]
    if not runs:
        raise UsageError(f"--resume: {path} holds no run to resume")
    run_id, config = runs[-1]["run_id"], runs[-1]["config"]
    done = {
        (r["backend"], r["op"], r["mode"], r.get("direction", "forward"))
        for r in records
        if r.get("type") == "cell_done" and r.get("run_id") == run_id
    }
    return run_id, config, done


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    run_id: str | None = None
    done: set[tuple[str, str, str]] = set()
    if args.resume:
        run_id, config, done = _resume_state(args.results)
        for key, value in config.items():
            setattr(args, key, value)
        err.write(f"resuming run {run_id} ({len(done)} cell(s) already done) with its own settings\n")
    if args.examples < 1:
        raise UsageError("--examples must be at least 1")
    ops = args.op or list(OP_CELLS)
    for op in ops:
        if op not in OP_CELLS:
            raise UsageError(f"unknown op {op!r}: use one of {', '.join(OP_CELLS)}")
    for mode in args.mode or []:
        if mode != CATALOG_CELL and not any(mode in OP_CELLS[op] for op in ops):
            raise UsageError(f"unknown mode {mode!r} for {', '.join(ops)}")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    specs = args.backend or list(DEFAULT_BACKENDS)
    loaded = []
    for spec in specs:
        backend = _load(spec)
        ok, why = backend.availability()
        if not ok:
            raise UsageError(f"backend {spec!r} is not available here: {why}")
        loaded.append((spec, backend))
    oracle = Oracle(_load(getattr(args, "oracle", "torch")))
    ok, why = oracle.torch.availability()
    if not ok:
        raise UsageError(f"the {args.oracle} oracle is not available: {why}")

    if args.seed is None:
        args.seed = 0 if os.environ.get("CI") else random.randrange(2**31)
    config = {key: getattr(args, key) for key in RUN_SETTINGS}
    config["backend"] = specs
    progress = Progress(err, args.quiet)
    with ResultsWriter(args.results, run_id) as writer:
        if args.resume:
            writer.write({"type": "resume", "date": environment(args.seed, args.examples)["date"]})
        else:
            writer.write({**environment(args.seed, args.examples), "config": config})
            for spec, backend in loaded:
                writer.write(
                    {
                        "type": "backend",
                        "name": backend.name,
                        "spec": spec,
                        "version": backend.version(),
                        "available": True,
                        "reason": "",
                    }
                )
        for spec, backend in loaded:
            checker = None
            isolated = None
            if not args.no_isolation:
                isolated = IsolatedChecker(spec, args.timeout, args.memory_limit_gib * 2**30 or None, args.oracle)

                def checker(case: Case, isolated: IsolatedChecker = isolated, name: str = backend.name) -> Result:
                    return Result.from_json(isolated.check(case.to_json()), case, name)

            try:
                for op, cell, direction in _cells(ops, args.mode, not args.no_grad):
                    if (backend.name, op, cell, direction) in done:
                        continue
                    attempt = uuid.uuid4().hex[:8]

                    def record(result: Result, attempt: str = attempt) -> None:
                        writer.write({**result.to_json(), "attempt": attempt})
                        progress.update(result)

                    progress.start(f"{backend.name} {op} {cell}{' backward' if direction == 'backward' else ''}")
                    if cell == CATALOG_CELL:
                        outcome = check_catalog(op, backend, spec, oracle, record, checker)
                    else:
                        outcome = search_cell(
                            backend,
                            spec,
                            op,
                            cell,
                            oracle,
                            args.examples,
                            args.seed,
                            record,
                            dtypes=args.dtype,
                            checker=checker,
                            shrink_seconds=args.shrink_seconds,
                            direction=direction,
                        )
                    writer.write(
                        {
                            "type": "cell_done",
                            "backend": backend.name,
                            "op": op,
                            "mode": cell,
                            "direction": direction,
                            "attempt": attempt,
                            "counts": outcome.counts,
                        }
                    )
                    note = ""
                    if outcome.minimal is not None:
                        note = f"FAILS, minimal case: {outcome.minimal.case.describe()}"
                    progress.finish(note)
            finally:
                if isolated is not None:
                    isolated.close()

    records = current_results(r for r in read_records(args.results) if r.get("run_id") == writer.run_id)
    return _summarize(records, args, out)


def _cells(ops: list[str], modes: list[str] | None, grad: bool) -> list[tuple[str, str, str]]:
    """(op, cell, direction) in run order: each op's cells forward, then
    backward (ops with gradients, unless ``grad`` is off), then its invalid calls."""
    cells = []
    for op in ops:
        chosen = [cell for cell in OP_CELLS[op] if not modes or cell in modes]
        cells += [(op, cell, "forward") for cell in chosen]
        if grad and op in BACKWARD_OPS:
            cells += [(op, cell, "backward") for cell in chosen]
        if (not modes or CATALOG_CELL in modes) and invalid_calls([op]):
            cells.append((op, CATALOG_CELL, "forward"))
    return cells


def _summarize(records: list[dict[str, Any]], args: argparse.Namespace, out: TextIO) -> int:
    results = [r for r in records if r.get("type") == "result"]
    cells = tabulate(r for r in results if r["mode"] != CATALOG_CELL)
    out.write("\n" + render(cells) + "\n")
    invalid = tabulate(r for r in results if r["mode"] == CATALOG_CELL)
    if invalid:
        out.write("\ninvalid calls (same exception class as torch, message naming the problem):\n")
        out.write(render(invalid) + "\n")
        for r in results:
            if r["mode"] == CATALOG_CELL and r["status"] in ("fail", "error"):
                case = Case.from_json(r["case"])
                out.write(f"  {r['backend']}: {case.describe()}: {r['message']}\n")
    for r in (r for r in results if r.get("minimal")):
        out.write(f"\n=== {r['backend']} {r['op']} {r['mode']}: {r['status']} ===\n{r['message']}\n")
        out.write(f"repro:\n{r['repro']}\n")
    everything = {**cells, **invalid}
    bad = sum(c.counts["fail"] + c.counts["error"] for c in everything.values())
    total = sum(sum(c.counts.values()) for c in everything.values())
    out.write(f"\n{total} cases, {bad} not conforming; seed {args.seed}; results in {args.results}\n")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(sys.stdout)
        if args.command == "report":
            return cmd_report(args, sys.stdout)
        return cmd_run(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 2  # unreachable: parser.exit raises SystemExit
