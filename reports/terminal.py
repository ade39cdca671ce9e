"""What a run prints on the terminal: a progress line per cell while it runs,
and the summary when it ends (from the run's records, like the HTML)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TextIO

from conformance.capture import output_log
from conformance.cases import Case
from conformance.expected import Expectation, annotate, expectation_of, judge, run_expectations, suggestion
from conformance.ops import INVALID_CALLS_CELL
from conformance.power import describe_lost
from conformance.results import TRUSTS_BACKEND, Result, evidence_lines, trusts_backend_process
from reports.data import declined_text, lost_of, power_of
from reports.summary import render, tabulate

#: Seconds between the progress lines of a long cell where the stream is no
#: terminal (a log, CI): there the line cannot be rewritten in place.
LOG_EVERY = 15.0


class Progress:
    """One status line per cell, rewritten in place on a terminal (on a log, a
    line every ``LOG_EVERY`` seconds while a cell runs): cases done by status,
    failures so far, the seconds the cell has taken."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.quiet = quiet
        self.label = ""
        self.counts: dict[str, int] = {}
        self.last = 0.0
        self.started = time.monotonic()

    def start(self, label: str) -> None:
        self.label, self.counts = label, {}
        self.started = self.last = time.monotonic()

    def update(self, result: Result) -> None:
        if result.minimal:
            return
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        now = time.monotonic()
        if self.quiet:
            return
        if self.tty and now - self.last > 0.1:
            self.stream.write("\r\033[K" + self._line())
        elif not self.tty and now - self.last > LOG_EVERY:
            self.stream.write(self._line() + "  (running)\n")
        else:
            return
        self.stream.flush()
        self.last = now

    def _line(self) -> str:
        counts = " ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        seconds = time.monotonic() - self.started
        took = f" [{seconds:.0f} s]" if seconds >= 1 else ""
        return f"{self.label}: {counts or 'starting'}{took}"

    def finish(self, note: str = "") -> None:
        if self.quiet:
            return
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(prefix + self._line() + (f"  {note}" if note else "") + "\n")
        self.stream.flush()


def not_conforming(records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """``(cases, cases that fail or error unexpectedly, expected failures)``
    over a run's result records."""
    results = [r for r in records if r.get("type") == "result" and not r.get("minimal")]
    judgement = judge(records, run_expectations(records))
    return len(results), len(judgement.unexpected), len(judgement.expected)


def summary(records: Sequence[dict[str, Any]], seed: int | None, path: Any) -> str:
    """The end-of-run text: the table of cells, the invalid calls, each minimal
    failing case with its repro, and the totals."""
    records = annotate(records)
    results = [r for r in records if r.get("type") == "result"]
    done = [r for r in records if r.get("type") == "cell_done"]
    parts = ["", render(tabulate([*done, *(r for r in results if r["mode"] != INVALID_CALLS_CELL)]))]
    invalid = tabulate(r for r in results if r["mode"] == INVALID_CALLS_CELL)
    if invalid:
        parts += ["", "invalid calls (torch's exception class or a subclass, and a message naming the problem):", render(invalid)]
        for r in results:
            if r["mode"] == INVALID_CALLS_CELL and r["status"] in ("fail", "error"):
                parts.append(f"  {r['backend']}: {Case.from_json(r['case']).describe()}: {r['message']}")
    expectations = run_expectations(records)
    for r in (r for r in results if r.get("minimal")):
        parts += failure_lines(r, expectation_of(r, expectations))
    parts += message_lines(results)
    parts += output_lines(done, path)
    parts += declined_lines(done)
    parts += power_lines(done)
    parts += expectation_lines(records, expectations)
    total, bad, expected = not_conforming(records)
    also = f" ({expected} more fail as expected deviations)" if expected else ""
    parts += ["", f"{total} cases, {bad} not conforming{also}; seed {seed}; results in {path}"]
    if trusts_backend_process(records):
        parts.append(TRUSTS_BACKEND)
    return "\n".join([*parts, ""])


def failure_lines(r: dict[str, Any], expected: Expectation | None) -> list[str]:
    """A cell's minimal failing case: what failed, the diagnosis, the repro,
    and either the expected entry that covers it or one to paste to accept it."""
    grad = " backward" if r.get("direction") == "backward" else ""
    tag = ", expected" if expected is not None else ""
    lines = ["", f"=== {r['backend']} {r['op']} {r['mode']}{grad}: {r['status']}{tag} ===", r["message"]]
    lines += evidence_lines(r)
    lines += [group_text(r)] if group_text(r) else []
    diagnosis = r.get("diagnosis")
    if isinstance(diagnosis, dict) and diagnosis.get("summary"):
        lines.append(f"diagnosis: {diagnosis['summary']}")
    budget = r.get("budget")
    if isinstance(budget, dict) and budget.get("cut"):
        cut = ", ".join(budget["cut"])
        lines.append(f"failure budget ({budget['seconds']:g} s) spent: cut short {cut}")
    if expected is not None:
        link = f" ({expected.link})" if expected.link else ""
        lines.append(f"expected deviation ({expected.source}): {expected.reason}{link}")
    lines += ["repro:", r["repro"]]
    if expected is None and r.get("status") in ("fail", "error"):
        lines += ["to accept this deviation, add to an --expected file:", suggestion(r)]
    return lines


def message_lines(results: Sequence[dict[str, Any]]) -> list[str]:
    """Per backend, the cases that raised torch's exception class with a
    message naming none of torch's key phrases: reported, not failed (a
    third-party backend's own wording; ``--strict-messages`` fails them)."""
    per: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r.get("message_check") and not r.get("minimal"):
            per.setdefault(r["backend"], []).append(r)
    lines = []
    for backend, found in per.items():
        first = found[0]
        example = f"{Case.from_json(first['case']).describe()}: {first['message_check']}"
        lines.append(f"  {backend}: {len(found)} case(s), e.g. {example}")
    if lines:
        lines[:0] = ["", "message check (torch's exception class, but a message naming none of torch's key phrases; "
                     "reported, not failed: --strict-messages fails them):"]
    return lines


def output_lines(done: Sequence[dict[str, Any]], path: Any) -> list[str]:
    """How much the backends wrote to stdout and stderr, and where it is."""
    total = sum(int(r.get("backend_output_lines") or 0) for r in done)
    if not total or path is None:
        return []
    return ["", f"the backends wrote {total} line(s) to stdout/stderr: in {output_log(path)}"]


def group_text(r: dict[str, Any]) -> str:
    """Which of its cell's kinds of failure a minimal case stands for
    (``conformance.failures``), when the cell failed in more than one way."""
    group = r.get("group")
    if not isinstance(group, dict) or group.get("kinds", 1) < 2:
        return ""
    others = f"; {group['others']} more case(s) of other kinds not shrunk" if group.get("others") else ""
    return f"one of {group['kinds']} kinds of failure in this cell: {group['kind']} ({group['cases']} case(s){others})"


def expectation_lines(records: Sequence[dict[str, Any]], expectations: Sequence[Expectation]) -> list[str]:
    """The expected deviations that matched, and the stale entries."""
    judgement = judge(records, expectations)
    lines: list[str] = []
    used: dict[Expectation, int] = {}
    for _, entry in judgement.expected:
        used[entry] = used.get(entry, 0) + 1
    if used:
        lines += ["", "expected deviations (failures accepted by an entry, not counted as not conforming):"]
        lines += [f"  {e.describe()}: {n} case(s): {e.reason}" for e, n in used.items()]
    if judgement.stale:
        strict = any(r.get("strict") for r in records if r.get("type") == "expectations")
        lines += [
            "",
            f"stale expected entries (their cells were checked and nothing failed; remove them"
            f"{'; --strict fails the run' if strict else ''}):",
        ]
        lines += [f"  {e.describe()}: {e.reason}" for e in judgement.stale]
    return lines


def declined_lines(done: Sequence[dict[str, Any]]) -> list[str]:
    """Per cell, the cases the backend declined (``unsupported``: not counted
    among its checked cases), by reason, the commonest first."""
    lines = []
    for r in done:
        declined = r.get("declined")
        if not isinstance(declined, dict) or not declined:
            continue
        grad = " backward" if r.get("direction") == "backward" else ""
        total = sum(declined.values())
        lines.append(f"  {r['backend']} {r['op']} {r['mode']}{grad}: {total} declined: {declined_text(declined)}")
    if lines:
        lines.insert(0, "declined cases (unsupported by the backend; a cell draws on until it has checked --examples):")
        lines.insert(0, "")
    return lines


def power_lines(done: Sequence[dict[str, Any]]) -> list[str]:
    """Per backend, the variants each op's cells separated, over all its cells."""
    per: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    lost: dict[tuple[str, str], dict[str, set[str]]] = {}
    for r in done:
        power = power_of(r.get("variants"))
        if power is None:
            continue
        separated, total = per.setdefault((r["backend"], r["op"]), (set(), set()))
        separated.update(power[0])
        total.update(power[1])
        for why, names in lost_of(r.get("variants")).items():
            lost.setdefault((r["backend"], r["op"]), {}).setdefault(why, set()).update(names)
    lines = []
    for backend in sorted({b for b, _ in per}):
        ops = [(op, s, t) for (b, op), (s, t) in per.items() if b == backend]
        figures = ", ".join(f"{op} {len(s)}/{len(t)}" for op, s, t in ops)
        lines += ["", f"{backend}: semantic variants separated from torch's semantics: {figures}"]
        named = {v for (b, _), by in lost.items() if b == backend for vs in by.values() for v in vs}
        missing = sorted(v for _, s, t in ops for v in t - s - named)
        if missing:
            lines.append(f"  not separated (no passing case tells them apart): {', '.join(missing)}")
        for op in sorted({op for b, op in lost if b == backend}):
            lines.append(f"  {op}: {describe_lost(lost[backend, op])}")
    return lines
