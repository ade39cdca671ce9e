"""docs/writing-a-backend-vjp.md's example runs as the page says: its backend
module, saved in a directory of its own, is checked by the page's command
from that directory, and passes forward and backward."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "writing-a-backend-vjp.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.S)


def test_the_page_s_example_backend_passes_its_own_command(tmp_path):
    (module,) = _blocks("python")
    (console,) = _blocks("console")
    (tmp_path / "my_conv.py").write_text(module)
    argv = shlex.split(console.strip().removeprefix("$ "))
    assert argv[:3] == ["python", "-m", "conformance"] and "my_conv:ConvTranspose1d" in argv
    argv[argv.index("--examples") + 1] = "10"  # fewer than the page's, for the suite's time
    results = tmp_path / "r.jsonl"
    argv = [sys.executable, *argv[1:], "--seed", "0", "--quiet", "--no-isolation", "--results", str(results)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    checked = [r for r in records if r.get("status") in ("pass", "fail", "error")]
    assert {r["status"] for r in checked} == {"pass"}
    for direction in ("forward", "backward"):
        assert sum(r["direction"] == direction for r in checked) >= 10, direction
    # gradients with and without a bias were both asked for and passed
    backward = [r["case"] for r in checked if r["direction"] == "backward"]
    with_bias = {any(name == "bias" for name, _ in case["operands"]) for case in backward}
    assert with_bias == {True, False}
