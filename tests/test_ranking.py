"""Ranking losses against rax 0.4 (Google's learning-to-rank library, ``pip install rax``) and optax 0.2.8.

rax computes in the same JAX, so values and gradients (``jax.grad`` of rax's function) are compared on the
same inputs: ``rax.softmax_loss``, ``rax.pairwise_hinge_loss``, ``rax.pairwise_logistic_loss``,
``rax.listmle_loss`` and ``rax.approx_t12n(rax.ndcg_metric, temperature)``, all with rax's default
``reduce_fn=jnp.mean`` (or ``jnp.sum`` / ``None``). ``listwise_softmax_loss`` is also compared with
``optax.losses.ranking_softmax_loss``.
"""

from __future__ import annotations

import functools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import rax

from jaxloss._src.families.ranking import (
    _listwise_softmax,
    approx_ndcg_loss,
    listmle_loss,
    listwise_softmax_loss,
    pairwise_hinge_loss,
    pairwise_logistic_loss,
)


def _seed(*key) -> int:
    """A seed from the test's parameters that is the same in every process (``hash`` of a str is not)."""
    return zlib.crc32(repr(key).encode())


TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 2e-5, "atol": 2e-6}}


def rax_approx_ndcg(temperature=1.0):
    """``rax.approx_t12n(rax.ndcg_metric, temperature)`` spelled out: rax 0.4's ``approx_t12n`` fails to build
    under jax 0.10 (it decorates with the removed ``jax.util.wraps``), so this repeats its body
    (rax/_src/t12n.py): sigmoid(x / T) step function for the ranks and the cutoff, and a minus sign."""
    step_fn = lambda x: jax.nn.sigmoid(x / temperature)
    rank_fn = functools.partial(rax.utils.approx_ranks, step_fn=step_fn)
    cutoff_fn = functools.partial(rax.utils.approx_cutoff, step_fn=step_fn)
    return lambda s, y, **kw: -rax.ndcg_metric(s, y, rank_fn=rank_fn, cutoff_fn=cutoff_fn, **kw)


LOSSES = {
    "softmax": (listwise_softmax_loss, rax.softmax_loss, True),
    "hinge": (pairwise_hinge_loss, rax.pairwise_hinge_loss, True),
    "logistic": (pairwise_logistic_loss, rax.pairwise_logistic_loss, True),
    "listmle": (listmle_loss, rax.listmle_loss, False),
    "approx_ndcg": (approx_ndcg_loss, rax_approx_ndcg(), True),
    "approx_ndcg_t": (
        functools.partial(approx_ndcg_loss, temperature=0.3),
        rax_approx_ndcg(0.3),
        True,
    ),
}
RAX_REDUCE = {"mean": jnp.mean, "sum": jnp.sum, "none": None}


def _inputs(rng, shape, masked):
    scores = rng.standard_normal(shape) * 2
    labels = rng.integers(0, 4, shape).astype(np.float64)  # graded labels with ties
    where = None
    if masked:
        where = rng.random(shape) < 0.7
        where[0] = False  # a fully masked list
    return scores, labels, where


def _rax_none(name, out, reduction, shape):
    """rax's unreduced pairwise output is (..., L * L); ours (..., L, L)."""
    if name in ("hinge", "logistic") and reduction == "none":
        return out.reshape(*shape, shape[-1])
    return out


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_rax(name, reduction, masked):
    fn, rax_fn, has_weights = LOSSES[name]
    rng = np.random.default_rng(_seed(name, reduction, masked))
    shape = (3, 2, 6)
    scores, labels, where = _inputs(rng, shape, masked)
    weights = rng.random(shape) + 0.5 if has_weights and reduction != "none" else None
    kw = {} if weights is None else {"weights": weights}
    if where is not None:
        kw["where"] = where
    cot = rng.standard_normal(
        shape[:-1] + ((shape[-1],) * 2 if name in ("hinge", "logistic") else ())
    )
    cot = cot if reduction == "none" else 1.0

    def ref(s):
        return _rax_none(
            name,
            rax_fn(s, jnp.asarray(labels), reduce_fn=RAX_REDUCE[reduction], **kw),
            reduction,
            shape,
        )

    r_value, r_vjp = jax.vjp(jax.jit(ref), jnp.asarray(scores))  # float64 reference for both dtypes
    (r_grad,) = r_vjp(jnp.broadcast_to(jnp.asarray(cot, r_value.dtype), r_value.shape))
    for dtype, jit in [(np.float64, masked), (np.float32, not masked)]:
        s = jnp.asarray(scores, dtype)
        f = lambda s: fn(s, labels, reduction=reduction, **kw)
        f = jax.jit(f) if jit else f
        value, vjp = jax.vjp(f, s)
        (grad,) = vjp(jnp.asarray(jnp.broadcast_to(cot, value.shape), dtype))
        assert value.dtype == dtype and value.shape == r_value.shape
        np.testing.assert_allclose(value, r_value, **TOL[dtype])
        np.testing.assert_allclose(grad, r_grad, **TOL[dtype])
        assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("masked", [False, True])
def test_listwise_softmax_matches_optax(rng, masked):
    scores, labels, where = _inputs(rng, (4, 5), masked)
    weights = rng.random((4, 5))
    ours = lambda s: listwise_softmax_loss(s, labels, where=where, weights=weights)
    ref = lambda s: optax.losses.ranking_softmax_loss(
        s, jnp.asarray(labels), where=where, weights=weights
    )
    np.testing.assert_allclose(ours(scores), ref(scores), rtol=1e-12)
    np.testing.assert_allclose(
        jax.grad(ours)(scores), jax.grad(ref)(jnp.asarray(scores)), rtol=1e-10, atol=1e-14
    )
    # the kernel the optax face imports: optax's reduce_fn=None output (fully masked lists give 0)
    kernel = _listwise_softmax(
        jnp.asarray(scores), jnp.asarray(labels), None if where is None else jnp.asarray(where)
    )
    np.testing.assert_allclose(
        kernel,
        optax.losses.ranking_softmax_loss(scores, jnp.asarray(labels), where=where, reduce_fn=None),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", list(LOSSES))
def test_fully_masked_gives_zero_with_finite_zero_gradients(name):
    fn = LOSSES[name][0]
    scores = np.random.default_rng(1).standard_normal((2, 4))
    labels = np.array([[0.0, 1.0, 2.0, 0.0], [1.0, 0.0, 3.0, 1.0]])
    where = np.zeros((2, 4), bool)
    for reduction in ("mean", "sum"):
        f = jax.jit(functools.partial(fn, labels=labels, where=where, reduction=reduction))
        assert f(scores) == 0
        grad = jax.grad(f)(scores)
        assert np.all(grad == 0)
    # one list fully masked: that list contributes nothing, and its gradients are zero
    where = np.array([[True, True, True, False], [False] * 4])
    grad = jax.grad(lambda s: fn(s, labels, where=where))(scores)
    assert np.all(np.isfinite(grad)) and np.all(grad[1] == 0) and np.all(grad[0, 3] == 0)
    hess = jax.hessian(lambda s: fn(s, labels, where=where))(scores)
    assert np.all(np.isfinite(hess))


@pytest.mark.parametrize("name", list(LOSSES))
def test_edges(name):
    fn = LOSSES[name][0]
    # unbatched list, all-equal labels (no valid pair for the pairwise losses), zero scores, one item
    for s, y in [
        (np.zeros(5), np.arange(5.0)),
        (np.random.default_rng(0).standard_normal(4), np.ones(4)),
        (np.array([0.3]), np.array([1.0])),
        (np.zeros((2, 0)), np.zeros((2, 0))),
    ]:
        value = fn(s, y)
        grad = jax.grad(functools.partial(fn, labels=y))(s)
        assert value.shape == () and np.isfinite(value) and np.all(np.isfinite(grad))
    # extreme scores
    s, y = np.array([1e9, -1e9, 0.0, 3e37]), np.array([0.0, 2.0, 1.0, 1.0])
    assert np.isfinite(fn(s, y))
    assert np.all(np.isfinite(jax.grad(lambda s: fn(s, y))(s)))


def test_half_precision_and_integer_labels(rng):
    scores = rng.standard_normal((3, 6))
    labels = rng.integers(0, 3, (3, 6))
    for fn, _, _ in LOSSES.values():
        out = fn(jnp.asarray(scores, jnp.float16), labels)
        assert out.dtype == jnp.float16
        np.testing.assert_allclose(
            np.float32(out),
            fn(scores.astype(np.float32), labels.astype(np.float32)),
            rtol=3e-3,
            atol=1e-3,
        )


def test_vmap_matches_batch(rng):
    scores, labels, where = _inputs(rng, (4, 6), masked=True)
    for fn, _, _ in LOSSES.values():
        vm = jax.vmap(functools.partial(fn, reduction="sum"))(scores, labels, where=where)
        np.testing.assert_allclose(
            vm.sum(), fn(scores, labels, where=where, reduction="sum"), rtol=1e-12
        )


@pytest.mark.parametrize(
    "fn",
    [
        listwise_softmax_loss,
        pairwise_hinge_loss,
        pairwise_logistic_loss,
        listmle_loss,
        approx_ndcg_loss,
    ],
)
def test_errors(fn):
    name = fn.__name__
    s, y = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        fn(s, y, reduction="batchmean")
    with pytest.raises(
        ValueError,
        match=rf"{name}: labels has shape \(2, 4\); it must have the same shape as scores",
    ):
        fn(s, np.zeros((2, 4)))
    with pytest.raises(
        ValueError, match=rf"{name}: where has shape \(3,\); it must have the same shape as scores"
    ):
        fn(s, y, where=np.ones(3, bool))
    with pytest.raises(TypeError, match=f"{name}: where must be a boolean array; got dtype"):
        fn(s, y, where=np.ones((2, 3)))
    with pytest.raises(TypeError, match=f"{name}: scores must have a floating dtype"):
        fn(np.zeros((2, 3), int), y)
    with pytest.raises(ValueError, match=f"{name}: scores must have shape"):
        fn(np.float64(0.0), np.float64(0.0))
    if fn is not listmle_loss:
        with pytest.raises(ValueError, match=rf"{name}: weights has shape \(3,\)"):
            fn(s, y, weights=np.ones(3))
    if fn is approx_ndcg_loss:
        with pytest.raises(
            ValueError, match=f"{name}: temperature must be a positive number; got 0"
        ):
            fn(s, y, temperature=0)
