"""``python -m conformance ...`` and a pasted repro, run inside the test process.

A new interpreter per call costs seconds before any work (torch, ml_dtypes
and the harness imported, then a forkserver importing them again); in this
process they are imported once, and the forkserver that isolation workers
and ``--jobs`` job processes fork from is started once per test process.
The result reads like ``subprocess.run``'s: exit status, stdout, stderr.
What only a new interpreter shows (the ``python -m conformance`` entry
point, a missing dependency, a killed run) keeps its subprocess tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

import conformance.__main__ as entry

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _as_a_process(
    orig_argv: list[str], argv: list[str], cwd: Path | str, env: Mapping[str, str] | None
) -> Iterator[None]:
    """``sys.orig_argv`` (the command as typed), ``sys.argv``, the working
    directory and the environment of a new process for the block; restored
    after it, whatever happens."""
    saved_orig = getattr(sys, "orig_argv", None)
    saved_argv, saved_cwd, saved_env = sys.argv, os.getcwd(), dict(os.environ)
    sys.orig_argv, sys.argv = orig_argv, argv
    os.chdir(cwd)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_orig is not None:
            sys.orig_argv = saved_orig
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def _captured(
    orig_argv: list[str], argv: list[str], body, cwd: Path | str, env: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    """Run ``body()`` as a process would: its exit status (an uncaught
    exception: 1, with its traceback on stderr, as Python does)."""
    out, err = io.StringIO(), io.StringIO()
    with _as_a_process(orig_argv, argv, cwd, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = body()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                err.write(f"{exc.code}\n")
        except Exception:
            traceback.print_exc(file=err)
            code = 1
    return subprocess.CompletedProcess(argv, int(code or 0), out.getvalue(), err.getvalue())


def run_cli(
    *args: str, cwd: Path | str = ROOT, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m conformance ARGS`` from ``cwd`` (``env``: instead of this
    process's environment), in this process."""
    # argv as ``-m`` leaves them: the environment record shows "python -m conformance ..."
    return _captured([sys.executable, "-m", "conformance", *args], [entry.__file__, *args], entry.run, cwd, env)


def run_repro(source: str) -> subprocess.CompletedProcess[str]:
    """A repro as ``python -`` at the checkout's root runs it: a fresh
    ``__main__`` namespace, the checkout importable."""
    code = compile(source, "<repro>", "exec")

    def body() -> int:
        exec(code, {"__name__": "__main__"})  # noqa: S102 -- the harness's own repro, the thing under test
        return 0

    with contextlib.ExitStack() as stack:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
            stack.callback(sys.path.remove, str(ROOT))
        return _captured([sys.executable, "-"], ["-"], body, ROOT, None)
