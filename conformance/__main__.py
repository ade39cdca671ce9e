"""Entry point for ``python -m conformance``."""

import sys

from conformance.cli import main

if __name__ == "__main__":  # worker processes (spawn) import this module too
    sys.exit(main())
