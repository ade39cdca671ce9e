"""torch on a chosen CPU path (``torch@SETTINGS``) as a backend, against an oracle on the run's own path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import backends
from backends import BackendLoadError
from backends.torch_backend import CpuPathSettings, TorchPathBackend, cpu_path, describe_path
from conformance.cases import Case, InputSpec
from conformance.isolation import IsolatedChecker, oracle_outside
from conformance.probe import machine_capabilities
from conformance.session import ConfigError, RunConfig, Session
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
#: uint8 bicubic to width 1: ATen's DEFAULT kernel repeats the first row (174 off), AVX2/AVX-512 are exact.
WIDTH_ONE = Case("interpolate", InputSpec((1, 1, 5, 2), "uint8", "bytes", 0), {"mode": "bicubic", "size": (4, 1)})


def test_settings_parse_and_name_the_path():
    assert CpuPathSettings.parse("avx2") == CpuPathSettings("avx2")
    assert CpuPathSettings.parse("default,no-onednn,threads=1") == CpuPathSettings("default", False, 1)
    assert backends.load("torch@threads=1,avx2").name == "torch@avx2,threads=1"
    for bad in ("avx3", "threads=0", "threads=x", ""):
        with pytest.raises(BackendLoadError, match="no CPU path setting"):
            backends.load(f"torch@{bad}")
    path = {"capability": "AVX512", "onednn": True, "onednn_float16": True, "onednn_bfloat16": True, "threads": 2}
    changed = CpuPathSettings("avx2", False, 1).applied_to(path)
    assert changed == {"capability": "AVX2", "onednn": False, "onednn_float16": False, "onednn_bfloat16": False, "threads": 1}


def test_onednn_and_threads_are_set_around_each_call_only():
    import torch

    before = (torch.get_num_threads(), torch.backends.mkldnn.enabled)
    backend = TorchPathBackend("no-onednn,threads=1")
    x = backend.from_numpy(WIDTH_ONE.materialize()["x"].astype("float32"))
    assert backend.path()["onednn"] is False and backend.path()["threads"] == 1
    backend.interpolate(x, scale_factor=2.0)
    assert (torch.get_num_threads(), torch.backends.mkldnn.enabled) == before
    assert cpu_path()["threads"] == before[0]


def test_a_capability_this_process_cannot_take_is_refused_not_faked():
    import torch

    torch.ones(2) + 1  # this process's capability is fixed now
    other = next((c for c in ("default", "avx2") if c.upper() != torch.backends.cpu.get_cpu_capability()), None)
    backend = TorchPathBackend(other)
    before = os.environ.get("ATEN_CPU_CAPABILITY")
    with pytest.raises(RuntimeError, match="its own worker process"):
        backend.from_numpy(WIDTH_ONE.materialize()["x"])
    assert os.environ.get("ATEN_CPU_CAPABILITY") == before  # nothing left for the workers it starts


@pytest.mark.skipif(
    "avx2" not in machine_capabilities() or cpu_path()["capability"] == "DEFAULT",
    reason="needs an oracle on AVX2 or AVX-512 kernels (an x86-64 CPU with AVX2, ATEN_CPU_CAPABILITY not default)",
)
def test_torch_on_default_is_judged_against_the_oracle_on_the_runs_own_path():
    """torch@default's worker runs DEFAULT kernels; the oracle answers from
    another process on the run's (vectorised) path.  Were the oracle asked in
    the backend's worker, torch's own error would be the backend's (174) and
    the case would pass."""
    assert oracle_outside("torch@default") and not oracle_outside("torch")
    with IsolatedChecker("torch@default") as checker:
        result = checker.check(WIDTH_ONE.to_json())
    assert result["status"] == "fail", result
    assert result["comparison"]["torch_max_abs"] < 1 < result["comparison"]["max_abs"]


def test_no_isolation_refuses_a_backend_that_moves_torchs_capability(tmp_path):
    config = RunConfig(backend=["torch@default"], op=["pixel_shuffle"], examples=1, no_isolation=True)
    with pytest.raises(ConfigError, match="drop --no-isolation"):
        Session(config, tmp_path / "r.jsonl").run()


def test_list_names_the_cpu_paths():
    proc = run_cli("list")
    assert proc.returncode == 0, proc.stderr
    for spec in ("torch@default", "torch@avx2", "torch@no-onednn", "torch@threads=1"):
        assert spec in proc.stdout


def test_records_and_report_name_the_oracles_path_and_each_torch_columns(tmp_path):
    results, out = tmp_path / "r.jsonl", tmp_path / "report"
    proc = run_cli("run", "--backend", "torch@default,threads=1", "--backend", "numpy", "--op", "pixel_shuffle",
                   "--examples", "2", "--no-grad", "--results", str(results), "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in results.read_text().splitlines()]
    env = next(r for r in records if r["type"] == "environment")
    assert env["oracle_cpu_path"]["capability"] == cpu_path()["capability"] and env["cpu_flags"] is not None
    torch_record = next(r for r in records if r["type"] == "backend" and r["name"].startswith("torch@"))
    assert torch_record["cpu_path"]["capability"] == "DEFAULT" and torch_record["cpu_path"]["threads"] == 1
    assert "numpy" not in {r["name"] for r in records if r["type"] == "backend" and "cpu_path" in r}
    assert run_cli("report", "--results", str(results), "--out", str(out)).returncode == 0
    page = (out / "index.html").read_text()
    assert "oracle&#39;s torch CPU path" in page or "oracle's torch CPU path" in page
    assert env["oracle_cpu_path"]["summary"] in page
    assert "CPU path DEFAULT, oneDNN" in page


def test_deviations_command_lists_each_condition():
    proc = run_cli("deviations")
    assert proc.returncode == 0, proc.stderr
    assert "this process's torch CPU path:" in proc.stdout
    assert "conv-transpose-zero-length-accepted" in proc.stdout and "oneDNN on, 2+ threads" in proc.stdout


def test_torch_runs_on_every_path_this_machine_has(tmp_path):
    """torch on each ATen capability the machine has, with oneDNN off and on
    one thread, every op forward, against the oracle on the run's path: every
    path loads and is checked, nothing crashes or hangs, and what differs is
    a value (a finding about torch's own kernels, printed), never the harness."""
    paths = [f"torch@{c}" for c in machine_capabilities()] + ["torch@no-onednn", "torch@threads=1"]
    argv = [a for spec in paths for a in ("--backend", spec)]
    results = tmp_path / "paths.jsonl"
    proc = run_cli("run", *argv, "--no-grad", "--examples", "6", "--seed", "0", "--results", str(results), "--quiet")
    assert proc.returncode in (0, 1), proc.stdout[-4000:] + proc.stderr[-2000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    found = [r for r in records if r.get("type") == "result"]
    assert {r["backend"] for r in found if r["status"] != "unsupported"} == {backends.load(s).name for s in paths}
    assert not [r for r in found if r.get("isolation") or "failed to load" in r["message"]]
    unexpected = [r for r in found if r["status"] in ("fail", "error") and "expected" not in r]
    annotated = {json.dumps(r["case"]) for r in found if r.get("expected")}
    findings = [r for r in unexpected if json.dumps(r["case"]) not in annotated]
    print("\n".join(f"{r['backend']} {r['op']} {r['mode']}: {r['message']}" for r in findings))
    assert all("off by more than" in r["message"] for r in findings), [r["message"] for r in findings]


#: The oracle on each path: (what is set, the environment or the --oracle spec).
ORACLE_PATHS = [("ATEN_CPU_CAPABILITY", c) for c in machine_capabilities()] + [
    ("--oracle", "torch@no-onednn"),
    ("--oracle", "torch@threads=1"),
]


@pytest.mark.parametrize("how,value", ORACLE_PATHS, ids=[v for _, v in ORACLE_PATHS])
def test_the_default_backends_conform_with_the_oracle_on_every_path(how, value, tmp_path):
    """The harness's verdicts on its own backends hold whatever path the
    oracle's torch takes: each capability this machine has (the whole run in
    a process started with ``ATEN_CPU_CAPABILITY``), oneDNN off, one thread."""
    results = tmp_path / "r.jsonl"
    argv = ["--examples", "12", "--seed", "0", "--results", str(results), "--quiet"]
    if how == "--oracle":
        proc = run_cli("run", "--oracle", value, *argv)
    else:
        env = {**os.environ, how: value, "CI": "true"}
        command = [sys.executable, "-m", "conformance", "run", *argv]
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    env_record = json.loads(results.read_text().splitlines()[0])
    path = env_record["oracle_cpu_path"]
    if how == "--oracle":
        assert path["summary"] == describe_path(TorchPathBackend(value.removeprefix("torch@")).path())
    else:
        assert path["capability"] == value.upper()
