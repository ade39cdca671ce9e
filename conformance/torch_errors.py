"""torch's own error inputs: a second source of invalid calls, beside the registry's catalog.

torch's OpInfos (``op_db`` of ``torch.testing._internal.common_methods_invocations``,
shipped with the wheel) carry, for some ops, ``error_inputs``: calls torch
refuses, each with the exception class torch raises and a regular expression
its message matches.  The op registry names each op's OpInfos
(``OpInfo.torch_opinfos``); here each of their error inputs becomes the
protocol's call, an invalid-call ``Case`` whose ``names_problem`` is the phrase
of torch's ``error_regex``, or is skipped with the reason it cannot cross.

The mapping: torch's positional arguments bind to the protocol method's
parameters (which keep torch's order), the op's ``from_torch`` adjusts the
arguments (pooling: the rank is the function's), and those at the protocol's
default are left out.  A tensor crosses as an array of its shape and dtype:
all zero as zeros, floating or complex values drawn (torch's are
``make_tensor``'s random draws), other values not at all.  ``requires_grad``
does not cross (the protocol's forward takes no such flag), so an input torch
gives with and without it is one call here.  An input crosses only when torch
raises its error class on the protocol's call too: ``max_pool`` always returns
indices, so an error of torch's call without them alone stays behind.

A run reads the calls from ``torch_error_inputs.json`` beside this module
(``stored_invalid_calls``): the same in every process, whatever it imported
before (torch's testing internals reach setuptools, whose distutils shim can
fail in a process that imported it otherwise, and a job process and its
parent then checked different calls), and without ``expecttest``.
``python -m conformance.torch_errors`` writes the file from the installed
torch; ``tests/test_torch_error_inputs.py`` keeps it equal to what torch
gives, in a fresh process.  torch's testing internals import only with
``expecttest`` installed; without it ``unavailable()`` says why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.protocol import Backend
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.ops.registry import OpInfo


@dataclass(frozen=True)
class TorchErrorInput:
    """One error input of a torch OpInfo, and the protocol's call for it."""

    #: The registry's op.
    op: str
    #: torch's OpInfo, with its variant: ``nn.functional.max_unpool1d (grad)``.
    opinfo: str
    #: Its place among that OpInfo's error inputs.
    index: int
    error_type: type[BaseException]
    error_regex: str
    #: torch's ``SampleInput`` and the OpInfo's function: torch's own call.
    sample: Any
    function: Callable[..., Any]
    #: The protocol's call; ``None`` where the input cannot cross, ``skipped`` says why.
    case: Case | None
    skipped: str = ""

    def describe(self) -> str:
        s = self.sample
        grad = ", requires_grad" if getattr(s.input, "requires_grad", False) else ""
        shape = list(getattr(s.input, "shape", ()))
        args = "".join(f", {_brief(a)}" for a in s.args)
        kwargs = "".join(f", {k}={_brief(v)}" for k, v in s.kwargs.items())
        return f"{self.opinfo}[{self.index}](x{shape}{grad}{args}{kwargs})"

    def run_torch(self) -> None:
        """torch's own call: the OpInfo's function on its sample."""
        self.function(self.sample.input, *self.sample.args, **self.sample.kwargs)


class _CannotCross(Exception):
    """An error input the protocol cannot express (the message says why)."""


def _brief(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"tensor{list(shape)}" if shape is not None else repr(value)


@contextlib.contextmanager
def _hypothesis_profile_kept() -> Iterator[None]:
    """torch's ``common_utils`` registers Hypothesis profiles at import (one
    named "dev", as the harness's tests do, with 10 examples) and loads one;
    the process's own profiles and active profile come back afterwards.
    Hypothesis has no public way to read the active profile's name."""
    from hypothesis import settings

    profiles = dict(getattr(settings, "_profiles", {}))
    active = getattr(settings, "_current_profile", None)
    try:
        yield
    finally:
        for name, profile in profiles.items():
            settings.register_profile(name, profile)
        if active is not None:
            settings.load_profile(active)


@functools.cache
def _op_db() -> tuple[Any, ...]:
    with _hypothesis_profile_kept(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db
    return tuple(op_db)


def unavailable() -> str | None:
    """Why torch's OpInfos cannot be read here (``None``: they can)."""
    try:
        _op_db()
    except ImportError as exc:
        return f"torch's OpInfos do not import ({exc}): torch.testing._internal needs expecttest"
    # their import chain reaches far (torch.utils.cpp_extension imports
    # setuptools, whose distutils shim failed an assertion in one pytest-xdist
    # worker): the source is then unavailable, the run not broken
    except Exception as exc:
        return f"torch's OpInfos do not import here: {type(exc).__name__}: {exc}"
    return None


def opinfos(op: str) -> list[Any]:
    """torch's OpInfos of ``op`` (every variant), in ``op_db`` order; none when unavailable."""
    names = ops.get(op).torch_opinfos
    return [o for o in _op_db() if o.name in names] if names and unavailable() is None else []


def label(opinfo: Any) -> str:
    """An OpInfo's name, with its variant where it has one."""
    return f"{opinfo.name} ({opinfo.variant_test_name})" if opinfo.variant_test_name else opinfo.name


@functools.cache
def error_inputs(op: str) -> tuple[TorchErrorInput, ...]:
    """Every error input of ``op``'s torch OpInfos, crossed or skipped, in ``op_db`` order."""
    info = ops.get(op)
    found = []
    for opinfo in opinfos(op):
        if opinfo.error_inputs_func is None:  # torch has none for it
            continue
        for index, e in enumerate(opinfo.error_inputs(device="cpu")):
            case, skipped = _crossing(info, opinfo.name, e)
            found.append(
                TorchErrorInput(
                    op, label(opinfo), index, e.error_type, e.error_regex, e.sample_input, opinfo.op, case, skipped
                )
            )
    return tuple(found)


#: The crossing calls of the pinned torch, per op (``stored_invalid_calls``).
STORED = Path(__file__).with_name("torch_error_inputs.json")


@functools.cache
def _stored() -> dict[str, list[dict[str, Any]]]:
    try:
        return json.loads(STORED.read_text())
    except OSError:
        return {}


def stored_invalid_calls(op: str) -> list[Case]:
    """``invalid_calls(op)`` as stored for the pinned torch: what a run checks."""
    return [Case.from_json(c) for c in _stored().get(op, [])]


def write_stored() -> dict[str, list[dict[str, Any]]]:
    """Every op's crossing calls from the installed torch, as ``STORED`` keeps them."""
    calls = {op: [c.to_json() for c in invalid_calls(op)] for op in ops.names()}
    return {op: cases for op, cases in calls.items() if cases}


def invalid_calls(op: str) -> list[Case]:
    """``op``'s error inputs that cross, as invalid-call cases, each call once."""
    calls: dict[str, Case] = {}
    for e in error_inputs(op):
        if e.case is not None:
            calls.setdefault(repr(e.case.to_json()), e.case)
    return list(calls.values())


_METACHARACTERS = re.compile(r"(?<!\\)[.^$*+?{}\[\]|()]")


def literal_phrase(regex: str) -> str | None:
    """The text ``regex`` matches where it is a plain phrase (metacharacters
    escaped, as torch's ``error_regex`` mostly are); ``None`` where it is a pattern."""
    if _METACHARACTERS.search(regex):
        return None
    phrase = re.sub(r"\\(.)", r"\1", regex)
    return phrase if re.fullmatch(regex, phrase) else None


def _crossing(info: OpInfo, torch_name: str, e: Any) -> tuple[Case | None, str]:
    """The protocol's call for error input ``e``, or why there is none."""
    phrase = literal_phrase(e.error_regex)
    if phrase is None:
        return None, f"error_regex {e.error_regex!r} is a pattern, not a phrase an invalid call can name"
    try:
        case = _to_case(info, torch_name, e.sample_input, phrase)
    except _CannotCross as why:
        return None, str(why)
    refused = torch_refusal(case)
    if not isinstance(refused, e.error_type):
        did = "takes" if refused is None else f"raises {type(refused).__name__} ({refused}) on"
        return None, f"torch {did} the protocol's call {case.describe()}, not {e.error_type.__name__}"
    if not re.search(e.error_regex, str(refused)):
        # torch words the protocol's call otherwise (max_pool1d with indices: "stride should not be
        # zero"): torch's own words there name the problem too, or torch would fail its own contract
        said = str(refused).strip().splitlines()[0]
        case = dataclasses.replace(case, names_problem=(phrase, said))
    return case, ""


def _to_case(info: OpInfo, torch_name: str, sample: Any, phrase: str) -> Case:
    parameters = _parameters(info)
    values = (sample.input, *sample.args)
    if len(values) > len(parameters):
        raise _CannotCross(f"{len(values)} positional arguments; the protocol's {info.name} takes {len(parameters)}")
    bound = {**dict(zip(parameters, values)), **sample.kwargs}
    arguments = info.from_torch(torch_name, {k: _tuples(v) for k, v in bound.items()})
    unknown = sorted(set(arguments) - set(parameters))
    if unknown:
        raise _CannotCross(f"the protocol's {info.name} has no parameter {', '.join(unknown)}")
    arrays = {k: _array(k, v) for k, v in arguments.items() if _is_tensor(v)}
    if "x" not in arrays:
        raise _CannotCross(f"the input is {type(arguments.get('x')).__name__}, not a tensor")
    params = {k: v for k, v in arguments.items() if k not in arrays and not _at_default(parameters[k], v)}
    operands = tuple((k, arrays[k]) for k in parameters if k in arrays and k != "x")
    return Case(info.name, arrays["x"], params, operands, (phrase,), ops.INVALID_CALLS_CELL)


def _parameters(info: OpInfo) -> dict[str, inspect.Parameter]:
    """The protocol's parameters of ``info``'s op, ``x`` first: its method's,
    or for an alias ``x`` and those of its ``alias_of``."""
    if info.alias_of is not None:
        x = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return {"x": x, **inspect.signature(info.alias_of).parameters}
    method = inspect.signature(getattr(Backend, info.name)).parameters
    return {name: p for name, p in method.items() if name != "self"}


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _tuples(value: Any) -> Any:
    """Lists as tuples, as a case's parameters hold them (``Case.from_json``)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _at_default(parameter: inspect.Parameter, value: Any) -> bool:
    default = parameter.default
    return value is default or (type(value) is type(default) and value == default)


def _array(name: str, tensor: Any) -> InputSpec:
    """The array a tensor crosses as (see the module docstring)."""
    import torch

    dtype = str(tensor.dtype).removeprefix("torch.")
    if dtype not in ops.KNOWN_DTYPES:
        raise _CannotCross(f"{name} is {tensor.dtype}, which the harness has no NumPy array of")
    if tensor.layout != torch.strided or tensor.device.type != "cpu" or not tensor.is_contiguous():
        raise _CannotCross(f"{name} is not a dense contiguous CPU tensor")
    shape = tuple(tensor.shape)
    if not bool(tensor.detach().any()):
        return InputSpec(shape, dtype, "zeros")
    if tensor.is_floating_point():
        return InputSpec(shape, dtype, "normal")
    if tensor.is_complex():
        return InputSpec(shape, dtype, "complex")
    raise _CannotCross(f"{name} holds {dtype} values a case cannot name (only all-zero ones)")


@functools.cache
def _oracle() -> Oracle:
    return Oracle()


def torch_refusal(case: Case) -> BaseException | None:
    """What torch raises on the protocol's call ``case`` (``None``: it takes it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _oracle().run_torch(case, case.materialize())
    except Exception as exc:  # the exception is the answer
        return exc
    return None


if __name__ == "__main__":  # write STORED from the installed torch
    missing = unavailable()
    if missing:
        raise SystemExit(missing)
    STORED.write_text(json.dumps(write_stored(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {STORED}")
