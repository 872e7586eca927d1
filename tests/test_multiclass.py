"""Multiclass losses against their references.

* optax 0.2.8 (``poly_loss_cross_entropy``, ``multiclass_sparsemax_loss``, ``sparsemax_loss``), in the same run;
* deep-spin ``entmax`` 1.3 (torch; ``entmax15``, ``entmax15_loss``, ``sparsemax``, ``sparsemax_loss``), values
  and gradients through its own backward, via :func:`tests.torch_parity.compare`;
* Keras 3 (``KERAS_BACKEND=jax``; ``squared_hinge``, ``categorical_hinge`` and their Loss classes);
* torch-op transcriptions of the paper formulas (focal: Lin et al. 2017; generalized CE: Zhang & Sabuncu
  2018; z-loss: PaLM, Chowdhery et al. 2022), gradients by torch 2.13's autograd;
* float64 numpy transcriptions of T5X ``losses.cross_entropy_with_logits`` (forward and its custom VJP) and of
  the bi-tempered loss of Amid et al. 2019 as in the authors' google/bi-tempered-loss code (normalisation
  iterations, label smoothing, and its custom gradient).
"""

from __future__ import annotations

import entmax
import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
import torch
from jax.test_util import check_grads

from jaxloss._src.families.multiclass import (
    _binary_sparsemax_loss,
    _entmax15,
    _sparsemax,
    _sparsemax_loss_kernel,
    bi_tempered_logistic_loss,
    categorical_hinge,
    cross_entropy_with_z_loss,
    entmax15_loss,
    generalized_cross_entropy,
    poly1_cross_entropy,
    softmax_focal_loss,
    sparsemax_loss,
    squared_hinge,
    z_loss,
)
from tests.torch_parity import compare

C = 5


def probs(rng, shape, zeros=False):
    p = rng.random(shape) + (0.0 if zeros else 0.05)
    if zeros:
        p = p * (rng.random(shape) > 0.4)
        p[..., 0] += 0.1
    return p / p.sum(-1, keepdims=True)


def _reduce_t(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _targets_t(logits, labels):
    if labels.dtype in (torch.int64, torch.int32):
        return torch.nn.functional.one_hot(labels.long(), logits.shape[-1]).to(logits.dtype)
    return labels


# ------------------------------------------------------------------------------------------------------------
# torch transcriptions of the paper formulas
# ------------------------------------------------------------------------------------------------------------


def t_softmax_focal(logits, labels, alpha=None, gamma=2.0, reduction="mean"):
    # Lin et al. 2017, categorical form: -sum_c alpha_c y_c (1 - p_c)^gamma log p_c
    y = _targets_t(logits, labels)
    lp = torch.log_softmax(logits, -1)
    w = (1 - lp.exp()) ** gamma
    if alpha is not None:
        w = w * torch.as_tensor(alpha, dtype=logits.dtype)
    return _reduce_t(-(y * w * lp).sum(-1), reduction)


def t_gce(logits, labels, q=0.7, reduction="mean"):
    # Zhang & Sabuncu 2018: sum_c y_c (1 - p_c^q) / q
    y = _targets_t(logits, labels)
    p = torch.softmax(logits, -1)
    return _reduce_t((y * (1 - p**q) / q).sum(-1), reduction)


def t_z_loss(logits, z_loss_coef=1e-4, reduction="mean"):
    # PaLM (Chowdhery et al. 2022): c * log(Z)^2
    return _reduce_t(z_loss_coef * torch.logsumexp(logits, -1) ** 2, reduction)


# ------------------------------------------------------------------------------------------------------------
# softmax focal loss
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_focal_vs_formula(rng, dtype):
    z = rng.standard_normal((4, C)) * 3
    y_idx = rng.integers(0, C, 4)
    y_p = probs(rng, (4, C), zeros=True)
    alpha_vec = rng.random(C)
    jit = dtype == np.float32
    for labels, alpha, gamma, red in (
        (y_idx, None, 2.0, "mean"),
        (y_p, 0.25, 0.0, "sum"),
        (y_idx, alpha_vec, 0.5, "none"),
        (y_p, alpha_vec, 3.0, "none"),
    ):
        kw = {"alpha": alpha, "gamma": gamma, "reduction": red}
        diff = (0, 1) if labels is y_p else (0,)
        compare(
            softmax_focal_loss,
            t_softmax_focal,
            [z, labels],
            kwargs=kw,
            diff=diff,
            dtype=dtype,
            jit=jit,
        )
    # K-dim batch and an unbatched example
    compare(
        softmax_focal_loss,
        t_softmax_focal,
        [rng.standard_normal((2, 3, C)), rng.integers(0, C, (2, 3))],
    )
    # unbatched: (C,) logits with a 0-d label is the matching row of the batched loss
    np.testing.assert_allclose(
        softmax_focal_loss(z[1], y_idx[1], reduction="none"),
        softmax_focal_loss(z, y_idx, reduction="none")[1],
        rtol=1e-14,
    )


def test_softmax_focal_gamma0_is_cross_entropy(rng):
    z, y = rng.standard_normal((6, C)), probs(rng, (6, C))
    np.testing.assert_allclose(
        softmax_focal_loss(z, y, gamma=0.0, reduction="none"),
        optax.losses.softmax_cross_entropy(z, y),
        rtol=1e-13,
    )


# ------------------------------------------------------------------------------------------------------------
# PolyLoss, z-loss, T5X cross entropy
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_poly1_vs_optax(rng, dtype):
    z = jnp.asarray(rng.standard_normal((6, C)) * 2, dtype)
    y = jnp.asarray(probs(rng, (6, C), zeros=True), dtype)
    y_idx = rng.integers(0, C, 6)
    tol = {"rtol": 1e-13, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-6}
    for eps in (2.0, -1.0, 0.5):

        def both(z, y, eps=eps):
            ref = lambda z, y: jnp.sum(optax.losses.poly_loss_cross_entropy(z, y, epsilon=eps))
            mine = lambda z, y: poly1_cross_entropy(z, y, epsilon=eps, reduction="sum")
            return (ref(z, y), jax.grad(ref, (0, 1))(z, y)), (
                mine(z, y),
                jax.grad(mine, (0, 1))(z, y),
            )

        (r, rg), (m, mg) = jax.jit(both)(z, y)
        assert m.dtype == r.dtype
        for a, b in ((m, r), (mg[0], rg[0]), (mg[1], rg[1])):
            np.testing.assert_allclose(a, b, **tol)
    onehot = jax.nn.one_hot(y_idx, C, dtype=dtype)
    np.testing.assert_allclose(
        poly1_cross_entropy(z, y_idx, reduction="none"),
        optax.losses.poly_loss_cross_entropy(z, onehot),
        **tol,
    )
    np.testing.assert_allclose(
        poly1_cross_entropy(z, y_idx, epsilon=1.0),
        np.mean(
            optax.losses.poly_loss_cross_entropy(z, optax.smooth_labels(onehot, 0.0), epsilon=1.0)
        ),
        **tol,
    )
    # label smoothing: both terms see (1 - s) y + s / C (optax.smooth_labels)
    np.testing.assert_allclose(
        poly1_cross_entropy(z, y_idx, label_smoothing=0.2, reduction="none"),
        optax.losses.poly_loss_cross_entropy(z, optax.smooth_labels(onehot, 0.2)),
        **tol,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_z_loss_vs_formula(rng, dtype):
    z = rng.standard_normal((3, 4, C)) * 4
    for coef, red in ((1e-4, "mean"), (0.3, "none"), (1.0, "sum")):
        compare(
            z_loss,
            t_z_loss,
            [z],
            kwargs={"z_loss_coef": coef, "reduction": red},
            dtype=dtype,
            jit=dtype == np.float32,
        )


def np_t5x(logits, targets, c, g):
    """T5X losses.cross_entropy_with_logits in float64 numpy: forward (loss, z-loss) and its custom VJP for
    cotangent ``g`` of the first output (g_logits = g[(1 + 2 c log_z) softmax - targets],
    g_targets = -g log_softmax)."""
    m = logits.max(-1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(-1, keepdims=True)
    log_softmax = logits - m - np.log(s)
    log_z = (np.log(s) + m)[..., 0]
    total_z = c * log_z**2
    loss = -(targets * log_softmax).sum(-1) + total_z
    g_logits = g[..., None] * ((1 + 2 * c * log_z)[..., None] * e / s - targets)
    g_targets = -g[..., None] * log_softmax
    return loss, total_z, g_logits, g_targets


@pytest.mark.parametrize("jit", [False, True])
def test_cross_entropy_with_z_loss_vs_t5x(rng, jit):
    z = rng.standard_normal((2, 3, C)) * 3
    y = probs(rng, (2, 3, C), zeros=True)
    y_idx = rng.integers(0, C, (2, 3))
    g = rng.standard_normal((2, 3))
    for c in (0.0, 1e-4, 0.5):
        for labels in (y, y_idx):
            targets = labels if labels.dtype.kind == "f" else np.eye(C)[labels]
            loss, total_z, g_logits, g_targets = np_t5x(z, targets, c, g)

            def f(z, t, c=c, labels=labels):
                return cross_entropy_with_z_loss(
                    z,
                    t if labels.dtype.kind == "f" else labels,
                    z_loss_coef=c,
                    return_z_loss=True,
                    reduction="none",
                )

            f = jax.jit(f) if jit else f
            (out, out_z), vjp = jax.vjp(f, jnp.asarray(z), jnp.asarray(targets))
            np.testing.assert_allclose(out, loss, rtol=1e-13)
            np.testing.assert_allclose(out_z, total_z, rtol=1e-13, atol=1e-300)
            gz, gt = vjp(
                (jnp.asarray(g), jnp.asarray(rng.standard_normal((2, 3))))
            )  # z-loss output: no gradient
            np.testing.assert_allclose(gz, g_logits, rtol=1e-12, atol=1e-14)
            if labels.dtype.kind == "f":
                np.testing.assert_allclose(gt, g_targets, rtol=1e-12, atol=1e-14)
    # reductions and float32
    loss, total_z, _, _ = np_t5x(z, y, 1e-4, g)
    assert np.isclose(cross_entropy_with_z_loss(z, y), loss.mean(), rtol=1e-13)
    l32, z32 = cross_entropy_with_z_loss(
        z.astype(np.float32), y.astype(np.float32), reduction="sum", return_z_loss=True
    )
    assert l32.dtype == jnp.float32 and z32.dtype == jnp.float32
    np.testing.assert_allclose([l32, z32], [loss.sum(), total_z.sum()], rtol=2e-6)
    # with rows summing to one T5X's custom gradient equals plain autodiff of the formula
    auto = jax.grad(
        lambda z: jnp.sum(
            optax.losses.softmax_cross_entropy(z, y) + 0.5 * jax.nn.logsumexp(z, -1) ** 2
        )
    )(z)
    mine = jax.grad(lambda z: cross_entropy_with_z_loss(z, y, z_loss_coef=0.5, reduction="sum"))(z)
    np.testing.assert_allclose(mine, auto, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------------------
# bi-tempered logistic loss
# ------------------------------------------------------------------------------------------------------------


def np_log_t(u, t):
    return np.log(u) if t == 1.0 else (u ** (1.0 - t) - 1.0) / (1.0 - t)


def np_exp_t(u, t):
    return np.exp(u) if t == 1.0 else np.maximum(0.0, 1.0 + (1.0 - t) * u) ** (1.0 / (1.0 - t))


def np_normalization(a, t, num_iters):
    """google/bi-tempered-loss compute_normalization: fixed point (t > 1) or bisection (t < 1)."""
    mu = a.max(-1, keepdims=True)
    a0 = a - mu
    if t > 1.0:
        an = a0
        for _ in range(num_iters):
            part = np_exp_t(an, t).sum(-1, keepdims=True)
            an = a0 * part ** (1.0 - t)
        part = np_exp_t(an, t).sum(-1, keepdims=True)
        return -np_log_t(1.0 / part, t) + mu
    eff = (a0 > -1.0 / (1.0 - t)).sum(-1, keepdims=True).astype(float)
    lower, upper = np.zeros_like(mu), -np_log_t(1.0 / eff, t) * np.ones_like(mu)
    for _ in range(num_iters):
        part = (upper + lower) / 2.0
        upd = (np_exp_t(a0 - part, t).sum(-1, keepdims=True) < 1.0).astype(float)
        lower = lower * upd + (1.0 - upd) * part
        upper = upper * (1.0 - upd) + upd * part
    return (upper + lower) / 2.0 + mu


def np_bi_tempered(a, y, t1, t2, label_smoothing=0.0, num_iters=5):
    """Value and activations-gradient (the authors' custom gradient) per example, float64."""
    c = a.shape[-1]
    if label_smoothing > 0:
        y = (1 - c / (c - 1) * label_smoothing) * y + label_smoothing / (c - 1)
    if t1 == 1.0 and t2 == 1.0:
        lse = np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True)) + a.max(
            -1, keepdims=True
        )
        p = np.exp(a - lse)
        return -(y * (a - lse)).sum(-1), p * y.sum(-1, keepdims=True) - y
    if t2 == 1.0:
        p = np.exp(a - a.max(-1, keepdims=True))
        p = p / p.sum(-1, keepdims=True)
    else:
        p = np_exp_t(a - np_normalization(a, t2, num_iters), t2)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(y == 0, 0.0, y * np_log_t(p, t1))
    loss = (
        y * np_log_t(y + 1e-10, t1) - cross - 1.0 / (2.0 - t1) * (y ** (2.0 - t1) - p ** (2.0 - t1))
    )
    # the authors' forget factor p**(t2 - t1) is 0 * inf at a class outside the support (t2 < 1, p = 0); such a
    # class is locally constant (p stays 0), so its term is 0
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(p > 0, (p - y) * p ** (t2 - t1), 0.0)
    escorts = p**t2 / (p**t2).sum(-1, keepdims=True)
    grad = delta - escorts * delta.sum(-1, keepdims=True)
    return loss.sum(-1), grad


BT_CASES = [(1.0, 1.0), (0.8, 1.0), (1.0, 1.5), (0.5, 1.5), (0.2, 4.0), (0.7, 0.6), (1.3, 0.8)]


@pytest.mark.parametrize("t1,t2", BT_CASES)
def test_bi_tempered_vs_authors_algorithm(rng, t1, t2):
    # t1 > 1 with t2 < 1 is unbounded (infinite where a labelled class leaves the support): keep logits mild
    a = rng.standard_normal((6, C)) * (1.0 if t1 > 1 else 3.0)
    y_idx = rng.integers(0, C, 6)
    y_p = probs(rng, (6, C), zeros=True)
    g = rng.standard_normal(6)
    for labels, ls, iters in ((y_idx, 0.0, 5), (y_p, 0.0, 5), (y_idx, 0.1, 30), (y_p, 0.3, 2)):
        y = np.eye(C)[labels] if labels.dtype.kind == "i" else labels
        ref, ref_grad = np_bi_tempered(a, y, t1, t2, ls, iters)

        def f(a, labels=labels, ls=ls, iters=iters):
            return bi_tempered_logistic_loss(
                a, labels, t1=t1, t2=t2, label_smoothing=ls, num_iters=iters, reduction="none"
            )

        out, vjp = jax.vjp(f, jnp.asarray(a))
        np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(
            vjp(jnp.asarray(g))[0], g[:, None] * ref_grad, rtol=1e-10, atol=1e-12
        )
    # float32 under jit, reductions
    out = jax.jit(lambda a: bi_tempered_logistic_loss(a, y_idx, t1=t1, t2=t2, reduction="sum"))(
        a.astype(np.float32)
    )
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, np_bi_tempered(a, np.eye(C)[y_idx], t1, t2)[0].sum(), rtol=2e-5)
    np.testing.assert_allclose(
        bi_tempered_logistic_loss(a, y_p, t1=t1, t2=t2),
        np_bi_tempered(a, y_p, t1, t2)[0].mean(),
        rtol=1e-11,
    )


def test_bi_tempered_reduces_to_cross_entropy_and_converges(rng):
    a, y = rng.standard_normal((5, C)), probs(rng, (5, C))
    np.testing.assert_allclose(
        bi_tempered_logistic_loss(a, y, t1=1.0, t2=1.0, reduction="none"),
        optax.losses.softmax_cross_entropy(a, y),
        rtol=1e-13,
    )
    # converged normaliser: tempered probabilities sum to one, and the gradient matches finite differences
    from jaxloss._src.families.multiclass import _exp_t, _tempered_normalization

    for t in (1.5, 0.6):
        lam = _tempered_normalization(jnp.asarray(a), t, 60)
        np.testing.assert_allclose(jnp.sum(_exp_t(a - lam, t), -1), 1.0, rtol=1e-12)
    f = jax.jit(
        lambda a: bi_tempered_logistic_loss(a, y, t1=0.6, t2=1.4, num_iters=40, reduction="sum")
    )
    check_grads(f, (jnp.asarray(a),), order=1, modes=("rev",), atol=1e-6, rtol=1e-6)


def test_bi_tempered_edges_finite(rng):
    a = jnp.asarray(np.array([[1e4, -1e4, 0.0, 3.0, -3.0], [0.0, 0.0, 0.0, 0.0, 0.0]]))
    y = jnp.asarray(np.array([[0.0, 1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0]]))
    for t1, t2 in BT_CASES:
        if t1 > 1 and t2 < 1:
            continue  # unbounded: the loss is +inf where a labelled class has zero tempered probability
        f = lambda a, y: bi_tempered_logistic_loss(a, y, t1=t1, t2=t2, reduction="sum")
        val, grads = jax.jit(jax.value_and_grad(f, (0, 1)))(a, y)
        assert np.isfinite(val), (t1, t2)
        assert all(np.all(np.isfinite(g)) for g in grads), (t1, t2)


# ------------------------------------------------------------------------------------------------------------
# sparsemax and 1.5-entmax
# ------------------------------------------------------------------------------------------------------------


def t_entmax15(x):
    return entmax.entmax15(x, dim=-1)


def t_sparsemax(x):
    return entmax.sparsemax(x, dim=-1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_mappings_vs_entmax_package(rng, dtype):
    z = rng.standard_normal((6, C)) * 2
    z[0] = [1.0, 1.0, 1.0, 0.0, -5.0]  # ties
    jit = dtype == np.float32
    compare(_entmax15, t_entmax15, [z], dtype=dtype, jit=jit)
    compare(_sparsemax, t_sparsemax, [z], dtype=dtype, jit=jit)
    zt = np.swapaxes(z.reshape(2, 3, C), 1, 2)  # axis=1
    compare(
        lambda x: _sparsemax(x, axis=1), lambda x: entmax.sparsemax(x, dim=1), [zt], dtype=dtype
    )
    compare(lambda x: _entmax15(x, axis=1), lambda x: entmax.entmax15(x, dim=1), [zt], dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparsemax_and_entmax_losses_vs_entmax_package(rng, dtype):
    z = rng.standard_normal((7, C)) * 2
    y = rng.integers(0, C, 7)
    jit = dtype == np.float32
    kw = {"reduction": "none"}
    compare(
        entmax15_loss,
        lambda x, t, reduction: entmax.entmax15_loss(x, t),
        [z, y],
        kwargs=kw,
        dtype=dtype,
        jit=jit,
    )
    compare(
        sparsemax_loss,
        lambda x, t, reduction: entmax.sparsemax_loss(x, t),
        [z, y],
        kwargs=kw,
        dtype=dtype,
        jit=jit,
    )
    compare(entmax15_loss, lambda x, t: entmax.entmax15_loss(x, t).mean(), [z, y], dtype=dtype)
    compare(
        sparsemax_loss,
        lambda x, t: entmax.sparsemax_loss(x, t).sum(),
        [z, y],
        kwargs={"reduction": "sum"},
        torch_kwargs={},
        dtype=dtype,
    )


def test_sparsemax_loss_vs_optax(rng):
    z = jnp.asarray(rng.standard_normal((8, C)) * 3)
    y = rng.integers(0, C, 8)
    x = jnp.asarray(rng.standard_normal(20) * 2)
    lab = rng.integers(0, 2, 20)

    @jax.jit
    def run(z, x):
        ref = lambda z: optax.losses.multiclass_sparsemax_loss(z, y)
        mine = lambda z: sparsemax_loss(z, y, reduction="none")
        kernel = _sparsemax_loss_kernel(
            z, jax.nn.one_hot(y, C, dtype=z.dtype)
        )  # what the optax face imports
        return (
            (mine(z), ref(z)),
            (jax.grad(lambda z: jnp.sum(mine(z)))(z), jax.grad(lambda z: jnp.sum(ref(z)))(z)),
            (kernel, ref(z)),
            (
                _binary_sparsemax_loss(x, lab),
                optax.losses.sparsemax_loss(x, lab),
            ),  # optax's binary loss
        )

    for a, b in run(z, x):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_fenchel_young_losses_probability_labels(rng):
    """Probability labels: Martins & Astudillo eq. (19) for sparsemax; (p - q).z + H(p) - H(q) for entmax;
    gradients p - q (logits) and q - z / 2 sqrt(q) - z (labels)."""
    z = rng.standard_normal((5, C)) * 2
    q = probs(rng, (5, C), zeros=True)
    p = entmax.sparsemax(torch.tensor(z), dim=-1).numpy()
    tau = np.max(
        np.where(p > 0, z - p, -np.inf), axis=-1, keepdims=True
    )  # z_j - p_j = tau on the support
    ref = -(q * z).sum(-1) + 0.5 * np.where(p > 0, z**2 - tau**2, 0).sum(-1) + 0.5 * (q**2).sum(-1)
    val, (gz, gq) = jax.vmap(jax.value_and_grad(lambda a, b: sparsemax_loss(a, b), (0, 1)))(z, q)
    np.testing.assert_allclose(val, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gz, p - q, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gq, q - z, rtol=1e-13, atol=1e-15)
    p15 = entmax.entmax15(torch.tensor(z), dim=-1).numpy()
    H = lambda r: (1 - (r**1.5).sum(-1)) / 0.75
    ref15 = ((p15 - q) * z).sum(-1) + H(p15) - H(q)
    val, (gz, gq) = jax.vmap(jax.value_and_grad(lambda a, b: entmax15_loss(a, b), (0, 1)))(z, q)
    np.testing.assert_allclose(val, ref15, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gz, p15 - q, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gq, 2 * np.sqrt(q) - z, rtol=1e-12, atol=1e-14)
    # a loss of zero at q = p
    np.testing.assert_allclose(sparsemax_loss(z, p, reduction="none"), 0, atol=1e-14)
    np.testing.assert_allclose(entmax15_loss(z, p15, reduction="none"), 0, atol=1e-14)


def test_sparse_losses_hessian_and_extremes(rng):
    z = jnp.asarray(rng.standard_normal(C))
    big = jnp.array([[1e4, -1e4, 0.0, 5.0, -5.0]])
    for fn, mapping in ((sparsemax_loss, _sparsemax), (entmax15_loss, _entmax15)):

        @jax.jit
        def run(z, big):
            return (
                jax.hessian(lambda a: fn(a, 1))(z),
                jax.jacobian(mapping)(z),
                jax.value_and_grad(lambda a: fn(a, jnp.array([1])))(big),
            )

        h, jac, (val, g) = run(z, big)
        np.testing.assert_allclose(h, jac, rtol=1e-12, atol=1e-14)  # the Hessian is d(p - q)/dz
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(val, 2e4, rtol=1e-12)  # p = e_0: (e_0 - e_1).z + H(e_0) - H(e_1)


# ------------------------------------------------------------------------------------------------------------
# Keras hinge losses
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def keras64():
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(old)


@pytest.mark.parametrize("which", ["squared_hinge", "categorical_hinge"])
def test_hinge_vs_keras(rng, keras64, which):
    mine = {"squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge}[which]
    fn = getattr(keras.losses, which)
    cls = {
        "squared_hinge": keras.losses.SquaredHinge,
        "categorical_hinge": keras.losses.CategoricalHinge,
    }[which]
    yp = rng.standard_normal((2, 4, C))
    yp[0, 0] = [0.5, 0.5, 0.5, 0.5, 0.5]  # ties in the max
    y01 = (rng.random((2, 4, C)) > 0.5).astype(np.float64)
    ypm = 2 * y01 - 1  # -1/1 labels: used as given
    onehot = np.eye(C)[rng.integers(0, C, (2, 4))]
    # Keras 3.15's JAX-backend ops.mean (inside squared_hinge) accumulates float64 input in float32, so the
    # float64 comparison of squared_hinge is at float32 precision; categorical_hinge has no mean and is exact
    tol = (
        {"rtol": 2e-7, "atol": 1e-7} if which == "squared_hinge" else {"rtol": 1e-13, "atol": 1e-15}
    )
    cot = jnp.arange(8.0).reshape(2, 4)
    for yt in (y01, ypm, onehot, rng.random((2, 4, C))):
        ref = fn(yt, yp)
        np.testing.assert_allclose(mine(yt, yp, reduction="none"), ref, **tol)
        np.testing.assert_allclose(
            jax.jit(lambda a, b: mine(a, b, reduction="none"))(yt, yp), ref, **tol
        )
        g_ref = jax.grad(lambda b: jnp.sum(fn(yt, b) * cot))(jnp.asarray(yp))
        g = jax.grad(lambda b: jnp.sum(mine(yt, b, reduction="none") * cot))(jnp.asarray(yp))
        np.testing.assert_allclose(g, g_ref, **tol)
        for red, kred in (("mean", "sum_over_batch_size"), ("sum", "sum")):
            np.testing.assert_allclose(
                mine(yt, yp, reduction=red), cls(reduction=kred)(yt, yp), **tol
            )
    # float32 in, float32 out: Keras' own precision, so tight
    y32, p32 = y01.astype(np.float32), yp.astype(np.float32)
    out = mine(y32, p32, reduction="none")
    ref32 = fn(y32, p32)
    assert out.dtype == jnp.float32 and ref32.dtype == jnp.float32
    np.testing.assert_allclose(out, ref32, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------------------------------
# generalized cross entropy
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gce_vs_formula(rng, dtype):
    z = rng.standard_normal((6, C)) * 2
    y_idx, y_p = rng.integers(0, C, 6), probs(rng, (6, C), zeros=True)
    for labels, q, red in ((y_idx, 0.7, "mean"), (y_p, 0.3, "none"), (y_idx, 1.0, "sum")):
        diff = (0, 1) if labels is y_p else (0,)
        compare(
            generalized_cross_entropy,
            t_gce,
            [z, labels],
            kwargs={"q": q, "reduction": red},
            diff=diff,
            dtype=dtype,
            jit=dtype == np.float32,
        )


def test_gce_limits(rng):
    z, y = rng.standard_normal((6, C)), rng.integers(0, C, 6)
    p = jax.nn.softmax(z)
    np.testing.assert_allclose(
        generalized_cross_entropy(z, y, q=1.0, reduction="none"), 1 - p[np.arange(6), y], rtol=1e-13
    )
    ce = optax.losses.softmax_cross_entropy_with_integer_labels(z, y)
    np.testing.assert_allclose(
        generalized_cross_entropy(z, y, q=1e-7, reduction="none"), ce, rtol=1e-5
    )


# ------------------------------------------------------------------------------------------------------------
# shared: extreme logits, zero-probability classes, shapes, half precision, errors
# ------------------------------------------------------------------------------------------------------------

LOGIT_LOSSES = [
    ("softmax_focal_loss", lambda z, y: softmax_focal_loss(z, y, gamma=0.5, reduction="sum")),
    ("poly1_cross_entropy", lambda z, y: poly1_cross_entropy(z, y, reduction="sum")),
    ("cross_entropy_with_z_loss", lambda z, y: cross_entropy_with_z_loss(z, y, reduction="sum")),
    (
        "bi_tempered_logistic_loss",
        lambda z, y: bi_tempered_logistic_loss(z, y, t1=0.5, t2=1.5, reduction="sum"),
    ),
    ("sparsemax_loss", lambda z, y: sparsemax_loss(z, y, reduction="sum")),
    ("entmax15_loss", lambda z, y: entmax15_loss(z, y, reduction="sum")),
    ("generalized_cross_entropy", lambda z, y: generalized_cross_entropy(z, y, reduction="sum")),
]


@pytest.mark.parametrize("name,fn", LOGIT_LOSSES, ids=[n for n, _ in LOGIT_LOSSES])
def test_extreme_logits_and_zero_probability_classes_finite(name, fn):
    z = jnp.array(
        [[1e4, -1e4, 0.0, 2.0, -2.0], [-1e4, 1e4, 1e4, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
    )
    y_p = jnp.array(
        [[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    )
    for y in (y_p, jnp.array([0, 0, 3])):
        argnums = (0, 1) if y.dtype.kind == "f" else (0,)
        val, grads = jax.jit(jax.value_and_grad(fn, argnums))(z, y)
        assert np.isfinite(val), name
        assert all(np.all(np.isfinite(g)) for g in grads), name
    assert np.isfinite(z_loss(z)) and np.all(np.isfinite(jax.grad(lambda z: z_loss(z))(z)))


def test_shapes_empty_and_half_precision(rng):
    empty_z, empty_y = np.zeros((0, C)), np.zeros((0,), np.int32)
    for name, fn in LOGIT_LOSSES[::3]:
        assert float(fn(empty_z, empty_y)) == 0.0, name
    assert softmax_focal_loss(empty_z, empty_y, reduction="none").shape == (0,)
    z16 = rng.standard_normal((3, C)).astype(np.float16)
    y = rng.integers(0, C, 3)
    for fn in (softmax_focal_loss, entmax15_loss):
        out = fn(z16, y)
        assert out.dtype == jnp.float16
        np.testing.assert_allclose(float(out), float(fn(z16.astype(np.float64), y)), rtol=2e-3)


def test_errors():
    z = np.zeros((3, C))
    with pytest.raises(
        ValueError,
        match=r"softmax_focal_loss: labels has shape \(3, 4\); for logits \(3, 5\) it must be "
        r"\(3,\) \(class indices\) or \(3, 5\) \(probabilities\)",
    ):
        softmax_focal_loss(z, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"poly1_cross_entropy: labels has shape \(4,\)"):
        poly1_cross_entropy(z, np.zeros(4, np.int32))
    with pytest.raises(ValueError, match=r"sparsemax_loss: labels values must be in \[0, 5\)"):
        sparsemax_loss(z, np.array([0, 5, 1]))
    with pytest.raises(ValueError, match=r"entmax15_loss: labels values must be in \[0, 5\)"):
        entmax15_loss(z, np.array([0, -1, 1]))
    with pytest.raises(
        TypeError, match="generalized_cross_entropy: labels must be integer class indices or float"
    ):
        generalized_cross_entropy(z, np.zeros(3, bool))
    with pytest.raises(TypeError, match="z_loss: logits must have a floating dtype"):
        z_loss(np.zeros((3, C), np.int32))
    with pytest.raises(ValueError, match="z_loss: logits must be \\(..., C\\)"):
        z_loss(np.float64(1.0))
    with pytest.raises(ValueError, match="cross_entropy_with_z_loss: targets has shape"):
        cross_entropy_with_z_loss(z, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="softmax_focal_loss: gamma must be >= 0"):
        softmax_focal_loss(z, np.zeros(3, np.int32), gamma=-1.0)
    with pytest.raises(
        ValueError,
        match=r"softmax_focal_loss: alpha has shape \(4,\); it must be a scalar or \(5,\)",
    ):
        softmax_focal_loss(z, np.zeros(3, np.int32), alpha=np.ones(4))
    with pytest.raises(
        ValueError, match="poly1_cross_entropy: label_smoothing must be in \\[0, 1\\]"
    ):
        poly1_cross_entropy(z, np.zeros(3, np.int32), label_smoothing=1.5)
    with pytest.raises(ValueError, match="generalized_cross_entropy: q must be in \\(0, 1\\]"):
        generalized_cross_entropy(z, np.zeros(3, np.int32), q=0.0)
    for kw, match in (
        ({"t1": 2.0, "t2": 1.0}, "t1 must be a Python float in \\[0, 2\\)"),
        ({"t1": 0.5, "t2": 0.0}, "t2 must be a Python float > 0"),
        ({"t1": 0.5, "t2": 1.2, "num_iters": 0}, "num_iters must be a Python int >= 1"),
        ({"t1": 0.5, "t2": 1.2, "label_smoothing": -0.1}, "label_smoothing must be in \\[0, 1\\]"),
    ):
        with pytest.raises(ValueError, match=f"bi_tempered_logistic_loss: {match}"):
            bi_tempered_logistic_loss(z, np.zeros(3, np.int32), **kw)
    with pytest.raises(
        ValueError, match="bi_tempered_logistic_loss: label_smoothing needs at least 2 classes"
    ):
        bi_tempered_logistic_loss(
            np.zeros((3, 1)), np.zeros(3, np.int32), t1=0.5, t2=1.2, label_smoothing=0.1
        )
    with pytest.raises(
        ValueError,
        match=r"squared_hinge: y_true has shape \(3, 4\); it must have the same shape as "
        r"y_pred \(3, 5\)",
    ):
        squared_hinge(np.zeros((3, 4)), z)
    with pytest.raises(ValueError, match="categorical_hinge: reduction must be one of"):
        categorical_hinge(z, z, reduction="sum_over_batch_size")
    # data checks are skipped under jit (documented); the index is clipped by one_hot to a zero row
    assert np.isfinite(jax.jit(lambda z: poly1_cross_entropy(z, jnp.array([0, 7, 1])))(z))
