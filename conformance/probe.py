"""Where torch's known deviations show: each one's case run on torch's CPU paths.

A known deviation (``conformance.deviations``) says on which CPU paths it
shows (``Where``).  This module finds out: it runs the deviation's case on
the installed torch, straight through ``torch.nn.functional`` and autograd
(not through the harness), beside the float64 reference, and tells whether
it shows as declared (off the reference beyond tolerance, raising with the
declared phrase, accepting a call the reference refuses, killing the
process).  ``probe_here`` does so on the paths this process can take (oneDNN
on and off, 1 and 2 threads); ``probe_machine`` also on each ATen CPU
capability the machine has, each in a process of its own (the capability is
fixed at torch's first kernel).  ``python -m conformance deviations --probe``
prints the table; a row where a deviation shows where its condition says it
cannot, or does not show where it says it must, is a wrong condition.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import reference
from backends.torch_backend import CAPABILITIES, CpuPathSettings, TorchBackend, TorchPathBackend, cpu_flags
from backends.torch_backend import CAPABILITY_FLAGS as _FLAGS
from conformance.cases import Case
from conformance.deviations import KNOWN_DEVIATIONS, Deviation
from conformance.tolerance import compare_numeric
from reference.gradients import vjp

ROOT = Path(__file__).resolve().parent.parent
#: The inputs a backward case takes gradients for (when the case has them).
WRT = {"conv_transpose": ("x", "weight", "bias")}
#: The in-process paths probed: oneDNN on and off, 1 and 2 threads (the capability stays the process's).
IN_PROCESS = tuple(CpuPathSettings(None, onednn, threads) for onednn in (True, False) for threads in (1, 2))
#: How each kind of deviation is told apart from agreement (``"unspecified"``: by the thread count itself).
PROBED_KINDS = ("off-reference", "raises", "accepts", "crash")


def _torch_forward(op: str, t: dict[str, Any], params: dict[str, Any]) -> Any:
    import torch.nn.functional as F

    x = t["x"]
    if op == "interpolate":
        return F.interpolate(x, **params)
    if op == "conv_transpose":
        n = t["weight"].dim() - 2
        return getattr(F, f"conv_transpose{n}d")(x, t["weight"], t.get("bias"), **params)
    if op == "max_pool":
        n = len(params["kernel_size"])
        return getattr(F, f"max_pool{n}d")(x, return_indices=True, **params)
    if op == "max_unpool":
        n = len(params["kernel_size"])
        return getattr(F, f"max_unpool{n}d")(x, t["indices"], **params)
    if op in ("pixel_shuffle", "pixel_unshuffle"):
        return getattr(F, op)(x, **params)
    raise NotImplementedError(op)


def run_torch(case: Case) -> dict[str, np.ndarray]:
    """torch on ``case``: ``{"out": ...}`` forward (max_pool: ``"indices"``
    too), the gradient per differentiable input backward."""
    import torch

    arrays = case.materialize()
    g = arrays.pop("grad_output", None)
    backward = case.direction == "backward"
    wrt = [n for n in WRT.get(case.op, ("x",)) if n in arrays] if backward else []
    # the torch backend's conversions: they carry bfloat16 (torch.from_numpy refuses it)
    io = TorchBackend()
    tensors = {n: io.from_numpy(a.copy()).requires_grad_(n in wrt) for n, a in arrays.items()}
    out = _torch_forward(case.op, tensors, case.params)
    if not backward:
        if isinstance(out, tuple):
            return {"out": io.to_numpy(out[0]), "indices": io.to_numpy(out[1])}
        return {"out": io.to_numpy(out)}
    out = out[0] if isinstance(out, tuple) else out
    assert g is not None and tuple(g.shape) == tuple(out.shape), "the case's grad_output does not fit torch's output"
    grads = torch.autograd.grad(out, [tensors[n] for n in wrt], io.from_numpy(g))
    return {n: io.to_numpy(grad) for n, grad in zip(wrt, grads)}


def run_reference(case: Case, absolute: bool = False) -> dict[str, np.ndarray]:
    """The float64 reference on ``case``, keyed as ``run_torch``; ``absolute``:
    the backward's sums of absolute terms (the scale of rounding errors)."""
    arrays = case.materialize()
    x = arrays.pop("x")
    g = arrays.pop("grad_output", None)
    if case.direction == "backward":
        return vjp(case.op, g, x, absolute=absolute, **arrays, **case.params)
    out = getattr(reference, case.op)(x, **arrays, **case.params)
    if isinstance(out, tuple):
        return {"out": out[0], "indices": out[1]}
    return {"out": out}


def torch_off_reference(case: Case) -> list[str]:
    """Where torch's result on ``case`` is off the reference beyond tolerance (one line per output)."""
    got = run_torch(case)
    exact = run_reference(case)
    assert sorted(got) == sorted(exact)
    magnitudes = run_reference(case, absolute=True) if case.direction == "backward" else {}
    flagged = []
    for name, e in exact.items():
        t = got[name]
        assert t.shape == e.shape, f"{name}: torch's shape {t.shape}, the reference's {e.shape}"
        magnitude = float(np.abs(magnitudes[name]).max(initial=0.0)) if name in magnitudes else None
        if compare_numeric(t, e, t, case.dtype, magnitude).torch_off_reference:
            flagged.append(f"{name}: torch off the reference")
    return flagged


@dataclass(frozen=True)
class Seen:
    """What torch did on a deviation's case: whether the deviation showed, and how."""

    shows: bool
    detail: str


def seen(d: Deviation, settings: CpuPathSettings | None = None) -> Seen:
    """Run ``d``'s case on torch (on ``settings``' oneDNN and threads, if
    given) and tell whether the deviation shows as it declares; where it does
    not, what torch did instead (which agrees with the reference)."""
    if d.shows == "crash":
        return _crashes(d, settings or CpuPathSettings())
    if settings is None or (settings.onednn and settings.threads is None):
        return _seen(d)
    with TorchPathBackend(settings).on_path():
        return _seen(d)


def _seen(d: Deviation) -> Seen:
    if d.shows == "off-reference":
        flagged = torch_off_reference(d.case)
        return Seen(bool(flagged), "; ".join(flagged) or "torch agrees with the reference")
    if d.shows not in ("raises", "accepts"):
        raise ValueError(f"{d.name}: a {d.shows!r} deviation is not probed by its case alone")
    try:
        run_torch(d.case)
    except Exception as exc:  # noqa: BLE001 -- what torch raised is the finding
        if d.shows == "raises":
            return Seen(d.raises_phrase in str(exc), f"raises {type(exc).__name__}: {str(exc)[:120]}")
        return Seen(False, f"raises {type(exc).__name__} as the reference does")
    return Seen(d.shows == "accepts", "returns a result")


def _crashes(d: Deviation, settings: CpuPathSettings) -> Seen:
    """The case in a process of its own (on ``settings``' oneDNN and threads): does it die of a signal?"""
    code = (
        "import sys; from backends.torch_backend import CpuPathSettings, TorchPathBackend; "
        "from conformance.probe import by_name, run_torch; "
        "path = TorchPathBackend(CpuPathSettings.parse(sys.argv[2])) if sys.argv[2] else None; "
        "ctx = path.on_path() if path else __import__('contextlib').nullcontext(); "
        "ctx.__enter__(); run_torch(by_name(sys.argv[1]).case)"
    )
    argv = [sys.executable, "-c", code, d.name, settings.spec()]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode < 0:
        return Seen(True, f"killed by signal {-proc.returncode}")
    if proc.returncode != 0:
        return Seen(False, f"exited with {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    return Seen(False, "the process survived")


def by_name(name: str) -> Deviation:
    return next(d for d in KNOWN_DEVIATIONS if d.name == name)


def probed(d: Deviation) -> bool:
    """Whether ``probe_here`` runs ``d`` (an unspecified result is its own thread test)."""
    return d.shows in PROBED_KINDS


def probe_here(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Each probed deviation (``names``: only those) on each ``IN_PROCESS``
    path: a row with the path's facts, whether its condition holds there,
    whether it showed, and what torch did."""
    from backends.torch_backend import cpu_path

    rows = []
    for settings in IN_PROCESS:
        with TorchPathBackend(settings).on_path():
            path = cpu_path()
        for d in KNOWN_DEVIATIONS:
            if not probed(d) or (names and d.name not in names):
                continue
            got = seen(d, settings)
            rows.append({"deviation": d.name, "path": path, "holds": d.where.holds(path), **vars(got)})
    return rows


@cache
def machine_capabilities() -> tuple[str, ...]:
    """The ATen CPU capabilities this machine can run (x86-64: from its CPU
    flags; elsewhere only the one torch picks)."""
    flags = cpu_flags()
    if not flags or "sse2" not in flags:  # not x86-64: ATen names other capabilities there
        return ()
    return tuple(c for c in CAPABILITIES if all(f in flags for f in _FLAGS[c]))


def probe_machine(names: list[str] | None = None, only: str | None = None) -> list[dict[str, Any]]:
    """``probe_here`` on every ATen CPU capability the machine has (``only``:
    that one), each in a process of its own with ``ATEN_CPU_CAPABILITY`` set
    (only the process's own capability where the machine names none)."""
    capabilities = machine_capabilities()
    if not capabilities:
        return probe_here(names)
    rows = []
    for capability in [only] if only else capabilities:
        argv = [sys.executable, "-m", "conformance.probe", *(names or [])]
        env = {**os.environ, "ATEN_CPU_CAPABILITY": capability}
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"probing on {capability} failed:\n{proc.stderr[-3000:]}")
        rows += json.loads(proc.stdout)
    return rows


def wrong(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows where a deviation's condition and what torch did disagree."""
    return [r for r in rows if r["holds"] != r["shows"]]


if __name__ == "__main__":  # one capability's rows, as JSON (probe_machine runs it)
    json.dump(probe_here(sys.argv[1:] or None), sys.stdout)
