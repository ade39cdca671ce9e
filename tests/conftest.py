"""Hypothesis profiles: ``ci`` is seeded and deterministic, chosen when CI is set."""

import os

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
