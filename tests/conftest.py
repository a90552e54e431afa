import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# Tests of graph building, rewriting and gradients run on the Python backend, where a
# function compiles in milliseconds; the C backend is exercised where it is the subject:
# every op through opcheck's backend modes, the differential tests, tests/compiler/backends.
# WORKBENCH_TEST_LINKER=cvm runs everything on C (much slower: one C build per graph).
os.environ.setdefault("WORKBENCH_TEST_LINKER", "py")


def pytest_configure(config):
    import workbench

    workbench.config.linker = os.environ["WORKBENCH_TEST_LINKER"]


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture(autouse=True)
def _restore_config():
    """Tests that assign config flags must not leak them into other tests."""
    import workbench

    saved = dict(workbench.config._values), dict(workbench.config._sources)
    yield
    workbench.config._values.clear()
    workbench.config._values.update(saved[0])
    workbench.config._sources.clear()
    workbench.config._sources.update(saved[1])
