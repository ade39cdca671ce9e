"""A backend's own output: what it writes to stdout and stderr while it runs
a case is captured, never printed over the harness's progress.

``captured()`` points file descriptors 1 and 2 at a file of the process for
the block (``os.dup2``: writes of C code and of child processes are caught
too, not only Python's ``print``), then puts them back and gives what was
written (``Output``).  A backend's worker captures each case this way, and
its loading; the result records the number of lines and the first few
(``backend_output``), and the results writer moves the whole text to a log
beside the results (``output_log``).  In the judging process itself
(``--no-isolation``) the same is done around the backend's calls, on a best
effort: output a thread of the backend writes later, or a stream that is no
file descriptor (pytest's ``capsys``), is not caught.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Lines of a case's output its result keeps (the log keeps them all).
FIRST_LINES = 5
#: Bytes of a case's output kept for the log; the rest is counted, not kept.
MAX_BYTES = 1 << 20


@dataclass
class Output:
    """What the block wrote: its text (at most ``MAX_BYTES``), its line count, the bytes dropped."""

    text: str = ""
    lines: int = 0
    dropped: int = 0

    def add(self, other: Output) -> None:
        self.text += other.text
        self.lines += other.lines
        self.dropped += other.dropped

    def clear(self) -> None:
        self.text, self.lines, self.dropped = "", 0, 0

    def record(self) -> dict[str, Any] | None:
        """A result's ``backend_output``: lines, the first few, and the text for the log; ``None`` if silent."""
        if not self.lines:
            return None
        record: dict[str, Any] = {"lines": self.lines, "first": self.text.splitlines()[:FIRST_LINES]}
        record["text"] = self.text + (f"\n[... {self.dropped} more bytes not kept]\n" if self.dropped else "")
        return record


#: This process's file for captured output (made once; emptied after each block).
_SINK: list[Any] = []


@functools.lru_cache(maxsize=1)
def _fflush() -> Any:
    """C's ``fflush`` (``None`` where there is no C library to ask)."""
    try:
        import ctypes

        return ctypes.CDLL(None).fflush
    except Exception:
        return None


def _flush() -> None:
    """Python's buffered writes, then C's stdio buffers (``printf``), into the file descriptors."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    fflush = _fflush()
    if fflush is not None:
        fflush(None)


@contextlib.contextmanager
def captured() -> Iterator[Output]:
    """Capture file descriptors 1 and 2 for the block (see the module doc)."""
    if not _SINK or _SINK[0][0] != os.getpid():
        _SINK[:] = [(os.getpid(), tempfile.TemporaryFile())]
    sink, out = _SINK[0][1], Output()
    _flush()
    saved = [os.dup(1), os.dup(2)]
    os.dup2(sink.fileno(), 1)
    os.dup2(sink.fileno(), 2)
    try:
        yield out
    finally:
        _flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        size = sink.seek(0, os.SEEK_END)
        sink.seek(0)
        data = sink.read(MAX_BYTES)
        sink.seek(0)
        sink.truncate()
        out.text, out.dropped = data.decode("utf-8", "replace"), max(0, size - MAX_BYTES)
        out.lines = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))


def output_log(results: Path | str) -> Path:
    """The log of the backends' output beside a results file."""
    path = Path(results)
    return path.with_name(path.name + ".backend-output.log")


def log_output(results: Path | str, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (a result) without its output's text, which goes to the log
    of ``results`` under a line naming the backend and the case."""
    output = record.get("backend_output")
    if not isinstance(output, dict) or "text" not in output:
        return record
    output = dict(output)
    text = output.pop("text")
    case = record.get("case") or {}
    where = f"{record.get('backend')} {case.get('op')} {record.get('mode')} {record.get('dtype')}"
    header = f"--- {where} ({record.get('status')}{', minimal' if record.get('minimal') else ''}): {json.dumps(case)}\n"
    with open(output_log(results), "a", encoding="utf-8") as log:
        log.write(header + text + ("" if text.endswith("\n") else "\n"))
    return {**record, "backend_output": output}
