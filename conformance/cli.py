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
from pathlib import Path
from typing import TextIO

import backends
from backends import BackendLoadError
from conformance.environment import environment
from conformance.runner import OP_CELLS, Oracle, Result, search_cell
from conformance.store import ResultsWriter
from reports.summary import render, tabulate

#: Backends checked when no --backend is given: every built-in one that is not
#: an oracle and can run here.
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_RESULTS = Path("results") / "conformance.jsonl"


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
    sub.add_parser("list", help="backends (available here or why not) and ops")
    return parser


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


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.examples < 1:
        raise UsageError("--examples must be at least 1")
    ops = args.op or list(OP_CELLS)
    for op in ops:
        if op not in OP_CELLS:
            raise UsageError(f"unknown op {op!r}: use one of {', '.join(OP_CELLS)}")
    for mode in args.mode or []:
        if not any(mode in OP_CELLS[op] for op in ops):
            raise UsageError(f"unknown mode {mode!r} for {', '.join(ops)}")
    specs = args.backend or list(DEFAULT_BACKENDS)
    loaded = []
    for spec in specs:
        backend = _load(spec)
        ok, why = backend.availability()
        if not ok:
            raise UsageError(f"backend {spec!r} is not available here: {why}")
        loaded.append((spec, backend))
    oracle = Oracle()
    ok, why = oracle.torch.availability()
    if not ok:
        raise UsageError(f"the torch oracle is not available: {why}")

    seed_value = args.seed if args.seed is not None else (0 if os.environ.get("CI") else random.randrange(2**31))
    progress = Progress(err, args.quiet)
    records: list[dict] = []
    with ResultsWriter(args.results) as writer:
        writer.write(environment(seed_value, args.examples))
        for spec, backend in loaded:
            ok, why = backend.availability()
            writer.write(
                {
                    "type": "backend",
                    "name": backend.name,
                    "spec": spec,
                    "version": backend.version(),
                    "available": ok,
                    "reason": why,
                }
            )

        def record(result: Result) -> None:
            data = result.to_json()
            writer.write(data)
            records.append(data)
            progress.update(result)

        for spec, backend in loaded:
            for op in ops:
                for mode in OP_CELLS[op]:
                    if args.mode and mode not in args.mode:
                        continue
                    progress.start(f"{backend.name} {op} {mode}")
                    outcome = search_cell(
                        backend, spec, op, mode, oracle, args.examples, seed_value, record, dtypes=args.dtype
                    )
                    note = ""
                    if outcome.minimal is not None:
                        note = f"FAILS, minimal case: {outcome.minimal.case.describe()}"
                    progress.finish(note)

    cells = tabulate(records)
    out.write("\n" + render(cells) + "\n")
    failures = [r for r in records if r.get("minimal")]
    for r in failures:
        out.write(f"\n=== {r['backend']} {r['op']} {r['mode']}: {r['status']} ===\n{r['message']}\n")
        out.write(f"repro:\n{r['repro']}\n")
    bad = sum(c.counts["fail"] + c.counts["error"] for c in cells.values())
    total = sum(sum(c.counts.values()) for c in cells.values())
    out.write(f"\n{total} cases, {bad} not conforming; seed {seed_value}; results in {args.results}\n")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(sys.stdout)
        return cmd_run(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 2  # unreachable: parser.exit raises SystemExit
