"""A conformance case: op, its array operands, keyword arguments.

A case is plain data (JSON in the results store) and turns into a Python
snippet that anyone can paste to see the same numbers: every array is made by
the very NumPy statements the repro prints (``materialize`` executes them).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

from reference.dtypes import is_floating, type_expression

#: How values are drawn: a NumPy expression of ``rng``, ``{shape}``,
#: ``{dtype}`` (the target dtype's scalar type where it is floating,
#: ``np.float16`` or ``ml_dtypes.bfloat16``, else float32's: ``np.finfo``
#: takes it) and ``{own}`` (the target dtype's own scalar type, ``np.int64``:
#: ``np.iinfo`` takes the integer ones).  The values are cast to the target
#: dtype afterwards.
DISTRIBUTIONS: dict[str, str] = {
    "normal": "rng.standard_normal({shape})",
    "unit": "rng.random({shape})",
    "large": "rng.standard_normal({shape}) * 1e4",
    "bytes": "rng.integers(0, 256, {shape})",
    "extremes": "rng.choice([0, 255], {shape})",
    "ties": "rng.integers(0, 3, {shape})",
    "nans": "np.where(rng.random({shape}) < 0.2, np.nan, rng.integers(0, 3, {shape}))",
    # Special values (floating dtypes only; see SPECIAL_DISTRIBUTIONS).
    # Normal values with 15% NaN, +-inf or signed zeros mixed in:
    "specials": (
        "np.where(rng.random({shape}) < 0.15, "
        "rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], {shape}), rng.standard_normal({shape}))"
    ),
    # Either sign, half to all of the largest float16 value: bicubic overshoot
    # and conv sums overflow to inf (torch computes most float16 kernels in
    # float32 and rounds once; conformance.deviations lists those that do not).
    # float32 and float64 keep 2**16 of headroom: their own arithmetic would
    # overflow mid-sum, in an order-dependent way; so does bfloat16, whose
    # range is float32's, the type torch sums it in.
    "huge": (
        "rng.choice([-1.0, 1.0], {shape}) * rng.uniform(0.5, 1.0, {shape}) * np.finfo({dtype}).max"
        " / (1 if np.finfo({dtype}).max < 2**16 else 2**16)"
    ),
    # From the smallest subnormal to a few times the smallest normal value,
    # either sign; some round to -0.0 or 0.0.
    "subnormal": (
        "rng.standard_normal({shape}) * np.finfo({dtype}).smallest_subnormal"
        " * 2.0 ** rng.integers(0, np.finfo({dtype}).nmant + 2, {shape})"
    ),
    # Integer dtypes: the whole range, both ends included (int64's too: drawn
    # as int64, never through a float, which holds 53 bits).
    "integers": "rng.integers(np.iinfo({own}).min, np.iinfo({own}).max, {shape}, dtype={own}, endpoint=True)",
    # The dtype's extremes and their neighbours: five values, so small windows tie.
    "int_extremes": (
        "rng.choice(np.array([np.iinfo({own}).min, np.iinfo({own}).min + 1, 0,"
        " np.iinfo({own}).max - 1, np.iinfo({own}).max], dtype={own}), {shape})"
    ),
    "bools": "rng.random({shape}) < 0.5",
    # Every value zero: torch's own error inputs hold such arrays (zero
    # unpooling indices, conformance.torch_errors); never drawn.
    "zeros": "np.zeros({shape})",
    # Complex: real and imaginary parts drawn independently, put side by side
    # as float64 pairs and viewed as complex128 (``re + 1j * im`` would turn an
    # infinite part into NaN: 1j * inf has a NaN real part).
    "complex": "np.stack([rng.standard_normal({shape}), rng.standard_normal({shape})], -1).view(np.complex128)[..., 0]",
    "complex_specials": (
        "np.stack([np.where(rng.random({shape}) < 0.15, rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], {shape}),"
        " rng.standard_normal({shape})) for _ in range(2)], -1).view(np.complex128)[..., 0]"
    ),
}
#: The special-value distributions, drawn for every op in floating dtypes, in
#: drawing order: failures shrink towards the first, the tamest.
SPECIAL_DISTRIBUTIONS: tuple[str, ...] = ("subnormal", "huge", "specials")

#: Memory layouts: a statement that re-lays ``{name}`` out with the same values.
LAYOUTS: dict[str, str | None] = {
    "contiguous": None,
    "transposed": "{name} = np.ascontiguousarray(np.swapaxes({name}, -1, -2)).swapaxes(-1, -2)",
    "strided": "{name} = np.repeat({name}, 2, axis=-1)[..., ::2]",
    "reversed": "{name} = np.flip(np.flip({name}, -1).copy(), -1)",
    "fortran": "{name} = np.asfortranarray({name})",
}


#: How a failure names a distribution: what the values are like.
VALUE_KINDS: dict[str, str] = {
    "normal": "plain (standard normal)",
    "unit": "plain (uniform in [0, 1))",
    "large": "large (normal x 1e4)",
    "bytes": "plain bytes (0 to 255)",
    "extremes": "0 and 255 only",
    "ties": "small integers (ties)",
    "nans": "NaN mixed in",
    "specials": "NaN/inf/signed zeros mixed in",
    "huge": "huge (near the dtype's largest)",
    "subnormal": "subnormal",
    "integers": "the whole integer range",
    "int_extremes": "the integer extremes",
    "bools": "booleans",
    "zeros": "all zero",
    "complex": "plain complex",
    "complex_specials": "complex with NaN/inf/signed zeros mixed in",
}


def values_text(spec: InputSpec) -> str:
    """An array's values, layout and seed, as a failure names them:
    ``values NaN/inf/signed zeros mixed in ('specials'), layout contiguous, seed 3``."""
    kind = VALUE_KINDS.get(spec.distribution, spec.distribution)
    return f"values {kind} ({spec.distribution!r}), layout {spec.layout}, seed {spec.seed}"


@functools.lru_cache(maxsize=256)
def compiled(source: str, filename: str = "<case>") -> Any:
    """``source`` compiled for ``exec``.  A check materialises its case up to
    three times and runs the op's one torch statement on every case: compiling
    each time was a third of a case's set-up."""
    return compile(source, filename, "exec")


@dataclass(frozen=True)
class InputSpec:
    """An array: shape, dtype, value distribution, seed, memory layout."""

    shape: tuple[int, ...]
    dtype: str
    distribution: str = "normal"
    seed: int = 0
    layout: str = "contiguous"

    def code(self, name: str = "x") -> list[str]:
        """NumPy statements that build the array ``name``."""
        # {dtype} names a floating dtype (np.finfo): an integer array takes float32's
        # values, cast (only a case relabelled to another dtype meets this)
        floating = type_expression(self.dtype if is_floating(self.dtype) else "float32")
        # float64 values cast once: ml_dtypes rounds them to bfloat16 directly, to nearest even
        cast = type_expression(self.dtype)
        expr = DISTRIBUTIONS[self.distribution].format(shape=repr(tuple(self.shape)), dtype=floating, own=cast)
        lines = [f"rng = np.random.default_rng({self.seed})", f"{name} = ({expr}).astype({cast})"]
        layout = LAYOUTS[self.layout]
        if layout:
            lines.append(layout.format(name=name))
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "array",
            "shape": list(self.shape),
            "dtype": self.dtype,
            "distribution": self.distribution,
            "seed": self.seed,
            "layout": self.layout,
        }


@dataclass(frozen=True)
class PooledIndices:
    """Unpooling indices as max-pooling a ``source`` array makes them (the
    reference's ``max_pool``, which matches torch's bit for bit)."""

    source: InputSpec
    pool: tuple[tuple[str, Any], ...]

    def code(self, name: str) -> list[str]:
        args = ", ".join(f"{k}={v!r}" for k, v in self.pool)
        return [*self.source.code("source"), f"_, {name} = max_pool(source, {args})"]

    def to_json(self) -> dict[str, Any]:
        return {"kind": "pooled_indices", "source": self.source.to_json(), "pool": [list(p) for p in self.pool]}


@dataclass(frozen=True)
class UniqueIndices:
    """Hand-made valid unpooling indices: distinct positions within each
    ``plane``-sized output plane, for an indices array of ``shape`` whose last
    ``rank`` axes are spatial."""

    shape: tuple[int, ...]
    plane: int
    rank: int
    seed: int = 0

    def code(self, name: str) -> list[str]:
        lead = tuple(self.shape[: len(self.shape) - self.rank])
        per_plane = int(np.prod(self.shape[len(self.shape) - self.rank :]))
        return [
            f"rng = np.random.default_rng({self.seed})",
            f"{name} = np.argsort(rng.random({(*lead, self.plane)!r}), axis=-1)"
            f"[..., :{per_plane}].reshape({tuple(self.shape)!r})",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "unique_indices",
            "shape": list(self.shape),
            "plane": self.plane,
            "rank": self.rank,
            "seed": self.seed,
        }


Operand = InputSpec | PooledIndices | UniqueIndices


def operand_from_json(data: dict[str, Any]) -> Operand:
    kind = data.get("kind", "array")
    if kind == "array":
        return InputSpec(tuple(data["shape"]), data["dtype"], data["distribution"], data["seed"], data["layout"])
    if kind == "pooled_indices":
        return PooledIndices(operand_from_json(data["source"]), tuple(_tuplify(p) for p in data["pool"]))  # type: ignore[arg-type]
    if kind == "unique_indices":
        return UniqueIndices(tuple(data["shape"]), data["plane"], data["rank"], data["seed"])
    raise ValueError(f"unknown operand kind {kind!r}")


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Case:
    """One call ``op(x, **operands, **params)``.

    ``input`` makes ``x``; ``operands`` are further arrays passed by keyword
    (``weight`` and ``bias`` of conv_transpose, ``indices`` of max_unpool);
    ``params`` are the remaining keyword arguments."""

    op: str
    input: InputSpec
    params: dict[str, Any] = field(default_factory=dict)
    operands: tuple[tuple[str, Operand], ...] = ()
    #: For invalid calls: words of which the backend's error message must
    #: contain one (case-insensitively), so that it names the problem.
    names_problem: tuple[str, ...] = ()
    #: The cell, when not derived from the arguments (invalid calls: "invalid-calls").
    cell: str | None = None
    #: "forward", or "backward": the gradients of the call for the cotangent
    #: given as the operand ``grad_output``.
    direction: str = "forward"

    @property
    def mode(self) -> str:
        """The cell a case belongs to within its op (interpolate: the mode;
        other ops: their spatial rank)."""
        if self.cell is not None:
            return self.cell
        if "mode" in self.params:
            return str(self.params["mode"])
        rank = cell_rank(self)
        return f"{rank}d" if rank else "all"

    @property
    def dtype(self) -> str:
        return self.input.dtype

    def code(self) -> str:
        """NumPy statements making ``x`` and every operand."""
        lines = self.input.code("x")
        for name, spec in self.operands:
            lines += spec.code(name)
        return "\n".join(lines)

    def materialize(self) -> dict[str, np.ndarray]:
        """``{"x": ..., **operands}``, made by executing ``code()``."""
        namespace: dict[str, Any] = {"np": np, "ml_dtypes": ml_dtypes}
        if any(isinstance(spec, PooledIndices) for _, spec in self.operands):
            from reference import max_pool

            namespace["max_pool"] = max_pool
        # values past a narrow dtype's range (the "huge" and "large" draws in
        # float16, bfloat16) become inf on purpose: no warning per case
        with np.errstate(over="ignore", invalid="ignore"):
            exec(compiled(self.code()), namespace)  # our own templates: see DISTRIBUTIONS, LAYOUTS
        return {name: namespace[name] for name in ("x", *(n for n, _ in self.operands))}

    def kwargs_code(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.params.items())

    def describe(self) -> str:
        spec = self.input
        extra = "" if spec.layout == "contiguous" else f", {spec.layout}"
        operands = "".join(f", {name}" for name, _ in self.operands)
        params = f", {self.kwargs_code()}" if self.params else ""
        grad = " backward" if self.direction == "backward" else ""
        return f"{self.op}{grad}({spec.dtype}{list(spec.shape)}{extra}{operands}{params})"

    def inputs_text(self) -> str:
        """What ``describe`` leaves out: how the input was drawn (its values'
        distribution, layout, seed; ``values_text``)."""
        return f"input: {values_text(self.input)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "params": _jsonable(self.params),
            "input": self.input.to_json(),
            "operands": [[name, spec.to_json()] for name, spec in self.operands],
            **({"names_problem": list(self.names_problem)} if self.names_problem else {}),
            **({"cell": self.cell} if self.cell is not None else {}),
            **({"direction": self.direction} if self.direction != "forward" else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        spec = operand_from_json(data["input"])
        assert isinstance(spec, InputSpec)
        params = {k: _tuplify(v) for k, v in data["params"].items()}
        operands = tuple((name, operand_from_json(op)) for name, op in data.get("operands", []))
        return cls(
            data["op"],
            spec,
            params,
            operands,
            tuple(data.get("names_problem", ())),
            data.get("cell"),
            data.get("direction", "forward"),
        )


def cell_rank(case: Case) -> int | None:
    """Spatial rank of a non-interpolate case (conv: from the weight; pooling:
    from the kernel; pixel shuffle: none)."""
    for name, spec in case.operands:
        if name == "weight" and isinstance(spec, InputSpec):
            return len(spec.shape) - 2
    kernel = case.params.get("kernel_size")
    if kernel is not None:
        return len(kernel) if isinstance(kernel, tuple) else len(case.input.shape) - 2
    return None


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
