"""Plausible wrong versions of ``pixel_shuffle`` / ``pixel_unshuffle``: the
other channel order (CRD instead of DCR), sub-pixels transposed, leading
dimensions merged, an empty input reshaped."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from reference.variants import variant


@variant(
    "pixel-shuffle-channel-major",
    "pixel_shuffle",
    "sub-pixel index slowest in the channel axis ((i*r + j)*C + c, depth-to-space CRD vs DCR)",
    kind="structure",
)
def shuffle_channel_major(x: Any, upscale_factor: int) -> np.ndarray:
    x = np.asarray(x)
    r = int(upscale_factor)
    if x.ndim < 3 or r <= 0 or x.shape[-3] % (r * r):
        return pixel_shuffle(x, upscale_factor)
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, r * r, c // (r * r), h, w).swapaxes(k, k + 1).reshape(x.shape)
    return pixel_shuffle(y, r)


@variant("pixel-shuffle-subpixels-transposed", "pixel_shuffle", "sub-pixel row and column swapped", kind="structure")
def shuffle_transposed(x: Any, upscale_factor: int) -> np.ndarray:
    x = np.asarray(x)
    r = int(upscale_factor)
    if x.ndim < 3 or r <= 0 or x.shape[-3] % (r * r):
        return pixel_shuffle(x, upscale_factor)
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w).swapaxes(k + 1, k + 2).reshape(x.shape)
    return pixel_shuffle(y, r)


@variant(
    "pixel-unshuffle-channel-major",
    "pixel_unshuffle",
    "sub-pixel index slowest in the output channel axis (CRD vs DCR)",
    kind="structure",
)
def unshuffle_channel_major(x: Any, downscale_factor: int) -> np.ndarray:
    y = pixel_unshuffle(x, downscale_factor)
    r = int(downscale_factor)
    if y.size == 0 or y.ndim < 3:
        return y
    *lead, c, h, w = y.shape
    k = len(lead)
    return y.reshape(*lead, c // (r * r), r * r, h, w).swapaxes(k, k + 1).reshape(y.shape)


@variant("pixel-unshuffle-subpixels-transposed", "pixel_unshuffle", "sub-pixel row and column swapped", kind="structure")
def unshuffle_transposed(x: Any, downscale_factor: int) -> np.ndarray:
    y = pixel_unshuffle(x, downscale_factor)
    r = int(downscale_factor)
    if y.size == 0 or y.ndim < 3:
        return y
    *lead, c, h, w = y.shape
    k = len(lead)
    return y.reshape(*lead, c // (r * r), r, r, h, w).swapaxes(k + 1, k + 2).reshape(y.shape)


@variant(
    "pixel-unshuffle-empty-reshaped",
    "pixel_unshuffle",
    "an empty input gets the unshuffled shape (torch returns it with its shape unchanged)",
    kind="arguments",
)
def unshuffle_empty_reshaped(x: Any, downscale_factor: int) -> np.ndarray:
    x = np.asarray(x)
    r = int(downscale_factor)
    if x.size or x.ndim < 3 or r <= 0 or x.shape[-2] % r or x.shape[-1] % r:
        return pixel_unshuffle(x, downscale_factor)
    *lead, c, h, w = x.shape
    return np.zeros((*lead, c * r * r, h // r, w // r), x.dtype)
