"""``conv_transpose`` for any NumPy-like array namespace.

One batched matrix product computes every (output channel, kernel tap)
contribution of every input position at once (``cols``, the im2col matrix of
the transposed problem); then each kernel tap's slab is added into the output
at its strided offset (col2im).  The Python loop runs over kernel taps, never
over output elements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backends.xp.interpolate import compute_dtype
from reference.conv_transpose import IntOrSeq, plan_conv_transpose


def conv_transpose(
    xp: Any,
    x: Any,
    weight: Any,
    bias: Any | None = None,
    stride: IntOrSeq = 1,
    padding: IntOrSeq = 0,
    output_padding: IntOrSeq = 0,
    groups: int = 1,
    dilation: IntOrSeq = 1,
    output_size: Sequence[int] | None = None,
) -> Any:
    plan = plan_conv_transpose(
        x.shape,
        weight.shape,
        None if bias is None else bias.shape,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size,
    )
    if np.dtype(weight.dtype) != np.dtype(x.dtype):
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({weight.dtype}) should be the same")
    work = compute_dtype(x.dtype)
    xb = x if plan.batched else x[None]
    n, c_in = xb.shape[:2]
    spatial = tuple(xb.shape[2:])
    g = plan.groups
    c_out_g = weight.shape[1]
    taps = math.prod(plan.kernel)
    positions = math.prod(spatial)
    # cols[n, g, o, t, p] = sum_c x[n, g, c, p] * w[g, c, o, t]
    xg = xb.astype(work, copy=False).reshape(n, g, c_in // g, positions)
    wg = weight.astype(work, copy=False).reshape(g, c_in // g, c_out_g * taps)
    cols = xp.matmul(xp.swapaxes(wg, 1, 2)[None], xg).reshape(n, g * c_out_g, taps, *spatial)
    y = xp.zeros((n, g * c_out_g, *plan.uncropped_lengths), dtype=work)
    for t, tap in enumerate(np.ndindex(*plan.kernel)):
        y[(slice(None), slice(None), *plan.tap_slice(tap))] += cols[:, :, t]
    y = y[(slice(None), slice(None), *plan.crop())]
    if bias is not None:
        y = y + bias.astype(work, copy=False).reshape((1, -1) + (1,) * len(spatial))
    y = y.astype(x.dtype)
    return y if plan.batched else y[0]
