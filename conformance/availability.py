"""Whether a backend can run here, asked in a process of its own.

``python -m conformance list`` asks every registered backend.  Loading a
backend imports its library, and libraries loaded side by side in one
process can crash it: a framework's native runtime beside another's (seen:
paddle imported after tensorflow, jax and mlx ended ``list`` with a
segmentation fault, and no backend after it was listed).  So each backend is
loaded, asked ``availability()`` and ``version()``, in a child process of its
own; a child that dies or hangs makes that one backend unavailable, with the
reason, and the others are still listed.

``python -m conformance.availability SPEC`` is the child: it prints one
line, :data:`MARKER` then JSON, after whatever the backend printed itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

#: Starts the child's one line of answer (a backend may print before it).
MARKER = "@@availability@@ "
#: Seconds a backend gets to load and answer (an import of a large framework takes seconds).
TIMEOUT = 180.0
#: Children at once: they mostly wait on imports from disk.
PARALLEL = 4


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


def _died(spec: str, proc: subprocess.CompletedProcess[str]) -> Availability:
    code = proc.returncode
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"loading it killed its process ({name})"
    else:
        how = f"loading it ended its process with exit status {code}"
    last = [line for line in proc.stderr.splitlines() if line.strip()][-1:]
    return Availability(spec, False, how + (f": {last[0].strip()}" if last else ""))


def ask(spec: str, timeout: float = TIMEOUT) -> Availability:
    """Ask ``spec`` in a child process; a child that crashes or hangs says so."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.availability", spec],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Availability(spec, False, f"loading it did not finish in {timeout:g} s")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return Availability(**json.loads(line[len(MARKER) :]))
    return _died(spec, proc)


def ask_all(specs: Iterable[str], timeout: float = TIMEOUT) -> list[Availability]:
    """:func:`ask` each spec, a few at once, in the order given."""
    specs = list(specs)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda s: ask(s, timeout), specs))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m conformance.availability SPEC\n")
        return 2
    found = answer(argv[0])
    sys.stdout.flush()
    sys.stdout.write(MARKER + json.dumps(found.__dict__) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
