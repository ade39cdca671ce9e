"""Conformance harness."""

from reference import __version__

__all__ = ["__version__"]
