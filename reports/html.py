"""The HTML conformance report: ``python -m conformance report``.

One self-contained file (inline CSS, inline SVG charts, a few lines of inline
JS for the filters; no network, no external fonts or scripts) that opens from
disk. It shows, per machine (see ``reports.data``): the environment and
backends of each run, the conformance matrix (backend x op x cell x dtype),
every failing cell's minimal case with its errors, the values around the
worst spot (as the run recorded them: see ``reports.values``) and a
copy-paste repro, the cases where torch itself strays from
the reference, the time of each backend relative to torch, and the benchmark
suite's results when there are some.

Every string from a results file or a backend reaches the page through
Jinja2 with autoescaping on (the template never marks anything safe), so a
backend named ``<script>`` shows as text. Rendering is rendering only: no
backend is loaded, no op run and no case rebuilt, whatever a file names.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from conformance.expected import Expectation, judge
from reports.bench import PEAK_TARGET, BenchData, BenchRow, load_bench, verdict
from reports.charts import Bar, Chart, fmt_ratio, fmt_seconds, layout
from reports.data import (
    STATUSES,
    Cell,
    Counts,
    Machine,
    ReportData,
    Run,
    cell_label,
    cell_sort_key,
    direction_of,
    load,
    mode_rank,
    num,
    power_text,
    sort_dtypes,
    text,
)
from reports.frameworks import html_context as framework_context
from reports.libraries import html_context as library_context
from reports.libraries import load_pictures
from reports.template import TEMPLATE
from reports.values import Window, record_window

SYMBOLS = {"pass": "✓", "fail": "✗", "error": "!", "expected": "≈", "unsupported": "–"}
#: At most this many torch off-reference cases are listed per machine.
MAX_OFF_REFERENCE = 200


def _anchor(*parts: Any) -> str:
    """An element id made from record text: hashed, so any text makes a safe id."""
    return "f" + hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:12]


def _fmt_number(value: Any) -> str:
    v = num(value)
    if v is None:
        return text(value) or "-"
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _case_text(record: dict[str, Any]) -> str:
    try:
        from conformance.cases import Case

        return Case.from_json(record["case"]).describe()
    except Exception:
        return json.dumps(record.get("case"), default=str)


def _cell_td(cell: Cell | None, dtype: str, machine: Machine) -> dict[str, Any]:
    if cell is None:
        return {"status": "empty", "parts": [], "title": "not checked", "href": None, "offref": 0}
    counts = cell.counts(dtype)
    parts = [(n, SYMBOLS[s], s) for s in STATUSES if (n := counts.by_status.get(s, 0))]
    title = f"{cell.backend} {cell.op} {cell.label} {dtype} on {machine.label}: " + (
        ", ".join(f"{n} {s}" for n, _, s in parts) or "not checked"
    )
    if counts.torch_off_reference:
        title += f"; torch off the reference on {counts.torch_off_reference}"
    href = None
    reasons = {r["expected"]["reason"] for r in cell.records if r.get("dtype") == dtype and r.get("expected")}
    title += "".join(f"; expected deviation: {reason}" for reason in sorted(reasons))
    if counts.status in ("fail", "error", "expected"):
        href = "#" + _anchor(machine.key, cell.backend, cell.op, cell.mode, cell.direction)
        diagnoses = {_diagnosis_text(r) for r in cell.failures if r.get("dtype") == dtype} - {""}
        title += "".join(f"; diagnosis: {d}" for d in sorted(diagnoses))
    return {
        "status": counts.status,
        "parts": parts,
        "title": title,
        "href": href,
        "offref": counts.torch_off_reference,
    }


def _matrix(data: ReportData) -> dict[str, Any]:
    rows = []
    for key in data.rows():
        backend, op, mode, direction = key
        tds, statuses = [], set()
        for m in data.machines:
            cell = m.cells.get(key)
            for dtype in m.dtypes or [""]:  # a machine without results still has its column
                td = _cell_td(cell if dtype else None, dtype, m)
                tds.append(td)
                statuses.add(td["status"])
        # a cell the backend took no case of separated nothing: "-", not 0/N
        powers = [
            m.cells[key].power if m.cells[key].counts().checked else None for m in data.machines if key in m.cells
        ]
        rows.append(
            {
                "backend": backend,
                "op": op,
                "power": " ".join(power_text(p) for p in powers) or "-",
                "power_title": _power_title(powers),
                "mode": cell_label(mode, direction),
                "tds": tds,
                "statuses": " ".join(sorted(statuses)),
            }
        )
    return {"machines": data.machines, "rows": rows}


def _power_title(powers: list[Any]) -> str:
    """Which variants the cell's passing discriminating cases did not separate."""
    missing = sorted({v for p in powers if p for v in p[1] if v not in p[0]})
    if not any(powers):
        return "no discriminating case recorded for this cell"
    return "variants not separated: " + ", ".join(missing) if missing else "every variant separated"


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


def _summary(data: ReportData) -> list[dict[str, Any]]:
    """Per backend and machine: a verdict and its counts (cases and cells)."""
    out = []
    for backend in data.backends:
        per_machine = []
        for m in data.machines:
            cells = [c for k, c in m.cells.items() if k[0] == backend]
            counts = Counts()
            bad_cells = unsupported_cells = 0
            for c in cells:
                cc = c.counts()
                counts.merge(cc)
                bad_cells += cc.status in ("fail", "error")
                unsupported_cells += cc.status == "unsupported"
            if not cells:
                verdict, status = "not checked", "empty"
            elif bad_cells:
                verdict, status = f"does not conform: {bad_cells} of {_cells(len(cells))}", "fail"
            elif counts.by_status["pass"]:
                checked = len(cells) - unsupported_cells
                verdict, status = f"conforms: {'all ' if checked > 1 else ''}{_cells(checked)} checked", "pass"
            else:
                verdict, status = "nothing supported", "unsupported"
            per_machine.append({"verdict": verdict, "status": status, "counts": counts})
        out.append({"backend": backend, "machines": per_machine})
    return out


def _ulp_label(dtype: str) -> str:
    """What a case's ULP figure counts (``conformance.tolerance.ulp_at``)."""
    if dtype.startswith("float"):
        return f"max ULP error ({dtype} ULPs at the case's magnitude)"
    return f"max ULP error ({dtype or 'integer'}: steps of 1)"


def _metrics(record: dict[str, Any]) -> list[tuple[str, str]]:
    cmp = record.get("comparison")
    if not isinstance(cmp, dict):
        return []
    names = [
        ("max_abs", "max |actual − exact|"),
        ("max_rel", "max relative error"),
        ("max_ulp", _ulp_label(text(record.get("dtype")))),
        ("mismatches", "elements beyond the bound"),
        ("worst_index", "worst index"),
        ("bound", "bound (torch's error + slack)"),
        ("torch_max_abs", "torch's own max error (absolute, |torch − exact|)"),
        ("max_abs_vs_torch", "max |actual − torch|"),
        ("torch_off_reference", "torch off the reference"),
    ]
    rows = []
    for key, label in names:
        if key not in cmp:
            continue
        value = cmp[key]
        shown = json.dumps(value) if isinstance(value, (list, bool)) or value is None else _fmt_number(value)
        rows.append((label, shown))
    return rows


_KNOWN = {
    "run_id",
    "type",
    "backend",
    "op",
    "mode",
    "dtype",
    "status",
    "message",
    "case",
    "comparison",
    "time_s",
    "torch_time_s",
    "minimal",
    "repro",
    "attempt",
    "direction",
    "values",
    "diagnosis",
    "expected",
    "exceptions",
}


def _fmt_duration(seconds: float) -> str:
    """A short duration with its unit, 3 significant digits: ``1.75 µs``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _exceptions(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Where torch or the backend raised: what each did (``exceptions``)."""
    did = record.get("exceptions")
    if not isinstance(did, dict):
        return []
    return [
        ("torch", text(did.get("torch")) or "-"),
        (text(record.get("backend")) or "backend", text(did.get("backend")) or "-"),
    ]


def _raised(record: dict[str, Any]) -> bool:
    """A call torch or the backend raised on (or an invalid call from the
    catalog, in a file that did not record what each did): no values to set
    side by side, and no meaningful transfer time."""
    case = record.get("case")
    return bool(_exceptions(record)) or (isinstance(case, dict) and bool(case.get("names_problem")))


def _extras(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The record's other fields, as display text (``transfer_s`` with its
    unit, only where the backend ran the op to a result)."""
    out = []
    for key, value in record.items():
        if key in _KNOWN:
            continue
        if key == "transfer_s":
            seconds = num(value)
            if seconds is not None and math.isfinite(seconds) and seconds > 0 and not _raised(record):
                out.append(("input transfer (from_numpy)", _fmt_duration(seconds)))
            continue
        if key == "group" and isinstance(value, dict):  # the kind of failure a minimal case stands for
            of = f" (one of {value.get('kinds')} kinds in this cell)" if num(value.get("kinds")) not in (None, 1) else ""
            out.append(("kind of failure", f"{text(value.get('kind'))}: {value.get('cases')} case(s){of}"))
            continue
        out.append((key, json.dumps(value, default=str)))
    return out


def _verdict(record: dict[str, Any]) -> str:
    """Why a call fails, short where what each did is shown beside it."""
    message = text(record.get("message"))
    did = record.get("exceptions")
    if not isinstance(did, dict):
        return message
    torch, backend = text(did.get("torch")), text(did.get("backend"))
    if backend.startswith("returned"):
        return "returned a result where torch raises"
    if torch.startswith("returned"):
        return "raised where torch returns a result"
    if torch.split(":")[0] != backend.split(":")[0]:
        return "not torch's exception class"
    return message.split(" as torch does, but ", 1)[-1]


def _calls(cell: Cell) -> list[dict[str, Any]]:
    """An invalid-calls cell's failing calls, each with what torch and the backend did."""
    rows = []
    for record in cell.failures:
        did = record.get("exceptions") if isinstance(record.get("exceptions"), dict) else {}
        rows.append(
            {
                "case": _case_text(record),
                "status": text(record.get("status")),
                "torch": text(did.get("torch")),
                "backend": text(did.get("backend")),
                "message": _verdict(record),
            }
        )
    return rows


def _diagnosis_text(record: dict[str, Any]) -> str:
    """The recorded diagnosis: which known semantics the failing backend follows."""
    diagnosis = record.get("diagnosis")
    return text(diagnosis.get("summary")) if isinstance(diagnosis, dict) else ""


def _failures(data: ReportData) -> list[dict[str, Any]]:
    """Each failing cell's failures, with the values their records carry."""
    out = []
    for m in data.machines:
        for key in sorted(m.cells, key=cell_sort_key):
            cell = m.cells[key]
            calls = _calls(cell) if cell.invalid_calls else []  # one card lists every failing invalid call
            for i, record in enumerate(cell.failures[:1] if calls else cell.failures):
                backend_record = cell.run.backends.get(cell.backend, {})
                spec = backend_record.get("spec") if isinstance(backend_record.get("spec"), str) else None
                out.append(
                    {
                        "id": _anchor(m.key, *key) if i == 0 else _anchor(m.key, *key, i),
                        "machine": m.label,
                        "backend": cell.backend,
                        "op": cell.op,
                        "mode": cell.label,
                        "dtype": text(record.get("dtype")),
                        "status": "expected" if record.get("expected") else text(record.get("status")),
                        "expected": record.get("expected") or None,
                        "minimal": bool(record.get("minimal")),
                        "message": text(record.get("message")),
                        "case": _case_text(record),
                        "case_json": json.dumps(record.get("case"), indent=None, default=str),
                        "metrics": _metrics(record),
                        "window": Window() if calls or _raised(record) else record_window(record),
                        "calls": calls,
                        "calls_total": cell.counts().total,
                        "raised": [] if calls else _exceptions(record),
                        "repro": text(record.get("repro")),
                        "diagnosis": _diagnosis_text(record),
                        "spec": text(spec),
                        "run_id": cell.run.run_id,
                        "extra": _extras(record),
                    }
                )
    return out


def _array_text(spec: Any) -> str:
    """How a case's array was drawn: its distribution and seed (``conformance.cases``)."""
    if not isinstance(spec, dict):
        return "?"
    if isinstance(spec.get("source"), dict):  # indices made by pooling an array
        return f"{text(spec.get('kind'))} of {_array_text(spec['source'])}"
    return f"{text(spec.get('distribution')) or '?'} values, seed {text(spec.get('seed')) or '?'}"


def _inputs_text(case: Any) -> str:
    """What tells apart cases that ``describe`` shows alike: how each array
    was drawn (the input's and the operands' distributions and seeds)."""
    if not isinstance(case, dict):
        return ""
    arrays = [("x", case.get("input"))]
    arrays += [(text(o[0]), o[1]) for o in case.get("operands") or [] if isinstance(o, list) and len(o) == 2]
    return "; ".join(f"{name}: {_array_text(spec)}" for name, spec in arrays)


def _off_reference(data: ReportData) -> list[dict[str, Any]]:
    """Per machine, the distinct cases where torch strays from the reference."""
    out = []
    for m in data.machines:
        cases: dict[str, dict[str, Any]] = {}
        per_cell: dict[tuple[str, str, str], int] = {}
        for key in sorted(m.cells, key=cell_sort_key):
            for r in m.cells[key].records:
                cmp = r.get("comparison")
                if r.get("minimal") or not isinstance(cmp, dict) or not cmp.get("torch_off_reference"):
                    continue
                case_key = json.dumps(r.get("case"), sort_keys=True, default=str)
                entry = cases.get(case_key)
                if entry is None:
                    dtype = text(r.get("dtype"))
                    cell_key = (text(r.get("op")), cell_label(text(r.get("mode")), direction_of(r)), dtype)
                    per_cell[cell_key] = per_cell.get(cell_key, 0) + 1
                    entry = cases[case_key] = {
                        "op": cell_key[0],
                        "mode": cell_key[1],
                        "dtype": dtype,
                        "case": _case_text(r),
                        "inputs": _inputs_text(r.get("case")),
                        "torch_err": num(cmp.get("torch_max_abs")) or 0.0,
                        "torch_err_text": _fmt_number(cmp.get("torch_max_abs")),
                        "backends": [],
                    }
                if key[0] not in entry["backends"]:
                    entry["backends"].append(key[0])
        entries = sorted(cases.values(), key=lambda e: (e["op"], e["mode"], e["dtype"], -e["torch_err"]))
        out.append(
            {
                "machine": m.label,
                "count": len(entries),
                "per_cell": [{"op": k[0], "mode": k[1], "dtype": k[2], "n": n} for k, n in sorted(per_cell.items())],
                "entries": entries[:MAX_OFF_REFERENCE],
                "left_out": max(0, len(entries) - MAX_OFF_REFERENCE),
            }
        )
    return out


def _expected(data: ReportData) -> list[dict[str, Any]]:
    """Per run with expected deviations: each entry that accepted failures
    (how many, its reason and link) and each stale entry (its cells were
    checked and nothing failed), as the terminal lists them."""
    out = []
    for m in data.machines:
        for run in m.runs:
            entries = [
                Expectation.from_json(e)
                for record in run.expectations
                for e in record.get("entries", [])
                if isinstance(e, dict)
            ]
            if not entries:
                continue
            judgement = judge(run.results, entries)
            used: dict[Expectation, int] = {}
            for _, entry in judgement.expected:
                used[entry] = used.get(entry, 0) + 1
            if not used and not judgement.stale:
                continue
            strict = any(record.get("strict") for record in run.expectations)

            def row(e: Expectation, n: int | None) -> dict[str, Any]:
                where = e.describe()
                return {"where": where, "reason": e.reason, "link": e.link or "", "n": n}

            out.append(
                {
                    "machine": m.label,
                    "run_id": run.run_id,
                    "used": [row(e, n) for e, n in used.items()],
                    "stale": [row(e, None) for e in judgement.stale],
                    "strict": strict,
                }
            )
    return out


def _timings(data: ReportData) -> list[dict[str, Any]]:
    """Per machine and op: a chart of backend / torch time per cell, and its table."""
    out = []
    for m in data.machines:
        charts: list[Chart] = []
        rows = []
        for op in data.ops:
            bars = []
            for key in sorted((k for k in m.cells if k[1] == op), key=cell_sort_key):
                cell = m.cells[key]
                timing = cell.timing()
                if timing is None:
                    continue
                ratio = timing.ratio
                value = (
                    f"{fmt_ratio(ratio)}   (median {fmt_seconds(timing.time_s)}; torch {fmt_seconds(timing.torch_time_s)})"
                )
                tooltip = (
                    f"{cell.backend} {op} {cell.label}: median ratio {fmt_ratio(ratio)} over {timing.cases} cases, "
                    f"middle half {timing.spread}; median {fmt_seconds(timing.time_s)} against torch's "
                    f"{fmt_seconds(timing.torch_time_s)}"
                )
                bars.append(Bar(cell.backend, ratio, value, tooltip, group=cell.label))
                rows.append(
                    {
                        "op": op,
                        "mode": cell.label,
                        "backend": cell.backend,
                        "time": fmt_seconds(timing.time_s),
                        "first": "-" if timing.first_call_s is None else fmt_seconds(timing.first_call_s),
                        "torch": fmt_seconds(timing.torch_time_s),
                        "ratio": fmt_ratio(ratio),
                        "spread": timing.spread,
                        "n": timing.cases,
                    }
                )
            # a chart per op, its bars grouped by cell (mode first, then backend)
            bars.sort(key=lambda b: (mode_rank(op, b.group.split(" · ")[0]), b.group, b.label))
            if bars:
                charts.append(layout(op, bars))
        out.append({"machine": m.label, "charts": charts, "rows": rows})
    return out


def _peak_text(peak: int | None, ratio: float | None) -> str:
    if peak is None:
        return "-"
    return f"{peak / 1e6:.0f} MB" + ("" if ratio is None else f" ({ratio:.1f}× result)")


def _bench_row(row: BenchRow, impl: str, ratio: float | None, target: float | None) -> dict[str, Any]:
    """One implementation of one case: its time beside torch's and the floor's,
    each ratio with its target's verdict, and its peak memory per call."""
    floor = row.floor_ratio(impl)
    floor_target = row.floor_target if impl == "numpy" else None
    peak, peak_ratio = row.peaks.get(impl), row.peak_ratio(impl)
    return {
        "case": row.case,
        "shape": row.shape,
        "impl": impl,
        "ms": f"{row.medians[impl] * 1e3:.1f}" if impl in row.medians else "-",
        "torch_ms": f"{row.medians['torch'] * 1e3:.1f}" if "torch" in row.medians else "-",
        "ratio": fmt_ratio(ratio) if ratio is not None else "-",
        "target": "none" if target is None else f"≤ {target:g}",
        "verdict": verdict(ratio, target),
        "floor_ms": f"{row.medians['floor'] * 1e3:.1f}" if "floor" in row.medians else "-",
        "floor_ratio": fmt_ratio(floor) if floor is not None else "-",
        "floor_target": "none" if floor_target is None else f"≤ {floor_target:g}",
        "floor_verdict": verdict(floor, floor_target),
        "peak": _peak_text(peak, peak_ratio),
        "peak_verdict": verdict(peak_ratio, PEAK_TARGET),
    }


def _bench(bench: BenchData | None) -> dict[str, Any] | None:
    if bench is None:
        return None
    rows, bars = [], []
    for row in bench.rows:
        for impl in row.others or ["torch"]:
            ratio = row.ratio(impl)
            target = row.target if impl == "numpy" else None
            rows.append(_bench_row(row, impl, ratio, target))
            if ratio is not None and impl != "torch":
                bars.append(
                    Bar(
                        impl,
                        ratio,
                        f"{fmt_ratio(ratio)}   ({fmt_seconds(row.medians[impl])}; torch {fmt_seconds(row.medians['torch'])})",
                        f"{row.case} ({row.shape}): {impl} median {fmt_seconds(row.medians[impl])}, "
                        f"torch {fmt_seconds(row.medians['torch'])}",
                        group=row.case,
                    )
                )
    chart = layout("benchmarks: median time / torch's", bars) if bars else None
    return {"data": bench, "rows": rows, "chart": chart}


def _gpu_text(gpu: Any) -> str:
    if not isinstance(gpu, dict):
        return "none" if gpu is None else text(gpu)
    parts = [text(gpu.get("name"))]
    if gpu.get("memory_gib") is not None:
        parts.append(f"{gpu['memory_gib']} GiB")
    if gpu.get("cuda"):
        parts.append(f"CUDA {gpu['cuda']}")
    parts.append(f"driver {gpu['driver']}" if gpu.get("driver") else "driver unknown")
    return ", ".join(p for p in parts if p)


ENV_FIELDS: Sequence[tuple[str, str]] = (
    ("harness_version", "harness version"),
    ("commit", "commit"),
    ("date", "date"),
    ("python", "Python"),
    ("numpy", "NumPy"),
    ("torch", "torch"),
    ("cupy", "CuPy"),
    ("hypothesis", "Hypothesis"),
    ("platform", "platform"),
    ("cpu", "CPU"),
    ("cpu_count", "CPUs"),
    ("cpu_flags", "CPU kernel flags"),
    ("oracle_cpu_path", "oracle's torch CPU path"),
    ("isolation", "verdicts"),
    ("torch_threads", "torch threads"),
    ("gpu", "GPU"),
    ("seed", "seed"),
    ("examples", "examples per cell"),
    ("ci", "CI"),
    ("argv", "command"),
)


def _command_text(argv: list[str]) -> str:
    """A run's command as typed (``python -m conformance run ...``): files from
    an older harness recorded ``sys.argv``, whose first word is the path to
    the package's ``__main__.py``."""
    if argv and os.path.basename(argv[0]) == "__main__.py":
        argv = ["python", "-m", os.path.basename(os.path.dirname(argv[0])) or "conformance", *argv[1:]]
    return shlex.join(argv)


def _env_value(key: str, env: dict[str, Any]) -> str:
    if key == "isolation" and isinstance(env.get("config"), dict):
        if env["config"].get("no_isolation"):
            return "trust the backend's process (--no-isolation: it ran beside torch, the reference and the verdict)"
        return "made outside the backend's process (each backend in a worker of its own)"
    if key not in env:
        return "-"
    value = env[key]
    if key == "gpu":
        return _gpu_text(value)
    if key == "argv" and isinstance(value, list):
        return _command_text([text(v) for v in value])
    if isinstance(value, dict) and "summary" in value:  # a CPU path: the line the run wrote
        return text(value["summary"])
    if isinstance(value, list):
        return " ".join(text(v) for v in value) or "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return text(value)


def _environments(data: ReportData) -> dict[str, Any]:
    runs: list[tuple[Machine, Run]] = [(m, r) for m in data.machines for r in m.runs]
    rows = [(label, [_env_value(key, r.environment) for _, r in runs]) for key, label in ENV_FIELDS]
    names = sorted({n for _, r in runs for n in r.backends})
    backend_rows = []
    for name in names:
        values = []
        for _, r in runs:
            b = r.backends.get(name)
            if b is None:
                values.append(("-", ""))
            elif b.get("available") is False:
                values.append((f"unavailable: {text(b.get('reason'))}", "unavailable"))
            else:
                path = b.get("cpu_path")
                on = f" · CPU path {text(path.get('summary'))}" if isinstance(path, dict) else ""
                values.append((f"{text(b.get('version'))} · --backend {text(b.get('spec'))}{on}", ""))
        backend_rows.append((name, values))
    columns = [{"machine": m.label, "run_id": r.run_id, "source": r.source, "results": len(r.results)} for m, r in runs]
    superseded = [
        {"machine": m.label, "run_id": r.run_id, "date": r.date, "source": r.source, "results": len(r.results)}
        for m in data.machines
        for r in m.superseded
    ]
    return {"columns": columns, "rows": rows, "backends": backend_rows, "superseded": superseded}


def _totals(data: ReportData) -> dict[str, Any]:
    counts = Counts()
    cells = bad = 0
    for m in data.machines:
        for c in m.cells.values():
            cc = c.counts()
            counts.merge(cc)
            cells += 1
            bad += cc.status in ("fail", "error")
    return {"counts": counts, "cells": cells, "bad_cells": bad}


def context(
    data: ReportData, bench: BenchData | None = None, pictures: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the template needs, computed from the results alone (and
    the pictures file, ``conformance.pictures``: images already encoded)."""
    off = _off_reference(data)
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "sources": data.sources,
        "machines": data.machines,
        "backends": data.backends,
        "ops": data.ops,
        "statuses": STATUSES,
        "symbols": SYMBOLS,
        "totals": _totals(data),
        "summary": _summary(data),
        "matrix": _matrix(data),
        "failures": _failures(data),
        "off_reference": off,
        "off_reference_total": sum(o["count"] for o in off),
        "timings": _timings(data),
        "expected": _expected(data),
        "bench": _bench(bench),
        "libraries": library_context(data),
        "frameworks": framework_context(data, _anchor),
        "pictures": pictures,
        "env": _environments(data),
        "dtypes": sort_dtypes({d for m in data.machines for d in m.dtypes}),
    }


def render(ctx: dict[str, Any]) -> str:
    """The page, from ``context(...)``: Jinja2 with autoescaping on."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(**ctx)


def write_report(
    results: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    bench: str | os.PathLike[str] | None = None,
    rebuild: bool = True,
    pictures: str | os.PathLike[str] | None = None,
) -> Path:
    """Render ``results`` (and ``bench``, a pytest-benchmark JSON file) into
    ``out_dir/index.html`` and return its path. Raises ``reports.data.ReportError``
    when a results file is missing or holds no run.

    ``rebuild`` is ignored (kept for callers such as ``--no-rebuild``): the
    report only renders what the results files hold, and never loads a
    backend or runs an op."""
    del rebuild  # the values come from the records (``conformance.windows``)
    data = load(results)
    bench_data = load_bench(bench) if bench is not None else None
    pictures_data = load_pictures(pictures) if pictures is not None else None
    page = render(context(data, bench_data, pictures_data))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
