"""A semantic variant (``reference.variants``) as a backend: ``variant:NAME``.

The variant's forward replaces the reference's for its op, and its gradient
is the transpose of that forward (for ops linear in ``x``: ``J^T g`` built
from the forward itself; for ``max_pool``: the cotangent scattered onto the
variant's own indices).  Every other op is the reference's.  Results are
rounded to the input's dtype as the reference backend rounds them.  The
harness runs these to prove each plausible wrong version is caught.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backends.reference_backend import ReferenceBackend, to_dtype
from reference import variants
from reference.dtypes import is_complex, is_floating
from reference.gradients import vjp as reference_vjp

#: Inputs larger than this are not transposed element by element (too slow).
MAX_TRANSPOSE_ELEMENTS = 4096


def transpose_vjp(forward: Any, g: np.ndarray, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``J^H g`` for a ``forward`` linear in ``x`` (the bias, an affine part, left out):
    entry ``j`` is ``<forward(e_j), g>`` (conjugated for complex, torch's
    convention: the gradient of a real loss through ``A x`` is ``A^H g``)."""
    if x.size > MAX_TRANSPOSE_ELEMENTS:
        raise MemoryError(f"the variant's gradient transposes at most {MAX_TRANSPOSE_ELEMENTS} input elements")
    kwargs = {k: v for k, v in kwargs.items() if k != "bias"}
    exact = np.complex128 if is_complex(x.dtype) else np.float64
    g = np.asarray(g, exact)
    grad = np.zeros(x.size, exact)
    basis = np.zeros(x.size, dtype=x.dtype)  # one-hot: exact in x's dtype, whose rules apply
    for j in range(x.size):
        basis[j] = 1.0
        out = np.asarray(forward(basis.reshape(x.shape), **kwargs), exact)
        grad[j] = np.sum(np.conj(out) * g) if out.shape == g.shape else math.nan
        basis[j] = 0.0
    return grad.reshape(x.shape)


def scattered_vjp(forward: Any, g: np.ndarray, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``max_pool``: each output's cotangent added onto the input its (variant's) index names."""
    _, indices = forward(x, **kwargs)
    rank = len(kwargs["kernel_size"]) if not isinstance(kwargs["kernel_size"], int) else x.ndim - 2
    plane = math.prod(x.shape[-rank:])
    lead = x.shape[: x.ndim - rank]
    per_plane = math.prod(indices.shape[len(lead) :])
    flat_g = np.asarray(g, np.float64).reshape(lead + (per_plane,))
    flat_i = np.clip(indices.reshape(lead + (per_plane,)), 0, max(plane - 1, 0))
    grad = np.zeros(lead + (plane,))
    for pos in np.ndindex(*lead):
        np.add.at(grad[pos], flat_i[pos], flat_g[pos])
    return grad.reshape(x.shape)


def plane_transpose_vjp(forward: Any, g: np.ndarray, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``J^T g`` for a ``forward`` that applies one linear map to every
    (batch, channel) plane alike (``interpolate``): the map's matrix comes from
    one call on a batch of basis planes."""
    plane = x.shape[2:]
    size = math.prod(plane)
    if size == 0 or x.shape[0] * x.shape[1] == 0:
        return np.zeros(x.shape)
    basis = np.eye(size, dtype=x.dtype).reshape((size, 1, *plane))  # one-hot: exact in x's dtype, whose rules apply
    columns = np.asarray(forward(basis, **kwargs), np.float64).reshape(size, -1)  # row j: forward(e_j)
    flat_g = np.asarray(g, np.float64).reshape(x.shape[0] * x.shape[1], -1)
    if flat_g.shape[1] != columns.shape[1]:
        return np.full(x.shape, math.nan)
    return (flat_g @ columns.T).reshape(x.shape)


class VariantBackend(ReferenceBackend):
    """The reference with one op replaced by a semantic variant."""

    def __init__(self, name: str) -> None:
        self.variant = variants.get(name)
        self.name = name
        setattr(self, self.variant.op, self._forward)  # shadows the reference's method of that op

    def version(self) -> str:
        return f"{super().version()} variant {self.variant.name}"

    def _forward(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        out = self.variant.forward(x, *args, **kwargs)
        if isinstance(out, tuple):
            return out
        out = np.asarray(out)
        # the reference's exact results (float64, complex128) round to the input's dtype
        return to_dtype(out, np.asarray(x).dtype) if out.dtype in (np.float64, np.complex128) else out

    def exact_vjp(self, op: str, grad_output: np.ndarray, x: np.ndarray, **kwargs: Any) -> dict[str, np.ndarray]:
        """The variant's gradients in float64 (the reference's for other ops and inputs)."""
        exact = reference_vjp(op, grad_output, x, **kwargs)
        if op == self.variant.op and self.variant.vjp is not None:
            exact["x"] = self.variant.vjp(grad_output, x, **kwargs)
        elif op == self.variant.op and self.variant.backward:
            transpose = {"max_pool": scattered_vjp, "interpolate": plane_transpose_vjp}.get(op, transpose_vjp)
            exact["x"] = transpose(self.variant.forward, grad_output, x, **kwargs)
        return exact

    def vjp(self, op: str, grad_output: np.ndarray, x: np.ndarray, **kwargs: Any) -> dict[str, np.ndarray]:
        if not (is_floating(x.dtype) or is_complex(x.dtype)):
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require gradients, got {x.dtype}")
        exact = self.exact_vjp(op, grad_output, x, **kwargs)
        return {name: to_dtype(g, kwargs.get(name, x).dtype) for name, g in exact.items()}
