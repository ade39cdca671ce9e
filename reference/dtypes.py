"""Dtypes beyond NumPy's own: ``bfloat16``, from ``ml_dtypes``.

Importing ``ml_dtypes`` registers ``bfloat16`` with NumPy: ``np.dtype("bfloat16")``,
``np.finfo``, casts (rounding to nearest, ties to even) and ufuncs all take it.
Its ``kind`` is ``"V"``, though, not ``"f"``, and ``np.issubdtype(...,
np.floating)`` is False: every "is this a floating dtype" question asks
``is_floating`` here instead, and code that names a dtype's type (a repro's
``astype``) asks ``type_expression``.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

BFLOAT16: np.dtype = np.dtype(ml_dtypes.bfloat16)


def is_floating(dtype: Any) -> bool:
    """A real floating dtype: NumPy's (``kind == "f"``) or bfloat16."""
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype == BFLOAT16


def is_complex(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "c"


def exact_dtype(dtype: Any) -> np.dtype:
    """The dtype the reference computes ``dtype`` data in, exactly or nearly:
    float64 for the real floats and uint8, complex128 for complex (never
    float64: that would drop the imaginary part), int64 for the signed
    integers (modular, as torch's integer kernels).  Any other dtype has no
    definition here: ``TypeError`` rather than a silent, lossy cast."""
    dtype = np.dtype(dtype)
    if is_floating(dtype) or dtype == np.uint8:
        return np.dtype(np.float64)
    if is_complex(dtype):
        return np.dtype(np.complex128)
    if dtype.kind == "i":
        return np.dtype(np.int64)
    raise TypeError(f"the reference defines no arithmetic for {dtype} inputs")


def type_expression(name: str) -> str:
    """The Python expression of the scalar type named ``name`` in generated
    code: ``np.float32``, or ``ml_dtypes.bfloat16`` (NumPy has none)."""
    return "ml_dtypes.bfloat16" if np.dtype(name) == BFLOAT16 else f"np.{name}"
