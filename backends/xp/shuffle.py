"""``pixel_shuffle`` / ``pixel_unshuffle`` for any array namespace: the
reference's functions (``reference.pixel_shuffle``, a reshape and a
transpose: the definition), with one faster way of moving the same bytes.

The transposed copy interleaves ``r`` channels element by element, and
NumPy's strided copy loops run that at several times a plain copy.  Where
``r`` elements are 2, 4 or 8 bytes together, ``r`` side-by-side elements of
an output row are one unsigned integer of ``r`` times their width: shuffling
builds it from the ``r`` channels with shifts and ors in a contiguous buffer
(the bytes are those of the transposed copy, little- or big-endian alike: the
element at the lowest address is the lowest or highest bits, ``_shifts``),
copied into the output a row at a time.  Planes go a block at a time, so
that the buffers stay in cache.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from reference.pixel_shuffle import pixel_shuffle as shuffle_definition
from reference.pixel_shuffle import pixel_unshuffle as unshuffle_definition

#: Bytes of one block's wide temporary.
BLOCK_BYTES = 1 << 20


def stand_in(x: Any) -> np.ndarray:
    """An empty NumPy array on which the reference's checks fail exactly as on
    ``x``: same rank (from 3 up: one empty leading axis) and same last three
    lengths."""
    return np.empty((0,) + tuple(x.shape[-3:]) if x.ndim >= 3 else (0,) * x.ndim)


def _wide(x: Any, r: int) -> tuple[np.dtype, np.dtype] | None:
    """The unsigned dtypes of one element and of ``r`` side by side, where
    the latter exists and ``x`` is C-contiguous; else None."""
    width = x.dtype.itemsize * r
    if r < 2 or width not in (2, 4, 8) or not x.flags.c_contiguous or x.size == 0:
        return None
    return np.dtype(f"u{x.dtype.itemsize}"), np.dtype(f"u{width}")


def _shifts(itemsize: int, r: int) -> list[int]:
    """The bit offset of element ``j`` of a group of ``r`` in the wide integer."""
    shifts = [8 * itemsize * j for j in range(r)]
    return shifts if sys.byteorder == "little" else shifts[::-1]


def pixel_shuffle(xp: Any, x: Any, upscale_factor: int) -> Any:
    """``torch.nn.functional.pixel_shuffle``."""
    shuffle_definition(stand_in(x), upscale_factor)  # the checks
    r = int(upscale_factor)
    kinds = _wide(x, r)
    if kinds is None:
        return shuffle_definition(x, upscale_factor)
    narrow, wide = kinds
    *lead, c, h, w = x.shape
    planes = math.prod(lead) * (c // (r * r))
    src = x.view(narrow).reshape(planes, r, r, h, w)
    out = xp.empty((planes, h, r, w), dtype=wide)  # output row h * r + i as words of r elements
    block = max(1, min(planes, BLOCK_BYTES // (h * w * wide.itemsize)))
    words, shifted = (xp.empty((block, h, w), dtype=wide) for _ in range(2))
    shifts = _shifts(x.dtype.itemsize, r)
    for start in range(0, planes, block):
        stop = min(planes, start + block)
        word, part = words[: stop - start], shifted[: stop - start]
        for i in range(r):
            xp.left_shift(src[start:stop, i, 0], shifts[0], out=word, dtype=wide)
            for j in range(1, r):
                xp.left_shift(src[start:stop, i, j], shifts[j], out=part, dtype=wide)
                xp.bitwise_or(word, part, out=word)
            out[start:stop, :, i, :] = word
    return out.view(x.dtype).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(xp: Any, x: Any, downscale_factor: int) -> Any:
    """``torch.nn.functional.pixel_unshuffle``: the definition (taking the
    words apart with shifts measured slower than its transposed copy, which
    reads, not writes, every ``r``-th element)."""
    return unshuffle_definition(x, downscale_factor)
