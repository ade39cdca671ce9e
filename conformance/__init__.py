"""Conformance harness."""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # ``__version__`` is the reference's, read on first use: importing the
    # package imports no third-party module, so that ``python -m conformance``
    # can name a missing one (conformance.dependencies).
    if name == "__version__":
        from reference import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
