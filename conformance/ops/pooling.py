"""``max_pool{n}d(..., return_indices=True)`` and ``max_unpool{n}d``:
torch's facts about them, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case, InputSpec, UniqueIndices
from conformance.deviations import deviations_for
from conformance.ops.conv_transpose import RANK_CELLS, large_cases, ranked
from conformance.ops.registry import FLOATS, SIGNED_INTS, OpInfo, invalid_call, register
from conformance.strategies import max_pool_cases, max_unpool_cases
from reference.gradients import max_pool_vjp, max_unpool_vjp
from reference.unpooling import max_pool, max_unpool, spatial_rank


def _max_pool_code(case: Case) -> list[str]:
    n = spatial_rank(len(case.input.shape), case.params["kernel_size"])
    return [f"out = F.max_pool{n}d(t['x'], return_indices=True, **kwargs)"]


def _max_unpool_code(case: Case) -> list[str]:
    n = spatial_rank(len(case.input.shape), case.params["kernel_size"])
    return [f"out = F.max_unpool{n}d(t['x'], t['indices'], **kwargs)"]


def _from_torch(torch_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``max_pool{n}d``'s or ``max_unpool{n}d``'s arguments -> the protocol's.

    The protocol reads the rank from ``len(kernel_size)`` and an int kernel's
    from the input (``x.ndim - 2``), while torch's function names it: an int
    kernel becomes ``n`` ints.  ``return_indices`` goes: the protocol's
    ``max_pool`` always returns them (an error of the call without indices
    alone is found out when torch takes the protocol's call)."""
    n = int(torch_name[-2])
    arguments = {k: v for k, v in arguments.items() if k != "return_indices"}
    kernel = arguments.get("kernel_size")
    if isinstance(kernel, int):
        arguments["kernel_size"] = (kernel,) * n
    return arguments


def _unpool(params: dict[str, Any], *words: str, indices: Any = None, x: tuple[int, ...] = (1, 2, 3, 3)) -> Case:
    indices = indices or UniqueIndices(x, 36, 2)
    return invalid_call("max_unpool", x, params, *words, operands=(("indices", indices),))


def _pool(x: tuple[int, ...], params: dict[str, Any], *words: str) -> Case:
    return invalid_call("max_pool", x, params, *words)


#: Each entry's words are phrases of torch's own message for that call.
PAD_HALF = "pad should be at most half of effective kernel size"
PAD_NEGATIVE = "pad must be non-negative"
STRIDE_ZERO = "stride should not be zero"
TOO_SMALL = "Output size is too small"
#: 1-D and 2-D inputs with an empty non-batch dimension (1-D runs as 2-D).
EMPTY_2D = "(batch mode) tensor with optional 0 dim batch size for input"
EMPTY_3D = "Expected input's non-batch dimensions to have positive length"
UNPOOL_EMPTY = "Expected input to have non-zero size for non-batch dimensions"


MAX_POOL = register(
    OpInfo(
        name="max_pool",
        summary="F.max_pool{1,2,3}d(..., return_indices=True): values and int64 indices, ties and NaN",
        cells=RANK_CELLS,
        reference=max_pool,
        torch_code=_max_pool_code,
        strategy=ranked(max_pool_cases),
        fixed_cases=large_cases("max_pool"),
        # torch 2.13 CPU: every real dtype but bool with return_indices=True
        # (max_pool1d without indices refuses integers); gradients: floats only
        dtypes=lambda mode, antialias: (*FLOATS, "uint8", *SIGNED_INTS),
        vjp=max_pool_vjp,
        exact=True,
        invalid_calls=(
            _pool((1, 2, 5, 5), {"kernel_size": (3, 3), "padding": 2}, PAD_HALF),
            _pool((1, 2, 9), {"kernel_size": (3,), "dilation": 2, "padding": 3}, PAD_HALF),
            _pool(
                (1, 2, 9, 9),
                {"kernel_size": (3, 3), "dilation": 2, "padding": 2},
                "pad should be smaller than or equal to half of kernel size",
            ),
            _pool((1, 2, 9), {"kernel_size": (2,), "padding": -1}, PAD_NEGATIVE),
            _pool((1, 2, 5, 5), {"kernel_size": (3, 2), "padding": -1}, PAD_NEGATIVE),
            _pool((1, 2, 5, 5, 5), {"kernel_size": (2, 2, 2), "padding": -1}, PAD_NEGATIVE),
            # stride defaults to the kernel, so torch names the stride here
            _pool((1, 2, 5, 5), {"kernel_size": (0, 2)}, STRIDE_ZERO),
            _pool((1, 2, 5, 5, 5), {"kernel_size": (0, 2, 2), "stride": 1}, "kernel size should be greater than zero"),
            _pool((1, 2, 5, 5), {"kernel_size": (2, 2), "stride": (0, 1)}, STRIDE_ZERO),
            _pool((3, 3, 3), {"kernel_size": (1,), "stride": 0}, STRIDE_ZERO),
            _pool((1, 2, 5, 5), {"kernel_size": (2, 2), "stride": -1}, "stride should be greater than zero"),
            _pool((1, 2, 5, 5), {"kernel_size": (2, 2), "dilation": (0, 1)}, "dilation should be greater than zero"),
            _pool((3, 3, 3), {"kernel_size": (1,), "dilation": 0}, "dilation should be greater than zero"),
            _pool(
                (1, 2, 5, 5),
                {"kernel_size": (2, 2), "stride": (1, 1, 1)},
                "stride must either be omitted, a single int, or a tuple of two ints",
            ),
            _pool(
                (1, 2, 5, 5),
                {"kernel_size": (2, 2), "padding": (0, 0, 0)},
                "padding must either be a single int, or a tuple of two ints",
            ),
            # kernel larger than the padded input
            _pool((1, 2, 5, 5), {"kernel_size": (7, 7)}, TOO_SMALL),
            _pool((2, 2, 2), {"kernel_size": (5,), "stride": 1}, TOO_SMALL),
            _pool((1, 1, 1, 4, 4), {"kernel_size": (2, 2, 2)}, TOO_SMALL),
            # ranks
            _pool((0,), {"kernel_size": (1,)}, "Expected 2 to 3 dimensions"),
            _pool((1, 1, 3, 4), {"kernel_size": (2,)}, "Expected 2 to 3 dimensions"),
            _pool((3, 4), {"kernel_size": (2, 2)}, "non-empty 3D or 4D (batch mode) tensor expected for input"),
            _pool(
                (1, 2, 3, 4, 5), {"kernel_size": (2, 2)}, "non-empty 3D or 4D (batch mode) tensor expected for input"
            ),
            _pool((3, 4, 4), {"kernel_size": (2, 2, 2)}, "non-empty 4D or 5D (batch mode) tensor expected for input"),
            # zero-size non-batch dimensions: zero channels of an unbatched input, empty spatial ones
            _pool((0, 10), {"kernel_size": 1}, EMPTY_2D),
            _pool((1, 10, 0), {"kernel_size": (1,)}, EMPTY_2D),
            _pool((0, 3, 4), {"kernel_size": (1, 1)}, EMPTY_2D),
            _pool((1, 0, 10), {"kernel_size": (1, 1)}, EMPTY_2D),
            _pool((2, 1, 10, 0), {"kernel_size": (1, 1)}, EMPTY_2D),
            _pool((0, 1, 2, 10), {"kernel_size": (1, 1, 1)}, EMPTY_3D),
            _pool((2, 1, 0, 1, 2), {"kernel_size": (1, 1, 1)}, EMPTY_3D),
        ),
        torch_opinfos=tuple(f"nn.functional.max_pool{n}d" for n in (1, 2, 3)),
        from_torch=_from_torch,
        deviations=deviations_for("max_pool"),
    )
)

MAX_UNPOOL = register(
    OpInfo(
        name="max_unpool",
        summary="F.max_unpool{1,2,3}d: scatter into zeros at the pooling indices, output_size",
        cells=RANK_CELLS,
        reference=max_unpool,
        torch_code=_max_unpool_code,
        strategy=ranked(max_unpool_cases),
        fixed_cases=large_cases("max_unpool"),
        dtypes=lambda mode, antialias: FLOATS,
        vjp=max_unpool_vjp,
        exact=True,
        exact_backward=True,
        invalid_calls=(
            _unpool({"kernel_size": (2, 2), "output_size": (20, 20)}, "invalid output_size"),
            _unpool(
                {"kernel_size": (2, 2), "output_size": (1, 2, 3)},
                "output_size should be a sequence containing 2 or 4 elements",
            ),
            _unpool(
                {"kernel_size": (2, 2), "padding": 2},
                "output_size must contain non-negative spatial dimensions",
                x=(1, 2, 1, 1),
            ),
            _unpool(
                {"kernel_size": (2, 2)},
                "Expected shape of indices to be same as that of the input tensor",
                indices=UniqueIndices((1, 2, 3, 2), 36, 2),
            ),
            _unpool(
                {"kernel_size": (3,), "stride": 2},
                "Expected shape of indices to be same as that of the input tensor",
                x=(8, 8),
                indices=UniqueIndices((8, 7), 17, 1),
            ),
            _unpool(
                {"kernel_size": (3, 3, 3), "stride": 2},
                "Expected shape of indices to be same as that of the input tensor",
                x=(1, 1, 4, 4, 4),
                indices=UniqueIndices((1, 1, 4, 4, 1), 729, 3),
            ),
            _unpool(
                {"kernel_size": (2, 2)}, "Found an invalid max index", indices=UniqueIndices((1, 2, 3, 3), 1000, 2)
            ),
            _unpool(
                {"kernel_size": (2, 2)},
                "elements in indices should be type int64",
                indices=InputSpec((1, 2, 3, 3), "float32", seed=1),
            ),
            # ranks
            _unpool(
                {"kernel_size": (2, 2)},
                "Input to max_unpooling2d should be a 3d or 4d Tensor",
                x=(3, 3),
                indices=UniqueIndices((3, 3), 16, 2),
            ),
            _unpool(
                {"kernel_size": (2, 2, 2)},
                "Input to max_unpooling3d should be a 4d or 5d Tensor",
                x=(1, 3, 3),
                indices=UniqueIndices((1, 3, 3), 64, 3),
            ),
            # zero-size non-batch dimensions
            _unpool({"kernel_size": (2, 2)}, UNPOOL_EMPTY, x=(1, 0, 3, 3)),
            _unpool({"kernel_size": (2, 2)}, UNPOOL_EMPTY, x=(1, 2, 0, 3)),
            _unpool({"kernel_size": (2,)}, UNPOOL_EMPTY, x=(3, 0), indices=UniqueIndices((3, 0), 4, 1)),
            _unpool(
                {"kernel_size": (2, 2, 2)},
                UNPOOL_EMPTY,
                x=(1, 1, 0, 3, 3),
                indices=UniqueIndices((1, 1, 0, 3, 3), 216, 3),
            ),
            # 3-D only: torch's 1-D and 2-D kernels take a zero stride
            _unpool(
                {"kernel_size": (2, 2, 2), "stride": 0},
                "strides should be greater than zero",
                x=(1, 1, 2, 2, 2),
                indices=UniqueIndices((1, 1, 2, 2, 2), 8, 3),
            ),
        ),
        # each also as variant "grad"
        torch_opinfos=tuple(f"nn.functional.max_unpool{n}d" for n in (1, 2, 3)),
        from_torch=_from_torch,
        deviations=deviations_for("max_unpool"),
    )
)
