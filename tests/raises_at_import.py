"""A backend module that raises while it is imported."""

raise RuntimeError("this backend's module raises at import")
