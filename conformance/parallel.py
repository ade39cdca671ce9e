"""Run a list of tasks side by side in a pool of job processes (``--jobs N``).

The parent hands each job one task at a time (by its index, in list order,
to whichever job is free) and receives everything the job sends back: it
alone writes, so a run's records land in one file however many jobs run.
Tasks come in groups that a job does best to keep to (a run's: a cell, checked
for each backend in turn, the later ones on the cases the first drew), so the
jobs start on different groups and a free job takes the next task of its own
group while there is one (see ``Pool._hand_out``).

A job is a process from the forkserver that isolation workers come from too
(``isolation.worker_context``: no state shared with the parent, CUDA-safe;
``spawn`` where there is none) that asks ``factory(*args)`` once for its runner, then calls
``runner(index, send)`` for each task it is handed (``send(kind, payload)``
reaches the parent's ``on_message(kind, index, payload)``; what the runner
returns follows as ``("done", index, value)``) and ``runner.close()`` at the
end.

What goes wrong stays local:

* a job that dies (a crash in a backend run without isolation, the OOM killer)
  costs the task it was on: ``on_lost(index, why)``; a fresh job takes its
  place for the tasks left, and every message it sent before is kept;
* Ctrl-C (``KeyboardInterrupt`` in the parent; the jobs ignore SIGINT, and so
  do the processes they start) or any other exception in the parent stops
  the jobs (SIGTERM: a job closes its own workers), delivers what they had
  already sent, and is raised again.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from conformance.isolation import exit_text, worker_context

#: Seconds a stopped job may take to close its workers before it is killed.
STOP_GRACE = 10.0
#: Below this mean time per task, a job does not switch groups to take the
#: last task of a group another job is busy in: that job will soon be free,
#: and would check it on the cases it drew already.
SWITCH_SECONDS = 5.0
#: The message a job sends with the seconds a task took, before its ``done``.
TOOK = "took"
#: The thread pools (torch's OpenMP, MKL, NumPy's OpenBLAS) a process sizes at start-up.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

Send = Callable[[str, Any], None]


class Runner(Protocol):
    """What a job's ``factory`` returns."""

    def __call__(self, index: int, send: Send) -> Any: ...

    def close(self) -> None: ...


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _job_main(conn: Connection, factory: Callable[..., Runner], args: tuple[Any, ...], threads: str) -> None:
    """A job's loop: tasks from the parent until told to stop (``None``)."""
    _take_thread_share(threads)
    # Ctrl-C reaches the whole process group: the parent decides what it means.
    # Ignored (not handled) so that the workers this job spawns ignore it too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)  # stopped: ``finally`` closes the runner
    runner = factory(*args)
    try:
        while True:
            index = conn.recv()
            if index is None:
                return
            start = time.monotonic()
            outcome = runner(index, lambda kind, payload, index=index: conn.send((kind, index, payload)))
            # the task's own time (the job's start-up, which the parent would see too, is not the task's)
            conn.send((TOOK, index, time.monotonic() - start))
            conn.send(("done", index, outcome))
    except (EOFError, BrokenPipeError):
        return  # the parent is gone
    finally:
        runner.close()


def thread_share(jobs: int) -> str:
    """Threads per job: each job gets a share of the machine's cores for its
    thread pools (N processes each running threads for every core would
    oversubscribe it, and the waiting of OpenMP threads makes that slower
    than one job)."""
    return str(max(1, (os.cpu_count() or 1) // jobs))


def _take_thread_share(threads: str) -> None:
    """In a job: its share of threads for the thread variables not set by
    the user, before anything starts a pool, so that the job's forkserver
    and the workers it forks inherit them; torch, imported already by the
    forkserver this job came from, is told directly.  (A forked job's
    environment is its forkserver's, from before the parent set them.)"""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@contextmanager
def threads_per_job(jobs: int) -> Iterator[None]:
    """While jobs start, the environment they (and the workers they start)
    inherit gives each its ``thread_share`` (a ``spawn``-ed job's environment
    is the parent's).  A variable already set is kept."""
    share = thread_share(jobs)
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(added, share))
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@dataclass
class _Job:
    process: Any
    conn: Connection
    #: The task it is on; ``None`` once told to stop.
    task: int | None = None
    #: The group of the last task it was handed.
    group: Hashable = None


class Pool:
    """Runs tasks ``0 .. len(groups) - 1`` (task i of group ``groups[i]``) on
    at most ``jobs`` job processes.

    ``on_message(kind, index, payload)`` gets each job's messages in the order
    that job sent them, ``kind`` ``"done"`` last for each task it finished.
    """

    def __init__(
        self,
        jobs: int,
        factory: Callable[..., Runner],
        args: tuple[Any, ...],
        on_message: Callable[[str, int, Any], None],
        on_lost: Callable[[int, str], None],
    ) -> None:
        self.jobs = jobs
        self.factory, self.args = factory, args
        self.on_message, self.on_lost = on_message, on_lost
        # from the forkserver the isolation workers come from: a job starts in
        # milliseconds, from a clean process all the same (CUDA-safe)
        self._ctx = worker_context()
        self._running: list[_Job] = []
        self._pending: list[int] = []
        self._groups: Sequence[Hashable] = []
        #: Seconds each finished task took.
        self._took: list[float] = []

    def run(self, groups: Sequence[Hashable]) -> None:
        self._groups, self._pending = groups, list(range(len(groups)))
        firsts = list(dict.fromkeys(groups))
        try:
            with threads_per_job(self.jobs):
                for j in range(min(self.jobs, len(groups))):
                    self._start(firsts[j % len(firsts)])
                while self._running:
                    ready = wait([job.conn for job in self._running])
                    for job in [j for j in self._running if j.conn in ready]:
                        self._serve(job)
        finally:
            self._stop_all()

    def _start(self, group: Hashable = None) -> None:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_job_main, args=(child, self.factory, self.args, thread_share(self.jobs)), name="conformance-job"
        )
        process.start()
        child.close()
        job = _Job(process, parent, group=group)
        self._running.append(job)
        self._hand_out(job)

    def _hand_out(self, job: _Job) -> None:
        """The next task to ``job``, or tell it to stop: of its own group while
        there is one; else of a group no other job is on; else of any, but
        while tasks are short (``SWITCH_SECONDS``) not the last ones of a
        group, which the jobs busy in it will soon be free to take."""
        busy = [j.group for j in self._running if j is not job and j.task is not None]
        pending = [(i, self._groups[i]) for i in self._pending]
        own = [i for i, g in pending if g == job.group]
        alone = [i for i, g in pending if g not in busy]
        short = bool(self._took) and sum(self._took) / len(self._took) < SWITCH_SECONDS
        spare = [i for i, g in pending if not short or sum(h == g for _, h in pending) > busy.count(g)]
        job.task = (own or alone or spare or [None])[0]
        if job.task is not None:
            self._pending.remove(job.task)
            job.group = self._groups[job.task]
        try:
            job.conn.send(job.task)
        except OSError:  # it died already (the next read says so): the task waits for another job
            if job.task is not None:
                self._pending = sorted([job.task, *self._pending])
            job.task = None

    def _serve(self, job: _Job) -> None:
        """Read what ``job`` sent; a finished task gets it the next one."""
        try:
            while job.conn.poll():
                kind, index, payload = job.conn.recv()
                if kind == TOOK:
                    self._took.append(payload)
                    continue
                self.on_message(kind, index, payload)
                if kind == "done":
                    self._hand_out(job)
        except (EOFError, OSError):
            self._lost(job)

    def _lost(self, job: _Job) -> None:
        """``job`` ended: normally once told to stop, else it died on its task."""
        self._running.remove(job)
        job.conn.close()
        job.process.join(STOP_GRACE)
        died = job.task is not None
        if died:
            self.on_lost(job.task, f"the job process died ({exit_text(job.process.exitcode)})")
        # A job told to stop leaves the tasks still pending to the busy ones.
        if self._pending and (died or not any(j.task is not None for j in self._running)):
            self._start(job.group)

    def _stop_all(self) -> None:
        """Stop the jobs still running and deliver what they had sent."""
        for job in self._running:
            if job.process.is_alive():
                job.process.terminate()
        for job in self._running:
            job.process.join(STOP_GRACE)
            if job.process.is_alive():
                job.process.kill()
                job.process.join()
            try:
                while job.conn.poll():
                    kind, index, payload = job.conn.recv()
                    if kind != TOOK:
                        self.on_message(kind, index, payload)
            except (EOFError, OSError):
                pass
            job.conn.close()
        self._running = []
