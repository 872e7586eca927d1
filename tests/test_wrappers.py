"""optax-style wrappers: per_example, masked_mean, make_loss_fn, make_value_fn; checked()."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxloss
from jaxloss import losses as L


def test_per_example_matches_reduction_none_and_masks():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    pe = jaxloss.per_example(L.mse_loss, axis=-1)
    np.testing.assert_allclose(pe(x, y), ((x - y) ** 2).sum(-1), rtol=1e-12)
    where = np.array([True, False, True, False, True])
    out = pe(x, y, where=where)
    np.testing.assert_allclose(out, np.where(where, ((x - y) ** 2).sum(-1), 0.0), rtol=1e-12)
    g = jax.grad(lambda x: pe(x, y, where=where).sum())(x)
    assert np.all(np.asarray(g)[~where] == 0)


def test_per_example_masks_nan_without_poisoning_gradients():
    logits = jnp.array([[0.0, 1.0], [jnp.inf, 0.0]])
    pe = jaxloss.per_example(L.cross_entropy)
    where = jnp.array([True, False])
    g = jax.grad(lambda z: jaxloss.masked_mean(pe(z, jnp.array([0, 1]), where=where), where))(
        logits
    )
    assert np.all(np.isfinite(np.asarray(g[0])))


def test_masked_mean_all_masked_is_zero_with_zero_grad():
    v = jnp.array([1.0, 2.0])
    w = jnp.array([False, False])
    assert float(jaxloss.masked_mean(v, w)) == 0.0
    np.testing.assert_array_equal(jax.grad(lambda v: jaxloss.masked_mean(v, w))(v), np.zeros(2))
    np.testing.assert_allclose(
        jaxloss.masked_mean(jnp.arange(6.0).reshape(2, 3), axis=1), [1.0, 4.0]
    )


def test_make_loss_fn_accepts_tuple_dict_and_where():
    apply = lambda w, x: x @ w
    x = jnp.eye(3)
    y = jnp.array([1.0, 2.0, 3.0])
    f = jaxloss.make_loss_fn(apply, jaxloss.per_example(L.mse_loss))
    w = jnp.zeros(3)
    assert float(f(w, (x, y))) == pytest.approx(14 / 3)
    assert float(
        f(w, {"inputs": x, "targets": y, "where": jnp.array([1, 1, 0], bool)})
    ) == pytest.approx(2.5)
    assert float(f(w, (x, y, jnp.zeros(3, bool)))) == 0.0


def test_checked_reports_data_errors_under_jit():
    f = jax.jit(jaxloss.checked(L.nll_loss))
    err, value = f(jnp.zeros((2, 3)), jnp.array([0, 5]))
    assert "nll_loss" in err.get()
    err, value = f(jnp.zeros((2, 3)), jnp.array([0, 2]))
    assert err.get() is None
    assert float(value) == 0.0
    with pytest.raises(ValueError, match="nll_loss"):
        L.nll_loss(jnp.zeros((2, 3)), jnp.array([0, 5]))


def test_checked_gaussian_negative_variance_and_bce_range():
    err, _ = jax.jit(jaxloss.checked(L.gaussian_nll_loss))(jnp.zeros(3), jnp.zeros(3), -jnp.ones(3))
    assert "gaussian_nll_loss" in err.get()
    err, _ = jax.jit(jaxloss.checked(L.binary_cross_entropy))(
        jnp.array([0.5, 1.5]), jnp.array([0.0, 1.0])
    )
    assert "binary_cross_entropy" in err.get()


def test_checked_reports_ctc_blank_targets_and_too_long_targets_torch_accepts():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    logp = np.log(rng.dirichlet(np.ones(5), (6, 2)))
    fn = jax.jit(jaxloss.checked(L.ctc_loss))
    good = (np.array([[1, 2], [3, 4]]), np.array([6, 6]), np.array([2, 2]))
    err, _ = fn(logp, *good)
    assert err.get() is None
    blank_target = (np.array([[1, 0], [3, 4]]), np.array([6, 6]), np.array([2, 2]))
    err, _ = fn(logp, *blank_target)
    assert "ctc_loss: targets contain the blank index 0" in err.get()
    too_long = (np.array([[1, 2, 3], [3, 4, 1]]), np.array([2, 6]), np.array([3, 3]))
    err, _ = fn(logp, *too_long)
    assert "longer than its input" in err.get()
    # eagerly, both are accepted exactly as torch accepts them
    for targets, il, tl in (blank_target, too_long):
        ours = L.ctc_loss(logp, targets, il, tl, reduction="none")
        ref = F.ctc_loss(
            torch.from_numpy(logp),
            torch.from_numpy(targets),
            torch.from_numpy(il),
            torch.from_numpy(tl),
            reduction="none",
        )
        np.testing.assert_allclose(np.asarray(ours), ref.numpy(), rtol=1e-10)
