"""Run cases in worker processes, so that a backend cannot take the run down.

Each backend under test gets one long-lived worker process (forked from a
forkserver, ``worker_context``: no state shared with the parent, CUDA-safe).  The parent sends a
case; the worker runs the whole check — the torch oracle, the reference and
the backend — and sends back the result.  Before each step it writes which
step it is in to a shared integer (a message per step cost each case five
wake-ups of the parent), so that when the worker

* crashes (a segfault, ``os._exit``, the kernel's OOM killer), or
* does not answer within its limit (a hang: see ``limit_of``),

the parent knows whose fault it was, kills and restarts the worker, and
records an ``error`` result that says what happened, where; the run goes on.
When it is torch that died or hung, the case is checked again without torch,
the backend judged against the reference alone and the case flagged.
The worker's address space is capped (``RLIMIT_AS``), so a memory hog gets a
``MemoryError`` (reported like any exception) instead of taking the machine.
A backend that turns on flush-to-zero flushes only its own calls: the
worker's other steps run with it off (``conformance.fpenv``).

What the oracles (torch and the reference) say about a case does not depend
on the backend, so the worker of one of the harness's own backends
(``TRUSTED``) sends it back with the result, and a later backend's worker in
the same process checks the same case against it instead of asking torch and
the reference again (``SharedOracle``): a third of a check's time.  A
plug-in's worker never sends its oracle's answers: a backend that changed
torch in its own process (thread settings, floating-point flags, a patched
function) could otherwise move another backend's verdicts.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import pickle
import signal
import time
from collections import OrderedDict
from functools import cache
from multiprocessing.connection import Connection
from typing import Any

from conformance.fpenv import SubnormalMode

#: Default per-case timeout (seconds) and address-space cap (bytes) of a worker.
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = 8 << 30
#: Seconds a new worker may take to import and load its backend and torch
#: before its first case: not part of any case's timeout (a loaded machine
#: takes seconds to import torch, which is no hang of the case).
STARTUP_TIMEOUT = 300.0
#: The backend's step of a case may take ``timeout_scale`` (default this)
#: times what the oracle took on the case, plus ``HANG_ALLOWANCE`` seconds,
#: and never more than the timeout: a hang on the small cases Hypothesis
#: draws is called in seconds instead of a whole ``--timeout``, while a slow
#: but working backend still gets its time on a large case (a hundred times
#: torch's is slower than any port worth checking: a pure-Python loop over a
#: large image is about that).  The oracle's own steps keep the full timeout.
DEFAULT_TIMEOUT_SCALE = 100.0
#: Seconds the backend's step gets beyond the scaled oracle time: its own
#: warm-up on a case (lazy imports, a JIT compiling a new shape, the first
#: call of a cell timed twice), which no oracle time predicts.
HANG_ALLOWANCE = 2.0
#: The allowance of a worker's first case of a kind (op, mode, direction,
#: dtype) until the backend has hung once: a first call pays for lazy set-up
#: (oneDNN compiles its kernels on first use, a JIT its shape) and, on a
#: loaded machine, for sharing the cores: 2 s called a working torch@avx2 a
#: hang under ``pytest -n 2``.  A backend that hung once gets the short one.
FIRST_CALL_ALLOWANCE = 10.0
#: The parent's first wait for an answer while the oracle runs (seconds),
#: doubled up to ``MAX_POLL``: it must notice the backend's step starting,
#: and a case answers within the first wait almost always (one wake-up).
FIRST_POLL, MAX_POLL = 0.02, 0.25


#: What a forkserver imports once, before it forks any worker.
PRELOAD = ["numpy", "torch", "torch.nn.functional", "backends", "conformance.verdict", "conformance.diagnosis"]


def worker_context() -> Any:
    """``forkserver`` where there is one, else ``spawn``.  Both start a worker
    from a clean process, not from the parent's state (CUDA-safe: importing
    torch initialises no CUDA).  The forkserver imports torch and the harness
    once, so each worker, a restart after a crash or a hang included, starts
    in milliseconds instead of seconds."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_worker_server(argv: list[str]) -> None:
    """Start the forkserver now, for a command that will need it (``run``
    without ``--no-isolation``): it imports ``PRELOAD`` in its own process
    while this one imports the same modules, instead of after, so a run's
    first worker or job is ready seconds sooner.  Nothing if the command
    will not start workers, or the platform has no forkserver.  (A module
    it cannot import it skips in silence: the command names it.)"""
    if argv[:1] != ["run"] or {"--no-isolation", "-h", "--help"} & set(argv):
        return
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()  # returns at once: the server imports on its own


#: The backends whose workers' oracle answers other backends' checks may use:
#: the harness's own, which leave torch as they found it.
TRUSTED = ("numpy", "reference", "torch", "torch-cuda", "cupy")
#: Bytes of oracle answers a process keeps (the oldest go first): a cell's
#: cases, for the next backend that checks the same cell.
SHARED_ORACLE_BYTES = 256 << 20


#: The spec of a worker that runs no backend: it answers for the oracle alone (``OracleWorker``).
ORACLE_ONLY = "(oracle)"


def oracle_outside(spec: str) -> bool:
    """Whether a backend changes torch for its whole process, so that its
    worker's own oracle would answer on the backend's path, not the run's:
    torch on a chosen CPU capability (``torch@avx2``: fixed at torch's first
    kernel).  Its cases get the oracle's answer from an ``OracleWorker``."""
    return spec.startswith("torch@")


def trusted(spec: str) -> bool:
    """Whether a worker of ``spec`` may answer for the oracle in other backends' checks."""
    from backends import VARIANT_PREFIX

    return spec in TRUSTED or spec.startswith(VARIANT_PREFIX)


class SharedOracle:
    """The oracle's answers (pickled ``Expected``) by oracle and case, that
    the workers of trusted backends sent back; at most ``max_bytes`` of them."""

    def __init__(self, max_bytes: int = SHARED_ORACLE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._blobs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(oracle_spec: str, case_json: dict[str, Any]) -> tuple[str, str]:
        return oracle_spec, json.dumps(case_json, sort_keys=True)

    def get(self, key: tuple[str, str]) -> bytes | None:
        return self._blobs.get(key)

    def put(self, key: tuple[str, str], blob: bytes) -> None:
        if len(blob) > self.max_bytes or key in self._blobs:
            return
        self._blobs[key] = blob
        self._bytes += len(blob)
        while self._bytes > self.max_bytes:
            _, dropped = self._blobs.popitem(last=False)
            self._bytes -= len(dropped)


#: This process's answers, shared by its checkers (a job checks a cell's backends one after another).
SHARED = SharedOracle()


def _dumps(expected: Any) -> bytes | None:
    """``expected`` pickled; ``None`` if it will not pickle (an exception torch raised may not)."""
    try:
        return pickle.dumps(expected, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def _loads(blob: bytes | None) -> Any:
    """The ``Expected`` another worker sent; ``None`` (ask the oracles) if it will not load."""
    if blob is None:
        return None
    try:
        return pickle.loads(blob)
    except Exception:
        return None


def _worker_main(
    conn: Connection,
    spec: str,
    memory_limit: int | None,
    oracle_spec: str = "torch",
    shared_step: Any = None,
    share: bool = False,
    timing: Any = None,
) -> None:
    """The worker's loop: load the backend, then check cases until told to stop.
    ``shared_step``: a shared integer, where it writes the index (in ``PHASES``)
    of the step it is in, for the parent to read if it dies or hangs.
    ``share``: send back what the oracles said about each case, for other
    backends' checks of it.  ``timing``: see ``OracleClock``."""
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(memory_limit), int(memory_limit)))
    from conformance.cases import Case
    from conformance.diagnosis import VariantOracle
    from conformance.verdict import judge_case

    variant_oracle = cache(VariantOracle)
    step, subnormals, clock = ["materialize"], SubnormalMode(), OracleClock(timing)

    def phase(name: str) -> None:
        step[0] = name
        subnormals.step(name)
        clock.step(name)
        if shared_step is not None:
            shared_step.value = STEPS.index(name)

    backend, oracle, load_error = _load(spec, oracle_spec)
    conn.send(("ready", None))
    while True:
        message = conn.recv()
        if message is None:
            return
        case_json, torch_failure, variant, known = message
        if spec == ORACLE_ONLY and load_error is None:
            conn.send(_oracle_answer(oracle, Case.from_json(case_json), phase, torch_failure))
            continue
        if backend is None:
            conn.send(("result", {"status": "error", "message": f"the backend failed to load: {load_error}"}, None))
            continue
        answer = None
        try:
            judge = oracle if variant is None else variant_oracle(variant)
            clock.start(want := _loads(known), torch_failure)
            outcome, used = judge_case(Case.from_json(case_json), backend, judge, phase, torch_failure, want)
            result = subnormals.explain(outcome).to_json()
            if share and variant is None and want is None and used is not None:
                answer = _dumps(used)
        except BaseException as exc:  # noqa: BLE001 - anything the harness did not expect, reported not fatal
            result = _unexpected(exc, step[0])
        conn.send(("result", result, answer))


def _load(spec: str, oracle_spec: str) -> tuple[Any, Any, str | None]:
    """The worker's backend (``None`` for ``ORACLE_ONLY``) and oracle, or why they could not load."""
    import backends
    from conformance.execute import Oracle

    try:
        backend = None if spec == ORACLE_ONLY else backends.load(spec)
        oracle = Oracle(backends.load(oracle_spec))
        import torch.nn.functional  # noqa: F401 -- the oracle's first case must not pay for the import
    except Exception as exc:  # reported with every case: the backend cannot load here
        return None, None, f"{type(exc).__name__}: {exc}"
    return backend, oracle, None


def _oracle_answer(oracle: Any, case: Any, phase: Any, torch_failure: str | None) -> tuple[str, dict[str, Any], Any]:
    """An ``ORACLE_ONLY`` worker's message: what torch and the reference say about ``case`` (pickled)."""
    try:
        return "result", {"status": "oracle"}, _dumps(oracle.expected(case, case.materialize(), phase, torch_failure))
    except BaseException as exc:  # noqa: BLE001 -- reported, not fatal
        return "result", _unexpected(exc, "torch"), None


class OracleClock:
    """Times a case's oracle steps in the worker, and writes into ``timing``
    (two shared floats) the oracle's seconds and the time (``time.monotonic``,
    one clock for every process) when the backend's step begins, before the
    step itself: the parent then knows the step's limit while it runs.

    The oracle's seconds: torch's step where it ran; what torch took when
    another backend's check already asked it (``want``; 0 where torch
    raised: the backend should raise as fast); the reference's step where a
    variant stands for torch (a diagnosis); ``UNKNOWN`` where torch is known
    to die or hang on the case (the step gets the full timeout)."""

    def __init__(self, timing: Any) -> None:
        self.timing = timing
        self.spent: dict[str, float] = {}
        self.current = ("materialize", time.monotonic())
        self.known: float | None = None

    def start(self, want: Any, torch_failure: str | None) -> None:
        self.spent, self.current = {}, ("idle", time.monotonic())
        self.known = UNKNOWN if torch_failure is not None else None
        if want is not None:
            self.known = want.torch_time_s or 0.0

    def step(self, name: str) -> None:
        now = time.monotonic()
        previous, since = self.current
        self.spent[previous] = self.spent.get(previous, 0.0) + now - since
        self.current = (name, now)
        if name == "backend" and self.timing is not None:
            oracle = self.known if self.known is not None else self.spent.get("torch", self.spent.get("reference"))
            self.timing[0] = UNKNOWN if oracle is None else oracle
            self.timing[1] = now


#: The oracle's seconds where they are not known: the backend's step gets the full timeout.
UNKNOWN = -1.0


def limit_of(
    timeout: float, scale: float, oracle_s: float, allowance: float = HANG_ALLOWANCE
) -> tuple[float, dict[str, Any]]:
    """The backend step's limit (seconds) after the oracle took ``oracle_s``
    on the case (``DEFAULT_TIMEOUT_SCALE``), and how it was set: a result's
    ``limit`` record (``seconds``, ``oracle_s``, ``rule``, ``text``)."""
    if oracle_s < 0 or scale <= 0 or scale * oracle_s + allowance >= timeout:
        known = None if oracle_s < 0 else oracle_s
        return timeout, {"seconds": timeout, "oracle_s": known, "rule": "timeout", "text": "the --timeout"}
    limit = scale * oracle_s + allowance
    text = f"{scale:g}x the oracle's {oracle_s:.2g} s + {allowance:g} s allowance"
    return limit, {"seconds": round(limit, 3), "oracle_s": oracle_s, "rule": "scaled", "text": text}


def _kind(case_json: dict[str, Any]) -> tuple[str, ...]:
    """What a first call of a worker pays set-up for: op, mode, direction, dtype."""
    params, spec = case_json.get("params") or {}, case_json.get("input") or {}
    return tuple(str(v) for v in (case_json.get("op"), params.get("mode"), case_json.get("direction"), spec.get("dtype")))


def _unexpected(exc: BaseException, step: str) -> dict[str, Any]:
    """The ``error`` result of an exception the harness did not expect: what, in which step, where."""
    import traceback

    last = traceback.extract_tb(exc.__traceback__)[-1]
    return {
        "status": "error",
        "message": f"{type(exc).__name__}: {exc} (while running {PHASES[step]}, at {last.filename}:{last.lineno})",
        "phase": step,
    }


def exit_text(code: int | None) -> str:
    """How a process ended, from its exit code: ``signal 11 (SIGSEGV)``."""
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


#: What each step of a check is, for the message when a worker dies in it.
PHASES = {
    "startup": "starting the worker (loading the backend and torch)",
    "materialize": "making the inputs",
    "torch": "the torch oracle",
    "reference": "the reference",
    "backend": "the backend",
    "compare": "comparing the results",
}
STEPS = tuple(PHASES)


class IsolatedChecker:
    """Checks cases of one backend spec in a worker process (see module doc).

    ``check(case)`` returns the result's JSON record; a crash or timeout comes
    back as an ``error`` record with ``isolation`` set to ``"crash"`` or
    ``"timeout"`` and the step it happened in (a timeout: with its ``limit``).
    Each case's steps must end within ``timeout`` of its start, the backend's
    within ``limit_of(timeout, timeout_scale, what the oracle took)``.
    """

    def __init__(
        self,
        spec: str,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
        oracle_spec: str = "torch",
        shared: SharedOracle | None = SHARED,
        timeout_scale: float = DEFAULT_TIMEOUT_SCALE,
    ) -> None:
        self.spec = spec
        self.timeout_scale = timeout_scale
        self.oracle_spec = oracle_spec
        #: Where the oracle's answers are shared with other checkers (``None``: not shared).
        self.shared = shared
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._ctx = worker_context()
        self._process: Any = None
        self._conn: Connection | None = None
        #: The step the worker is in (an index into ``STEPS``), written by the worker.
        self._step: Any = None
        #: The oracle's seconds on the case and when the backend's step began (``OracleClock``).
        self._timing: Any = None
        self.restarts = 0
        #: The kinds of case (``_kind``) its current worker has answered, and whether the backend ever hung.
        self._warm: set[tuple[str, ...]] = set()
        self._hung = False
        #: Where its cases' oracle answers come from when its own worker may not give them.
        self._oracle: OracleWorker | None = None
        if oracle_outside(spec):
            self._oracle = OracleWorker(oracle_spec, timeout, memory_limit)

    def _start(self) -> None:
        self._warm = set()  # a new process pays its set-up again
        parent, child = self._ctx.Pipe()
        self._step = self._ctx.RawValue("i", STEPS.index("startup"))
        self._timing = self._ctx.RawArray("d", 2)
        self._process = self._ctx.Process(
            target=_worker_main,
            args=(child, self.spec, self.memory_limit, self.oracle_spec, self._step, trusted(self.spec), self._timing),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(5)
        self._kill()
        if self._oracle is not None:
            self._oracle.close()

    def __enter__(self) -> IsolatedChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self, case_json: dict[str, Any], variant: str | None = None) -> dict[str, Any]:
        """The result of a case; ``variant``: judged against that semantic
        variant instead of torch (for a diagnosis)."""
        shared = self.shared if variant is None else None  # a variant's answers are its own
        key = SharedOracle.key(self.oracle_spec, case_json) if shared is not None else ("", "")
        known = shared.get(key) if shared is not None else None
        if known is None and self._oracle is not None and variant is None:
            known = self._oracle.answer(case_json)
            if known is None:
                return {"status": "error", "message": "the oracle's worker gave no answer to pass on to the backend's"}
        result, answer = self._check(case_json, None, variant, known)
        if result.get("isolation") and result.get("phase") == "torch":
            # torch itself died or hung on this case: that is torch's failure,
            # not the backend's; check the backend against the reference alone.
            result, answer = self._check(case_json, result["message"].split(" while running")[0], variant, None)
        if answer is not None and shared is not None:
            shared.put(key, answer)
        elif self._oracle is not None and known is not None and shared is not None:
            shared.put(key, known)
        return result

    def _check(
        self, case_json: dict[str, Any], torch_failure: str | None, variant: str | None, known: bytes | None
    ) -> tuple[dict[str, Any], bytes | None]:
        """The worker's result and the oracle's answer it sent (pickled), if any."""
        step, limit = "materialize", None
        try:
            if self._process is None or not self._process.is_alive():
                step = "startup"
                self._start()
                assert self._conn is not None
                # the case's clock starts once the worker has loaded everything
                if not self._conn.poll(STARTUP_TIMEOUT):
                    self._kill()
                    self.restarts += 1
                    return {
                        "status": "error",
                        "message": f"the worker did not start within {STARTUP_TIMEOUT:g} s "
                        "(importing and loading the backend and torch)",
                        "isolation": "timeout",
                        "phase": "startup",
                    }, None
                self._conn.recv()  # ("ready", None)
                step = "materialize"
            assert self._conn is not None and self._step is not None
            self._step.value = STEPS.index(step)
            self._conn.send((case_json, torch_failure, variant, known))
            kind = _kind(case_json)
            limit = self._wait(HANG_ALLOWANCE if kind in self._warm or self._hung else FIRST_CALL_ALLOWANCE)
            if limit is None:
                _, payload, answer = self._conn.recv()
                self._warm.add(kind)
                return payload, answer
            step = STEPS[self._step.value]
            self._hung = self._hung or step == "backend"
            what = "timeout"
            within = f"{limit['seconds']:.3g} s ({limit['text']}; a hang?)"
            detail = f"no answer within {within} while running {PHASES[step]}"
        except (EOFError, OSError, BrokenPipeError):
            self._process.join(5)
            if self._step is not None:
                step = STEPS[self._step.value]
            what = "crash"
            detail = f"the worker died ({exit_text(self._process.exitcode)}) while running {PHASES[step]}"
        self._kill()
        self.restarts += 1
        blame = "" if step == "backend" else " (not the backend's own code)"
        error = {"status": "error", "message": detail + blame, "isolation": what, "phase": step}
        return ({**error, "limit": limit} if limit is not None else error), None

    def _wait(self, allowance: float) -> dict[str, Any] | None:
        """Wait for the worker's answer to the case just sent: ``None`` once it
        is there, else the limit that ran out (``limit_of``'s record).  Every
        step ends within ``timeout`` of now; the backend's within its own
        limit of its start, which the parent learns when it begins (so it
        polls in short, growing waits until then)."""
        assert self._conn is not None and self._step is not None and self._timing is not None
        end = time.monotonic() + self.timeout
        pause, backend = FIRST_POLL, STEPS.index("backend")
        while True:
            deadline, in_backend = end, self._step.value == backend
            limit = limit_of(self.timeout, 0.0, UNKNOWN)
            if in_backend:  # the worker wrote the timing before the step
                limit = limit_of(self.timeout, self.timeout_scale, self._timing[0], allowance)
                deadline = min(end, self._timing[1] + limit[0])
            wait = max(0.0, deadline - time.monotonic())
            if self._conn.poll(wait if in_backend else min(wait, pause)):
                return None
            pause = min(2 * pause, MAX_POLL)
            now = time.monotonic()
            if now >= end or (now >= deadline and self._step.value == backend):
                return limit[1]


class OracleWorker(IsolatedChecker):
    """torch (on the run's own CPU path) and the reference in a worker of
    their own, for a backend whose worker may not answer for them
    (``oracle_outside``); a torch crash or hang there is torch's, and the
    case is then answered by the reference alone."""

    def __init__(self, oracle_spec: str, timeout: float, memory_limit: int | None) -> None:
        super().__init__(ORACLE_ONLY, timeout, memory_limit, oracle_spec, shared=None)

    def answer(self, case_json: dict[str, Any]) -> bytes | None:
        """What the oracles say about the case (a pickled ``Expected``), ``None`` if they could not say."""
        result, answer = self._check(case_json, None, None, None)
        if result.get("isolation") and result.get("phase") == "torch":
            result, answer = self._check(case_json, result["message"].split(" while running")[0], None, None)
        return answer
