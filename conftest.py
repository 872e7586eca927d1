"""Session-wide settings for tests, doctests and notebooks: float64 available, silent rank promotion is an
error (catches accidental broadcasting), Keras on the JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
