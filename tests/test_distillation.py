"""Divergences against their references.

* distillation: torch-op transcription of Hinton et al. 2015 (``F.kl_div`` with ``log_target=True`` times
  ``T**2`` plus ``F.cross_entropy``), gradients by torch 2.13's autograd; Keras 3's
  ``keras.distillation.LogitsDistillation`` for the soft term;
* Jensen-Shannon: ``scipy.spatial.distance.jensenshannon`` (scipy 1.17, squared) for values, a torch-op
  transcription of Lin 1991's definition for gradients;
* generalized KL: optax 0.2.8's ``generalized_kl_divergence`` (values and gradients), in the same run.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
import scipy.spatial.distance
import torch
import torch.nn.functional as F

from jaxloss._src.families.distillation import (
    _generalized_kl,
    distillation_loss,
    generalized_kl_divergence,
    js_divergence,
)
from tests.torch_parity import compare

C = 6


def probs(rng, shape, zeros=False):
    p = rng.random(shape) + (0.0 if zeros else 0.05)
    if zeros:
        p = p * (rng.random(shape) > 0.4)
        p[..., 0] += 0.1
    return p / p.sum(-1, keepdims=True)


def _reduce_t(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def t_distillation(s, t, labels=None, temperature=3.0, alpha=None, reduction="mean"):
    # Hinton et al. 2015: alpha T^2 KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) CE(s, y)
    kl = F.kl_div(
        torch.log_softmax(s / temperature, -1),
        torch.log_softmax(t / temperature, -1),
        reduction="none",
        log_target=True,
    ).sum(-1)
    soft = temperature**2 * kl
    if labels is None:
        return _reduce_t(soft, reduction)
    alpha = 0.5 if alpha is None else alpha
    flat_s = s.reshape(-1, s.shape[-1])
    flat_y = labels.reshape(-1) if labels.dtype == torch.int64 else labels.reshape(-1, s.shape[-1])
    hard = F.cross_entropy(flat_s, flat_y, reduction="none").reshape(s.shape[:-1])
    return _reduce_t(alpha * soft + (1 - alpha) * hard, reduction)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_distillation_vs_formula(rng, dtype):
    s = rng.standard_normal((2, 3, C)) * 3
    t = rng.standard_normal((2, 3, C)) * 3
    y_idx = rng.integers(0, C, (2, 3))
    y_p = probs(rng, (2, 3, C), zeros=True)
    jit = dtype == np.float32
    for labels, kw in (
        (None, {}),
        (None, {"temperature": 1.0, "reduction": "none"}),
        (y_idx, {"temperature": 4.0, "alpha": 0.9, "reduction": "sum"}),
        (y_idx, {}),
        (y_p, {"temperature": 0.5, "alpha": 0.2, "reduction": "none"}),
    ):
        diff = (0, 1, 2) if labels is y_p else (0, 1)
        compare(
            distillation_loss,
            t_distillation,
            [s, t, labels],
            kwargs=kw,
            diff=diff,
            dtype=dtype,
            jit=jit,
        )


def test_distillation_vs_keras(rng):
    s = rng.standard_normal((5, C)).astype(np.float32)
    t = rng.standard_normal((5, C)).astype(np.float32)
    for temperature in (1.0, 3.0, 7.0):
        # loss=KLDivergence() instance: Keras 3.15's default string 'kl_divergence' resolves to the function,
        # which LogitsDistillation then applies to the raw logits instead of the softmax probabilities
        distill = keras.distillation.LogitsDistillation(
            temperature=temperature, loss=keras.losses.KLDivergence()
        )
        ref = distill.compute_loss(t, s)
        np.testing.assert_allclose(
            distillation_loss(s, t, temperature=temperature), ref, rtol=2e-6, atol=1e-7
        )


def test_distillation_edges(rng):
    s = jnp.array([[1e4, -1e4, 0.0, 0.0, 1.0, 2.0]])
    t = jnp.array([[-1e4, 1e4, 0.0, 3.0, 1.0, 2.0]])
    for labels in (None, jnp.array([1])):

        def f(a, b, labels=labels):
            return distillation_loss(a, b, labels, temperature=2.0)

        val, grads = jax.value_and_grad(f, (0, 1))(s, t)
        assert np.isfinite(val) and all(np.all(np.isfinite(g)) for g in grads)
    # identical student and teacher: no soft loss, zero gradient
    np.testing.assert_allclose(distillation_loss(t, t), 0.0, atol=1e-12)
    np.testing.assert_allclose(jax.grad(lambda a: distillation_loss(a, t))(t), 0.0, atol=1e-10)
    # a stop_gradient teacher
    g = jax.grad(lambda b: distillation_loss(s, jax.lax.stop_gradient(b)), allow_int=True)(t)
    np.testing.assert_array_equal(g, 0.0)
    # empty batch and half precision
    assert float(distillation_loss(np.zeros((0, C)), np.zeros((0, C)), reduction="sum")) == 0.0
    s16 = rng.standard_normal((3, C)).astype(np.float16)
    out = distillation_loss(s16, s16[::-1], np.array([0, 1, 2]))
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(
        float(out),
        float(
            distillation_loss(
                s16.astype(np.float64), s16[::-1].astype(np.float64), np.array([0, 1, 2])
            )
        ),
        rtol=2e-3,
    )


def t_js(p, q, log_inputs=False, reduction="mean"):
    # Lin 1991: JS = KL(P||M)/2 + KL(Q||M)/2, M = (P + Q)/2
    if log_inputs:
        p, q = p.exp(), q.exp()
    m = (p + q) / 2
    return _reduce_t(
        0.5 * (p * (p / m).log()).sum(-1) + 0.5 * (q * (q / m).log()).sum(-1), reduction
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_js_vs_scipy_and_formula(rng, dtype):
    p, q = probs(rng, (3, 4, C)), probs(rng, (3, 4, C))
    jit = dtype == np.float32
    for red in ("none", "mean", "sum"):
        compare(
            js_divergence,
            t_js,
            [p, q],
            kwargs={"reduction": red},
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )
    compare(
        js_divergence,
        t_js,
        [np.log(p), np.log(q)],
        kwargs={"log_inputs": True},
        diff=(0, 1),
        dtype=dtype,
    )
    # scipy (squared distance = divergence), including zero-probability classes
    pz, qz = probs(rng, (5, C), zeros=True), probs(rng, (5, C), zeros=True)
    pz[0] = qz[0]  # identical rows
    pz[1], qz[1] = np.eye(C)[0], np.eye(C)[1]  # disjoint supports: log 2
    ref = scipy.spatial.distance.jensenshannon(pz, qz, axis=-1) ** 2
    np.testing.assert_allclose(js_divergence(pz, qz, reduction="none"), ref, rtol=1e-12, atol=1e-15)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(
            js_divergence(np.log(pz), np.log(qz), log_inputs=True, reduction="none"),
            ref,
            rtol=1e-12,
            atol=1e-15,
        )
    np.testing.assert_allclose(js_divergence(pz, qz, reduction="none")[1], np.log(2), rtol=1e-15)


def test_js_zero_probabilities_finite_gradients(rng):
    p = jnp.asarray(probs(rng, (4, C), zeros=True))
    q = jnp.asarray(probs(rng, (4, C), zeros=True))
    q = q.at[0].set(p[0])
    with np.errstate(divide="ignore"):
        lp, lq = jnp.log(p), jnp.log(q)
    for args, kw in (((p, q), {}), ((lp, lq), {"log_inputs": True})):

        def f(a, b, kw=kw):
            return js_divergence(a, b, reduction="sum", **kw)

        val, grads = jax.value_and_grad(f, (0, 1))(*args)
        assert np.isfinite(val) and all(np.all(np.isfinite(g)) for g in grads)
    # gradients where both are positive match the formula's: d/dp_i = log(p_i / m_i) / 2
    gp = jax.grad(lambda a: js_divergence(a, q, reduction="sum"))(p)
    m = (p + q) / 2
    both = (p > 0) & (q > 0)
    np.testing.assert_allclose(
        np.asarray(gp)[both], (0.5 * jnp.log(p / m))[both], rtol=1e-12, atol=1e-14
    )
    # log-space: d/dlog p_i = p_i log(p_i / m_i) / 2, which is 0 at p_i = 0
    gl = jax.grad(lambda a: js_divergence(a, lq, log_inputs=True, reduction="sum"))(lp)
    with np.errstate(divide="ignore", invalid="ignore"):
        expect = np.where(p > 0, 0.5 * p * np.log(p / m), 0.0)
    np.testing.assert_allclose(gl, expect, rtol=1e-12, atol=1e-14)
    # extreme log-probabilities
    a = jax.nn.log_softmax(jnp.array([1e4, -1e4, 0.0, 1.0, 2.0, 3.0]))
    b = jax.nn.log_softmax(jnp.array([-1e4, 1e4, 0.0, 1.0, 2.0, 3.0]))
    val, g = jax.value_and_grad(lambda a: js_divergence(a, b, log_inputs=True))(a)
    np.testing.assert_allclose(val, np.log(2), rtol=1e-12)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generalized_kl_vs_optax(rng, dtype):
    lp = jnp.asarray(np.log(rng.random((3, 4, C)) * 2 + 0.01), dtype)
    t = jnp.asarray(rng.random((3, 4, C)) * 2, dtype)
    tol = {"rtol": 1e-13, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-6}

    @jax.jit
    def run(lp, t):
        ref = lambda a, b: jnp.sum(
            optax.losses.generalized_kl_divergence(a, b) * jnp.arange(12.0).reshape(3, 4)
        )
        mine = lambda a, b: jnp.sum(
            generalized_kl_divergence(a, b, reduction="none") * jnp.arange(12.0).reshape(3, 4)
        )
        return (
            (
                generalized_kl_divergence(lp, t, reduction="none"),
                optax.losses.generalized_kl_divergence(lp, t),
            ),
            (jax.grad(mine, (0, 1))(lp, t), jax.grad(ref, (0, 1))(lp, t)),
            (
                generalized_kl_divergence(lp, t),
                jnp.mean(optax.losses.generalized_kl_divergence(lp, t)),
            ),
            (
                generalized_kl_divergence(lp, t, reduction="sum"),
                jnp.sum(optax.losses.generalized_kl_divergence(lp, t)),
            ),
        )

    (v, rv), ((g0, g1), (r0, r1)), (m, rm), (s, rs) = run(lp, t)
    assert v.dtype == rv.dtype == dtype
    for a, b in ((v, rv), (g0, r0), (g1, r1), (m, rm), (s, rs)):
        np.testing.assert_allclose(a, b, **tol)
    # the kernel with optax's axis / where arguments
    where = jnp.asarray(rng.random((3, 4, C)) > 0.3)
    for axis in (-1, 1, (0, 2)):
        np.testing.assert_allclose(
            _generalized_kl(lp, t, axis=axis, where=where),
            optax.losses.generalized_kl_divergence(lp, t, axis=axis, where=where),
            **tol,
        )


def test_generalized_kl_zero_targets(rng):
    lp = jnp.asarray(np.log(rng.random((4, C)) + 0.1))
    t = jnp.asarray(rng.random((4, C)) * (rng.random((4, C)) > 0.5))
    np.testing.assert_allclose(
        generalized_kl_divergence(lp, t, reduction="none"),
        optax.losses.generalized_kl_divergence(lp, t),
        rtol=1e-13,
    )
    g_lp, g_t = jax.grad(lambda a, b: generalized_kl_divergence(a, b, reduction="sum"), (0, 1))(
        lp, t
    )
    assert np.all(np.isfinite(g_t))
    # d/dt = log t - log p where t > 0; optax's gradient is nan where t == 0 (documented deviation)
    np.testing.assert_allclose(
        np.asarray(g_t)[t > 0], np.asarray(jnp.log(t) - lp)[t > 0], rtol=1e-12
    )
    np.testing.assert_allclose(g_lp, jnp.exp(lp) - t, rtol=1e-12, atol=1e-15)
    g_optax = jax.grad(lambda b: jnp.sum(optax.losses.generalized_kl_divergence(lp, b)))(t)
    assert np.any(np.isnan(g_optax))


def test_errors():
    z = np.zeros((3, C))
    with pytest.raises(
        ValueError,
        match=r"distillation_loss: teacher_logits has shape \(3, 5\); it must have the same",
    ):
        distillation_loss(z, np.zeros((3, 5)))
    with pytest.raises(
        ValueError,
        match=r"distillation_loss: labels has shape \(4,\) and dtype int64; for "
        r"student_logits \(3, 6\) it must be integer \(3,\)",
    ):
        distillation_loss(z, z, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=r"distillation_loss: labels values must be in \[0, 6\)"):
        distillation_loss(z, z, np.array([0, 6, 1]))
    with pytest.raises(ValueError, match="distillation_loss: alpha weighs the soft term"):
        distillation_loss(z, z, alpha=0.3)
    with pytest.raises(ValueError, match="distillation_loss: alpha must be in \\[0, 1\\]"):
        distillation_loss(z, z, np.zeros(3, np.int32), alpha=1.5)
    with pytest.raises(ValueError, match="distillation_loss: temperature must be > 0"):
        distillation_loss(z, z, temperature=0.0)
    with pytest.raises(ValueError, match="js_divergence: reduction must be one of"):
        js_divergence(z, z, reduction="batchmean")
    with pytest.raises(ValueError, match="js_divergence: p must be \\(..., C\\)"):
        js_divergence(np.float64(0.5), np.float64(0.5))
    with pytest.raises(
        TypeError, match="generalized_kl_divergence: targets must have a floating dtype"
    ):
        generalized_kl_divergence(z, np.zeros((3, C), np.int32))
    with pytest.raises(ValueError, match=r"generalized_kl_divergence: targets has shape \(3, 1\)"):
        generalized_kl_divergence(z, np.zeros((3, 1)))
