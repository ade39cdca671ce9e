"""torch's known deviations (``conformance/deviations.py``) show exactly where they say.

Each entry of ``KNOWN_DEVIATIONS`` is a fact about torch 2.13 on some of its
CPU paths (``Where``).  Here its case runs on the installed torch
(``conformance.probe``: straight through ``torch.nn.functional`` and
autograd, beside the float64 reference) on this process's CPU capability
with oneDNN on and off and on 1 and 2 threads, and on every other capability
the machine has (a process each): where its condition holds it must show as
declared (off the reference beyond tolerance, raising with the declared
phrase, killing the process, accepting a call the reference refuses, or a
result that depends on the thread count); where it does not, torch must
agree with the reference.

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

import pytest

import reference
from backends.torch_backend import CAPABILITIES, CpuPathSettings, TorchPathBackend, cpu_path, describe_path
from conformance.deviations import KNOWN_DEVIATIONS, SHOWS, TORCH_VERSION, Deviation, Where, deviations_for
from conformance.probe import (
    IN_PROCESS,
    PROBED_KINDS,
    machine_capabilities,
    probe_machine,
    probed,
    run_torch,
    seen,
    torch_off_reference,
    wrong,
)
from reference.interpolate import ALIGN_CORNERS_MODES, MODE_RANKS
from tests.drawing import in_dtype

ROOT = Path(__file__).resolve().parent.parent
#: The harness's op names (``python -m conformance list``), aliases aside.
HARNESS_OPS = ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")
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


# --------------------------------------------------------------------------
# Each deviation shows exactly where its condition says
# --------------------------------------------------------------------------


def _path(settings: CpuPathSettings) -> dict:
    with TorchPathBackend(settings).on_path():
        return cpu_path()


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize("settings", IN_PROCESS, ids=lambda s: s.spec())
@pytest.mark.parametrize("deviation", [d for d in KNOWN_DEVIATIONS if probed(d)], ids=lambda d: d.name)
def test_deviation_shows_exactly_where_its_condition_holds(deviation, settings):
    """On this process's CPU capability with oneDNN on and off, on 1 and 2
    threads: where the deviation's ``Where`` holds its case shows it; where
    it does not, torch agrees with the reference (a condition found on one
    machine that another machine contradicts fails here, on that machine)."""
    path = _path(settings)
    got = seen(deviation, settings)
    where = f"on {describe_path(path)}, where its condition ({deviation.where.describe()})"
    if deviation.where.holds(path):
        assert got.shows, f"{deviation.name} does not show {where} holds: {got.detail}"
    else:
        assert not got.shows, f"{deviation.name} shows {where} does not hold: {got.detail}; widen its Where"


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize("deviation", [d for d in KNOWN_DEVIATIONS if d.shows == "unspecified"], ids=lambda d: d.name)
def test_an_unspecified_result_depends_on_the_thread_count(deviation):
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
                distinct.add(run_torch(deviation.case)["out"].tobytes())
            if len(distinct) > 1:
                break
    finally:
        torch.set_num_threads(before)
    assert len(distinct) > 1, f"{deviation.name}: torch gives the same result on {THREADS} threads, {UNSPECIFIED_ROUNDS} times"


@pytest.mark.usefixtures("pinned_torch_installed")
@pytest.mark.parametrize("capability", machine_capabilities() or ["(the process's own)"])
def test_deviations_show_where_their_conditions_hold_on_every_cpu_capability(capability):
    """The same on each ATen CPU capability this machine has, in a process
    of its own (``ATEN_CPU_CAPABILITY``): ``probe_machine``'s rows."""
    if capability not in CAPABILITIES:
        pytest.skip("not an x86-64 CPU: ATen names no capabilities to choose from here")
    rows = probe_machine(only=capability)
    assert rows and {r["path"]["capability"] for r in rows} == {capability.upper()}
    assert not wrong(rows), "\n".join(
        f"{r['deviation']} on {describe_path(r['path'])}: condition {'holds' if r['holds'] else 'does not hold'}, "
        f"torch: {r['detail']}"
        for r in wrong(rows)
    )


def test_where_reads_the_path_facts():
    path = {"capability": "AVX512", "onednn": True, "onednn_float16": False, "threads": 2}
    assert Where().holds(path) and Where().holds(None)
    assert Where(capabilities=("AVX2", "AVX512")).holds(path)
    assert not Where(capabilities=("AVX2", "AVX512")).holds({**path, "capability": "DEFAULT"})
    assert Where(onednn=True, min_threads=2).holds(path)
    assert not Where(onednn=True, min_threads=2).holds({**path, "threads": 1})
    assert not Where(onednn=True).holds({**path, "onednn": False})
    assert Where(onednn_float16=False).holds(path) and not Where(onednn_float16=True).holds(path)
    assert not Where(onednn=True).holds(None)  # a CUDA run: only unconditional deviations apply
    assert Where(onednn=True, min_threads=2).describe() == "oneDNN on, 2+ threads"


def test_a_conditional_deviation_says_where_it_was_probed():
    d = KNOWN_DEVIATIONS[0]
    fields = dict(name=d.name, op=d.op, direction=d.direction, summary=d.summary, case=d.case, handling=d.handling)
    with pytest.raises(ValueError, match="probed"):
        Deviation(**fields, shows="off-reference", where=Where(onednn=False))


def test_every_kind_of_deviation_is_checked():
    assert set(PROBED_KINDS) | {"unspecified"} == set(SHOWS)


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
        assert d.shows in SHOWS, d.name
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
