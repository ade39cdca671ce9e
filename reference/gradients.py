"""Vector-Jacobian products of every op, written as adjoints of the forward
definitions (float64).

Every op here is linear in each differentiable input, so its gradient is the
transposed map applied to the output's cotangent ``g``:

* ``interpolate``: the forward applies one weight matrix ``W`` per spatial
  axis; the gradient applies ``W`` transposed per axis (scatter each output's
  cotangent back onto the inputs it read, with the same weights).
* ``conv_transpose``: the forward scatters ``x * w`` from input ``i`` to
  output ``i*s + j*d - p``; the gradient gathers ``g`` from those positions:
  with respect to ``x`` that is a convolution of ``g`` with ``w``, with
  respect to ``w`` the correlation of ``x`` with ``g``, with respect to the
  bias the sum of ``g`` over everything but the channel.
* ``max_pool``: the forward gathers each window's maximum; the gradient adds
  each output's cotangent onto the input its index names (overlapping windows
  add up).
* ``max_unpool``: the forward scatters into zeros; the gradient gathers ``g``
  at the indices.
* ``pixel_shuffle`` and ``pixel_unshuffle``: permutations, each the other's
  inverse and so each the other's gradient.

``absolute=True`` applies the same maps with every weight and value replaced
by its magnitude: the sums of absolute terms, which bound the rounding error
of any order of summation (the tolerance policy uses it).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from reference.conv_transpose import plan_conv_transpose
from reference.dtypes import exact_dtype
from reference.interpolate import apply_along_axis, axis_taps, plan_interpolate
from reference.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from reference.unpooling import max_pool, plan_max_unpool, spatial_rank


def interpolate_vjp(g: np.ndarray, x: np.ndarray, absolute: bool = False, **params: Any) -> dict[str, np.ndarray]:
    """``W_d`` transposed along each spatial axis ``d``."""
    plan = plan_interpolate(x.shape, **params).with_opmath(x.dtype)  # the taps of the forward on this data
    grad = np.abs(g.astype(np.float64)) if absolute else g.astype(np.float64)
    for d in range(len(plan.input_size)):
        taps = axis_taps(plan, d, x.ndim)
        if taps is None:
            continue
        w = taps.matrix(plan.input_size[d])
        grad = apply_along_axis(grad, np.abs(w).T if absolute else w.T, axis=2 + d)
    return {"x": grad}


def conv_transpose_vjp(
    g: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    absolute: bool = False,
    **params: Any,
) -> dict[str, np.ndarray]:
    """Gather ``g`` from where each (input, tap) pair landed."""
    plan = plan_conv_transpose(x.shape, weight.shape, None if bias is None else bias.shape, **params)
    magnitude = (lambda a: np.abs(a.astype(exact_dtype(a.dtype)))) if absolute else (lambda a: exact(a))
    # torch's complex gradient is the conjugate-linear one, J^H g: x and w enter
    # their partners' gradients conjugated (no-ops on real arrays)
    xb, gb, w = magnitude(x).conj(), magnitude(g), magnitude(weight).conj()
    if not plan.batched:
        xb, gb = xb[None], gb[None]
    n, c_in = xb.shape[:2]
    groups, c_out_g = plan.groups, w.shape[1]
    # The cotangent of the uncropped output: zero where the padding was cut off.
    full = np.zeros((n, c_out_g * groups, *plan.uncropped_lengths), dtype=gb.dtype)
    full[(slice(None), slice(None), *plan.crop())] = gb
    full_g = full.reshape(n, groups, c_out_g, *plan.uncropped_lengths)
    xg = xb.reshape(n, groups, c_in // groups, *xb.shape[2:])
    wg = w.reshape(groups, c_in // groups, c_out_g, *plan.kernel)
    grad_x = np.zeros_like(xg)
    grad_w = np.zeros_like(wg)
    for tap in itertools.product(*(range(k) for k in plan.kernel)):
        landed = full_g[(slice(None), slice(None), slice(None), *plan.tap_slice(tap))]
        grad_x += np.einsum("ngo...,gco->ngc...", landed, wg[(..., *tap)])
        grad_w[(..., *tap)] += np.einsum(
            "ngcp,ngop->gco",
            xg.reshape(*xg.shape[:3], math.prod(xg.shape[3:])),
            landed.reshape(*landed.shape[:3], math.prod(landed.shape[3:])),
        )
    grads = {
        "x": grad_x.reshape(xb.shape) if plan.batched else grad_x.reshape(xb.shape)[0],
        "weight": grad_w.reshape(w.shape),
    }
    if bias is not None:
        grads["bias"] = gb.sum(axis=tuple(i for i in range(gb.ndim) if i != 1))
    return grads


def max_pool_vjp(g: np.ndarray, x: np.ndarray, absolute: bool = False, **params: Any) -> dict[str, np.ndarray]:
    """Add each window's cotangent onto the input its maximum came from."""
    _, indices = max_pool(x, **params)
    rank = spatial_rank(x.ndim, params["kernel_size"])
    lead = x.shape[: x.ndim - rank]
    planes = math.prod(lead)
    grad = np.zeros((planes, math.prod(x.shape[x.ndim - rank :])))
    per_plane = math.prod(indices.shape[indices.ndim - rank :])
    values = (np.abs(g) if absolute else g.astype(np.float64)).reshape(planes, per_plane)
    rows = np.repeat(np.arange(planes), per_plane)
    np.add.at(grad, (rows, indices.reshape(planes, per_plane).ravel()), values.ravel())
    return {"x": grad.reshape(x.shape)}


def max_unpool_vjp(
    g: np.ndarray, x: np.ndarray, indices: np.ndarray, absolute: bool = False, **params: Any
) -> dict[str, np.ndarray]:
    """Read the cotangent back at the indices the values were written to."""
    out = plan_max_unpool(x.shape, indices.shape, indices.dtype, **params)
    lead = x.shape[: x.ndim - len(out)]
    flat_g = (np.abs(g) if absolute else g.astype(np.float64)).reshape(lead + (math.prod(out),))
    flat_idx = indices.reshape(lead + (math.prod(x.shape[len(lead) :]),))
    return {"x": np.take_along_axis(flat_g, flat_idx, axis=-1).reshape(x.shape)}


def exact(g: np.ndarray) -> np.ndarray:
    """``g`` in the reference's exact dtype: complex128 for complex (a
    permutation's adjoint is its inverse, conjugation changes nothing), float64
    otherwise."""
    return g.astype(exact_dtype(g.dtype))


def pixel_shuffle_vjp(
    g: np.ndarray, x: np.ndarray, upscale_factor: int, absolute: bool = False
) -> dict[str, np.ndarray]:
    if x.size == 0:  # nothing to permute (and pixel_unshuffle keeps empty shapes as they are)
        return {"x": np.zeros(x.shape)}
    return {"x": pixel_unshuffle(np.abs(g) if absolute else exact(g), upscale_factor)}


def pixel_unshuffle_vjp(
    g: np.ndarray, x: np.ndarray, downscale_factor: int, absolute: bool = False
) -> dict[str, np.ndarray]:
    if x.size == 0:
        return {"x": np.zeros(x.shape)}
    return {"x": pixel_shuffle(np.abs(g) if absolute else exact(g), downscale_factor)}


def vjp(
    op: str, grad_output: np.ndarray, x: np.ndarray, absolute: bool = False, **kwargs: Any
) -> dict[str, np.ndarray]:
    """The gradients of ``op`` at ``x`` (and its other array arguments in
    ``kwargs``) for the output cotangent ``grad_output``: ``{"x": ..., ...}``,
    one entry per differentiable input, exact float64: ``{op}_vjp`` of this
    module.  For ``max_pool`` the cotangent is that of the values (indices
    have none)."""
    function = globals().get(f"{op}_vjp")
    if function is None:
        raise NotImplementedError(f"no gradient is defined for {op!r} in reference/gradients.py")
    return function(np.asarray(grad_output), np.asarray(x), absolute=absolute, **kwargs)
