"""Metric-learning losses against their references, computed in the same run on the same inputs.

References: pytorch-metric-learning 2.9.0 (``pml``) on torch 2.13.0 (values and autograd gradients through
``tests.torch_parity.compare``), optax 0.2.8 (``optax.losses.ntxent``), info-nce-pytorch 0.1.4
(``info_nce.info_nce``) and Keras 3 (``keras.losses.Circle`` / ``circle`` under ``KERAS_BACKEND=jax``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
import torch
from info_nce import info_nce
from pytorch_metric_learning import distances as pml_distances
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import reducers as pml_reducers

from jaxloss import _metric as M
from jaxloss._metric import (
    arcface_loss,
    circle_loss,
    contrastive_loss,
    cosface_loss,
    info_nce_loss,
    multi_similarity_loss,
    npairs_loss,
    ntxent_loss,
    supervised_contrastive_loss,
)
from jaxloss._validation import checked
from tests.torch_parity import compare

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]

# A batch where labels 2 and 3 have no positive partner, and one where nothing does.
LABELS = np.array([0, 0, 1, 1, 2, 0, 3, 1, 0])
DISTINCT = np.arange(9)
SAME = np.zeros(9, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------
# pml as a torch function of (embeddings, labels[, W^T]) with our reduction names


def _pml_reducer(reduction):
    return {"mean": None, "sum": pml_reducers.SumReducer(), "none": pml_reducers.DoNothingReducer()}[
        reduction
    ]


def _scatter(out, embeddings, layout):
    """Lay pml's ``DoNothingReducer`` losses out as jaxloss's ``'none'``: ``(B, B)`` pairs or ``(B,)`` rows."""
    b = embeddings.shape[0]
    total = (embeddings * 0).sum() + torch.zeros((b, b) if layout == "pair" else (b,), dtype=embeddings.dtype)
    for info in out.values():
        losses, idx = info["losses"], info["indices"]
        if not torch.is_tensor(losses):  # pml's "zero loss" placeholder
            continue
        idx = tuple(idx) if layout == "pair" else (idx,)
        total = total.index_put(idx, losses.reshape(-1), accumulate=True)
    return total


def _all_reductions_torch(run, embeddings, layout):
    """``cat([mean, sum, none.ravel()])`` from ``run(reducer)`` (pml's default, Sum and DoNothing reducers)."""
    mean = run(None)
    total = run(pml_reducers.SumReducer())
    none = _scatter(run(pml_reducers.DoNothingReducer()), embeddings, layout)
    return torch.cat([mean.reshape(1), total.reshape(1), none.reshape(-1)])


def _all_reductions_jax(fn, *args, **kwargs):
    """jaxloss's ``cat([mean, sum, none.ravel()])``: one output, so one compile checks all three."""
    outs = [fn(*args, **kwargs, reduction=r) for r in REDUCTIONS]
    return jnp.concatenate([outs[0][None], outs[1][None], outs[2].ravel()])


def pml_fn(make, layout="row"):
    def fn(embeddings, labels):
        return _all_reductions_torch(lambda reducer: make(reducer=reducer)(embeddings, labels), embeddings, layout)

    return fn


def pml_classifier_fn(cls, **kwargs):
    """pml ArcFace/CosFace with its ``W`` (shape ``(D, C)``) taken from our ``(C, D)`` argument, in the graph."""

    def fn(embeddings, labels, weight):
        def run(reducer):
            loss = cls(weight.shape[0], weight.shape[1], reducer=reducer, **kwargs)
            del loss.W
            loss.W = weight.T
            return loss(embeddings, labels)

        return _all_reductions_torch(run, embeddings, "row")

    return fn


def _emb(rng, b=9, d=5):
    return rng.standard_normal((b, d))


# ---------------------------------------------------------------------------------------------------------
# parity with pytorch-metric-learning, every option, both dtypes, eager and jit

CASES = {
    # name: (jax fn, jax kwargs, pml constructor, layout)
    "contrastive": (contrastive_loss, {}, pml.ContrastiveLoss, "pair"),
    "contrastive_margins": (
        contrastive_loss,
        dict(pos_margin=0.3, neg_margin=0.9),
        functools.partial(pml.ContrastiveLoss, pos_margin=0.3, neg_margin=0.9),
        "pair",
    ),
    "contrastive_raw": (
        contrastive_loss,
        dict(normalize=False, neg_margin=3.0),
        functools.partial(
            pml.ContrastiveLoss, neg_margin=3.0, distance=pml_distances.LpDistance(normalize_embeddings=False)
        ),
        "pair",
    ),
    "ntxent": (ntxent_loss, {}, pml.NTXentLoss, "pair"),
    "ntxent_t": (ntxent_loss, dict(temperature=0.5), functools.partial(pml.NTXentLoss, temperature=0.5), "pair"),
    "supcon": (supervised_contrastive_loss, {}, pml.SupConLoss, "row"),
    "supcon_t": (
        supervised_contrastive_loss,
        dict(temperature=0.5),
        functools.partial(pml.SupConLoss, temperature=0.5),
        "row",
    ),
    "npairs": (npairs_loss, {}, pml.NPairsLoss, "row"),
    "npairs_raw": (
        npairs_loss,
        dict(normalize=False),
        functools.partial(
            pml.NPairsLoss, distance=pml_distances.DotProductSimilarity(normalize_embeddings=False)
        ),
        "row",
    ),
    "circle": (circle_loss, {}, pml.CircleLoss, "row"),
    "circle_opts": (circle_loss, dict(m=0.25, gamma=16.0), functools.partial(pml.CircleLoss, m=0.25, gamma=16), "row"),
    "multi_similarity": (multi_similarity_loss, {}, pml.MultiSimilarityLoss, "row"),
    "multi_similarity_opts": (
        multi_similarity_loss,
        dict(alpha=1.5, beta=20.0, base=0.3),
        functools.partial(pml.MultiSimilarityLoss, alpha=1.5, beta=20.0, base=0.3),
        "row",
    ),
}

# float32 tolerances: gamma=80 / 1/temperature=14 amplify float32 rounding of the similarities.
F32_TOL = {"circle": dict(rtol=2e-4, atol=2e-4), "ntxent": dict(rtol=1e-4, atol=1e-5)}


def _tol(case, dtype):
    if dtype == np.float64:
        return {}
    return F32_TOL.get(case.split("_")[0], dict(rtol=5e-5, atol=1e-5))


JIT_DTYPES = [(np.float64, True), (np.float32, True)]
EAGER_DTYPES = [(np.float64, False), (np.float32, False)]
BASE_CASES = ["contrastive", "ntxent", "supcon", "npairs", "circle", "multi_similarity"]
# every option under jit in both dtypes; eager (op-by-op, slower to run) for each loss's defaults
PML_GRID = [(c, d, j) for c in sorted(CASES) for d, j in JIT_DTYPES] + [
    (c, d, j) for c in BASE_CASES for d, j in EAGER_DTYPES
]


@pytest.mark.parametrize("case,dtype,jit", PML_GRID)
def test_pml_parity(rng, case, dtype, jit):
    """'mean', 'sum' and 'none' (concatenated into one output) against pml's default, Sum and DoNothing
    reducers: values, dtype, shape and the VJP with a random cotangent."""
    fn, kwargs, make, layout = CASES[case]
    compare(functools.partial(_all_reductions_jax, fn, **kwargs), pml_fn(make, layout), [_emb(rng), LABELS],
            torch_kwargs={}, dtype=dtype, jit=jit, **_tol(case, dtype))


@pytest.mark.parametrize("case", BASE_CASES + ["contrastive_raw", "npairs_raw"])
def test_pml_parity_edge_batches(rng, case):
    """No positive pair at all; no negative pair at all (one label); a zero embedding (torch's F.normalize
    leaves it 0, gradient 1/eps) with an exact duplicate pair. Finite gradients and pml's numbers."""
    fn, kwargs, make, layout = CASES[case]
    f = functools.partial(_all_reductions_jax, fn, **kwargs)
    zero = _emb(rng)
    zero[3] = 0.0
    zero[1] = zero[0]
    if case.startswith("ntxent"):
        # optax and pml normalise a zero row differently (|x|^2 clipped at eps vs |x| clamped at 1e-12);
        # optax is the reference there: test_ntxent_matches_optax_zero_norm_and_traced_temperature.
        zero[3] = 1.0
    if case == "contrastive":
        # The zero row sits at distance 1 = neg_margin from everyone: each of its negative pairs is a tie
        # at the hinge, and whether pml's AvgNonZero counts it depends on the last ulp of cdist. Raise the
        # margin a little so the count is well defined; contrastive_raw covers the zero row at margin 3.
        f = functools.partial(_all_reductions_jax, fn, neg_margin=1.25)
        make = functools.partial(pml.ContrastiveLoss, neg_margin=1.25)
    for e, labels in [(_emb(rng), DISTINCT), (_emb(rng), SAME), (zero, LABELS)]:
        compare(f, pml_fn(make, layout), [e, labels], torch_kwargs={}, rtol=1e-8)
        cot = rng.standard_normal(f(e, labels).shape)
        grads = jax.vjp(lambda x: f(x, labels), jnp.asarray(e))[1](jnp.asarray(cot))[0]
        assert np.all(np.isfinite(grads))


CLASSIFIERS = {
    "arcface": (arcface_loss, {}, pml.ArcFaceLoss),
    "arcface_opts": (arcface_loss, dict(margin=10.0, scale=8.0), pml.ArcFaceLoss),
    "arcface_wide": (arcface_loss, dict(margin=120.0, scale=4.0), pml.ArcFaceLoss),
    "cosface": (cosface_loss, {}, pml.CosFaceLoss),
    "cosface_opts": (cosface_loss, dict(margin=0.1, scale=10.0), pml.CosFaceLoss),
}


@pytest.mark.parametrize(
    "case,dtype,jit",
    [(c, d, j) for c in sorted(CLASSIFIERS) for d, j in JIT_DTYPES]
    + [(c, d, j) for c in ("arcface", "cosface") for d, j in EAGER_DTYPES],
)
def test_margin_softmax_pml_parity(rng, case, dtype, jit):
    fn, kwargs, cls = CLASSIFIERS[case]
    e, w = rng.standard_normal((8, 5)), rng.standard_normal((4, 5))
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    # margin 120 deg: theta > 60 deg takes the monotone branch cos(theta) - m sin(m), rows 0-1 (near their
    # centres) take cos(theta + m)
    e[:2] = w[:2] + 0.1 * e[:2]
    # float32: pml computes cos(acos(c) + m), jaxloss c cos m - sin(theta) sin m; scale 64 amplifies.
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    compare(functools.partial(_all_reductions_jax, fn, **kwargs), pml_classifier_fn(cls, **kwargs),
            [e, labels, w], torch_kwargs={}, diff=(0, 2), dtype=dtype, jit=jit, **tol)


def test_margin_softmax_zero_norm_and_on_centre(rng):
    """Zero rows (embedding and class centre) match pml; an embedding exactly on its centre, where pml's
    acos gives a nan gradient, keeps a finite gradient and pml's value."""
    e, w = rng.standard_normal((6, 5)), rng.standard_normal((3, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    e[2] = 0.0
    w[1] = 0.0
    for fn, cls in [(arcface_loss, pml.ArcFaceLoss), (cosface_loss, pml.CosFaceLoss)]:
        compare(functools.partial(_all_reductions_jax, fn), pml_classifier_fn(cls), [e, labels, w],
                torch_kwargs={}, diff=(0, 2), rtol=1e-8)
    on = e.copy()
    on[0] = 2.0 * w[0]  # cos = 1 exactly after normalisation
    value = arcface_loss(on, labels, w)
    reference = pml_classifier_fn(pml.ArcFaceLoss)(*map(torch.from_numpy, (on, labels, w)))[0]
    np.testing.assert_allclose(float(value), float(reference), rtol=1e-9)
    ge, gw = jax.grad(lambda a, b: arcface_loss(a, labels, b), argnums=(0, 1))(jnp.asarray(on), jnp.asarray(w))
    assert np.all(np.isfinite(ge)) and np.all(np.isfinite(gw))


def test_margin_softmax_traced_hyperparameters(rng):
    """margin and scale may be (traced) scalar arrays, e.g. a learned scale."""
    e, w = rng.standard_normal((6, 5)), rng.standard_normal((3, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    for fn, margin in [(arcface_loss, 20.0), (cosface_loss, 0.2)]:
        f = jax.jit(lambda s, m: fn(e, labels, w, scale=s, margin=m))
        np.testing.assert_allclose(f(jnp.float64(8.0), jnp.float64(margin)), fn(e, labels, w, scale=8.0, margin=margin),
                                   rtol=1e-12)
        g = jax.grad(lambda s: fn(e, labels, w, scale=s, margin=margin))(8.0)
        fd = (fn(e, labels, w, scale=8.0 + 1e-6, margin=margin) - fn(e, labels, w, scale=8.0 - 1e-6, margin=margin)) / 2e-6
        np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_margin_softmax_labels_out_of_range(rng):
    e, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=r"arcface_loss: labels must be in \[0, 2\)"):
        arcface_loss(e, np.array([0, 2, 1]), w)
    with pytest.raises(ValueError, match=r"cosface_loss: labels must be in \[0, 2\)"):
        cosface_loss(e, np.array([0, -1, 1]), w)
    err, _ = jax.jit(checked(arcface_loss))(e, jnp.array([0, 5, 1]), w)
    assert "arcface_loss: labels must be in [0, 2)" in err.get()
    err, _ = jax.jit(checked(arcface_loss))(e, jnp.array([0, 1, 1]), w)
    assert err.get() is None


# ---------------------------------------------------------------------------------------------------------
# NT-Xent: optax is the reference of the optax semantics (and of _ntxent, the optax face's kernel)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_ntxent_matches_optax(rng, dtype, jit, temperature):
    e = _emb(rng).astype(dtype)
    labels = jnp.asarray(LABELS)
    ours = functools.partial(ntxent_loss, temperature=temperature)
    kernel = functools.partial(M._ntxent, temperature=temperature)
    ref = functools.partial(optax.losses.ntxent, temperature=temperature)
    if jit:
        ours, kernel, ref = jax.jit(ours), jax.jit(kernel), jax.jit(ref)
    want, want_grad = jax.value_and_grad(ref)(jnp.asarray(e), labels)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-6, atol=1e-7)
    for f in (ours, kernel):
        got, got_grad = jax.value_and_grad(f)(jnp.asarray(e), labels)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)
        np.testing.assert_allclose(got_grad, want_grad, **tol)


def test_ntxent_matches_optax_zero_norm_and_traced_temperature(rng):
    e = _emb(rng)
    e[2] = 0.0
    labels = jnp.asarray(LABELS)
    for f in (ntxent_loss, M._ntxent):
        np.testing.assert_allclose(f(e, labels), optax.losses.ntxent(jnp.asarray(e), labels), rtol=1e-12)
        g = jax.grad(f)(jnp.asarray(e), labels)
        np.testing.assert_allclose(g, jax.grad(optax.losses.ntxent)(jnp.asarray(e), labels), rtol=1e-10, atol=1e-12)
    # temperature as a traced, differentiated scalar (a learned temperature)
    g_t = jax.jit(jax.grad(lambda t: ntxent_loss(e, labels, temperature=t)))(0.2)
    g_ref = jax.grad(lambda t: optax.losses.ntxent(jnp.asarray(e), labels, temperature=t))(0.2)
    np.testing.assert_allclose(g_t, g_ref, rtol=1e-10)


def test_ntxent_no_positive_pair_and_single_label():
    """optax: nan without positive pairs (kept by _ntxent); ntxent_loss: 0 with zero gradient, as pml.
    One label everywhere: no negatives, every pair loss 0; optax's gradient is nan there, ours 0."""
    e = jnp.asarray(np.random.default_rng(1).standard_normal((4, 3)))
    distinct = jnp.arange(4)
    assert np.isnan(optax.losses.ntxent(e, distinct)) and np.isnan(M._ntxent(e, distinct))
    assert float(ntxent_loss(e, distinct)) == 0.0
    np.testing.assert_array_equal(jax.grad(ntxent_loss)(e, distinct), 0.0)
    same = jnp.zeros(4, dtype=jnp.int32)
    assert float(optax.losses.ntxent(e, same)) == float(ntxent_loss(e, same)) == float(M._ntxent(e, same)) == 0.0
    assert np.isnan(jax.grad(optax.losses.ntxent)(e, same)).any()  # the optax bug we do not copy
    for f in (ntxent_loss, M._ntxent):
        np.testing.assert_array_equal(jax.grad(f)(e, same), 0.0)
    single = e[:1]  # one row: no positive and no negative
    assert np.all(np.isfinite(jax.grad(ntxent_loss)(single, jnp.zeros(1, dtype=jnp.int32))))


# ---------------------------------------------------------------------------------------------------------
# InfoNCE against info-nce-pytorch


def _info_nce_ref(temperature, negative_mode):
    """info-nce-pytorch's ``cat([mean, sum, none])``."""

    def fn(*args):
        outs = [info_nce(*args, temperature=temperature, reduction=r, negative_mode=negative_mode)
                for r in REDUCTIONS]
        return torch.cat([outs[0].reshape(1), outs[1].reshape(1), outs[2]])

    return fn


@pytest.mark.parametrize("negatives", ["none", "unpaired", "paired"])
@pytest.mark.parametrize("dtype,jit", JIT_DTYPES + EAGER_DTYPES)
def test_info_nce_parity(rng, negatives, dtype, jit):
    q, p = rng.standard_normal((2, 6, 4))
    temperature = {"none": 0.1, "unpaired": 0.7, "paired": 0.05}[negatives]
    mode = "paired" if negatives == "paired" else "unpaired"
    args, diff = [q, p], (0, 1)
    if negatives == "unpaired":
        args, diff = [q, p, rng.standard_normal((5, 4))], (0, 1, 2)
    elif negatives == "paired":
        args, diff = [q, p, rng.standard_normal((6, 3, 4))], (0, 1, 2)
    tol = {} if dtype == np.float64 else dict(rtol=5e-5, atol=1e-5)
    compare(functools.partial(_all_reductions_jax, info_nce_loss, temperature=temperature, negative_mode=mode),
            _info_nce_ref(temperature, mode), args, torch_kwargs={}, diff=diff, dtype=dtype, jit=jit, **tol)


def test_info_nce_zero_norm(rng):
    q, p, n = rng.standard_normal((6, 4)), rng.standard_normal((6, 4)), rng.standard_normal((6, 2, 4))
    q[0] = p[1] = n[2, 1] = 0.0
    compare(functools.partial(_all_reductions_jax, info_nce_loss, temperature=0.1, negative_mode="paired"),
            _info_nce_ref(0.1, "paired"), [q, p, n], torch_kwargs={}, diff=(0, 1, 2), rtol=1e-8)
    compare(functools.partial(_all_reductions_jax, info_nce_loss, temperature=0.1),
            _info_nce_ref(0.1, "unpaired"), [q, p], torch_kwargs={}, diff=(0, 1), rtol=1e-8)


def _info_nce_numpy(q, p, n, temperature):
    """Float64 numpy InfoNCE from Oord et al. 2018, eq. 4, with cosine scores exp(cos/tau) (unpaired)."""
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    q, p, n = unit(q), unit(p), unit(n)
    pos = np.exp(np.sum(q * p, axis=1) / temperature)
    neg = np.exp(q @ n.T / temperature).sum(axis=1)
    return -np.log(pos / (pos + neg))


def test_info_nce_numpy_reference(rng):
    q, p, n = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((7, 3))
    np.testing.assert_allclose(info_nce_loss(q, p, n, temperature=0.3, reduction="none"),
                               _info_nce_numpy(q, p, n, 0.3), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Circle: Keras 3 semantics via normalize=False, detach_weights=False


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("labels", [LABELS, np.array([0, 1, 2, 3, 4, 5, 0, 1, 2])], ids=["mixed", "sparse"])
def test_circle_matches_keras(rng, dtype, jit, labels):
    e = _emb(rng)
    e = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(dtype)
    kw = dict(m=0.3, gamma=32.0, normalize=False, detach_weights=False)
    name = "float64" if dtype == np.float64 else "float32"
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    cot = rng.standard_normal(len(labels))
    for reduction, keras_reduction in [("mean", "sum_over_batch_size"), ("sum", "sum"), ("none", None)]:
        keras_loss = keras.losses.Circle(gamma=32.0, margin=0.3, reduction=keras_reduction, dtype=name)
        ref = lambda x: keras_loss(labels, x)  # noqa: E731
        ours = lambda x: circle_loss(x, labels, reduction=reduction, **kw)  # noqa: E731
        if jit:
            ref, ours = jax.jit(ref), jax.jit(ours)
        want, want_vjp = jax.vjp(ref, jnp.asarray(e))
        got, got_vjp = jax.vjp(ours, jnp.asarray(e))
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)
        c = jnp.asarray(cot if reduction == "none" else cot[0], dtype=got.dtype)
        np.testing.assert_allclose(got_vjp(c)[0], want_vjp(c)[0], **tol)


def test_circle_detach_is_the_difference_between_pml_and_keras(rng):
    """Same value either way; the gradients differ only through the circle weights."""
    e = _emb(rng)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    detached = jax.value_and_grad(lambda x: circle_loss(x, LABELS))(jnp.asarray(e))
    through = jax.value_and_grad(lambda x: circle_loss(x, LABELS, detach_weights=False))(jnp.asarray(e))
    np.testing.assert_allclose(detached[0], through[0], rtol=1e-12)
    assert not np.allclose(detached[1], through[1])


# ---------------------------------------------------------------------------------------------------------
# float64 numpy references written from the papers (independent of pml's code)


def _cos(x):
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    return u @ u.T


def test_papers_numpy_references(rng):
    e = _emb(rng)
    y = LABELS
    b = len(y)
    s = _cos(e)
    pos = (y[:, None] == y[None, :]) & ~np.eye(b, dtype=bool)
    neg = y[:, None] != y[None, :]
    # Khosla et al. 2020, eq. 2 (L_out), tau = 0.1; anchors without positives are left out of the mean.
    ex = np.exp(s / 0.1) * ~np.eye(b, dtype=bool)
    lp = np.log(np.exp(s / 0.1) / ex.sum(1, keepdims=True))
    supcon = np.array([-lp[i, pos[i]].mean() if pos[i].any() else 0.0 for i in range(b)])
    np.testing.assert_allclose(supervised_contrastive_loss(e, y, reduction="none"), supcon, rtol=1e-12)
    # Wang et al. 2019, eq. 10 (multi-similarity), alpha=2, beta=50, lambda=0.5.
    ms = np.log1p((np.exp(-2 * (s - 0.5)) * pos).sum(1)) / 2 + np.log1p((np.exp(50 * (s - 0.5)) * neg).sum(1)) / 50
    np.testing.assert_allclose(multi_similarity_loss(e, y, reduction="none"), ms, rtol=1e-12)
    # Sun et al. 2020, eq. 6 (circle loss), m=0.4, gamma=80.
    ap, an = np.maximum(1.4 - s, 0), np.maximum(s + 0.4, 0)
    circle = [
        np.log1p(np.exp(-80 * ap[i, pos[i]] * (s[i, pos[i]] - 0.6)).sum() * np.exp(80 * an[i, neg[i]] * (s[i, neg[i]] - 0.4)).sum())
        if pos[i].any() else 0.0
        for i in range(b)
    ]
    np.testing.assert_allclose(circle_loss(e, y, reduction="none"), circle, rtol=1e-10)
    # Chen et al. 2020 (SimCLR), eq. 1 with label groups, tau = 0.07.
    t = np.exp(s / 0.07)
    ntx = np.where(pos, -np.log(t / (t + (t * neg).sum(1, keepdims=True))), 0.0)
    np.testing.assert_allclose(ntxent_loss(e, y, reduction="none"), ntx, rtol=1e-10, atol=1e-12)
    # Hadsell et al. 2006 with pml's unsquared hinges, margins 0 and 1.
    d = np.linalg.norm(e[:, None] / np.linalg.norm(e, axis=1)[:, None, None] - (e / np.linalg.norm(e, axis=1, keepdims=True))[None], axis=-1)
    np.testing.assert_allclose(contrastive_loss(e, y, reduction="none"), np.where(pos, d, 0) + np.where(neg, np.maximum(1 - d, 0), 0), rtol=1e-12, atol=1e-15)
    # Sohn 2016, eq. 3: one (anchor, positive) per class with at least two rows, cosine scores.
    anchors = [np.flatnonzero(y == c)[:2] for c in np.unique(y) if (y == c).sum() >= 2]
    a = np.array([i for i, _ in anchors])
    p = np.array([j for _, j in anchors])
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    logits = u[a] @ u[p].T
    npairs = np.log(np.exp(logits).sum(1)) - np.diag(logits)
    np.testing.assert_allclose(npairs_loss(e, y), npairs.mean(), rtol=1e-12)
    # Deng et al. 2019 / Wang et al. 2018 with pml's margins in degrees / cosine units.
    w = rng.standard_normal((4, 5))
    yc = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0])
    c = (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=1, keepdims=True)).T
    onehot = np.eye(4)[yc].astype(bool)
    for fn, target in [(arcface_loss, lambda c: np.cos(np.arccos(c) + np.radians(28.6))), (cosface_loss, lambda c: c - 0.35)]:
        logits = 64 * np.where(onehot, target(c), c)
        want = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1) - logits[onehot]
        np.testing.assert_allclose(fn(e, yc, w, reduction="none"), want, rtol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# transforms, dtypes, shapes, errors

LABELLED = [
    contrastive_loss,
    ntxent_loss,
    supervised_contrastive_loss,
    npairs_loss,
    circle_loss,
    multi_similarity_loss,
]


@pytest.mark.parametrize("fn", LABELLED, ids=lambda f: f.__name__)
def test_vmap_half_precision_and_empty(rng, fn):
    e = rng.standard_normal((3, 6, 4))
    labels = np.array([[0, 0, 1, 1, 2, 0], [1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]])
    batched = jax.vmap(lambda x, y: fn(x, y))(e, labels)
    np.testing.assert_allclose(batched, [fn(x, y) for x, y in zip(e, labels)], rtol=1e-12)
    half = fn(e[0].astype(np.float16), labels[0])
    assert half.dtype == jnp.float16
    np.testing.assert_allclose(np.float32(half), fn(e[0].astype(np.float16).astype(np.float32), labels[0]),
                               rtol=2e-3)
    assert fn(np.zeros((0, 4)), np.zeros(0, dtype=np.int64)) == 0.0
    none = fn(np.zeros((0, 4)), np.zeros(0, dtype=np.int64), reduction="none")
    assert none.shape in {(0,), (0, 0)}


def test_arcface_cosface_vmap_and_half(rng):
    e, w = rng.standard_normal((2, 5, 4)), rng.standard_normal((3, 4))
    labels = np.array([[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]])
    for fn in (arcface_loss, cosface_loss):
        batched = jax.vmap(lambda x, y: fn(x, y, w))(e, labels)
        np.testing.assert_allclose(batched, [fn(x, y, w) for x, y in zip(e, labels)], rtol=1e-12)
        half = fn(e[0].astype(np.float16), labels[0], w.astype(np.float16))
        assert half.dtype == jnp.float16
        assert fn(e[0].astype(np.float32), labels[0], w).dtype == jnp.float64  # promotion of the inputs


def test_errors(rng):
    e = rng.standard_normal((4, 3))
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"contrastive_loss: embeddings must be 2-D; got 1-D"):
        contrastive_loss(e[0], y[:1])
    with pytest.raises(ValueError, match=r"ntxent_loss: labels has shape \(3,\); it must be \(4,\)"):
        ntxent_loss(e, y[:3])
    with pytest.raises(TypeError, match=r"supervised_contrastive_loss: labels must have an integer dtype"):
        supervised_contrastive_loss(e, y.astype(float))
    with pytest.raises(TypeError, match=r"npairs_loss: embeddings must have a floating dtype"):
        npairs_loss(y[:, None], y)
    with pytest.raises(ValueError, match=r"circle_loss: reduction must be one of"):
        circle_loss(e, y, reduction="batchmean")
    with pytest.raises(ValueError, match=r"ntxent_loss: temperature must be > 0; got 0.0"):
        ntxent_loss(e, y, temperature=0)
    with pytest.raises(ValueError, match=r"info_nce_loss: temperature must be > 0"):
        info_nce_loss(e, e, temperature=-1.0)
    with pytest.raises(ValueError, match=r"circle_loss: gamma must be > 0"):
        circle_loss(e, y, gamma=0.0)
    with pytest.raises(ValueError, match=r"multi_similarity_loss: beta must be > 0"):
        multi_similarity_loss(e, y, beta=-2)
    with pytest.raises(ValueError, match=r"arcface_loss: margin must be >= 0"):
        arcface_loss(e, y, e, margin=-1.0)
    with pytest.raises(ValueError, match=r"supervised_contrastive_loss: temperature must be a scalar"):
        supervised_contrastive_loss(e, y, temperature=jnp.ones(2))
    with pytest.raises(TypeError, match=r"contrastive_loss: pos_margin must be a number"):
        contrastive_loss(e, y, pos_margin=True)
    with pytest.raises(ValueError, match=r"contrastive_loss: neg_margin must be finite"):
        contrastive_loss(e, y, neg_margin=float("inf"))
    with pytest.raises(TypeError, match=r"contrastive_loss: pos_margin must be an array; got str"):
        contrastive_loss(e, y, pos_margin="big")
    with pytest.raises(TypeError, match=r"npairs_loss: pos_margin"):
        npairs_loss(e, y, pos_margin=1.0)  # keyword-only hyper-parameters, no stray options
    with pytest.raises(TypeError):
        ntxent_loss(e, y, 0.5)  # temperature is keyword-only
    # arcface / cosface shapes
    with pytest.raises(ValueError, match=r"arcface_loss: weight has shape \(2, 4\); it must be \(C, 3\)"):
        arcface_loss(e, y, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"cosface_loss: weight must be 2-D; got 1-D"):
        cosface_loss(e, y, np.ones(3))
    with pytest.raises(ValueError, match=r"cosface_loss: labels has shape \(2,\); it must be \(4,\)"):
        cosface_loss(e, y[:2], np.ones((2, 3)))
    # info_nce shapes and options
    with pytest.raises(ValueError, match=r"info_nce_loss: positive_key has shape \(3, 3\); it must have the same"):
        info_nce_loss(e, e[:3])
    with pytest.raises(ValueError, match=r"info_nce_loss: query must be 2-D"):
        info_nce_loss(e[0], e[0])
    with pytest.raises(ValueError, match=r"info_nce_loss: negative_keys has shape \(4, 2, 3\); with "
                                         r"negative_mode='unpaired' and query \(4, 3\) it must be \(M, 3\)"):
        info_nce_loss(e, e, np.ones((4, 2, 3)))
    with pytest.raises(ValueError, match=r"negative_mode='paired' and query \(4, 3\) it must be \(4, M, 3\)"):
        info_nce_loss(e, e, np.ones((5, 2, 3)), negative_mode="paired")
    with pytest.raises(ValueError, match=r"info_nce_loss: negative_mode must be 'unpaired' or 'paired'"):
        info_nce_loss(e, e, negative_mode="shared")


def test_catalogue_examples_run():
    """Each registered example is valid and gives a finite loss with finite gradients."""
    from jaxloss._registry import CATALOGUE

    specs = [s for s in CATALOGUE.values() if s.fn.__module__ == "jaxloss._metric"]
    assert {s.name for s in specs} == set(M.__all__)
    for spec in specs:
        args, kwargs = spec.example(np.random.default_rng(0))
        value = spec.fn(*args, **kwargs)
        assert np.isfinite(value)
        def f(*d, spec=spec, args=args, kwargs=kwargs):
            full = list(args)
            for i, v in zip(spec.diff, d):
                full[i] = v
            return spec.fn(*full, **kwargs)

        grads = jax.grad(f, argnums=tuple(range(len(spec.diff))))(*[jnp.asarray(args[i]) for i in spec.diff])
        for g in grads:
            assert np.all(np.isfinite(g))
