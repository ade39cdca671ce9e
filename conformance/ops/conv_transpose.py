"""``conv_transpose{1,2,3}d``: torch's facts about it, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case, InputSpec, Operand
from conformance.deviations import deviations_for
from conformance.ops.registry import COMPLEX, FLOATS, DtypeRule, OpInfo, invalid_call, register
from conformance.strategies import conv_transpose_cases, fixed_large_cases
from reference.conv_transpose import conv_transpose
from reference.gradients import conv_transpose_vjp

RANK_CELLS = ("1d", "2d", "3d")


def ranked(factory: Any) -> Any:
    """A strategy factory for rank cells ("1d", "2d", "3d") over a
    ``factory(rank, dtypes)`` strategy; ``None`` when no dtype is left."""

    def strategy(cell: str, dtypes_for: DtypeRule) -> Any:
        dtypes = list(dtypes_for("", False))
        return factory(int(cell[0]), dtypes) if dtypes else None

    return strategy


def large_cases(op: str) -> Any:
    def fixed(cell: str, dtypes_for: DtypeRule) -> list[Case]:
        return fixed_large_cases(op, cell)

    return fixed


def _torch_code(case: Case) -> list[str]:
    weight = dict(case.operands)["weight"]
    assert isinstance(weight, InputSpec)
    n = len(weight.shape) - 2
    call = f"out = F.conv_transpose{n}d(t['x'], t['weight'], t.get('bias'), **args)"
    if case.params.get("output_size") is None:
        return [call.replace("**args", "**kwargs")]
    # What nn.ConvTranspose{n}d.forward(x, output_size) does: turn output_size
    # into the output_padding that gives it, then the functional call.
    return [
        "args = {k: v for k, v in kwargs.items() if k != 'output_size'}",
        f"m = torch.nn.ConvTranspose{n}d(t['weight'].shape[0], t['weight'].shape[1] * args.get('groups', 1), "
        "tuple(t['weight'].shape[2:]), bias=False, device='meta', "
        "**{k: v for k, v in args.items() if k in ('stride', 'padding', 'groups', 'dilation')})",
        f"args['output_padding'] = m._output_padding(t['x'], list(kwargs['output_size']), list(m.stride), "
        f"list(m.padding), list(m.kernel_size), {n}, list(m.dilation))",
        call,
    ]


def _call(
    params: dict[str, Any],
    *words: str,
    x: tuple[int, ...] = (1, 4, 5, 5),
    weight: tuple[int, ...] = (4, 2, 3, 3),
    bias: int | None = None,
) -> Case:
    operands: list[tuple[str, Operand]] = [("weight", InputSpec(weight, "float32", seed=1))]
    if bias is not None:
        operands.append(("bias", InputSpec((bias,), "float32", seed=2)))
    return invalid_call("conv_transpose", x, params, *words, operands=tuple(operands))


#: Each entry's words are phrases of torch's own message for that call.
OUTPUT_PADDING = "output padding must be smaller than either stride or dilation"
TOO_SMALL = "Output size is too small"
ZERO_SIZE = "Only zero batch or zero channel inputs are supported"
LENGTHS = "values to match the convolution dimensions"

INVALID_CALLS = (
    _call({"stride": 2, "output_padding": 2}, OUTPUT_PADDING),
    _call({"output_padding": 1}, OUTPUT_PADDING),
    _call({"dilation": 2, "output_padding": 2}, OUTPUT_PADDING),
    _call({"output_padding": -1}, "negative output_padding is not supported"),
    _call({"stride": 0}, "non-positive stride is not supported"),
    _call({"stride": -1}, "non-positive stride is not supported"),
    _call({"padding": -1}, "negative padding is not supported"),
    _call({"dilation": 0}, "dilation should be greater than zero"),
    _call({"groups": 0}, "non-positive groups is not supported"),
    _call({"groups": 3}, "expected weight to be divisible by 3 at dimension 0"),
    _call({}, "to have 3 channels, but got 4 channels instead", weight=(3, 2, 3, 3)),
    _call({"padding": 4}, TOO_SMALL),
    _call({"padding": 1}, TOO_SMALL, x=(1, 4, 1, 1), weight=(4, 2, 1, 1)),
    _call({"stride": 2, "output_size": (20, 20)}, "but valid sizes range from"),
    _call({"output_size": (7, 7, 7)}, "output_size must have 2 or 4 elements"),
    _call({}, "expected bias to be 1-dimensional with 2 elements", bias=5),
    _call({"stride": (1, 1, 1)}, "expected stride to be a single integer value or a list of 2", LENGTHS),
    _call({"padding": (1, 1, 1)}, "expected padding to be a single integer value or a list of 2", LENGTHS),
    # ranks
    _call({}, "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d", x=(4, 5)),
    _call({}, "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d", x=(1, 4, 5, 5), weight=(4, 2, 3)),
    _call({}, "Expected 4D (unbatched) or 5D (batched) input to conv_transpose3d", x=(4, 5, 5), weight=(4, 2, 3, 3, 3)),
    # zero-size dimensions and empty weights
    _call({}, ZERO_SIZE, x=(1, 4, 0, 5)),
    _call({}, ZERO_SIZE, x=(4, 5, 0)),
    _call({}, ZERO_SIZE, x=(1, 4, 0), weight=(4, 2, 3)),
    _call({}, "expected weight to be at least 1 at dimension 0", x=(0, 5, 5), weight=(0, 2, 3, 3)),
    _call({}, "expected weight to be at least 1 at dimension 0", x=(1, 0, 5, 5, 5), weight=(0, 2, 3, 3, 3)),
    _call({}, "weight tensor expected", weight=(4, 0, 3, 3)),
    _call({}, "tensor expected for weight", x=(1, 4, 5, 5, 5), weight=(4, 0, 3, 3, 3)),
    _call({}, "kernel size should be greater than zero", weight=(4, 2, 3, 0)),
    _call({}, "kernel size should be greater than zero", x=(1, 4, 5), weight=(4, 2, 0)),
)

CONV_TRANSPOSE = register(
    OpInfo(
        name="conv_transpose",
        summary="F.conv_transpose{1,2,3}d, or nn.ConvTranspose{n}d with output_size; groups, dilation, bias",
        cells=RANK_CELLS,
        reference=conv_transpose,
        torch_code=_torch_code,
        strategy=ranked(conv_transpose_cases),
        fixed_cases=large_cases("conv_transpose"),
        # torch 2.13 CPU (measured): the floats, int64 (no other integer) and
        # complex, forward; gradients for the floats and complex
        dtypes=lambda mode, antialias: (*FLOATS, "int64", *COMPLEX),
        vjp=conv_transpose_vjp,
        differentiable=("x", "weight", "bias"),
        invalid_calls=INVALID_CALLS,
        torch_opinfos=tuple(f"nn.functional.conv_transpose{n}d" for n in (1, 2, 3)),
        deviations=deviations_for("conv_transpose"),
    )
)
