"""The command line: exit codes, the summary, and wrong backends caught with
a minimal, runnable repro."""

import json

import numpy as np
import pytest

from tests.cli_runner import run_cli, run_repro


def test_conforming_backend_exits_0(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "numpy",
        "--mode",
        "nearest",
        "--mode",
        "bilinear",
        "--examples",
        "25",
        "--seed",
        "3",
        "--results",
        str(results),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "numpy    interpolate  bilinear" in proc.stdout
    assert "0 not conforming" in proc.stdout
    records = [json.loads(line) for line in results.read_text().splitlines()]
    env = records[0]
    assert env["type"] == "environment" and env["seed"] == 3 and env["torch"] and env["numpy"]
    results_ = [r for r in records if r["type"] == "result"]
    assert len(results_) >= 50 and all(r["status"] == "pass" for r in results_)
    assert all(r["time_s"] is not None and r["torch_time_s"] is not None for r in results_)


@pytest.mark.parametrize(
    "spec,op,mode,must_contain",
    [
        ("tests.broken_backends:IgnoresAlignCorners", "interpolate", "bilinear", "align_corners=True"),
        ("tests.broken_backends:ignores_align_corners", "interpolate", "linear", "align_corners=True"),
        ("tests.broken_backends:NearestRoundsHalfUp", "interpolate", "nearest", "mode='nearest'"),
        ("tests.broken_backends:ConvTransposeIgnoresDilation", "conv_transpose", "2d", "dilation="),
        ("tests.broken_backends:UnpoolDropsOutputSize", "max_unpool", "1d", "output_size="),
        ("tests.broken_backends:PixelShuffleSwapsSubpixels", "pixel_shuffle", "all", "upscale_factor=2"),
        (
            "tests.broken_backends:BilinearAliasWithoutAlignCorners",
            "UpsamplingBilinear2d",
            "all",
            "UpsamplingBilinear2d",
        ),
    ],
)
def test_wrong_backend_exits_1_with_minimal_repro(tmp_path, spec, op, mode, must_contain):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        spec,
        "--op",
        op,
        "--mode",
        mode,
        "--no-grad",
        "--examples",
        "60",
        "--seed",
        "0",
        "--results",
        str(results),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "repro:" in proc.stdout
    minimal = [json.loads(line) for line in results.read_text().splitlines()]
    minimal = [r for r in minimal if r.get("minimal")]
    # one per kind of failure (conformance.failures): a wrong output size also
    # makes the backend raise where torch does not; the first met is the bug's own
    assert len(minimal) >= 1 and len({r["group"]["kind"] for r in minimal}) == len(minimal)
    case = minimal[0]["case"]
    assert must_contain in minimal[0]["repro"]
    # shrunk: a small input, contiguous, normal values
    assert case["input"]["layout"] == "contiguous"
    assert np.prod(case["input"]["shape"]) <= 16, case
    # the repro, pasted into Python at the checkout's root, runs and shows the difference
    out = run_repro(minimal[0]["repro"])
    assert out.returncode == 0, out.stderr
    shown = out.stdout
    if "max |actual - expected| =" in shown:
        assert float(shown.split("max |actual - expected| =")[1].split()[0]) > 0, shown
    else:  # a different shape, or one side raising, is the difference
        shapes = [line.split("|") for line in shown.splitlines() if line.startswith("expected")]
        assert "raised" in shown or any(e.split()[2:] != a.split()[2:] for e, a in shapes), shown


def test_wrong_only_in_float64_is_caught(tmp_path):
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:Float32Everywhere",
        "--no-grad",
        "--op",
        "interpolate",
        "--mode",
        "bicubic",
        "--examples",
        "80",
        "--seed",
        "0",
        "--results",
        str(tmp_path / "r.jsonl"),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "float64" in proc.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["run", "--backend", "no-such-backend"], "unknown backend"),
        (["run", "--backend", "no_such_module:thing"], "cannot import"),
        (["run", "--backend", "backends:ENTRY_POINT_GROUP"], "lacks"),
        (["run", "--op", "convolution"], "unknown op"),
        (["run", "--mode", "bogus"], "unknown mode"),
        (["run", "--examples", "0"], "at least 1"),
        (["run", "--examples", "many"], "invalid int"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2(args, message, tmp_path):
    proc = run_cli(*args, "--results", str(tmp_path / "r.jsonl")) if args[0] == "run" else run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_unavailable_backend_is_a_usage_error_with_the_reason(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: torch-cuda is available")
    proc = run_cli("run", "--backend", "torch-cuda", "--results", str(tmp_path / "r.jsonl"))
    assert proc.returncode == 2
    assert "not available here" in proc.stderr and "CUDA" in proc.stderr


def test_list_shows_backends_availability_and_ops():
    proc = run_cli("list")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    numpy_line = next(line for line in lines if line.strip().startswith("numpy"))
    assert "available" in numpy_line and "unavailable" not in numpy_line
    assert any(line.strip().startswith("torch-cuda") for line in lines)
    assert "interpolate" in proc.stdout and "lanczos" in proc.stdout


def test_unsupported_is_reported_not_failed(tmp_path):
    results = tmp_path / "r.jsonl"
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:Float32NoLanczos",
        "--no-grad",
        "--op",
        "interpolate",
        "--mode",
        "lanczos",
        "--mode",
        "area",
        "--jobs",  # one job: the test pays for no job's forkserver
        "1",
        "--examples",
        "20",
        "--seed",
        "0",
        "--results",
        str(results),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in results.read_text().splitlines()]
    by_mode = {}
    for r in records:
        if r["type"] == "result":
            by_mode.setdefault(r["mode"], set()).add((r["status"], r["dtype"]))
    assert by_mode["lanczos"] == {("unsupported", "float32")}
    assert {s for s, _ in by_mode["area"]} == {"pass"} and {d for _, d in by_mode["area"]} >= {"float32"}


def test_cell_without_a_shared_dtype_is_unsupported(tmp_path):
    proc = run_cli(
        "run",
        "--backend",
        "tests.broken_backends:Uint8Only",
        "--no-grad",
        "--op",
        "interpolate",
        "--mode",
        "linear",
        "--examples",
        "5",
        "--seed",
        "0",
        "--results",
        str(tmp_path / "r.jsonl"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "linear" in line)
    assert row.split()[4:8] == ["0", "0", "0", "1"]


def test_list_variants_names_each_variant_as_a_backend_spec():
    """The error for an unknown ``variant:NAME`` points here: every variant is listed, by the spec that loads it."""
    from backends import load
    from reference.variants import all_variants

    proc = run_cli("list", "--variants")
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert listed == [f"variant:{v.name}" for v in all_variants()]
    assert load(listed[-1]).name == all_variants()[-1].name
    # one column of ops, however long the longest name
    columns = {line.index(" " + v.op + " ", len(f"  variant:{v.name}")) for line, v in zip(proc.stdout.splitlines(), all_variants())}
    assert len(columns) == 1, columns


def test_a_spent_failure_budget_is_recorded_with_the_cell_and_reported(tmp_path):
    results = tmp_path / "r.jsonl"
    args = ["run", "--backend", "tests.broken_backends:NaN", "--op", "interpolate", "--mode", "bilinear"]
    args += ["--no-grad", "--examples", "3", "--seed", "0", "--jobs", "1", "--failure-budget", "0"]
    proc = run_cli(*args, "--timeout-scale", "50", "--results", str(results))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "failure budget (0 s) spent: cut short" in proc.stdout
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert records[0]["config"]["failure_budget"] == 0 and records[0]["config"]["timeout_scale"] == 50
    done = [r for r in records if r["type"] == "cell_done"]
    assert done and "the shrink" in done[0]["budget_cut"]


def test_list_asks_each_backend_in_a_process_of_its_own():
    """A backend whose import or availability check kills the process is listed
    as unavailable with the reason; the others are still asked (``list`` once
    ended at a framework that crashed beside another one)."""
    from conformance.availability import ask_all

    found = ask_all(["reference", "tests.crashes_when_asked:CrashesWhenAsked", "tests.exits_at_import:X", "numpy"])
    reference, crashed, exited, numpy = found
    assert reference.ok and numpy.ok and numpy.version != "-", found
    assert not crashed.ok and "SIGSEGV" in crashed.why, crashed
    assert not exited.ok and "exit status 3" in exited.why, exited
