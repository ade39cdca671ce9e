"""Readable float64 definitions of PyTorch's upsampling operators.

Nothing here imports the harness: this package is the specification a person
reads to learn what each op means.
"""

from reference.interpolate import interpolate, plan_interpolate

__all__ = ["interpolate", "plan_interpolate"]
