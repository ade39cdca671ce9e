"""Repros: a self-contained Python script per failing case.

The script rebuilds the inputs with the NumPy statements the case is made of,
runs torch with *the same statements the oracle ran* (the op's ``torch_code``
in the registry), runs the backend, and prints where they differ; then where
the backend differs from the reference, which the verdict measures against
(torch may be off it too, and is the backend when torch is under test).  The
script also runs when pasted into the interactive interpreter, which reads it
a line at a time (``pasteable``): a blank line closes every indented block,
the last one too, and none falls inside a block.
"""

from __future__ import annotations

import os
import re
import site
import sys
import sysconfig
from importlib.machinery import PathFinder
from pathlib import Path

from conformance import ops
from conformance.cases import Case, InputSpec, PooledIndices

IMPORTS = ["import numpy as np", "import torch", "import torch.nn.functional as F", "from backends import load"]


#: Lines at column 0 that go on the statement above rather than start one:
#: a compound statement's further clauses, a bracket closing a multi-line call.
_GOES_ON = re.compile(r"(elif|else|except|finally)\b|[)\]}]")


def _top_level(line: str) -> bool:
    """``line`` starts a statement at column 0."""
    return bool(line) and not line[:1].isspace() and not _GOES_ON.match(line)


def pasteable(lines: list[str]) -> str:
    """``lines`` (each may hold several) as a script that runs both as a file
    and pasted into the interactive interpreter.  The interpreter ends a block
    at a blank line and wants one before a statement at column 0 that follows
    a block (else a SyntaxError), so: blank lines inside a statement are
    dropped, one is put after every block, the last one included."""
    flat = [line.rstrip() for chunk in lines for line in chunk.split("\n")]
    out: list[str] = []
    for i, line in enumerate(flat):
        if not line:
            following = next((later for later in flat[i + 1 :] if later), "")
            if out and out[-1] and _top_level(following):
                out.append("")  # between statements at column 0: kept
            continue
        if out and out[-1] and not _top_level(out[-1]) and _top_level(line):
            out.append("")  # closes the statement above
        out.append(line)
    return "\n".join([*out, ""] if out and _top_level(out[-1]) else [*out, "", ""])


#: The checkout the harness runs from: its modules (``tests.broken_backends``) need no path.
CHECKOUT = Path(__file__).resolve().parent.parent


def _installed() -> set[Path]:
    """The directories installed packages (the standard library's too) are imported from."""
    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages() + [site.getusersitepackages()])
    return {Path(p).resolve() for p in paths}


def backend_module(spec: str) -> tuple[str, str] | None:
    """For a ``module:attribute`` backend imported from outside this checkout
    and the installed packages (a directory on ``PYTHONPATH``, the directory
    the run started in): the module's file and the ``sys.path`` entry it was
    found under, which a repro run elsewhere must put on its own path.  The
    module is located as ``import`` would locate it, without running it."""
    if ":" not in spec or spec.startswith(("variant:", "torch@")):
        return None
    parts = spec.partition(":")[0].split(".")
    for entry in sys.path:
        root = Path(entry or os.getcwd()).resolve()
        found = PathFinder.find_spec(parts[0], [str(root)])
        if found is not None:
            break
    else:
        return None
    if root == CHECKOUT or root in _installed():
        return None
    for part in parts[1:]:
        if found is None or not found.submodule_search_locations:
            return None
        found = PathFinder.find_spec(part, list(found.submodule_search_locations))
    origin = found.origin if found is not None and found.origin else str(root / parts[0])
    return origin, str(root)


def _module_path_lines(backend_spec: str) -> list[str]:
    """The statements that let the repro import the backend's module from where the run found it."""
    located = backend_module(backend_spec)
    if located is None:
        return []
    origin, entry = located
    return [
        f"# the backend's module was imported from {origin} (on sys.path as {entry}) when this repro was written",
        f"sys.path.insert(0, {entry!r})",
    ]


def torch_lines(case: Case) -> list[str]:
    """The statements that set ``out`` from the tensors ``t`` and ``kwargs``."""
    return ops.get(case.op).torch_code(case)


def gradient_inputs(case: Case) -> list[str]:
    """The inputs a backward case differentiates: those of the op's
    ``differentiable`` that the case gives (``bias`` may be absent)."""
    given = {"x", *(name for name, _ in case.operands)}
    return [n for n in ops.get(case.op).differentiable if n in given]


def _bfloat16(case: Case) -> bool:
    """Whether an array of the case is bfloat16 (built by ml_dtypes)."""
    specs = [case.input, *(spec for _, spec in case.operands)]
    return any(isinstance(spec, InputSpec) and spec.dtype == "bfloat16" for spec in specs)


#: torch.from_numpy takes no ml_dtypes array, and .numpy() no bfloat16 tensor:
#: both go through float32, exact for values bfloat16 holds.
_TO_TORCH = "torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16) if a.dtype == ml_dtypes.bfloat16 else "
_FROM_TORCH = "{e}.float().numpy().astype(ml_dtypes.bfloat16) if {e}.dtype == torch.bfloat16 else {e}.numpy()"


def _to_numpy(case: Case, name: str) -> str:
    """The expression of the NumPy array of torch's tensor ``name``."""
    return _FROM_TORCH.format(e=name) if _bfloat16(case) else f"{name}.numpy()"


def _header(case: Case, backend_spec: str) -> list[str]:
    imports = list(IMPORTS)
    module_path = _module_path_lines(backend_spec)
    if module_path:
        imports = ["import sys", *imports, *module_path]
    bfloat16 = _bfloat16(case)
    if bfloat16:
        imports.insert(1, "import ml_dtypes")
    if any(isinstance(spec, PooledIndices) for _, spec in case.operands):
        imports.append("from reference import max_pool")
    names = ["x", *(n for n, _ in case.operands if n != "grad_output")]
    tensors = ", ".join(f"{n}={n}" for n in names)
    to_torch = _TO_TORCH if bfloat16 else ""
    return [
        *imports,
        "",
        case.code(),
        f"kwargs = dict({case.kwargs_code()})",
        f"t = {{name: {to_torch}torch.from_numpy(a.copy()) for name, a in dict({tensors}).items()}}",
    ]


def _backend_args(case: Case, backend: str = "backend") -> str:
    names = [n for n, _ in case.operands if n != "grad_output"]
    return f"{backend}.from_numpy(x)" + "".join(f", {n}={backend}.from_numpy({n})" for n in names)


#: The statements that print, per output, where the backend's ``a`` differs
#: from ``e`` (``{what}``: torch, or the reference).
_DIFFERENCE = [
    "    if a.shape == e.shape:",
    "        same = (a == e) | (np.isnan(a) & np.isnan(e))",
    # through complex128: keeps a complex value's imaginary part (and takes bool);
    # a non-finite value where the other side has another one is infinitely off
    "        diff = np.where(same, 0.0, np.abs(a.astype(np.complex128) - e.astype(np.complex128)))",
    "        diff[np.isnan(diff)] = np.inf",
    '        print("max |actual - {what}| =", diff.max(initial=0.0),',
    '              "at", np.unravel_index(diff.argmax(), diff.shape) if diff.size else None,',
    # int64 beyond 2**53 may differ by less than float64 resolves: the count does not
    '              "|", int((~same).sum()), "element(s) differ")',
]


def _against_reference(case: Case) -> list[str]:
    """The reference's answer beside the backend's: the verdict measures
    against it, not against torch (which may itself be off it, and is the
    backend when torch is under test)."""
    return [
        "# the float64 reference, rounded to the input's dtype: what the verdict measures against",
        "reference = load('reference')",
        "try:",
        f"    exact = reference.{case.op}({_backend_args(case, 'reference')}, **kwargs)",
        "    exact = exact if isinstance(exact, tuple) else (exact,)",
        "except Exception as exc:",
        "    exact = None",
        '    print("the reference raised", type(exc).__name__, exc)',
        "",
        "for a, e in zip(actual or (), exact or ()):",
        "    a = backend.to_numpy(a)",
        *(line.format(what="reference") for line in _DIFFERENCE),
        "",
    ]


def _earlier_calls(earlier: list[Case], backend_spec: str) -> list[str]:
    """Load the backend, then make the ``earlier`` calls a failure depends on
    (``conformance.history``): their results are not looked at."""
    if not earlier:
        return []
    imports = list(IMPORTS)
    module_path = _module_path_lines(backend_spec)
    if module_path:
        imports = ["import sys", *imports, *module_path]
    if any(_bfloat16(c) for c in earlier):
        imports.insert(1, "import ml_dtypes")
    if any(isinstance(spec, PooledIndices) for c in earlier for _, spec in c.operands):
        imports.append("from reference import max_pool")
    lines = [
        *imports,
        "",
        "# the failure depends on earlier calls: the case alone passes in a fresh process, so the",
        f"# {len(earlier)} earlier call(s) it needs are made first, on the same backend object",
        f"backend = load({backend_spec!r})",
    ]
    for i, case in enumerate(earlier, 1):
        call = (
            f"backend.vjp({case.op!r}, backend.from_numpy(grad_output), {_backend_args(case)}, **kwargs)"
            if case.direction == "backward"
            else f"backend.{case.op}({_backend_args(case)}, **kwargs)"
        )
        lines += [f"# earlier call {i}", case.code(), f"kwargs = dict({case.kwargs_code()})"]
        lines += ["try:", f"    {call}", "except Exception as exc:", '    print("earlier call raised", exc)', ""]
    return [*lines, "# the failing call"]


def _load_line(backend_spec: str, earlier: list[Case] | None) -> str:
    """The backend is loaded once: before the earlier calls where there are some."""
    return "# (the backend loaded above)" if earlier else f"backend = load({backend_spec!r})"


def repro(case: Case, backend_spec: str, earlier: list[Case] | None = None) -> str:
    """A script comparing ``backend_spec`` with torch on ``case``, then with
    the reference; ``earlier``: calls made on the backend first (a failure
    that depends on earlier calls, ``conformance.history``).  For a framework
    that wraps torch's own call (``DIRECT_CALLS``: ``torch-compile``), torch
    and the framework are called directly instead."""
    from backends.frameworks import DIRECT_CALLS

    if backend_spec in DIRECT_CALLS and not earlier:
        return direct_repro(case, DIRECT_CALLS[backend_spec])
    if case.direction == "backward":
        return _backward(case, backend_spec, earlier)
    return pasteable(
        [
            *_earlier_calls(earlier or [], backend_spec),
            *_header(case, backend_spec),
            "try:",
            *("    " + line for line in torch_lines(case)),
            "    expected = out if isinstance(out, tuple) else (out,)",
            "except Exception as exc:",
            "    expected = None",
            '    print("torch raised", type(exc).__name__, exc)',
            "",
            _load_line(backend_spec, earlier),
            "try:",
            f"    actual = backend.{case.op}({_backend_args(case)}, **kwargs)",
            "    actual = actual if isinstance(actual, tuple) else (actual,)",
            "except Exception as exc:",
            "    actual = None",
            '    print("backend raised", type(exc).__name__, exc)',
            "",
            "for a, e in zip(actual or (), expected or ()):",
            f"    a, e = backend.to_numpy(a), {_to_numpy(case, 'e')}",
            '    print("expected", e.dtype, e.shape, "| actual", a.dtype, a.shape)',
            *(line.format(what="expected") for line in _DIFFERENCE),
            "",
            *_against_reference(case),
        ]
    )


def _cotangent(case: Case) -> str:
    if _bfloat16(case):
        return "torch.from_numpy(grad_output.astype(np.float32)).to(torch.bfloat16)"
    return "torch.from_numpy(grad_output)"


def _backward(case: Case, backend_spec: str, earlier: list[Case] | None = None) -> str:
    """torch autograd through the oracle's statements against the backend's ``vjp``."""
    wrt = gradient_inputs(case)
    return pasteable(
        [
            *_earlier_calls(earlier or [], backend_spec),
            *_header(case, backend_spec),
            f"wrt = {wrt!r}",
            "for name in wrt:",
            "    t[name].requires_grad = True",
            "",
            *torch_lines(case),
            "out = out[0] if isinstance(out, tuple) else out",
            f"grads = torch.autograd.grad(out, [t[n] for n in wrt], {_cotangent(case)})",
            "expected = dict(zip(wrt, grads))",
            _load_line(backend_spec, earlier),
            f"actual = backend.vjp({case.op!r}, backend.from_numpy(grad_output), {_backend_args(case)}, **kwargs)",
            "for name, e in expected.items():",
            f"    a, e = backend.to_numpy(actual[name]), {_to_numpy(case, 'e')}",
            "    diff = np.abs(a.astype(np.complex128) - e.astype(np.complex128)) if a.shape == e.shape else None",
            '    print(name, "expected", e.dtype, e.shape, "| actual", a.dtype, a.shape,',
            '          "| max |actual - expected| =", "shapes differ" if diff is None else diff.max(initial=0.0))',
            "",
            "# the float64 reference's gradients, rounded to the inputs' dtypes: what the verdict measures against",
            "reference = load('reference')",
            f"exact = reference.vjp({case.op!r}, reference.from_numpy(grad_output), "
            f"{_backend_args(case, 'reference')}, **kwargs)",
            "for name, e in exact.items():",
            "    a, e = backend.to_numpy(actual[name]), reference.to_numpy(e)",
            "    diff = np.abs(a.astype(np.complex128) - e.astype(np.complex128)) if a.shape == e.shape else None",
            '    print(name, "| max |actual - reference| =", "shapes differ" if diff is None else diff.max(initial=0.0))',
            "",
        ]
    )


def direct_repro(case: Case, wrapper: str) -> str:
    """torch's statements as a function ``op``, run as they are and wrapped by
    the framework (``wrapper``, e.g. ``torch.compile({fn}, ...)``): the two
    compared, no harness code (for a bug report upstream)."""
    wrt = gradient_inputs(case) if case.direction == "backward" else []
    body = [
        "def op(t, kwargs):",
        *("    " + line for line in torch_lines(case)),
        "    return out if isinstance(out, tuple) else (out,)",
        "",
        f"framework = {wrapper.format(fn='op')}",
    ]
    if wrt:
        run = [
            f"wrt = {wrt!r}",
            "for name in wrt:",
            "    t[name].requires_grad = True",
            "",
            f"g = {_cotangent(case)}",
            "expected = torch.autograd.grad(op(t, kwargs)[0], [t[n] for n in wrt], g)",
            "actual = torch.autograd.grad(framework(t, kwargs)[0], [t[n] for n in wrt], g)",
        ]
    else:
        run = [
            "expected = op({n: v.clone() for n, v in t.items()}, kwargs)",
            "actual = framework({n: v.clone() for n, v in t.items()}, kwargs)",
        ]
    compare = [
        "for a, e in zip(actual, expected):",
        f"    a, e = {_to_numpy(case, 'a.detach()')}, {_to_numpy(case, 'e.detach()')}",
        '    print("torch", e.dtype, e.shape, "| framework", a.dtype, a.shape)',
        *(line.format(what="torch") for line in _DIFFERENCE),
        "",
    ]
    header = [line for line in _header(case, "") if line != "from backends import load"]
    return pasteable([*header, *body, *run, *compare])
