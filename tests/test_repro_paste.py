"""Repros paste: every kind of repro runs when fed a line at a time to the
interactive interpreter, as a paste into ``python`` is, and still runs as a
file, printing the same."""

from __future__ import annotations

import code
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import repro as repro_module
from conformance.cases import Case, InputSpec, PooledIndices, UniqueIndices
from conformance.repro import pasteable, repro
from conformance.strategies import backward_case
from reference import conv_transpose, interpolate, max_unpool

ROOT = Path(__file__).resolve().parent.parent
MAX_DIFF = "max |actual - expected| ="
MAX_REFERENCE_DIFF = "max |actual - reference| ="


def _bilinear(**params) -> Case:
    return Case(
        "interpolate", InputSpec((1, 2, 3, 4), "float64", seed=1), {"mode": "bilinear", "size": (5, 6), **params}
    )


def _unpool(**params) -> Case:
    source = InputSpec((1, 2, 4, 4), "float32", "ties", seed=3)
    indices = PooledIndices(source, (("kernel_size", (2, 2)),))
    return Case(
        "max_unpool",
        InputSpec((1, 2, 2, 2), "float32", seed=4),
        {"kernel_size": (2, 2), **params},
        (("indices", indices),),
    )


def _conv_transpose(**params) -> Case:
    operands = (("weight", InputSpec((2, 3, 3, 3), "float64", seed=5)), ("bias", InputSpec((3,), "float64", seed=6)))
    return Case("conv_transpose", InputSpec((1, 2, 4, 4), "float64", seed=7), {"stride": 2, **params}, operands)


def _max_differences(text: str) -> list[float]:
    return [float(part.split()[0]) for part in text.split(MAX_DIFF)[1:]]


def _reference_differences(text: str) -> list[float]:
    return [float(part.split()[0]) for part in text.split(MAX_REFERENCE_DIFF)[1:]]


#: (id, case, backend spec, a check of the script's output)
KINDS = [
    (
        "forward-difference",
        _bilinear(align_corners=True),
        "tests.broken_backends:IgnoresAlignCorners",
        lambda out: (
            "expected float64 (1, 2, 5, 6) | actual float64 (1, 2, 5, 6)" in out
            and _max_differences(out)[0] > 0
            and _reference_differences(out)[0] > 0
        ),
    ),
    (
        # torch under test, off the reference where torch is the expected side
        # (deviation float32-coordinates-zero-weights): only the reference line shows it
        "forward-torch-off-reference",
        Case("upsample", InputSpec((1, 1, 2, 3, 1), "float32", "specials", 1), {"mode": "trilinear", "size": (1, 2, 3)}),
        "torch",
        lambda out: _max_differences(out) == [0.0] and _reference_differences(out) == [float("inf")],
    ),
    (
        "forward-torch-raises",
        Case("interpolate", InputSpec((1, 2, 3, 4), "float32"), {"mode": "bilinear", "size": 2, "scale_factor": 2.0}),
        "numpy",
        lambda out: (
            "torch raised ValueError only one of size or scale_factor" in out and "backend raised ValueError" in out
        ),
    ),
    (
        "forward-tuple-output",
        Case("max_pool", InputSpec((1, 2, 4, 4), "float32", "ties", seed=2), {"kernel_size": (2, 2)}),
        "numpy",
        lambda out: out.count("expected ") == 2 and _max_differences(out) == [0.0, 0.0],
    ),
    (
        "forward-pooled-indices",
        _unpool(output_size=(5, 5)),
        "tests.broken_backends:UnpoolDropsOutputSize",
        lambda out: "expected float32 (1, 2, 5, 5) | actual float32 (1, 2, 4, 4)" in out,
    ),
    (
        "forward-unique-indices",
        Case(
            "max_unpool",
            InputSpec((1, 2, 3, 3), "float32"),
            {"kernel_size": (2, 2)},
            (("indices", UniqueIndices((1, 2, 3, 3), 36, 2)),),
        ),
        "numpy",
        lambda out: _max_differences(out) == [0.0],
    ),
    (
        "forward-multi-statement-torch-code",
        _conv_transpose(output_size=(10, 10)),
        "tests.broken_backends:ConvTransposeIgnoresDilation",
        lambda out: (
            "expected float64 (1, 3, 10, 10) | actual float64 (1, 3, 10, 10)" in out and _max_differences(out)[0] < 1e-9
        ),
    ),
    (
        "backward-difference",
        backward_case(_bilinear(), interpolate),
        "tests.broken_backends:WrongBilinearGradient",
        lambda out: out.startswith("x expected float64 (1, 2, 3, 4)") and _max_differences(out)[0] > 0,
    ),
    (
        "backward-pooled-indices",
        backward_case(_unpool(), max_unpool),
        "reference",
        lambda out: out.startswith("x expected float32 (1, 2, 2, 2)") and _max_differences(out) == [0.0],
    ),
    (
        # bfloat16: ml_dtypes arrays, tensors built via float32 (exact), outputs read back alike
        "forward-bfloat16",
        Case("interpolate", InputSpec((1, 2, 3, 4), "bfloat16", seed=1), {"mode": "bilinear", "size": (5, 6)}),
        "numpy",
        lambda out: "expected bfloat16 (1, 2, 5, 6) | actual bfloat16 (1, 2, 5, 6)" in out
        and _max_differences(out) == [0.0],
    ),
    (
        "backward-bfloat16-weight-and-bias",
        backward_case(
            Case(
                "conv_transpose",
                InputSpec((1, 2, 4, 4), "bfloat16", seed=7),
                {"stride": 2},
                (("weight", InputSpec((2, 3, 3, 3), "bfloat16", seed=5)), ("bias", InputSpec((3,), "bfloat16", seed=6))),
            ),
            conv_transpose,
        ),
        "reference",
        lambda out: [line.split()[:3] for line in out.splitlines() if " expected " in line]
        == [[name, "expected", "bfloat16"] for name in ("x", "weight", "bias")]
        and _reference_differences(out) == [0.0, 0.0, 0.0],
    ),
    (
        "backward-weight-and-bias",
        backward_case(_conv_transpose(output_size=(10, 10)), conv_transpose),
        "reference",
        lambda out: [line.split()[0] for line in out.splitlines()] == ["x", "weight", "bias"] * 2
        and _reference_differences(out) == [0.0, 0.0, 0.0],
    ),
]


class Console(code.InteractiveConsole):
    """The interactive interpreter, keeping what it reports (tracebacks, SyntaxErrors)."""

    def __init__(self) -> None:
        super().__init__({"__name__": "__console__"})
        self.reported: list[str] = []

    def write(self, data: str) -> None:
        self.reported.append(data)


def paste(script: str) -> tuple[str, str, bool]:
    """Feed ``script`` to the interactive interpreter a line at a time:
    (printed, reported, still waiting for more lines at the end)."""
    console, printed = Console(), io.StringIO()
    more = False
    with contextlib.redirect_stdout(printed):
        for line in script.splitlines():
            more = console.push(line)
    return printed.getvalue(), "".join(console.reported), more


def run_as_file(script: str) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(script, "repro.py", "exec"), {"__name__": "__main__"})
    return printed.getvalue()


@pytest.mark.parametrize("case,spec,shows", [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_every_kind_of_repro_runs_pasted_and_as_a_file(case, spec, shows):
    assert case is not None
    script = repro(case, spec)
    printed, reported, more = paste(script)
    assert not reported, f"the interpreter reported:\n{reported}\n--- script:\n{script}"
    assert not more, f"the paste leaves a block open:\n{script}"
    assert shows(printed), f"unexpected output:\n{printed}\n--- script:\n{script}"
    assert run_as_file(script) == printed


def test_compound_torch_code_pastes(monkeypatch):
    """Torch code of a registered op may hold blocks, blank lines and calls
    over several lines: the script still pastes."""
    lines = [
        "if kwargs['mode'] == 'bilinear':",
        "",
        "    out = F.interpolate(",
        "        t['x'], **kwargs",
        ")",
        "else:",
        "    out = None",
        "for _ in range(1):",
        "    pass",
        "out = out",
    ]
    monkeypatch.setattr(repro_module, "torch_lines", lambda case: lines)
    for case in (_bilinear(), backward_case(_bilinear(), interpolate)):
        script = repro(case, "reference")
        printed, reported, more = paste(script)
        assert not reported and not more, f"{reported}\n--- script:\n{script}"
        assert _max_differences(printed) and max(_max_differences(printed)) < 1e-9, printed
        assert run_as_file(script) == printed


@pytest.mark.parametrize(
    "lines,script",
    [
        (["a = 1", "", "", "b = 2"], "a = 1\n\nb = 2\n"),
        (["for i in x:", "    pass", "b = 2"], "for i in x:\n    pass\n\nb = 2\n"),
        (["try:", "    a", "", "except E:", "    b"], "try:\n    a\nexcept E:\n    b\n\n"),
        (["if a:\n    b\n\n    c", "d"], "if a:\n    b\n    c\n\nd\n"),
    ],
)
def test_pasteable(lines, script):
    assert pasteable(lines) == script


def test_the_interactive_interpreter_runs_every_kind_pasted_together():
    """The real interpreter in interactive mode (``python -i`` reading a
    pipe parses as a paste does): every repro, one after the other."""
    scripts = "".join(repro(case, spec) for _, case, spec, _ in KINDS)
    proc = subprocess.run(
        [sys.executable, "-i", "-q"], input=scripts, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stdout.count("torch raised") == 1 and proc.stdout.count(MAX_DIFF) >= 8, proc.stdout
