"""Run each backend in a worker process of its own, and judge it outside it.

Two sides, two kinds of process.  A backend's code (its import, its
construction, every call) runs only in its worker (forked from a forkserver,
``worker_context``: no state shared with the parent, CUDA-safe).  The worker
is sent a case and sends back what the backend did with it (``Observed``:
outputs, what it raised, timings; plain data), and nothing else it says is
believed.  torch and the reference answer in an ``OracleWorker``, a process
that never imports backend code; the verdict (tolerance policy, checks,
diagnosis, shrinking) is made in the parent, which never does either.  So a
backend that patches torch, NumPy or the reference in its own process, or
changes torch's global state, moves nothing but its own outputs.

Before each step a worker writes which step it is in to a shared integer,
so that when it

* crashes (a segfault, ``os._exit``, the kernel's OOM killer), or
* does not answer within its limit (a hang: see ``limit_of``),

the parent knows whose fault it was, kills and restarts it, and records an
``error`` result that says what happened, where; the run goes on.  When it
is torch that died or hung, the case is answered by the reference alone and
flagged.  A worker's address space is capped (``RLIMIT_AS``), so a memory
hog gets a ``MemoryError`` (reported like any exception) instead of taking
the machine.  A backend that turns on flush-to-zero flushes only its own
calls (``conformance.fpenv``).

What the oracles say about a case does not depend on the backend, so their
answer is asked once per case and process and kept (``SharedOracle``) for
the next backend that checks the same case.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing as mp
import pickle
import signal
import time
from collections import OrderedDict
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
#: The allowance of every case of a backend that compiles (``compiles = True``:
#: a JIT such as ``torch-compile``), a hang before or not: any case may hold a
#: new signature, whose first call compiles for seconds (Inductor: 1 to 30 s
#: on a shared 2-core machine, a backward graph more); the ``--timeout``
#: bounds it.  Its toolchain's own first start is its ``warm_up``'s, at load.
COMPILE_ALLOWANCE = 600.0
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


#: Bytes of oracle answers a process keeps (the oldest go first): a cell's
#: cases, for the next backend that checks the same cell.
SHARED_ORACLE_BYTES = 256 << 20


#: The spec of a worker that runs no backend: it answers for the oracle alone (``OracleWorker``).
ORACLE_ONLY = "(oracle)"


def oracle_outside(spec: str) -> bool:
    """Whether a backend changes torch for its whole process even on its best
    behaviour, so that it cannot run in the oracle's process at all, not even
    by choice (``--no-isolation``): torch on a chosen CPU capability
    (``torch@avx2``: fixed at torch's first kernel)."""
    return spec.startswith("torch@")


class SharedOracle:
    """The oracle's answers (pickled ``Expected``) by oracle and case, that
    this process's oracle workers gave; at most ``max_bytes`` of them."""

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
    timing: Any = None,
    op_modules: tuple[str, ...] = (),
    forbid_torch: bool = False,
) -> None:
    """A worker's loop.  A backend's worker loads it, then for each case runs every call its verdict
    needs (``observe_case``) and sends back what the backend did (``Observed``, pickled); an
    ``ORACLE_ONLY`` worker loads torch and the reference and sends back what they say (``Expected``).
    ``shared_step``: where it writes the index (in ``PHASES``) of the step it is in, for the parent to
    read if it dies or hangs; ``timing[1]``: when the backend's step began (``limit_of``);
    ``op_modules``: the modules that registered ops outside the harness in the parent
    (``ops.plugin_modules``); ``forbid_torch``: the backend may not call torch (``torch_forbidden``)."""
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(memory_limit), int(memory_limit)))
    _ = [importlib.import_module(module) for module in op_modules]
    from conformance.cases import Case
    from conformance.execute import observe_case

    step, subnormals = ["materialize"], SubnormalMode()  # the step it is in; the backend's floating-point mode

    def phase(name: str) -> None:
        step[0] = name
        subnormals.step(name)
        if name == "backend" and timing is not None:
            timing[1] = time.monotonic()  # one clock for every process
        if shared_step is not None:
            shared_step.value = STEPS.index(name)

    backend, oracle, load_error = _load(spec, oracle_spec)
    conn.send(("ready", None))
    while (message := _next(conn)) is not None:
        if message[0] == "ask":  # a question about the backend (``RemoteBackend``)
            conn.send(("answer", None, _answer(backend, load_error, *message[1:])))
            continue
        case_json, torch_failure = message
        if load_error is not None:
            what = "the oracle" if spec == ORACLE_ONLY else "the backend"
            conn.send(("result", {"status": "error", "message": f"{what} failed to load: {load_error}"}, None))
            continue
        if spec == ORACLE_ONLY:
            conn.send(_oracle_answer(oracle, Case.from_json(case_json), phase, torch_failure))
            continue
        try:
            observed = observe_case(Case.from_json(case_json), backend, phase, forbid_torch)
            phase("compare")  # the backend's calls are over: its floating-point mode noted, the harness's back
            observed.flushes = subnormals.backend_flushes
            conn.send(("observed", None, pickle.dumps(observed, protocol=pickle.HIGHEST_PROTOCOL)))
        except BaseException as exc:  # noqa: BLE001 - anything the harness did not expect, reported not fatal
            conn.send(("result", _unexpected(exc, step[0]), None))


def _next(conn: Connection) -> Any:
    """The parent's next message; ``None`` to stop, or where the parent is gone."""
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


#: What the oracle side may ask a backend's worker, and the type of each answer.
ASKABLE = {"describe": dict, "unsupported_reason": (str, type(None))}


def _answer(backend: Any, load_error: str | None, method: str, args: tuple[Any, ...]) -> Any:
    """The answer to a question about the backend, as plain data (``ASKABLE``):
    ``describe`` gives its name, version, availability, whether it compiles
    (a JIT: ``COMPILE_ALLOWANCE``) and its kind (``"framework"``, ``"library"``:
    the report's matrices), or why it did not load."""
    if method not in ASKABLE:
        return {"error": f"{method!r} is not a question the harness asks"}
    if load_error is not None:
        return {"load_error": load_error} if method == "describe" else None
    try:
        if method == "describe":
            ok, why = backend.availability()
            compiles = getattr(backend, "compiles", False) is True
            kind = getattr(backend, "kind", None)
            return {
                "name": str(backend.name),
                "version": str(backend.version()),
                "available": bool(ok),
                "why": str(why),
                "compiles": compiles,
                "kind": kind if isinstance(kind, str) else "",
            }
        reason = backend.unsupported_reason(*args)
        return None if reason is None else str(reason)
    except Exception as exc:  # noqa: BLE001 -- a backend whose answer raises says so
        return {"error": f"{type(exc).__name__}: {exc}"} if method == "describe" else f"raised {type(exc).__name__}: {exc}"


def _load(spec: str, oracle_spec: str) -> tuple[Any, Any, str | None]:
    """A backend's worker: its backend; an ``ORACLE_ONLY`` worker: the oracle
    (its torch state pinned, ``pin_torch_state``); or why it could not load."""
    import backends
    from conformance.execute import Oracle

    try:
        if spec != ORACLE_ONLY:
            backend = backends.load(spec)
            _warm_up(backend)
            return backend, None, None
        oracle = Oracle(backends.load(oracle_spec))
        pin_torch_state()
    except BaseException as exc:  # noqa: BLE001 -- reported with every case: it cannot load here
        return None, None, f"{type(exc).__name__}: {exc}"
    return None, oracle, None


def _warm_up(backend: Any) -> None:
    """A backend's ``warm_up()``, where it has one: set-up no case should pay
    for (a JIT's compiler toolchain: Inductor's first compile in a process
    takes tens of seconds), run once in its worker, within the startup's
    limit.  What it raises is left for the cases to meet."""
    warm_up = getattr(backend, "warm_up", None)
    if callable(warm_up):
        try:
            warm_up()
        except Exception:  # noqa: BLE001,S110 -- the cases show whatever is broken
            pass


def pin_torch_state() -> None:
    """The oracle's torch as a run expects it: float32 default dtype, gradients
    on, no deterministic-algorithm mode, subnormals kept (what a backend might
    set in its own process, and a verdict must not depend on)."""
    import torch

    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    torch.use_deterministic_algorithms(False)
    torch.set_flush_denormal(False)


def _oracle_answer(oracle: Any, case: Any, phase: Any, torch_failure: str | None) -> tuple[str, dict[str, Any], Any]:
    """An ``ORACLE_ONLY`` worker's message: what torch and the reference say about ``case`` (pickled)."""
    try:
        return "result", {"status": "oracle"}, _dumps(oracle.expected(case, case.materialize(), phase, torch_failure))
    except BaseException as exc:  # noqa: BLE001 -- reported, not fatal
        return "result", _unexpected(exc, "torch"), None


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


def _op_modules() -> tuple[str, ...]:
    from conformance import ops

    return tuple(ops.plugin_modules())


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
    "compare": "returning the backend's results",
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
        forbid_torch: bool = False,
    ) -> None:
        self.spec = spec
        #: The backend's name, as its results and failure cards give it (its worker says it: ``RemoteBackend``).
        self.name = spec
        self.forbid_torch = forbid_torch
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
        #: The oracle's seconds on the case (the parent's) and when the backend's step began (the worker's).
        self._timing: Any = None
        self._oracle_s = UNKNOWN
        #: Its oracle's worker, started on the first case the store cannot answer, closed with it.
        self._oracle: OracleWorker | None = None
        self.restarts = 0
        #: The kinds of case (``_kind``) its current worker has answered, and whether the backend ever hung.
        self._warm: set[tuple[str, ...]] = set()
        self._hung = False
        #: The backend compiles on new signatures (its worker says so: ``RemoteBackend``): ``COMPILE_ALLOWANCE``.
        self.compiles = False

    def _start(self) -> None:
        self._warm = set()  # a new process pays its set-up again
        parent, child = self._ctx.Pipe()
        self._step = self._ctx.RawValue("i", STEPS.index("startup"))
        self._timing = self._ctx.RawArray("d", 2)
        self._process = self._ctx.Process(
            target=_worker_main,
            args=(
                child,
                self.spec,
                self.memory_limit,
                self.oracle_spec,
                self._step,
                self._timing,
                _op_modules(),
                self.forbid_torch,
            ),
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
            self._oracle = None

    def __enter__(self) -> IsolatedChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self, case_json: dict[str, Any], variant: str | None = None) -> dict[str, Any]:
        """The result of a case: what the oracles say (``variant``: that
        semantic variant instead of torch, for a diagnosis), what the backend
        did in its worker, and the verdict on the two, made here."""
        from conformance.cases import Case
        from conformance.verdict import judge

        answered: list[Any] = []

        def oracle() -> None:  # asked while the backend's worker runs the case: one wait for both
            answered.append(want := self._expected(case_json, variant))
            if variant is None and not isinstance(want, dict):
                self._oracle_s = self._oracle_seconds(want)
            self._timing[0] = self._oracle_s  # the backend's limit scales with it (``_wait``)

        self._oracle_s = UNKNOWN
        payload, blob = self._check(case_json, during=oracle)
        want = answered[0] if answered else self._expected(case_json, variant)
        if blob is None:
            return payload
        if isinstance(want, dict):
            return want
        return judge(Case.from_json(case_json), self.name, pickle.loads(blob), want).to_json()

    def _expected(self, case_json: dict[str, Any], variant: str | None) -> Any:
        """What the oracles say about the case (``Expected``), or the error record
        of an oracle that could not say: a variant's, computed here (our own
        reference code); torch's and the reference's, from this process's store
        or its ``OracleWorker``."""
        if variant is not None:
            from conformance.cases import Case
            from conformance.diagnosis import VariantOracle

            case = Case.from_json(case_json)
            start = time.monotonic()
            want = VariantOracle(variant).expected(case, case.materialize())
            self._oracle_s = time.monotonic() - start
            return want
        key = SharedOracle.key(self.oracle_spec, case_json)
        blob = self.shared.get(key) if self.shared is not None else None
        if blob is None:
            if self._oracle is None:
                self._oracle = OracleWorker(self.oracle_spec, self.timeout, self.memory_limit)
            blob = self._oracle.answer(case_json)
            if blob is not None and self.shared is not None:
                self.shared.put(key, blob)
        want = _loads(blob)
        if want is None:
            return {"status": "error", "message": "the oracle's worker gave no answer (torch and the reference)"}
        return want

    @staticmethod
    def _oracle_seconds(want: Any) -> float:
        """What the backend's limit scales with: torch's time on the case (0 where
        it raised: the backend should raise as fast); ``UNKNOWN`` where torch
        dies or hangs on it (the backend gets the whole timeout)."""
        from conformance.execute import TorchFailed

        if isinstance(want.torch_crash, TorchFailed):
            return UNKNOWN
        return want.torch_time_s or 0.0

    def _check(
        self, case_json: dict[str, Any], torch_failure: str | None = None, during: Any = None
    ) -> tuple[dict[str, Any], bytes | None]:
        """The worker's answer (pickled) to the case; ``None`` and the error
        record where it had none (it died, hung, or erred outside the backend).
        ``during``: called once the case is sent, while the worker runs it."""
        step, limit = "materialize", None
        try:
            if self._process is None or not self._process.is_alive():
                step = "startup"
                failed = self._started()
                if failed is not None:
                    return failed, None
                step = "materialize"
            assert self._conn is not None and self._step is not None
            self._step.value = STEPS.index(step)
            self._timing[0] = self._oracle_s
            self._conn.send((case_json, torch_failure))
            if during is not None:
                during()
            kind = _kind(case_json)
            limit = self._wait(self._allowance(kind))
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

    def _started(self) -> dict[str, Any] | None:
        """Start the worker and wait until it has loaded (its own clock, not a
        case's: a loaded machine takes seconds to import torch); ``None`` once
        it is ready, else the error record."""
        self._start()
        assert self._conn is not None
        if not self._conn.poll(STARTUP_TIMEOUT):
            self._kill()
            self.restarts += 1
            return {
                "status": "error",
                "message": f"the worker did not start within {STARTUP_TIMEOUT:g} s "
                "(importing and loading the backend and torch)",
                "isolation": "timeout",
                "phase": "startup",
            }
        self._conn.recv()  # ("ready", None)
        return None

    def ask(self, method: str, *args: Any) -> Any:
        """A question about the backend (``ASKABLE``), answered by its worker
        within ``timeout``; a dict with ``error`` where the worker died or hung."""
        try:
            if self._process is None or not self._process.is_alive():
                failed = self._started()
                if failed is not None:
                    return {"error": failed["message"], "load_error": failed["message"]}
            assert self._conn is not None and self._step is not None
            self._step.value = STEPS.index("startup")
            self._conn.send(("ask", method, args))
            if self._conn.poll(self.timeout):
                return self._conn.recv()[2]
            what = f"no answer within {self.timeout:g} s"
        except (EOFError, OSError, BrokenPipeError):
            self._process.join(5)
            what = f"the worker died ({exit_text(self._process.exitcode)})"
        self._kill()
        self.restarts += 1
        return {"error": f"{what} while loading the backend", "load_error": f"{what} while loading the backend"}

    def _allowance(self, kind: tuple[str, ...]) -> float:
        """The backend step's seconds beyond the scaled oracle time (``HANG_ALLOWANCE`` and the others)."""
        if self.compiles:
            return COMPILE_ALLOWANCE
        return HANG_ALLOWANCE if kind in self._warm or self._hung else FIRST_CALL_ALLOWANCE

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
        result, answer = self._check(case_json)
        if result.get("isolation") and result.get("phase") == "torch":
            # torch itself died or hung on this case: the reference alone answers
            result, answer = self._check(case_json, result["message"].split(" while running")[0])
        return answer



class RemoteBackend:
    """A backend as the oracle side knows it, never loaded in this process:
    its worker (``worker``, an ``IsolatedChecker``, which also checks its
    cases) says who it is and what it takes, each question asked once.  A
    backend that raised, exited, crashed or hung while loading keeps its spec
    as its name and ``load_error``; each of its cases then says why."""

    def __init__(self, spec: str, worker: IsolatedChecker) -> None:
        self.spec, self.worker = spec, worker
        info = worker.ask("describe")
        self.load_error: str | None = info.get("load_error") or info.get("error")
        self.name: str = str(info.get("name") or spec)
        worker.name = self.name
        self._version = str(info.get("version") or "unknown")
        self._availability = (bool(info.get("available", True)), str(info.get("why", "")))
        #: Whether it compiles on new signatures, and its kind (``"framework"``, ``"library"``, ``""``).
        self.compiles = worker.compiles = info.get("compiles") is True
        self.kind = str(info.get("kind") or "")
        self._unsupported: dict[tuple[str, str, str], str | None] = {}

    def version(self) -> str:
        return self._version

    def availability(self) -> tuple[bool, str]:
        return self._availability

    def unsupported_reason(self, op: str, dtype: str, params: Any) -> str | None:
        key = (op, dtype, json.dumps(dict(params), sort_keys=True, default=str))
        if key not in self._unsupported:
            answer = None if self.load_error else self.worker.ask("unsupported_reason", op, dtype, dict(params))
            self._unsupported[key] = f"could not say: {answer['error']}" if isinstance(answer, dict) else answer
        return self._unsupported[key]
