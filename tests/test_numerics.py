"""Shared numerical helpers of ``jaxloss._src.core.numerics``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxloss._src.core.numerics import select


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64, jnp.bfloat16, jnp.int32])
def test_select_matches_jnp_where(rng, dtype):
    """``select`` gives ``jnp.where``'s values, dtype and shape: broadcasting, Python scalars on either
    side, mixed dtypes (handed to ``jnp.where``), eagerly, under jit and under grad."""
    cond = jnp.asarray(rng.uniform(size=(3, 1)) > 0.5)
    x = jnp.asarray(rng.standard_normal((3, 4)) * 3).astype(dtype)
    y = jnp.asarray(rng.standard_normal((4,)) * 3).astype(dtype)
    cases = [(cond, x, y), (cond, x, 0), (cond, 2, x), (cond[:, 0], 1.5, 2.5), (cond, x, 0.5)]
    cases.append((cond, x, jnp.ones((4,), jnp.float16)))
    for args in cases:
        want = jnp.where(*args)
        for got in (select(*args), jax.jit(select)(*args)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(np.asarray(got, np.float64), np.asarray(want, np.float64))
    if jnp.issubdtype(dtype, jnp.floating):
        g = jax.grad(lambda x: jnp.sum(select(cond, x, 0) * 2))(x)
        want_g = jax.grad(lambda x: jnp.sum(jnp.where(cond, x, 0) * 2))(x)
        np.testing.assert_array_equal(np.asarray(g, np.float64), np.asarray(want_g, np.float64))
