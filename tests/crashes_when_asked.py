"""A backend whose ``availability()`` kills its own process (a native library
that crashes beside another one): ``list`` must still list the others."""

import os
import signal

from backends.numpy_backend import NumpyBackend


class CrashesWhenAsked(NumpyBackend):
    name = "crashes-when-asked"

    def availability(self) -> tuple[bool, str]:
        os.kill(os.getpid(), signal.SIGSEGV)
        return True, ""
