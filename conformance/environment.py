"""The environment record written at the head of every run's results."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from backends.torch_backend import kernel_flags
from conformance import __version__

ROOT = Path(__file__).resolve().parent.parent


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _module_version(name: str) -> str | None:
    try:
        module = __import__(name)
    except Exception:  # absent or broken: record that, do not fail the run
        return None
    return getattr(module, "__version__", "unknown")


def _gpu() -> dict[str, Any] | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    info: dict[str, Any] = {
        "name": props.name,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "cuda": torch.version.cuda,
    }
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        info["driver"] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        info["driver"] = None
    return info


def command_line() -> list[str]:
    """The command as it was typed: ``python -m conformance run ...``.  Under
    ``-m``, ``sys.argv[0]`` is the path to ``conformance/__main__.py``; the
    interpreter's ``sys.orig_argv`` keeps the ``-m`` (the interpreter named
    by its file name, as one types it)."""
    typed = list(getattr(sys, "orig_argv", None) or [])
    if typed:
        return [os.path.basename(typed[0]) or typed[0], *typed[1:]]
    argv = list(sys.argv)
    if argv and os.path.basename(argv[0]) == "__main__.py":
        return ["python", "-m", os.path.basename(os.path.dirname(argv[0])), *argv[1:]]
    return argv


def environment(seed: int, examples: int, argv: list[str] | None = None) -> dict[str, Any]:
    """Everything needed to tell where and how a run happened."""
    torch_threads = None
    try:
        import torch

        torch_threads = torch.get_num_threads()
    except ImportError:
        pass
    return {
        "type": "environment",
        "harness_version": __version__,
        "commit": _git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _module_version("torch"),
        "cupy": _module_version("cupy"),
        "hypothesis": _module_version("hypothesis"),
        "platform": platform.platform(),
        "cpu": _cpu(),
        # the CPU features that pick torch's kernels (ATen's capability, oneDNN's ISA)
        "cpu_flags": kernel_flags(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch_threads,
        "gpu": _gpu(),
        "seed": seed,
        "examples": examples,
        "ci": bool(os.environ.get("CI")),
        "argv": argv if argv is not None else command_line(),
    }
