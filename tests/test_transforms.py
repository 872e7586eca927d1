"""Transform matrix, generated from the catalogue so that no public loss is left out.

For every registered loss (jaxloss.losses and jaxloss.optax_losses; jaxloss.nn objects call the same
functions): jit, vmap over a leading axis (== a Python loop), grad (finite) and finite-difference gradient
checks in float64 (reverse and, where supported, forward mode), jax.checkpoint, jax.eval_shape, use inside
lax.scan, and bfloat16 / float16 inputs against the float64 result.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.test_util import check_grads

from jaxloss._src.catalogue import entries

SPECS = entries()
IDS = [s.qualname.removeprefix("jaxloss.") for s in SPECS]


def _example(spec, seed=0):
    return spec.example(np.random.default_rng(seed))


def _closure(spec, args, kwargs):
    """A function of the differentiable arguments only, with the rest fixed."""

    def f(*d):
        full = list(args)
        for i, v in zip(spec.diff, d):
            full[i] = v
        return spec.fn(*full, **kwargs)

    return f, [jnp.asarray(args[i]) for i in spec.diff]


def _leaves_close(a, b, rtol, atol):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(
            np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=rtol, atol=atol
        )


def _scalar(out):
    return sum(jnp.sum(jnp.asarray(x, jnp.float64)) for x in jax.tree_util.tree_leaves(out))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_jit_eval_shape_checkpoint(spec):
    args, kwargs = _example(spec)
    f, d = _closure(spec, args, kwargs)
    eager = f(*d)
    _leaves_close(jax.jit(f)(*d), eager, 1e-10, 1e-12)
    shapes = jax.eval_shape(f, *d)
    for s, x in zip(jax.tree_util.tree_leaves(shapes), jax.tree_util.tree_leaves(eager)):
        assert s.shape == x.shape and s.dtype == x.dtype
    g = jax.grad(lambda *a: _scalar(f(*a)), argnums=tuple(range(len(d))))(*d)
    gc = jax.grad(lambda *a: _scalar(jax.checkpoint(f)(*a)), argnums=tuple(range(len(d))))(*d)
    for x in jax.tree_util.tree_leaves(g):
        assert np.all(np.isfinite(np.asarray(x))), spec.qualname
    _leaves_close(gc, g, 1e-10, 1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_vmap_and_scan_equal_a_loop(spec):
    args, kwargs = _example(spec)
    f, d = _closure(spec, args, kwargs)
    args2, _ = _example(spec, seed=1)
    d2 = [jnp.asarray(args2[i]) for i in spec.diff]
    if any(a.shape != b.shape for a, b in zip(d, d2)):
        d2 = [x * 1.0 for x in d]
    stacked = [jnp.stack([a, b]) for a, b in zip(d, d2)]
    loop = [f(*d), f(*d2)]
    expect = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *loop)
    _leaves_close(jax.vmap(f)(*stacked), expect, 1e-9, 1e-11)
    _, scanned = lax.scan(lambda c, xs: (c, f(*xs)), 0.0, stacked)
    _leaves_close(scanned, expect, 1e-9, 1e-11)


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.smooth], ids=[i for s, i in zip(SPECS, IDS) if s.smooth]
)
def test_gradients_match_finite_differences(spec):
    args, kwargs = _example(spec)
    f, d = _closure(spec, args, kwargs)
    modes = ("rev", "fwd") if spec.forward_mode else ("rev",)
    check_grads(
        lambda *a: _scalar(f(*a)), tuple(d), order=1, modes=modes, atol=1e-5, rtol=1e-5, eps=1e-6
    )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_forward_mode_works_or_is_documented_as_reverse_only(spec):
    args, kwargs = _example(spec)
    f, d = _closure(spec, args, kwargs)
    if spec.forward_mode:
        _, tangent_out = jax.jvp(
            lambda *a: _scalar(f(*a)), tuple(d), tuple(jnp.ones_like(x) for x in d)
        )
        assert np.isfinite(float(tangent_out)), spec.qualname
    else:
        doc = spec.fn.__doc__ or ""
        assert "custom_vjp" in doc or "reverse mode" in doc, spec.qualname
        with pytest.raises(TypeError):
            jax.jvp(lambda *a: _scalar(f(*a)), tuple(d), tuple(jnp.ones_like(x) for x in d))


# float32 is compared with float64 by every family test and by `jaxloss check`; here the half types.
@pytest.mark.parametrize("dtype,rtol", [(jnp.bfloat16, 6e-2), (jnp.float16, 2e-2)])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_low_precision_inputs(spec, dtype, rtol):
    args, kwargs = _example(spec)
    ref = spec.fn(*args, **kwargs)

    def cast(x):
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            return jnp.asarray(x, dtype)
        return x

    out = spec.fn(*[cast(a) for a in args], **{k: cast(v) for k, v in kwargs.items()})
    for o, r in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(ref)):
        o = np.asarray(jnp.asarray(o, jnp.float64))
        assert np.all(np.isfinite(o) == np.isfinite(np.asarray(r))), spec.qualname
        # low-precision inputs are rounded first, so compare with a tolerance scaled to the output's size
        scale = np.max(np.abs(np.asarray(r))) if np.size(r) else 1.0
        np.testing.assert_allclose(
            o, np.asarray(r, np.float64), rtol=rtol, atol=rtol * (1.0 + scale) * 2
        )
