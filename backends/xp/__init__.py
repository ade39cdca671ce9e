"""Op implementations written once against an array namespace ``xp``.

NumPy and CuPy backends both call these with their own module as ``xp``; the
per-axis taps (indices and weights) come from the reference's rules, computed
on the host and cast to the dtype torch computes in.
"""

from backends.xp.interpolate import compute_dtype, interpolate

__all__ = ["compute_dtype", "interpolate"]
