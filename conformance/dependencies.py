"""The third-party packages the command line needs, and the one line that says
how to install one that is missing (``python -m conformance`` prints it
instead of a traceback, exit status 2).

Imports nothing beyond the standard library, so that it can speak when the
rest of the harness cannot be imported.
"""

from __future__ import annotations

import sys

#: Top-level module -> the distribution that provides it (pyproject.toml's
#: ``dependencies``; torch at the version of constraints.txt).
DEPENDENCIES = {
    "numpy": "numpy",
    "hypothesis": "hypothesis",
    "torch": "torch",
    "jinja2": "Jinja2",
    "tomli": "tomli",
}
#: Installs the harness and its dependencies, from the checkout's root, with
#: torch at its pinned version.
INSTALL = "python -m pip install -c constraints.txt -e ."


def missing(exc: ModuleNotFoundError) -> str | None:
    """The distribution ``exc`` says is missing, if it is one of ours."""
    return DEPENDENCIES.get((exc.name or "").partition(".")[0])


def message(exc: ImportError) -> str | None:
    """One line: what is missing and the command that installs it; ``None``
    for a module that is none of the harness's dependencies."""
    name = missing(exc) if isinstance(exc, ModuleNotFoundError) else None
    if name is None:
        return None
    return (
        f"{name} is not installed for this Python ({sys.executable}); "
        f"install the harness with its dependencies, from the checkout's root: {INSTALL}"
    )
