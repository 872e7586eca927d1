"""Test fixtures (global settings live in the root conftest.py)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# Run only in its own subprocess with 8 CPU devices (tests/test_sharding.py), never imported by collection.
collect_ignore = ["sharding_script.py"]
