"""Entry point for ``python -m conformance``.

A dependency missing from the environment (numpy, hypothesis, torch, Jinja2)
ends the command with one line on stderr naming it and the command that
installs it, exit status 2, instead of a traceback.
"""

import sys

from conformance.dependencies import message


def run() -> int:
    try:
        # numpy first: torch imported without it (by the forkserver) would
        # print a warning beside the one line naming what is missing
        import numpy  # noqa: F401

        from conformance.isolation import start_worker_server

        start_worker_server(sys.argv[1:])
        from conformance.cli import main

        return main()
    except ModuleNotFoundError as exc:
        line = message(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # worker processes (spawn) import this module too
    sys.exit(run())
