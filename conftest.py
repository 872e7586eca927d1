"""Session-wide settings for tests, doctests and notebooks: float64 available, silent rank promotion is an
error (catches accidental broadcasting), Keras on the JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


import pytest  # noqa: E402
from _pytest.doctest import DoctestItem  # noqa: E402


@pytest.fixture(autouse=True)
def _doctests_in_default_precision(request):
    """Docstring examples show what a user sees: JAX's default float32, not the tests' float64."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)
