"""Sphinx configuration of the manual (``tox -e docs``).

Sphinx with MyST: the pages are the Markdown the README held (MyST reads
CommonMark and GFM tables as they are), and autodoc generates the backend
protocol's API reference from ``backends/protocol.py``'s docstrings.  The
build runs with ``-W --keep-going -n``: every warning, an unresolved
reference included, fails it; ``tests/test_docs.py`` checks the built
site's internal links and anchors.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "upsample-conformance"
author = "upsample-conformance developers"
copyright = "the upsample-conformance developers"

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# MyST: ``page.md#a-heading`` links resolve (and a missing one warns) down to ####.
myst_heading_anchors = 4

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Annotations name classes of other projects (numpy, typing), which have no
# pages here and no network to fetch an inventory from.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np|typing|collections\.abc)\..*"),
    ("py:class", r"(Any|Mapping|Sequence|ndarray)"),
]

html_theme = "furo"
html_title = "upsample-conformance"
html_static_path = ["_static"]


class _EmptyGlob(logging.Filter):
    """Drops the warning of a toctree glob that matches no page: the section
    globs of ``index.md`` (``frameworks*``, ``verdict-*``, ...) name pages
    that may not be there yet.  (``suppress_warnings = ["toc.empty_glob"]``
    cannot: Sphinx 9 gives that warning no type.)  A page that no toctree
    lists still warns."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "subtype", None) != "empty_glob"


def setup(app: object) -> dict[str, bool]:
    logging.getLogger("sphinx.sphinx.directives.other").addFilter(_EmptyGlob())
    return {"parallel_read_safe": True}
