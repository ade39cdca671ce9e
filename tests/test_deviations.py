"""torch's known deviations (``conformance/deviations.py``) still reproduce.

Each entry of ``KNOWN_DEVIATIONS`` is a fact about torch 2.13.  Here its case
runs on the installed torch, straight through ``torch.nn.functional`` and
autograd (not through the harness), beside the float64 reference, and must
show as the entry declares: off the reference beyond tolerance, raising with
the declared phrase, killing the process (in a subprocess), accepting a call
the reference refuses, or giving a result that depends on an unspecified
choice (torch's thread count).

These checks run only on the torch that ``constraints.txt`` pins (under any
other torch they are skipped, and say so): the deviations are facts of that
release.  An upgrade is noticed because the pin moves: once it names 2.13's
successor, these tests run against it, and a deviation the new release fixed
fails here, so that its entry -- and whatever the harness does about it --
is revised rather than left stale.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from backends.torch_backend import TorchBackend
from conformance.cases import Case
from conformance.deviations import KNOWN_DEVIATIONS, SHOWS, TORCH_VERSION, Deviation, deviations_for
from conformance.tolerance import compare_numeric
from reference.gradients import vjp
from reference.interpolate import ALIGN_CORNERS_MODES, MODE_RANKS
from tests.drawing import in_dtype

ROOT = Path(__file__).resolve().parent.parent
#: The harness's op names (``python -m conformance list``), aliases aside.
HARNESS_OPS = ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")
#: The inputs a backward case takes gradients for (when the case has them).
WRT = {"conv_transpose": ("x", "weight", "bias")}
#: The floating dtypes the harness draws for torch's ops.
FLOATING_DTYPES = ("float16", "bfloat16", "float32", "float64")
#: Thread counts an "unspecified" result is compared across.
THREADS = (1, 2, 8)
#: Rounds over ``THREADS`` before an unspecified result is taken as specified.
UNSPECIFIED_ROUNDS = 10


def pinned_torch() -> str:
    """``major.minor`` of the torch ``constraints.txt`` pins (``TORCH_VERSION`` without one)."""
    try:
        text = (ROOT / "constraints.txt").read_text()
    except OSError:
        return TORCH_VERSION
    match = re.search(r"^torch==(\d+\.\d+)", text, re.MULTILINE)
    return match.group(1) if match else TORCH_VERSION


def by_name(name: str) -> Deviation:
    return next(d for d in KNOWN_DEVIATIONS if d.name == name)


# --------------------------------------------------------------------------
# Running a case on torch and on the reference
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Each deviation still shows as declared
# --------------------------------------------------------------------------


@pytest.fixture
def pinned_torch_installed() -> None:
    torch = pytest.importorskip("torch")
    installed = torch.__version__.split("+")[0]
    pinned = pinned_torch()
    if not (installed == pinned or installed.startswith(pinned + ".")):
        pytest.skip(
            f"torch {torch.__version__} is installed, not the pinned {pinned}.x: "
            f"the known deviations are facts of torch {TORCH_VERSION} (constraints.txt pins the torch they are checked on)"
        )


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
        cmp = compare_numeric(t, e, t, case.dtype, magnitude)
        if cmp.torch_off_reference:
            flagged.append(f"{name}: torch's max error {cmp.torch_max_abs:.3g}")
    return flagged


def _shows_off_reference(d: Deviation) -> None:
    assert torch_off_reference(d.case), f"{d.name}: torch now agrees with the reference on {d.case.describe()}"


def _shows_raises(d: Deviation) -> None:
    run_reference(d.case)  # a valid call: the reference answers it
    with pytest.raises(Exception) as info:
        run_torch(d.case)
    assert d.raises_phrase in str(info.value), f"{d.name}: torch raised another error: {info.value}"


def _shows_accepts(d: Deviation) -> None:
    with pytest.raises((RuntimeError, ValueError)):
        run_reference(d.case)
    got = run_torch(d.case)  # torch returns where it should raise
    assert all(isinstance(a, np.ndarray) for a in got.values())


def _shows_unspecified(d: Deviation) -> None:
    """Which write wins depends on the thread count and on the threads'
    timing: a loaded machine can give one result on every thread count in a
    round, so the rounds go on (up to ``UNSPECIFIED_ROUNDS``) until two differ."""
    import torch

    before = torch.get_num_threads()
    distinct: set[bytes] = set()
    try:
        for _ in range(UNSPECIFIED_ROUNDS):
            for n in THREADS:
                torch.set_num_threads(n)
                distinct.add(run_torch(d.case)["out"].tobytes())
            if len(distinct) > 1:
                break
    finally:
        torch.set_num_threads(before)
    assert len(distinct) > 1, f"{d.name}: torch gives the same result on {THREADS} threads, {UNSPECIFIED_ROUNDS} times"


def _shows_crash(d: Deviation) -> None:
    code = "import sys; from tests.test_deviations import by_name, run_torch; run_torch(by_name(sys.argv[1]).case)"
    proc = subprocess.run([sys.executable, "-c", code, d.name], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode < 0:
        return  # killed by a signal: the crash reproduces
    assert proc.returncode == 0, (
        f"{d.name}: the subprocess exited with {proc.returncode} instead of dying of a signal:\n{proc.stderr[-2000:]}"
    )
    import torch

    if d.name == "float16-conv-transpose1d-backward-segfault" and not torch.ops.mkldnn._is_mkldnn_fp16_supported():
        pytest.skip(
            "did not crash on this CPU, where torch runs float16 convolutions without oneDNN (no AVX512-FP16 / "
            "AMX-FP16); the crash was recorded on the harness's CI CPU and is presumed to be in oneDNN's float16 path"
        )
    pytest.fail(f"{d.name}: the process survived {d.case.describe()}")


CHECKS = {
    "off-reference": _shows_off_reference,
    "raises": _shows_raises,
    "crash": _shows_crash,
    "accepts": _shows_accepts,
    "unspecified": _shows_unspecified,
}


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize("deviation", KNOWN_DEVIATIONS, ids=lambda d: d.name)
def test_deviation_still_reproduces(deviation):
    CHECKS[deviation.shows](deviation)


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize(
    "deviation", [d for d in KNOWN_DEVIATIONS if d.shows == "off-reference" and d.dtypes], ids=lambda d: d.name
)
def test_an_off_reference_deviation_lists_every_floating_dtype_its_case_shows_in(deviation):
    """A deviation limited to some dtypes accepts torch's failures only in
    those: were it to show in another (bfloat16 computes in float32 as float16
    does), a run of the torch backend that drew such a case would call torch
    not conforming to itself.  Its own case, cast to each floating dtype it
    does not list, must agree with the reference."""
    missing = {}
    for dtype in FLOATING_DTYPES:
        if dtype in deviation.dtypes:
            continue
        flagged = torch_off_reference(in_dtype(deviation.case, dtype))
        if flagged:
            missing[dtype] = flagged
    assert not missing, f"{deviation.name} shows in dtypes its entry does not list: {missing}"


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize(
    "deviation", [d for d in KNOWN_DEVIATIONS if d.shows == "off-reference" and d.op == "interpolate"], ids=lambda d: d.name
)
def test_an_interpolate_deviation_lists_every_mode_its_case_shows_in(deviation):
    """The same for its cells (interpolate's modes): its case in each other
    mode of the input's rank, in each dtype it lists, must agree with the
    reference (a combination torch or the reference refuses is skipped)."""
    listed = deviation.cells or (deviation.case.params["mode"],)
    missing = {}
    for mode, ranks in MODE_RANKS.items():
        if mode in listed or len(deviation.case.input.shape) not in ranks:
            continue
        params = dict(deviation.case.params, mode=mode)
        if mode not in ALIGN_CORNERS_MODES:
            params.pop("align_corners", None)
        for dtype in deviation.dtypes or (deviation.case.dtype,):
            case = in_dtype(dataclasses.replace(deviation.case, params=params), dtype)
            try:
                flagged = torch_off_reference(case)
            except (RuntimeError, ValueError, NotImplementedError):
                continue  # not a call both take
            if flagged:
                missing[f"{mode} {dtype}"] = flagged
    assert not missing, f"{deviation.name} shows in modes its entry does not list: {missing}"


# --------------------------------------------------------------------------
# The data itself
# --------------------------------------------------------------------------


def test_every_deviation_names_a_known_op_and_names_are_unique():
    names = [d.name for d in KNOWN_DEVIATIONS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    for d in KNOWN_DEVIATIONS:
        assert d.op in HARNESS_OPS and callable(getattr(reference, d.op)), d.op
        assert d.case.op == d.op and d.case.direction == d.direction, d.name
        assert d.shows in SHOWS and d.shows in CHECKS, d.name
        assert d.summary.strip() and d.handling.strip(), d.name
        operands = dict(d.case.operands)
        assert ("grad_output" in operands) == (d.direction == "backward"), d.name


def test_deviations_for_partitions_the_list():
    by_op = [d for op in HARNESS_OPS for d in deviations_for(op)]
    assert sorted(d.name for d in by_op) == sorted(d.name for d in KNOWN_DEVIATIONS)
    assert all(d.op == "interpolate" for d in deviations_for("interpolate"))
    assert deviations_for("no-such-op") == ()


def test_deviation_rejects_malformed_entries():
    d = KNOWN_DEVIATIONS[0]
    fields = dict(name=d.name, op=d.op, direction=d.direction, summary=d.summary, case=d.case, handling=d.handling)
    with pytest.raises(ValueError, match="kebab"):
        Deviation(**{**fields, "name": "Not_Kebab"}, shows="off-reference")
    with pytest.raises(ValueError, match="shows"):
        Deviation(**fields, shows="wrong")
    with pytest.raises(ValueError, match="raises_phrase"):
        Deviation(**fields, shows="raises")
    with pytest.raises(ValueError, match="case"):
        Deviation(**{**fields, "op": "max_pool"}, shows="off-reference")


def test_the_module_imports_no_torch():
    code = "import sys, conformance.deviations; sys.exit('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr or "conformance.deviations imported torch"
