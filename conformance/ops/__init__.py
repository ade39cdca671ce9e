"""The op registry (``conformance.ops.registry``) with every op of torch's
upsampling family registered, one module per op family.

Import order is check order: interpolate, conv_transpose, pooling, pixel
(un)shuffle, then the aliases.
"""

import importlib

from conformance.ops.registry import (
    COMPLEX,
    DIFFERENTIABLE,
    FLOATS,
    INVALID_CALLS_CELL,
    KNOWN_DTYPES,
    REGISTRY,
    SIGNED_INTS,
    OpInfo,
    deviations,
    dtype_table,
    get,
    invalid_call,
    invalid_calls,
    names,
    order,
    plugin_modules,
    register,
    unregister,
)

__all__ = [
    "COMPLEX",
    "DIFFERENTIABLE",
    "FLOATS",
    "INVALID_CALLS_CELL",
    "KNOWN_DTYPES",
    "REGISTRY",
    "SIGNED_INTS",
    "OpInfo",
    "deviations",
    "dtype_table",
    "get",
    "invalid_call",
    "invalid_calls",
    "names",
    "order",
    "plugin_modules",
    "register",
    "unregister",
]

#: The op families, in check order; importing one registers its ops.
FAMILIES = ("interpolate", "conv_transpose", "pooling", "pixel_shuffle", "aliases")
for _family in FAMILIES:
    importlib.import_module(f"conformance.ops.{_family}")
