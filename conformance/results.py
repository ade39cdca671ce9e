"""What a check produces: the verdict on one case (``Result``) and the counts
over one cell (``CellOutcome``).  Plain data, written to the results store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.cases import Case
from conformance.power import Power
from conformance.tolerance import Comparison

STATUSES = ("pass", "fail", "error", "unsupported")
#: Result fields kept in ``Result.extra`` and written as top-level record keys.
EXTRA_FIELDS = (
    "isolation",
    "phase",
    "deterministic",
    "transfer_s",
    "first_call_s",
    "values",
    "separates",
    "diagnosis",
    "exceptions",
    "call",
    "limit",
    "budget",
    "group",
)


@dataclass
class Result:
    """The verdict on one case for one backend."""

    backend: str
    case: Case
    status: str
    message: str = ""
    comparison: Comparison | None = None
    time_s: float | None = None
    torch_time_s: float | None = None
    minimal: bool = False
    repro: str | None = None
    #: ``isolation`` ("crash" | "timeout") and ``phase`` when the worker died;
    #: ``deterministic`` (backward), ``transfer_s``, ``first_call_s`` (a case
    #: timed on a second call: the first call's time, a JIT's compile included), ``values`` (the windows a
    #: failure card shows, see ``conformance.windows``), ``separates`` (the
    #: variants a discriminating case tells apart from torch's semantics),
    #: ``exceptions`` (where torch or the backend raised: what each did),
    #: ``call`` (a library adapter's ``call_used``: the library call made),
    #: ``limit`` (a timeout: the limit that ran out and how it was set, see
    #: ``conformance.isolation.limit_of``), ``budget`` (a minimal case: what
    #: the cell's failure budget cut short, see ``conformance.search``),
    #: ``group`` (a minimal case: the kind of failure it stands for, how many
    #: of the cell's cases failed so, see ``conformance.failures``).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")

    @classmethod
    def from_json(cls, data: dict[str, Any], case: Case, backend: str) -> Result:
        comparison = data.get("comparison")
        return cls(
            backend,
            case,
            data["status"],
            data.get("message", ""),
            Comparison(**comparison) if comparison else None,
            data.get("time_s"),
            data.get("torch_time_s"),
            extra={k: data[k] for k in EXTRA_FIELDS if k in data},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "type": "result",
            "backend": self.backend,
            "op": self.case.op,
            "mode": self.case.mode,
            "dtype": self.case.dtype,
            "status": self.status,
            "message": self.message,
            "direction": self.case.direction,
            "case": self.case.to_json(),
            "comparison": self.comparison.to_json() if self.comparison else None,
            "time_s": self.time_s,
            "torch_time_s": self.torch_time_s,
            "minimal": self.minimal,
            "repro": self.repro,
        }


@dataclass
class CellOutcome:
    """Counts over the checked cases of one (backend, op, cell, direction), and
    the minimal failing case if any failed."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    #: One minimal case per kind of failure (``conformance.failures``), in the order first met.
    minimals: list[Result] = field(default_factory=list)
    #: The variants the cell's passing discriminating cases separate (``conformance.power``).
    power: Power = field(default_factory=Power)
    #: What the cell's failure budget cut short (``conformance.search._Budget``).
    budget_cut: list[str] = field(default_factory=list)
    #: The cases the backend declined (``unsupported``), counted by its reason.
    declined: dict[str, int] = field(default_factory=dict)

    @property
    def minimal(self) -> Result | None:
        """The minimal case of the first kind of failure met."""
        return self.minimals[0] if self.minimals else None


#: Said by every summary, report and pytest item of a run made with ``--no-isolation``.
TRUSTS_BACKEND = (
    "these verdicts trust the backend's process (--no-isolation: it ran beside torch, the reference and the "
    "verdict, and could have moved them); run without --no-isolation for verdicts it cannot move"
)


def trusts_backend_process(records: Iterable[dict[str, Any]]) -> bool:
    """Whether a run's backends ran in the process that judged them (``--no-isolation``)."""
    return any(r.get("type") == "environment" and (r.get("config") or {}).get("no_isolation") for r in records)
