"""The op registry: one record per op, every layer of the harness reads it.

In the spirit of torch's OpInfo, an ``OpInfo`` holds every fact the harness
needs about one op: how torch spells it (the code the oracle runs and a repro
prints), its cells, the dtypes torch takes forward and backward, for an alias
the ``interpolate`` call it stands for, the reference forward and VJP, the
Hypothesis strategy, fixed large cases and edge cases, the invalid-call
entries, whether results must be exact, and torch's known deviations on it.
Adding an op is one ``register(OpInfo(...))`` plus its reference functions;
the CLI, the runner and the report derive everything else from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.cases import Case, InputSpec, Operand
from conformance.deviations import Deviation

#: The real floating dtypes; ``bfloat16`` is ``ml_dtypes``'s
#: (``reference.dtypes``): NumPy has none.
FLOATS: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
#: The signed integer dtypes (uint8 stands apart: interpolate takes it too).
SIGNED_INTS: tuple[str, ...] = ("int8", "int16", "int32", "int64")
COMPLEX: tuple[str, ...] = ("complex64", "complex128")
#: Every dtype the harness can draw, by NumPy name, in drawing order (the
#: order of ``list``, the report's matrix and the manual's dtype table).
KNOWN_DTYPES: tuple[str, ...] = (*FLOATS, "uint8", *SIGNED_INTS, "bool", *COMPLEX)
#: The dtypes torch differentiates (``requires_grad`` takes floating and
#: complex tensors only).
DIFFERENTIABLE: tuple[str, ...] = (*FLOATS, *COMPLEX)

#: ``dtypes(mode, antialias)`` -> the dtypes torch's CPU kernels take there.
DtypeRule = Callable[[str, bool], Sequence[str]]
#: ``strategy(cell, dtypes_for)`` -> a Hypothesis strategy of valid cases, or
#: ``None`` when ``dtypes_for`` leaves no dtype to draw in that cell.
StrategyFactory = Callable[[str, DtypeRule], Any]
#: ``fixed_cases(cell, dtypes_for)`` -> a few large cases of that cell.
FixedCases = Callable[[str, DtypeRule], list[Case]]
#: ``torch_code(case)`` -> statements that set ``out`` from the tensors ``t``
#: (``t["x"]``, ``t["weight"]``, ...) and the dict ``kwargs``, with ``torch``
#: and ``F`` (``torch.nn.functional``) in scope.
TorchCode = Callable[[Case], list[str]]


def _no_fixed_cases(cell: str, dtypes_for: DtypeRule) -> list[Case]:
    return []


def same_arguments(torch_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """torch's keyword arguments are the protocol's (``OpInfo.from_torch``'s default)."""
    return arguments


@dataclass(frozen=True)
class OpInfo:
    """Everything the harness knows about one op (see the module docstring)."""

    #: The protocol's name: backends implement a method of this name.
    name: str
    #: One line a person reads in ``list`` and the report.
    summary: str
    #: The cells a run checks (interpolate: modes; other ops: spatial ranks).
    cells: tuple[str, ...]
    #: Float64 definition: ``reference(x, **operands, **params)``.
    reference: Callable[..., Any]
    #: torch's own call for a case (see ``TorchCode``).
    torch_code: TorchCode
    #: The Hypothesis strategy for a cell (see ``StrategyFactory``).
    strategy: StrategyFactory
    #: Forward dtypes torch takes, given the mode and antialias flag.
    dtypes: DtypeRule
    #: Reference VJP ``vjp(g, x, absolute=False, **operands, **params)``; None: no gradient.
    vjp: Callable[..., dict[str, Any]] | None = None
    #: The inputs gradients are taken for, in output order.
    differentiable: tuple[str, ...] = ("x",)
    #: Forward results must match bit for bit (the op only moves data); for
    #: interpolate-like ops decided per mode by ``exact_modes``.
    exact: bool = False
    exact_modes: frozenset[str] = frozenset()
    #: The gradient only moves data (bit for bit too).
    exact_backward: bool = False
    #: For an alias: its own arguments -> the interpolate arguments it stands for.
    alias_of: Callable[..., dict[str, Any]] | None = None
    #: A few large cases per cell (paths small drawn inputs never take).
    fixed_cases: FixedCases = _no_fixed_cases
    #: Small cases at the edges of the op's arguments (an axis of length 1 in
    #: or out, under each flag) that every run checks in both directions,
    #: whatever Hypothesis draws.
    edge_cases: FixedCases = _no_fixed_cases
    #: Calls torch refuses, with words its message names (``Case.names_problem``).
    invalid_calls: tuple[Case, ...] = ()
    #: The names of torch's own OpInfos of this op (``op_db`` of
    #: ``torch.testing._internal.common_methods_invocations``), whose
    #: ``error_inputs`` are a second source of invalid calls
    #: (``conformance.torch_errors``).
    torch_opinfos: tuple[str, ...] = ()
    #: ``from_torch(torch_name, arguments)``: the keyword arguments of a call of
    #: torch's OpInfo ``torch_name`` (bound to the protocol's parameter names)
    #: -> the protocol's arguments for the same call.
    from_torch: Callable[[str, dict[str, Any]], dict[str, Any]] = same_arguments
    #: Where torch 2.13 strays from the reference or is broken (data, tested).
    deviations: tuple[Deviation, ...] = ()
    #: What ``list`` calls the cells ("modes" or "cells").
    cell_label: str = "cells"
    #: The cells that take ``antialias=True`` (their dtypes may differ with it).
    antialias_cells: frozenset[str] = frozenset()

    # --- facts derived from the record -------------------------------------------------
    @property
    def differentiable_op(self) -> bool:
        return self.vjp is not None

    @property
    def alias_parameters(self) -> tuple[str, ...]:
        """The keyword arguments an alias takes (its ``alias_of`` signature)."""
        if self.alias_of is None:
            return ()
        return tuple(inspect.signature(self.alias_of).parameters)

    def fixed_mode(self) -> str | None:
        """The mode an alias always runs (``None``: the call's own ``mode``)."""
        if self.alias_of is None or "mode" in self.alias_parameters:
            return None
        return self.alias_of().get("mode")

    def mode_of(self, params: Mapping[str, Any]) -> str:
        """The interpolate mode a call of this op runs ("" for other ops)."""
        if self.alias_of is not None:
            return self.fixed_mode() or str(params.get("mode", "nearest"))
        if self.exact_modes or "mode" in params:
            return str(params.get("mode", "nearest"))
        return ""

    def forward_dtypes(self, mode: str = "", antialias: bool = False) -> tuple[str, ...]:
        return tuple(self.dtypes(mode, antialias))

    def backward_dtypes(self, mode: str = "", antialias: bool = False) -> tuple[str, ...]:
        """torch differentiates floating and complex tensors only, where the forward runs."""
        if self.vjp is None:
            return ()
        return tuple(d for d in self.forward_dtypes(mode, antialias) if d in DIFFERENTIABLE)

    def dtypes_for(self, direction: str) -> DtypeRule:
        return self.backward_dtypes if direction == "backward" else self.forward_dtypes

    def dtype_groups(self, direction: str = "forward") -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """``[(dtypes, where)]``: the dtypes torch takes in ``direction``, each
        distinct set once with the cells that take it (``"bilinear
        antialias"``: with ``antialias=True``), in cell order; cells taking
        none are left out.  ``list`` and the manual's dtype table show this."""
        rule = self.dtypes_for(direction)
        groups: dict[tuple[str, ...], list[str]] = {}
        for cell in self.cells:
            # interpolate-like ops: the cell is the mode (an alias may fix it); others: no mode
            mode = (self.fixed_mode() or cell) if self.exact_modes or self.alias_of else ""
            flags = (False, True) if cell in self.antialias_cells else (False,)
            for antialias in flags:
                dtypes = tuple(rule(mode, antialias))
                if not dtypes or (antialias and dtypes == tuple(rule(mode, False))):
                    continue
                groups.setdefault(dtypes, []).append(f"{cell} antialias" if antialias else cell)
        return [(dtypes, tuple(where)) for dtypes, where in groups.items()]

    def describe_dtypes(self, direction: str = "forward") -> str:
        """One line: ``"float32, float64 (1d, 2d, 3d)"``; cells are named only
        where they differ (``"-"``: none)."""
        groups = self.dtype_groups(direction)
        if len(groups) == 1 and len(groups[0][1]) == len(self.cells):
            return ", ".join(groups[0][0])
        return "; ".join(f"{', '.join(dtypes)} ({', '.join(where)})" for dtypes, where in groups) or "-"

    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.vjp is not None else ("forward",)

    def is_exact(self, case: Case) -> bool:
        """Whether results must match bit for bit: the op (or its mode, or its
        gradient) only moves data."""
        if case.direction == "backward":
            return self.exact_backward
        return self.exact or self.mode_of(case.params) in self.exact_modes

    def interpolate_args(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """For an alias: the ``interpolate`` keyword arguments it stands for."""
        assert self.alias_of is not None, f"{self.name} is no alias"
        return self.alias_of(**params)


REGISTRY: dict[str, OpInfo] = {}


def dtype_table() -> str:
    """The table of the dtypes each op takes, forward and backward, as
    Markdown: the manual's ``docs/generated/dtypes.md`` (written by
    ``python -m conformance docs``; ``tests/test_docs.py`` keeps the page
    equal to it)."""
    lines = ["| op | forward | backward |", "| --- | --- | --- |"]
    for name in names():
        info = get(name)
        lines.append(f"| `{name}` | {info.describe_dtypes()} | {info.describe_dtypes('backward')} |")
    return "\n".join(lines)


def register(info: OpInfo) -> OpInfo:
    """Add ``info`` (replacing a record of the same name); returns it."""
    REGISTRY[info.name] = info
    return info


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def get(name: str) -> OpInfo:
    """The record of ``name``; ``KeyError`` with the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}: known ops are {', '.join(REGISTRY)}") from None


def plugin_modules() -> list[str]:
    """The modules outside the harness that defined registered ops (by their
    reference functions): every process that checks or answers for those
    ops imports them (``conformance.isolation``'s workers)."""
    modules = {getattr(info.reference, "__module__", "") for info in REGISTRY.values()}
    return sorted(m for m in modules if m and m.split(".")[0] not in ("reference", "conformance"))


def names() -> list[str]:
    """Registered ops in registration (check and report) order."""
    return list(REGISTRY)


def order() -> list[tuple[str, tuple[str, ...]]]:
    """``(op, cells)`` in the order the harness checks and the report shows them."""
    return [(info.name, info.cells) for info in REGISTRY.values()]


def invalid_calls(ops: Sequence[str] | None = None) -> list[Case]:
    """The invalid-call entries of ``ops`` (all ops when ``None``)."""
    return [c for info in REGISTRY.values() if ops is None or info.name in ops for c in info.invalid_calls]


def deviations() -> list[Deviation]:
    """Every registered op's known deviations of torch."""
    return [d for info in REGISTRY.values() for d in info.deviations]


#: The cell of the invalid-call entries, beside an op's own cells.
INVALID_CALLS_CELL = "invalid-calls"


def invalid_call(
    op: str,
    x: tuple[int, ...] | InputSpec,
    params: dict[str, Any],
    *words: str,
    operands: tuple[tuple[str, Operand], ...] = (),
) -> Case:
    """An invalid-call entry: ``op(x, **operands, **params)`` is refused by
    torch, whose message contains one of ``words`` (case-insensitively)."""
    spec = x if isinstance(x, InputSpec) else InputSpec(tuple(x), "float32")
    return Case(op, spec, params, operands, tuple(words), INVALID_CALLS_CELL)
