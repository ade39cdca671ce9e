"""Executing a case: on the backend under test, on torch and on the reference.

The backend is called through the protocol (``from_numpy``, the op or its
``vjp``, ``synchronize``, ``to_numpy``).  torch runs the op's ``torch_code``
from the registry, the very statements a repro prints, on tensors made by the
oracle backend (``torch`` or ``torch-cuda``: it decides the device).  The
reference runs the registry's float64 forward or VJP.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backends import Backend, Unsupported
from backends.reference_backend import to_dtype
from conformance import ops
from conformance.cases import Case, compiled
from conformance.repro import gradient_inputs, torch_lines
from reference.dtypes import is_complex

Phase = Callable[[str], None]

#: The (side, op, mode, direction, dtype) combinations this process has
#: already run once: the first call of each pays for lazy set-up (imports,
#: kernel selection, a GPU's compilation and caches), which is not the op's
#: time, so it is run once untimed before the timed call.
_warmed: set[tuple[str, ...]] = set()


def _first_time(side: str, case: Case) -> bool:
    key = (side, case.op, case.mode, case.direction, case.dtype)
    if key in _warmed:
        return False
    _warmed.add(key)
    return True


def no_phase(name: str) -> None:
    return None


def _as_tuple(out: Any) -> tuple[Any, ...]:
    return tuple(out) if isinstance(out, tuple) else (out,)


def invoke(
    backend: Any, case: Case, args: dict[str, Any], op: str | None = None, params: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """Call the case on the backend's arrays ``args``: the op (or ``op``
    instead, with ``params``), or for a backward case its ``vjp``, whose
    gradients come back in the registry's ``differentiable`` order."""
    args = dict(args)
    x = args.pop("x")
    params = case.params if params is None else params
    if case.direction == "backward":
        return _in_order(case, backend.vjp(case.op, args.pop("grad_output"), x, **args, **params), "vjp")
    return _as_tuple(getattr(backend, op or case.op)(x, **args, **params))


def _in_order(case: Case, grads: dict[str, Any], path: str) -> tuple[Any, ...]:
    """The gradients in the registry's ``differentiable`` order."""
    order = gradient_inputs(case)
    if set(order) != set(grads):
        raise TypeError(f"{path} returned gradients for {sorted(grads)}; expected {order}")
    return tuple(grads[n] for n in order)


def residual_vjp(backend: Any, case: Case, args: dict[str, Any]) -> tuple[Any, ...] | None:
    """A backward case through the backend's residual path
    (``backends.protocol.ResidualBackend``: ``forward_with_residuals``, then
    ``vjp_from_residuals``), the gradients in ``invoke``'s order; ``None``
    where the backend has no such path or keeps no residuals for the op."""
    if case.direction != "backward" or not callable(getattr(backend, "vjp_from_residuals", None)):
        return None
    args = dict(args)
    x, g = args.pop("x"), args.pop("grad_output")
    try:
        _, saved = backend.forward_with_residuals(case.op, x, **args, **case.params)
        grads = backend.vjp_from_residuals(case.op, saved, g)
    except Unsupported:
        return None
    return _in_order(case, grads, "vjp_from_residuals")


def _observe_residuals(
    backend: Backend, case: Case, pristine: dict[str, np.ndarray]
) -> tuple[tuple[np.ndarray, ...] | None, str | None]:
    """``residual_vjp`` on fresh copies of the inputs: its gradients as NumPy,
    or what it raised (described), or neither (no residual path)."""
    try:
        outs = residual_vjp(backend, case, {name: backend.from_numpy(a.copy()) for name, a in pristine.items()})
    except Exception as exc:
        return None, describe(exc)
    return (None if outs is None else tuple(np.asarray(backend.to_numpy(o)) for o in outs)), None


def call(
    backend: Backend,
    case: Case,
    arrays: dict[str, np.ndarray],
    op: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[tuple[np.ndarray, ...], float]:
    """Convert the inputs (the caller's to give away), run the case between
    two ``synchronize()`` calls, and read the outputs back."""
    args = {name: backend.from_numpy(a) for name, a in arrays.items()}
    backend.synchronize()
    start = time.perf_counter()
    out = invoke(backend, case, args, op, params)
    backend.synchronize()
    elapsed = time.perf_counter() - start
    return tuple(np.asarray(backend.to_numpy(o)) for o in out), elapsed


@dataclass
class Observation:
    """What the backend did with a case: its outputs (as NumPy), the op's and
    the input transfer's time, the types of its raw outputs, its array type,
    and the inputs it modified."""

    outputs: tuple[np.ndarray, ...]
    time_s: float
    transfer_s: float
    output_types: tuple[type, ...]
    array_type: type
    mutated: list[str]
    #: A backward case on a backend with the residual path: its gradients, or what it raised.
    residual_outputs: tuple[np.ndarray, ...] | None = None
    residual_error: str | None = None
    #: Where the case was timed on a second call: the first call's time (a JIT's compile included).
    first_call_s: float | None = None


def observe(backend: Backend, case: Case, arrays: dict[str, np.ndarray], pristine: dict[str, np.ndarray]) -> Observation:
    """Run the case on ``arrays`` as they are (their memory layout is part of
    the case), timing the transfer (``from_numpy``: host to device on a GPU)
    apart from the op, and compare the inputs afterwards with ``pristine``.

    The outputs checked are always those of this first call.  The first case
    of a cell is timed on a second call on copies (the first paid for the
    cell's warm-up), and so is every case of a backend that compiles
    (``compiles = True``: a JIT, whose first call of a new signature
    compiles); the first call's time is kept apart (``first_call_s``)."""
    backend.synchronize()
    start = time.perf_counter()
    args = {name: backend.from_numpy(a) for name, a in arrays.items()}
    backend.synchronize()
    transfer = time.perf_counter() - start
    start = time.perf_counter()
    outs = invoke(backend, case, args)
    backend.synchronize()
    elapsed = time.perf_counter() - start
    got = tuple(np.asarray(backend.to_numpy(o)) for o in outs)
    mutated = [
        name
        for name, a in args.items()
        if not np.array_equal(np.asarray(backend.to_numpy(a)), pristine[name], equal_nan=True)
    ]
    first_call = None
    if _first_time(f"backend:{backend.name}", case) or getattr(backend, "compiles", False) is True:
        first_call = elapsed
        try:
            _, elapsed = call(backend, case, {name: a.copy() for name, a in pristine.items()})
        except Exception:  # noqa: S110 -- a timing only: the first call's outputs are what is judged
            pass
    residual = _observe_residuals(backend, case, pristine)
    kinds = tuple(type(o) for o in outs)
    return Observation(got, elapsed, transfer, kinds, type(args["x"]), mutated, *residual, first_call_s=first_call)


@dataclass(frozen=True)
class Raised:
    """An exception a backend raised, as the oracle side sees it: its class by
    qualified name (and those of its bases), its message, its traceback's
    text; plain strings, never the object, which could only be unpickled by
    importing the backend's code (and could say anything of itself)."""

    cls: str
    bases: tuple[str, ...]
    message: str
    traceback: str = ""
    #: The whole text: each exception of the chain (``__cause__``, ``__context__``), class and message.
    chain: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> Raised:
        import traceback

        names = tuple(qualified(t) for t in type(exc).__mro__)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
        return cls(names[0], names[1:], _text(exc), text, chain_text(exc))

    @property
    def name(self) -> str:
        return self.cls.rpartition(".")[2]

    def is_a(self, exc: BaseException) -> bool:
        """Of ``exc``'s class or a subclass of it (the contract: code that
        catches torch's class catches it)."""
        return qualified(type(exc)) in (self.cls, *self.bases)

    def is_exactly(self, exc: BaseException) -> bool:
        return self.cls == qualified(type(exc))

    def describe(self) -> str:
        """The class and the first line of the message, with how many lines
        more the whole text (``chain``: the message and its chained causes) has."""
        lines = self.message.strip().splitlines()
        more = len((self.chain or self.message).strip().splitlines()) - 1
        return f"{self.name}: {lines[0] if lines else ''}" + (f" ({more} more lines)" if more > 0 else "")

    def to_json(self) -> dict[str, Any]:
        """The record of what it raised (``raised``): the exact class, its bases,
        its message, the whole text (its chained causes first, as Python prints them)."""
        return {"class": self.cls, "bases": list(self.bases), "message": self.message, "text": self.chain or self.message}


def qualified(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


#: Exceptions of a chain written out at most (a cycle or a runaway chain stops there).
MAX_CHAIN = 8


def chain_text(exc: BaseException) -> str:
    """``exc``'s class and message, then each exception it was raised from or
    while handling (``__cause__``, else an unsuppressed ``__context__``), as
    Python's traceback words them."""
    parts, seen, current = [], set(), exc
    while current is not None and id(current) not in seen and len(parts) < MAX_CHAIN:
        seen.add(id(current))
        parts.append(f"{qualified(type(current))}: {_text(current)}")
        if current.__cause__ is not None:
            parts.append("The above exception was the direct cause of the following exception:")
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.append("During handling of the above exception, another exception occurred:")
            current = current.__context__
        else:
            current = None
    if len(parts) % 2 == 0:  # ends on a joining sentence: the chain was cut
        parts.pop()
    # written innermost first, as Python prints a chain
    return "\n\n".join(reversed(parts))


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as inner:  # noqa: BLE001 -- a backend's exception whose str() fails says so
        return f"<str() of the exception raised {type(inner).__name__}>"


#: What a backend's extra call gave: its outputs, or what it raised.
Outcome = tuple[np.ndarray, ...] | Raised


@dataclass
class Observed:
    """Everything a backend did with one case, made in the process the backend
    runs in and sent to the oracle side as plain data (NumPy arrays, strings):
    the verdict is made there, from this, by code the backend never ran beside.

    ``unsupported``: it declined the case (its reason).  ``outputs``: its
    results as base-class NumPy arrays (``raised``: what it raised instead).
    ``wrong_types``: the classes of outputs that are not its ``array_type``.
    ``contiguous``: its results on contiguous copies of a non-contiguous
    input; ``alias``: an alias's ``interpolate`` call; ``again``: a gradient
    computed a second time (each ``None`` where the case needs none)."""

    unsupported: str | None = None
    outputs: tuple[np.ndarray, ...] | None = None
    raised: Raised | None = None
    time_s: float | None = None
    transfer_s: float | None = None
    wrong_types: tuple[str, ...] = ()
    array_type: str = ""
    mutated: tuple[str, ...] = ()
    contiguous: Outcome | None = None
    alias: Outcome | None = None
    again: Outcome | None = None
    call: Any = None
    flushes: bool = False
    #: The torch calls it made where torch was forbidden (``torch_forbidden``).
    torch_calls: tuple[str, ...] = ()
    #: A backward case on a backend with the residual path: its gradients, or what it raised (described).
    residual_outputs: tuple[np.ndarray, ...] | None = None
    residual_error: str | None = None
    #: What it wrote to stdout and stderr meanwhile (``conformance.capture.Output.record``).
    output: dict[str, Any] | None = None
    #: Where the case was timed on a second call: the first call's time (``Observation.first_call_s``).
    first_call_s: float | None = None


def plain(outputs: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """The outputs as base-class NumPy arrays of plain dtypes (a subclass or an
    object array would carry the backend's own classes across)."""
    arrays = tuple(np.asarray(o).view(np.ndarray) for o in outputs)
    if any(a.dtype.hasobject for a in arrays):
        raise TypeError("returned an array of Python objects, not numbers")
    return arrays


def observe_case(case: Case, backend: Backend, phase: Phase = no_phase, forbid_torch: bool = False) -> Observed:
    """Run ``case`` on ``backend`` with every call its verdict needs (the case
    as drawn; a contiguous copy of a non-contiguous input; an alias's
    ``interpolate``; a gradient twice): the backend side of a check.
    ``forbid_torch`` (or the backend's ``uses_torch = False``): any torch
    call it makes is recorded (``Observed.torch_calls``) and raises."""
    if forbid_torch or getattr(backend, "uses_torch", True) is False:
        with torch_forbidden() as calls:
            observed = observe_case(case, backend, phase)
        observed.torch_calls = tuple(dict.fromkeys(calls))
        return observed
    from backends import Unsupported

    op = f"{case.op}:backward" if case.direction == "backward" else case.op
    reason = backend.unsupported_reason(op, case.dtype, case.params)
    if reason:
        return Observed(unsupported=reason)
    phase("materialize")
    arrays = case.materialize()  # in the case's memory layout, for the backend
    pristine = {name: a.copy() for name, a in arrays.items()}  # C-contiguous copies
    as_drawn_contiguous = all(a.flags.c_contiguous for a in arrays.values())
    phase("backend")
    try:
        seen = observe(backend, case, arrays, pristine)
        outputs = plain(seen.outputs)
    except Unsupported as exc:
        return Observed(unsupported=str(exc) or "raised Unsupported")
    except Exception as exc:  # noqa: BLE001 -- what it raised is judged
        return Observed(raised=Raised.of(exc), call=_call_used(backend, case))
    wrong = tuple(t.__name__ for t in seen.output_types if not issubclass(t, seen.array_type))
    observed = Observed(
        outputs=outputs,
        time_s=seen.time_s,
        transfer_s=seen.transfer_s,
        wrong_types=wrong,
        array_type=seen.array_type.__name__,
        mutated=tuple(seen.mutated),
        call=_call_used(backend, case),
        residual_outputs=None if seen.residual_outputs is None else plain(seen.residual_outputs),
        residual_error=seen.residual_error,
        first_call_s=seen.first_call_s,
    )
    if not as_drawn_contiguous:
        observed.contiguous = _outcome(backend, case, pristine)
    info = ops.get(case.op)
    if info.alias_of is not None and case.direction == "forward":
        # in the layout the alias got: a kernel's summation order may follow the
        # strides (torch's area on a transposed input differs from a copy by an ulp)
        as_given = case.materialize()
        observed.alias = _outcome(backend, case, as_given, "interpolate", info.interpolate_args(case.params), copy=False)
    if case.direction == "backward":
        observed.again = _outcome(backend, case, pristine)
    return observed


#: aten ops that only wrap memory as a tensor (``torch.from_numpy``), allowed where torch is forbidden:
#: the computing call after them is the one named.
CONVERSIONS = ("lift_fresh", "lift", "detach", "alias")


class TorchCalled(RuntimeError):
    """A backend that must not use torch called it (``--forbid-torch``)."""


@contextlib.contextmanager
def torch_forbidden() -> Any:
    """While the block runs, every torch function (``F.interpolate`` and the
    rest of the API) and every aten kernel (one registered with
    ``torch.library`` too) raises ``TorchCalled``; the calls are collected in
    the list the block gets, so one the backend catches is still seen."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    calls: list[str] = []

    def refuse(what: Any) -> None:
        if isinstance(what, torch._ops.OpOverload):
            name = str(what)  # aten.upsample_bilinear2d.vec
        else:
            name = f"{getattr(what, '__module__', None) or 'torch'}.{getattr(what, '__qualname__', what)}"
        calls.append(name)
        raise TorchCalled(f"the backend called torch ({name}) where it must not (--forbid-torch)")

    def conversion(func: Any) -> bool:  # torch.from_numpy and the like: no computing yet
        return isinstance(func, torch._ops.OpOverload) and func.overloadpacket.__name__ in CONVERSIONS

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            if not conversion(func):
                refuse(func)
            return func(*args, **(kwargs or {}))

    class Kernels(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            if not conversion(func):
                refuse(func)
            return func(*args, **(kwargs or {}))

    with Functions(), Kernels():
        yield calls


def _outcome(backend: Backend, case: Case, arrays: dict[str, np.ndarray], *how: Any, copy: bool = True) -> Outcome:
    try:
        given = {n: a.copy() for n, a in arrays.items()} if copy else arrays
        return plain(call(backend, case, given, *how)[0])
    except Exception as exc:  # noqa: BLE001 -- judged on the oracle side
        return Raised.of(exc)


def _call_used(backend: Backend, case: Case) -> Any:
    """A library adapter's ``call_used`` for the case (the report's library matrix)."""
    call_used = getattr(backend, "call_used", None)
    if not callable(call_used) or case.names_problem:
        return None
    try:
        return call_used(case.op, case.params)
    except Exception:  # noqa: BLE001 -- a record without it beats a lost result
        return None


def reference_outputs(case: Case, arrays: dict[str, np.ndarray], absolute: bool = False) -> tuple[np.ndarray, ...]:
    """The reference's outputs for the case (float64 where the op computes);
    ``absolute``: a backward case's adjoint applied to magnitudes."""
    info = ops.get(case.op)
    inputs = {name: a.copy() for name, a in arrays.items()}
    x = inputs.pop("x")
    if case.direction == "backward":
        assert info.vjp is not None, f"{case.op} has no gradient"
        g = inputs.pop("grad_output")
        grads = info.vjp(g, x, absolute=absolute, **inputs, **case.params)
        return tuple(grads[n] for n in gradient_inputs(case))
    return _as_tuple(info.reference(x, **inputs, **case.params))


def magnitudes(case: Case, arrays: dict[str, np.ndarray], n: int) -> tuple[float | None, ...]:
    """Per output, the scale rounding errors grow with (the tolerance takes the
    larger of it and the largest ``|result|``): for sums of many products the
    largest sum of absolute terms (conv_transpose: ``|x| (*) |w| + |b|``;
    gradients: the adjoint applied to magnitudes); for the other ops the
    largest ``|x|`` (an interpolation's weights sum to 1: where they cancel,
    a small result keeps the error of the inputs it read)."""
    if case.direction == "backward":
        return tuple(_finite_max(m) for m in reference_outputs(case, arrays, absolute=True))
    if case.op != "conv_transpose":
        return (_finite_max(_moduli(arrays["x"])),) * n
    absolute = {name: _moduli(a) for name, a in arrays.items()}
    return (_finite_max(reference_outputs(case, absolute)[0]),)


def _moduli(a: np.ndarray) -> np.ndarray:
    """``|a|`` in float64 (complex: the modulus; a float64 cast would drop the imaginary part)."""
    return np.abs(a.astype(np.complex128 if is_complex(a.dtype) else np.float64))


def _finite_max(m: np.ndarray) -> float:
    """The largest finite value (NaN and infinities in the input make some
    outputs non-finite; the others' rounding errors keep their own scale)."""
    return float(np.max(m[np.isfinite(m)], initial=0.0))


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class TorchFailed(Exception):
    """torch crashed or hung on a case (seen by the worker's parent)."""


def is_torch_crash(exc: BaseException) -> bool:
    """A torch bug, not an argument error: a crash or hang of torch, an internal
    assertion, or autograd rejecting the gradient one of torch's own backward
    functions returned."""
    text = str(exc)
    return isinstance(exc, TorchFailed) or "INTERNAL ASSERT FAILED" in text or "returned an invalid gradient" in text


@dataclass
class Expected:
    """What the oracles say about a case: torch's outputs (or exception) and
    the exact reference results (or exception)."""

    torch_out: tuple[np.ndarray, ...] | None
    torch_exc: BaseException | None
    torch_time_s: float | None
    exact: tuple[np.ndarray, ...] | None
    reference_exc: BaseException | None
    torch_crash: BaseException | None = None
    magnitudes: tuple[float | None, ...] = ()


class Oracle:
    """torch (through ``device``, a torch backend: CPU unless told otherwise)
    and the float64 reference."""

    def __init__(self, device: Backend | None = None) -> None:
        if device is None:
            from backends.torch_backend import TorchBackend

            device = TorchBackend()
        self.torch = device

    def run_torch(self, case: Case, arrays: dict[str, np.ndarray]) -> tuple[tuple[np.ndarray, ...], float]:
        """The op's ``torch_code`` on the case (autograd for a backward case);
        the first case of a cell is timed on a second call (as ``observe``)."""
        first = _first_time(f"torch:{self.torch.name}", case)
        out, elapsed = self._run_torch(case, {name: a.copy() for name, a in arrays.items()} if first else arrays)
        if first:
            _, elapsed = self._run_torch(case, arrays)
        return out, elapsed

    def _run_torch(self, case: Case, arrays: dict[str, np.ndarray]) -> tuple[tuple[np.ndarray, ...], float]:
        import torch

        tensors = {name: self.torch.from_numpy(a) for name, a in arrays.items()}
        cotangent = tensors.pop("grad_output", None)
        wrt = gradient_inputs(case) if case.direction == "backward" else []
        for name in wrt:
            tensors[name] = tensors[name].detach().clone().requires_grad_(True)
        namespace = {"torch": torch, "F": torch.nn.functional, "t": tensors, "kwargs": dict(case.params)}
        code = compiled("\n".join(torch_lines(case)), f"<torch code of {case.op}>")
        self.torch.synchronize()
        start = time.perf_counter()
        # an oracle on a chosen oneDNN and thread setting (torch@no-onednn) runs its statements on it
        on_path = getattr(self.torch, "on_path", contextlib.nullcontext)
        with on_path(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # F.upsample* warn that they are deprecated
            exec(code, namespace)  # the registry's statements, the same a repro prints
            out = _as_tuple(namespace["out"])
            if case.direction == "backward":
                leaves = [tensors[n] for n in wrt]
                grads = torch.autograd.grad(out[0], leaves, cotangent, allow_unused=True)
                out = tuple(torch.zeros_like(v) if g is None else g for v, g in zip(leaves, grads))
        self.torch.synchronize()
        elapsed = time.perf_counter() - start
        return tuple(np.asarray(self.torch.to_numpy(o)) for o in out), elapsed

    def expected(
        self, case: Case, arrays: dict[str, np.ndarray], phase: Phase = no_phase, torch_failure: str | None = None
    ) -> Expected:
        """``torch_failure``: torch is known to crash or hang on this case (so
        it is not run, and the reference alone decides)."""
        torch_out = torch_exc = exact = ref_exc = None
        torch_time = None
        phase("torch")
        if torch_failure is not None:
            torch_exc = TorchFailed(torch_failure)
        else:
            try:
                torch_out, torch_time = self.run_torch(case, {name: a.copy() for name, a in arrays.items()})
            except Exception as exc:  # torch's exception is the expected behaviour
                torch_exc = exc
        phase("reference")
        try:
            exact = reference_outputs(case, arrays)
        except Exception as exc:
            ref_exc = exc
        crashed = None
        if torch_exc is not None and is_torch_crash(torch_exc) and exact is not None:
            # torch's own bug is no contract: judge against the reference alone,
            # as if torch had returned the correctly rounded result.
            crashed, torch_exc = torch_exc, None
            torch_out = tuple(to_dtype(e, arrays["x"].dtype) if e.dtype == np.float64 else e for e in exact)
        sizes = magnitudes(case, arrays, len(exact)) if exact is not None else ()
        return Expected(torch_out, torch_exc, torch_time, exact, ref_exc, crashed, sizes)
