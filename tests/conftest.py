"""Hypothesis profiles: ``ci`` is seeded and deterministic, chosen when CI is set."""

import os

# setuptools first, while nothing has imported the standard library's
# distutils: its import later (Inductor's C++ builder in tests/test_frameworks.py,
# torch's OpInfos in tests/test_torch_error_inputs.py) otherwise can fail in
# this process with "AssertionError: .../distutils/core.py" from setuptools'
# distutils shim (seen under tox: one test failed, four skipped).
try:
    import setuptools  # noqa: F401
except ImportError:  # not every environment has it
    pass

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# torch.compile's tests (tests/test_frameworks.py) compile in the pytest
# worker itself: each xdist worker keeps Inductor's cache of its own, so two
# workers compiling the same kernel at once never share its files (a compile
# failed once under -n 2 and passed alone).
if "PYTEST_XDIST_WORKER" in os.environ:
    import tempfile

    os.environ.setdefault(
        "TORCHINDUCTOR_CACHE_DIR",
        os.path.join(tempfile.gettempdir(), f"torchinductor-tests-{os.getpid()}"),
    )
