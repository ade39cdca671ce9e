"""Op implementations written once against an array namespace ``xp``.

NumPy and CuPy backends both call these with their own module as ``xp``; the
per-axis taps, output sizes and argument checks come from the reference's
rules.  ``pixel_shuffle`` / ``pixel_unshuffle`` are the reference's own
functions (written with array methods only, the definition of that data
movement), with a faster way of moving the same bytes where one exists
(``backends.xp.shuffle``).
"""

from backends.xp.conv_transpose import conv_transpose
from backends.xp.gradients import residuals, vjp, vjp_from_residuals
from backends.xp.interpolate import compute_dtype, interpolate
from backends.xp.shuffle import pixel_shuffle, pixel_unshuffle
from backends.xp.unpooling import max_pool, max_unpool

__all__ = [
    "compute_dtype",
    "conv_transpose",
    "interpolate",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "residuals",
    "vjp",
    "vjp_from_residuals",
]
