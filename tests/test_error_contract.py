"""The error contract: every invalid call raises the exception class torch
raises, with a message that carries torch's key phrase.

Two sources of invalid calls are checked, against torch 2.13 itself:

* the op registry's catalog (``conformance.ops.invalid_calls()``), here: every
  word of an entry is a phrase of torch's own message for that call, and the
  reference and numpy backends raise torch's class with a message holding one
  of them;
* torch's own error inputs for these ops (the ``error_inputs`` of its
  OpInfos, ``conformance.torch_errors``): ``tests/test_torch_error_inputs.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import backends
from conformance import ops
from conformance.execute import Oracle, invoke

BACKENDS = ("reference", "numpy")
ORACLE = Oracle()


def raised(fn: Any) -> BaseException | None:
    """What ``fn()`` raises (``None``: it returns), warnings silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as exc:  # the exception is what is checked
        return exc
    return None


def _mismatch(torch_exc: BaseException, ours: BaseException | None, carries: Any) -> str | None:
    """Why ``ours`` breaks the contract (``None``: it keeps it)."""
    if ours is None:
        return f"returned a result; torch raises {type(torch_exc).__name__}: {torch_exc}"
    if type(ours) is not type(torch_exc):
        return f"raised {type(ours).__name__}: {ours}; torch raises {type(torch_exc).__name__}: {torch_exc}"
    if not carries(str(ours)):
        return f"message {str(ours)!r} misses torch's key phrase (torch: {str(torch_exc)!r})"
    return None


# --------------------------------------------------------------------------
# The registry's catalog of invalid calls
# --------------------------------------------------------------------------


def _check_catalog_entry(case: Any, loaded: dict[str, Any]) -> list[str]:
    """The problems of one catalog entry (empty: it keeps the contract)."""
    words = [w.lower() for w in case.names_problem]
    torch_exc = raised(lambda: ORACLE.run_torch(case, case.materialize()))
    if torch_exc is None:
        return ["torch accepts it"]
    message = str(torch_exc).lower()
    problems = [f"word {w!r} is not in torch's message {str(torch_exc)!r}" for w in words if w not in message]
    if not words:
        problems.append("it names no phrase of torch's message")
    for name, backend in loaded.items():
        arrays = {k: backend.from_numpy(a) for k, a in case.materialize().items()}
        ours = raised(lambda b=backend, a=arrays: invoke(b, case, a))
        why = _mismatch(torch_exc, ours, lambda text: any(w in text.lower() for w in words))
        if why:
            problems.append(f"{name} {why}")
    return problems


def test_catalog_entries_raise_torchs_class_with_torchs_key_phrase(capsys):
    loaded = {name: backends.load(name) for name in BACKENDS}
    cases = ops.invalid_calls()
    failures = {case.describe(): p for case in cases if (p := _check_catalog_entry(case, loaded))}
    matching = len(cases) - len(failures)
    with capsys.disabled():
        print(f"\ncatalog entries matching torch's key phrase: {matching}/{len(cases)}")
    assert matching == len(cases), "\n".join(f"{call}: {'; '.join(p)}" for call, p in failures.items())


def test_the_catalog_covers_every_op_with_an_error():
    """Every registered op has invalid calls, and no two entries are the same call."""
    assert all(info.invalid_calls for info in ops.REGISTRY.values()), [
        name for name, info in ops.REGISTRY.items() if not info.invalid_calls
    ]
    calls = [c.to_json() for c in ops.invalid_calls()]
    assert len({repr(c) for c in calls}) == len(calls)


@pytest.mark.parametrize(
    "shape,kernel",
    [((0, 10), 1), ((0, 10), (1,)), ((0, 3, 4), (1, 1)), ((0, 1, 2, 10), (1, 1, 1))],
    ids=str,
)
@pytest.mark.parametrize("name", BACKENDS)
def test_max_pool_refuses_an_unbatched_input_without_channels(name, shape, kernel):
    """torch refuses zero channels on an unbatched input (a batched input may
    have no samples); an empty result would hide the error."""
    backend = backends.load(name)
    with pytest.raises(RuntimeError, match="non-batch dimensions to have positive length|0 dim batch size"):
        backend.max_pool(backend.from_numpy(np.zeros(shape, np.float32)), kernel_size=kernel)
    no_samples = (0, 1, *shape[1:])  # batched, one channel, no samples: taken
    values, indices = backend.max_pool(backend.from_numpy(np.zeros(no_samples, np.float32)), kernel_size=kernel)
    assert backend.to_numpy(values).shape == backend.to_numpy(indices).shape == no_samples
