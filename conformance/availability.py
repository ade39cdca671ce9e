"""Whether a backend can run here, asked in a process of its own.

``python -m conformance list`` asks every registered backend.  Loading a
backend imports its library, and libraries loaded side by side in one
process can crash it: a framework's native runtime beside another's (seen:
paddle imported after tensorflow, jax and mlx ended ``list`` with a
segmentation fault, and no backend after it was listed).  So each backend is
loaded, asked ``availability()`` and ``version()``, in a child process: one
child asks the backends one after another (one interpreter start, not one per
backend), and where it dies or hangs, the backend it was loading is asked
again alone in a fresh child, and the rest in another.  So a backend that
crashes only beside others is still listed with its own answer, one that
crashes alone is unavailable with the reason, and no crash hides the rest.

``python -m conformance.availability SPEC...`` is the child: it prints one
line per backend, :data:`MARKER` then JSON, as soon as it has the answer.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Starts the child's one line of answer (a backend may print before it).
MARKER = "@@availability@@ "
#: Seconds a backend gets to load and answer (an import of a large framework takes seconds).
TIMEOUT = 180.0


@dataclass(frozen=True)
class Availability:
    spec: str
    ok: bool
    why: str = ""
    version: str = "-"

    def describe(self) -> str:
        return f"available ({self.version})" if self.ok else f"unavailable: {self.why}"


def answer(spec: str) -> Availability:
    """Load ``spec`` here and ask it (the child's side)."""
    import backends

    try:
        backend = backends.load(spec)
        ok, why = backend.availability()
        version = backend.version() if ok else "-"
    except backends.BackendLoadError as exc:
        return Availability(spec, False, str(exc))
    return Availability(spec, bool(ok), str(why), str(version))


def _died(proc: subprocess.CompletedProcess[str] | subprocess.TimeoutExpired) -> str:
    if isinstance(proc, subprocess.TimeoutExpired):
        return f"loading it did not finish in {proc.timeout:g} s"
    code = proc.returncode
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"loading it killed its process ({name})"
    else:
        how = f"loading it ended its process with exit status {code}"
    err = proc.stderr if isinstance(proc.stderr, str) else ""
    last = [line for line in err.splitlines() if line.strip()][-1:]
    return how + (f": {last[0].strip()}" if last else "")


def _child(specs: list[str], timeout: float) -> tuple[dict[str, Availability], str]:
    """Ask ``specs`` in one child: the answers it gave, and how it ended if it
    stopped before the last (``""`` where it answered them all)."""
    argv = [sys.executable, "-m", "conformance.availability", *specs]
    try:
        proc: Any = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        proc = exc
    out = proc.stdout or ""
    out = out.decode(errors="replace") if isinstance(out, bytes) else out
    answers = {}
    for line in out.splitlines():
        if line.startswith(MARKER):
            found = Availability(**json.loads(line[len(MARKER) :]))
            answers[found.spec] = found
    return answers, ("" if len(answers) == len(specs) else _died(proc))


def ask(spec: str, timeout: float = TIMEOUT) -> Availability:
    """Ask ``spec`` alone in a child process; a child that crashes or hangs says so."""
    answers, died = _child([spec], timeout)
    return answers.get(spec) or Availability(spec, False, died)


def ask_all(specs: Iterable[str], timeout: float = TIMEOUT) -> list[Availability]:
    """Ask every spec, in the order given, in as few children as crashes allow."""
    specs = list(specs)
    found: dict[str, Availability] = {}
    left = specs
    while left:
        answers, _ = _child(left, timeout * len(left))
        found.update(answers)
        left = [s for s in left if s not in found]
        if left:  # the child died loading left[0]: alone, it says whether it crashes by itself
            found[left[0]] = ask(left[0], timeout)
            left = left[1:]
    return [found[s] for s in specs]


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -m conformance.availability SPEC...\n")
        return 2
    for spec in argv:
        found = answer(spec)
        sys.stdout.flush()
        sys.stdout.write(MARKER + json.dumps(found.__dict__) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
