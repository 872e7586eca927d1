"""Shared numerical helpers of ``jaxloss._src.core.numerics``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxloss._src.core import reduction as R
from jaxloss._src.core.numerics import lax_apply, lax_max, lax_sum, select


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


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64, jnp.int32])
def test_lax_apply_matches_jnp_operators(rng, dtype):
    """``lax_apply`` broadcasts as numpy (unit axes, 0-d arrays) and gives a Python number the
    arrays' dtype, as ``jnp``'s operators do with weak types; eagerly and under jit."""
    x = jnp.asarray(rng.standard_normal((3, 1, 4)) * 5).astype(dtype)
    y = jnp.asarray(rng.standard_normal((1, 5, 1)) * 5).astype(dtype)
    z = jnp.asarray(2).astype(dtype)
    lax = jax.lax
    cases = [
        (lax.add, (x, y), x + y),
        (lax.sub, (x, 3), x - 3),
        (lax.mul, (2, y), 2 * y),
        (lax.max, (x, z), jnp.maximum(x, z)),
        (lax.lt, (y, x), y < x),
        (lax.ne, (x, 1), x != 1),
    ]
    if jnp.issubdtype(dtype, jnp.floating):
        cases.append((lax.div, (x, 0.5), x / 0.5))
    for op, args, want in cases:
        # (under jit the Python numbers stay static: a traced one would be an array with its own dtype)
        for got in (lax_apply(op, *args), jax.jit(lambda op=op, args=args: lax_apply(op, *args))()):
            assert got.dtype == want.dtype and got.shape == want.shape, (op, got.dtype, got.shape)
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("axes", [None, 0, -1, (0, 2), (1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_lax_reductions_match_jnp(rng, dtype, axes, keepdims):
    """``lax_sum``/``lax_max`` give ``jnp.sum``/``jnp.max``'s values and shapes, and the same gradient and
    tangent (``keepdims`` is a reshape, whose transpose is a reshape)."""
    x = jnp.asarray(rng.standard_normal((3, 4, 5))).astype(dtype)
    t = jnp.asarray(rng.standard_normal((3, 4, 5))).astype(dtype)
    tol = {"rtol": 1e-6 if dtype == jnp.float32 else 1e-13}
    for ours, ref in ((lax_sum, jnp.sum), (lax_max, jnp.max)):
        got, want = ours(x, axes, keepdims), ref(x, axis=axes, keepdims=keepdims)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)
        w = jnp.asarray(rng.standard_normal(want.shape)).astype(dtype)
        g = jax.grad(lambda x, ours=ours: jnp.sum(w * ours(x, axes, keepdims)))(x)
        want_g = jax.grad(lambda x, ref=ref: jnp.sum(w * ref(x, axis=axes, keepdims=keepdims)))(x)
        np.testing.assert_allclose(g, want_g, **tol)
        _, tan = jax.jvp(lambda x, ours=ours: ours(x, axes, keepdims), (x,), (t,))
        _, want_tan = jax.jvp(lambda x, ref=ref: ref(x, axis=axes, keepdims=keepdims), (x,), (t,))
        np.testing.assert_allclose(tan, want_tan, **tol)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_ignored_weighted_reduce_counts_a_mask_exactly(rng, dtype):
    """A boolean denominator is counted in the loss's dtype while every partial sum is an exact integer there
    (fewer elements than ``2 ** (nmant + 1)``) and in int32 past that; both give ``sum(loss) / count``, ``nan``
    with a zero gradient when nothing is kept."""
    loss = jnp.asarray(rng.standard_normal((7, 3))).astype(dtype)
    keep = jnp.asarray(rng.uniform(size=(7, 3)) > 0.3)
    masked = jnp.where(keep, loss, 0)
    want = np.sum(np.asarray(masked, np.float64)) / np.sum(np.asarray(keep))
    np.testing.assert_allclose(R.ignored_weighted_reduce(masked, keep, "mean"), want, rtol=1e-6)
    empty = jnp.zeros_like(keep)
    value, grad = jax.value_and_grad(
        lambda x: R.ignored_weighted_reduce(jnp.where(empty, x, 0), empty, "mean")
    )(loss)
    assert np.isnan(value) and np.all(np.asarray(grad) == 0)

    # which sum counts the mask, read off the traced program (no array of 2**24 elements is made)
    def count_dtypes(size):
        jaxpr = jax.make_jaxpr(lambda lv, m: R.ignored_weighted_reduce(lv, m, "mean"))(
            jax.ShapeDtypeStruct((size,), dtype), jax.ShapeDtypeStruct((size,), jnp.bool_)
        )
        return {e.outvars[0].aval.dtype for e in jaxpr.eqns if e.primitive.name == "reduce_sum"}

    limit = 2 ** (jnp.finfo(dtype).nmant + 1)
    assert count_dtypes(limit - 1) == {jnp.dtype(dtype)}
    if dtype == jnp.float32:
        assert count_dtypes(limit) == {jnp.dtype(dtype), jnp.dtype(jnp.int32)}
