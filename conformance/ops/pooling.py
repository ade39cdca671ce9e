"""``max_pool{n}d(..., return_indices=True)`` and ``max_unpool{n}d``:
torch's facts about them, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case, UniqueIndices
from conformance.deviations import deviations_for
from conformance.ops.conv_transpose import RANK_CELLS, large_cases, ranked
from conformance.ops.registry import FLOATS, KNOWN_DTYPES, OpInfo, invalid_call, register
from conformance.strategies import max_pool_cases, max_unpool_cases
from reference.gradients import max_pool_vjp, max_unpool_vjp
from reference.unpooling import max_pool, max_unpool, spatial_rank


def _max_pool_code(case: Case) -> list[str]:
    n = spatial_rank(len(case.input.shape), case.params["kernel_size"])
    return [f"out = F.max_pool{n}d(t['x'], return_indices=True, **kwargs)"]


def _max_unpool_code(case: Case) -> list[str]:
    n = spatial_rank(len(case.input.shape), case.params["kernel_size"])
    return [f"out = F.max_unpool{n}d(t['x'], t['indices'], **kwargs)"]


def _unpool(params: dict[str, Any], *words: str, indices: Any = None, x: tuple[int, ...] = (1, 2, 3, 3)) -> Case:
    indices = indices or UniqueIndices(x, 36, 2)
    return invalid_call("max_unpool", x, params, *words, operands=(("indices", indices),))


MAX_POOL = register(
    OpInfo(
        name="max_pool",
        summary="F.max_pool{1,2,3}d(..., return_indices=True): values and int64 indices, ties and NaN",
        cells=RANK_CELLS,
        reference=max_pool,
        torch_code=_max_pool_code,
        strategy=ranked(max_pool_cases),
        fixed_cases=large_cases("max_pool"),
        dtypes=lambda mode, antialias: KNOWN_DTYPES,
        vjp=max_pool_vjp,
        exact=True,
        invalid_calls=(
            invalid_call("max_pool", (1, 2, 5, 5), {"kernel_size": (3, 3), "padding": 2}, "pad", "half"),
            # stride defaults to the kernel, so torch names the stride here
            invalid_call("max_pool", (1, 2, 5, 5), {"kernel_size": (0, 2)}, "kernel", "stride"),
            invalid_call("max_pool", (1, 2, 5, 5), {"kernel_size": (2, 2), "stride": (0, 1)}, "stride"),
            invalid_call("max_pool", (1, 2, 5, 5), {"kernel_size": (2, 2), "dilation": (0, 1)}, "dilation"),
            invalid_call("max_pool", (1, 2, 5, 5), {"kernel_size": (7, 7)}, "output size", "too small", "size"),
        ),
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
            _unpool({"kernel_size": (2, 2), "output_size": (20, 20)}, "output_size"),
            _unpool({"kernel_size": (2, 2), "output_size": (1, 2, 3)}, "output_size", "elements"),
            _unpool({"kernel_size": (2, 2)}, "indices", "shape", indices=UniqueIndices((1, 2, 3, 2), 36, 2)),
            _unpool({"kernel_size": (2, 2)}, "invalid max index", "index", indices=UniqueIndices((1, 2, 3, 3), 1000, 2)),
        ),
        deviations=deviations_for("max_unpool"),
    )
)
