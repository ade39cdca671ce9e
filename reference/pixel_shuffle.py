"""``pixel_shuffle`` and ``pixel_unshuffle``: pure data movement.

``pixel_shuffle(x, r)`` turns ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)``:
output pixel ``(c, h*r + i, w*r + j)`` is input ``(c*r*r + i*r + j, h, w)``.
Read as a reshape and a transpose: split the channels into ``(C, r, r)``,
interleave the two ``r`` axes with ``H`` and ``W``.  ``pixel_unshuffle`` is its
inverse.  Any number of leading dimensions (zero-size ones included) is taken.
torch 2.13 returns an empty input of ``pixel_unshuffle`` with its shape
unchanged (once the divisibility checks pass); so does this reference.

Written with array methods only (``reshape``, ``transpose``, ``copy``), so the
NumPy and CuPy backends run these very functions on their own arrays: being
exact data movement, the definition is also the implementation.
"""

from __future__ import annotations

import numpy as np


def _check(x: np.ndarray, factor: int, name: str, what: str) -> None:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{name}(): argument '{what}' must be int, not {type(factor).__name__}")
    if x.ndim < 3:
        raise RuntimeError(
            f"{name} expects input to have at least 3 dimensions, but got input with {x.ndim} dimension(s)"
        )
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(x: np.ndarray, upscale_factor: int) -> np.ndarray:
    _check(x, upscale_factor, "pixel_shuffle", "upscale_factor")
    r = int(upscale_factor)
    *lead, c, h, w = x.shape
    if c % (r * r) != 0:
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    k = len(lead)
    # (*, C, i, j, H, W) -> (*, C, H, i, W, j)
    y = y.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(x: np.ndarray, downscale_factor: int) -> np.ndarray:
    _check(x, downscale_factor, "pixel_unshuffle", "downscale_factor")
    r = int(downscale_factor)
    *lead, c, h, w = x.shape
    for side, axis, length in (("height", -2, h), ("width", -1, w)):
        if length % r != 0:
            raise RuntimeError(
                f"pixel_unshuffle expects {side} to be divisible by downscale_factor, "
                f"but input.size({axis})={length} is not divisible by {r}"
            )
    if x.size == 0:
        return x.copy()
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    k = len(lead)
    # (*, C, H, i, W, j) -> (*, C, i, j, H, W)
    y = y.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)
