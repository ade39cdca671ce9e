"""Readable float64 definitions of PyTorch's upsampling operators.

One module per op family; nothing here imports the harness: this package is
the specification a person reads to learn what each op means.
"""

#: The version of these definitions, and of the harness built on them.
__version__ = "0.1.0"

from reference.aliases import (
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from reference.conv_transpose import conv_transpose
from reference.interpolate import interpolate, plan_interpolate
from reference.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from reference.unpooling import max_pool, max_unpool

__all__ = [
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
    "conv_transpose",
    "interpolate",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "plan_interpolate",
]
