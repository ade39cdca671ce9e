"""A conformance case: op, keyword arguments, and how to make the input.

A case is plain data (JSON in the results store) and turns into a Python
snippet that anyone can paste to see the same numbers: the input is made by
the very NumPy expression shown in the repro.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: How input values are drawn: a NumPy expression of ``rng`` and ``shape``.
#: ``materialize`` evaluates exactly the text the repro prints.
DISTRIBUTIONS: dict[str, str] = {
    "normal": "rng.standard_normal(shape)",
    "unit": "rng.random(shape)",
    "large": "rng.standard_normal(shape) * 1e4",
    "bytes": "rng.integers(0, 256, shape)",
    "extremes": "rng.choice([0, 255], shape)",
}

#: Memory layouts: a NumPy statement that re-lays ``x`` out with the same values.
LAYOUTS: dict[str, str | None] = {
    "contiguous": None,
    "transposed": "x = np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2)",
    "strided": "x = np.repeat(x, 2, axis=-1)[..., ::2]",
}


@dataclass(frozen=True)
class InputSpec:
    """The input array: shape, dtype, value distribution, seed, memory layout."""

    shape: tuple[int, ...]
    dtype: str
    distribution: str = "normal"
    seed: int = 0
    layout: str = "contiguous"

    def code(self) -> str:
        """NumPy statements that build ``x``."""
        lines = [
            f"rng = np.random.default_rng({self.seed})",
            f"shape = {self.shape!r}",
            f"x = ({DISTRIBUTIONS[self.distribution]}).astype(np.{self.dtype})",
        ]
        if LAYOUTS[self.layout]:
            lines.append(str(LAYOUTS[self.layout]))
        return "\n".join(lines)

    def materialize(self) -> np.ndarray:
        namespace: dict[str, Any] = {"np": np}
        exec(self.code(), namespace)  # our own constant templates, see DISTRIBUTIONS
        return namespace["x"]


@dataclass(frozen=True)
class Case:
    """One call of ``op`` on one input, with keyword arguments ``params``."""

    op: str
    input: InputSpec
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        """The cell a case belongs to within its op (interpolate: the mode)."""
        return str(self.params.get("mode", "-"))

    @property
    def dtype(self) -> str:
        return self.input.dtype

    def kwargs_code(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.params.items())

    def describe(self) -> str:
        spec = self.input
        extra = "" if spec.layout == "contiguous" else f", {spec.layout}"
        return f"{self.op}({spec.dtype}{list(spec.shape)}{extra}, {self.kwargs_code()})"

    def to_json(self) -> dict[str, Any]:
        spec = self.input
        return {
            "op": self.op,
            "params": _jsonable(self.params),
            "input": {
                "shape": list(spec.shape),
                "dtype": spec.dtype,
                "distribution": spec.distribution,
                "seed": spec.seed,
                "layout": spec.layout,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        spec = dict(data["input"])
        spec["shape"] = tuple(spec["shape"])
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in data["params"].items()}
        return cls(data["op"], InputSpec(**spec), params)

    def repro(self, backend_spec: str) -> str:
        """A self-contained script comparing ``backend_spec`` with torch on this case."""
        torch_call = {
            "interpolate": "F.interpolate(torch.from_numpy(x), **kwargs)",
        }[self.op]
        return "\n".join(
            [
                "import numpy as np",
                "import torch",
                "import torch.nn.functional as F",
                "from backends import load",
                "",
                self.input.code(),
                f"kwargs = dict({self.kwargs_code()})",
                f"expected = {torch_call}.numpy()",
                f"backend = load({backend_spec!r})",
                f"actual = backend.to_numpy(backend.{self.op}(backend.from_numpy(x), **kwargs))",
                'print("expected", expected.dtype, expected.shape)',
                'print("actual  ", actual.dtype, actual.shape)',
                "if actual.shape == expected.shape:",
                "    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))",
                '    print("max |actual - expected| =", diff.max(initial=0.0), "at", np.unravel_index(diff.argmax(), diff.shape) if diff.size else None)',
            ]
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps(record: dict[str, Any]) -> str:
    """One JSON line; non-finite floats become strings so any parser reads them."""
    return json.dumps(_finite(record), sort_keys=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
