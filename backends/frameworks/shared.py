"""What the framework adapters share: gradients through the framework's own
autodiff (``Differentiable``), and torch's argument checks before a call.

A framework adapter is a ``FrameworkBackend`` (lazy import, an availability
message naming the extra, ``call_used`` per case); the jax and tensorflow
library adapters take the same mixin.  Its ops take and return
the framework's arrays and call the framework's ops only, so that the
framework can differentiate them: ``Differentiable.vjp`` runs the adapter's
own forward under the framework's autodiff (``jax.vjp``, ``tf.GradientTape``,
``Tensor.backward``, ``mx.vjp``, ``paddle.grad``) and pulls the cotangent back.
The gradient measured is the framework's, of the very call the forward case
measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backends.libraries.torch_checks import check_shuffle
from backends.xp.gradients import _check_cotangent as check_cotangent

__all__ = [
    "Differentiable",
    "Forward",
    "check_cotangent",
    "differentiable_inputs",
    "ints",
    "jax_pullback",
    "shuffle_steps",
]

#: A forward of the differentiable inputs alone (the others bound), returning one array.
Forward = Callable[..., Any]


def differentiable_inputs(
    backend: Any, op: str, x: Any, kwargs: dict[str, Any]
) -> tuple[list[str], list[Any], Forward]:
    """The names and values of the inputs ``op`` differentiates (``x``; and a
    conv_transpose's ``weight`` and ``bias`` when given), and the adapter's
    own forward as a function of them (max_pool: of its values alone)."""
    names = ["x"]
    if op == "conv_transpose":
        names += [n for n in ("weight", "bias") if kwargs.get(n) is not None]
    primals = [x, *(kwargs[n] for n in names[1:])]

    def forward(*values: Any) -> Any:
        bound = {**kwargs, **dict(zip(names[1:], values[1:]))}
        out = getattr(backend, op)(values[0], **bound)
        return out[0] if op == "max_pool" else out

    return names, primals, forward


class Differentiable:
    """A mixin for an adapter whose framework differentiates: ``vjp`` by its
    autodiff (before the adapter's base: ``class X(Differentiable, FrameworkBackend)``)."""

    def pullback(self, forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
        """The framework's vector-Jacobian product of ``forward`` at
        ``primals`` (checking the cotangent's shape against the output's, as
        torch's autograd does): one gradient per primal, zeros where the
        output does not depend on it."""
        raise NotImplementedError

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        names, primals, forward = differentiable_inputs(self, op, x, kwargs)
        return dict(zip(names, self.pullback(forward, primals, grad_output)))


def ints(value: int | Sequence[int] | None, n: int, default: int | None = None) -> tuple[int, ...]:
    """A pooling or convolution argument (already checked by torch's rules) as ``n`` ints."""
    if value is None:
        value = default
    if isinstance(value, int):
        return (int(value),) * n
    values = tuple(int(v) for v in value)  # type: ignore[union-attr]
    return values * n if len(values) == 1 else values


def shuffle_steps(
    shape: Sequence[int], factor: int, up: bool
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """``pixel_shuffle`` (``up``) or ``pixel_unshuffle`` as a reshape, a
    transpose and a reshape, for a framework without the op: the first
    shape, the axis order, the final shape (torch's channel order, CRD)."""
    r = int(factor)
    *lead, c, h, w = (int(n) for n in shape)
    k = len(lead)
    if up:
        split = (*lead, c // (r * r), r, r, h, w)
        return split, (*range(k), k, k + 3, k + 1, k + 4, k + 2), (*lead, c // (r * r), h * r, w * r)
    split = (*lead, c, h // r, r, w // r, r)
    return split, (*range(k), k, k + 2, k + 4, k + 1, k + 3), (*lead, c * r * r, h // r, w // r)


def jax_pullback(forward: Forward, primals: list[Any], cotangent: Any) -> list[Any]:
    """``Differentiable.pullback`` by ``jax.vjp`` (JAX, and Keras on JAX)."""
    import jax

    out, pull = jax.vjp(forward, *primals)
    check_cotangent(cotangent, out.shape)
    return list(pull(cotangent.astype(out.dtype)))


class ReshapeShuffles:
    """A mixin: ``pixel_shuffle`` and ``pixel_unshuffle`` as a reshape, a
    transpose and a reshape in the framework's own ops (``permuted``), after
    torch's checks, for a framework without the ops."""

    def permuted(self, x: Any, split: tuple[int, ...], order: tuple[int, ...], shape: tuple[int, ...]) -> Any:
        """``x`` reshaped to ``split``, its axes put in ``order``, reshaped to ``shape``."""
        raise NotImplementedError

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        return self._shuffle("pixel_shuffle", x, upscale_factor)

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        return self._shuffle("pixel_unshuffle", x, downscale_factor)

    def _shuffle(self, op: str, x: Any, factor: int) -> Any:
        # torch's messages depend on the shape alone (the stand-in's dtype is immaterial)
        check_shuffle(op, tuple(x.shape), np.dtype(np.float32), factor)
        if op == "pixel_unshuffle" and math.prod(x.shape) == 0:
            y = x  # torch keeps an empty input's shape
        else:
            y = self.permuted(x, *shuffle_steps(x.shape, factor, op == "pixel_shuffle"))
        done = getattr(self, "_done", None)
        return done(y) if done else y
