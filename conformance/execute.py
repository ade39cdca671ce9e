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


def observe(backend: Backend, case: Case, arrays: dict[str, np.ndarray], pristine: dict[str, np.ndarray]) -> Observation:
    """Run the case on ``arrays`` as they are (their memory layout is part of
    the case), timing the transfer (``from_numpy``: host to device on a GPU)
    apart from the op, and compare the inputs afterwards with ``pristine``.

    The outputs checked are always those of this first call.  The first case
    of a cell is timed on a second call on copies (the first paid for the
    cell's warm-up)."""
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
    if _first_time(f"backend:{backend.name}", case):
        try:
            _, elapsed = call(backend, case, {name: a.copy() for name, a in pristine.items()})
        except Exception:  # noqa: S110 -- a timing only: the first call's outputs are what is judged
            pass
    residual = _observe_residuals(backend, case, pristine)
    return Observation(got, elapsed, transfer, tuple(type(o) for o in outs), type(args["x"]), mutated, *residual)


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
