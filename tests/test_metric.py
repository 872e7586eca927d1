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

from jaxloss._src.core.validation import checked
from jaxloss._src.families import metric as M
from jaxloss._src.families.metric import (
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
from tests.torch_parity import TOL, compare

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]

# A batch where labels 2 and 3 have no positive partner, and one where nothing does.
LABELS = np.array([0, 0, 1, 1, 2, 0, 3, 1, 0])
DISTINCT = np.arange(9)
SAME = np.zeros(9, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------
# pml as a torch function of (embeddings, labels[, W^T]) with our reduction names


def _pml_reducer(reduction):
    return {
        "mean": None,
        "sum": pml_reducers.SumReducer(),
        "none": pml_reducers.DoNothingReducer(),
    }[reduction]


def _scatter(out, embeddings, layout):
    """Lay pml's ``DoNothingReducer`` losses out as jaxloss's ``'none'``: ``(B, B)`` pairs or ``(B,)`` rows."""
    b = embeddings.shape[0]
    total = (embeddings * 0).sum() + torch.zeros(
        (b, b) if layout == "pair" else (b,), dtype=embeddings.dtype
    )
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
        return _all_reductions_torch(
            lambda reducer: make(reducer=reducer)(embeddings, labels), embeddings, layout
        )

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


def compare_sets(
    jax_fn, torch_fn, arg_sets, *, diff=(0,), dtype=np.float64, rtol=None, atol=None, seed=0
):
    """:func:`tests.torch_parity.compare` under ``jit`` for several inputs of one shape, compiled once.

    Value, dtype, shape and the VJP with a random cotangent are compared with torch for each argument set;
    value and VJP come from one jitted function, so every set after the first reuses its executable. Every
    jaxloss gradient must also be finite.
    """
    tol = dict(TOL[dtype])
    tol.update({k: v for k, v in {"rtol": rtol, "atol": atol}.items() if v is not None})

    @jax.jit
    def value_and_vjp(args, cot):
        def f(*d):
            full = list(args)
            for i, v in zip(diff, d):
                full[i] = v
            return jax_fn(*full)

        out, vjp = jax.vjp(f, *[args[i] for i in diff])
        return out, vjp(cot)

    rng = np.random.default_rng(seed)
    for args in arg_sets:
        args = [a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a for a in args]
        t_args = [torch.from_numpy(a).requires_grad_(i in diff) for i, a in enumerate(args)]
        t_out = torch_fn(*t_args)
        cot = rng.standard_normal(tuple(t_out.shape))
        t_grads = torch.autograd.grad(
            t_out,
            [t_args[i] for i in diff],
            torch.from_numpy(cot).to(t_out.dtype),
            allow_unused=True,
        )
        j_out, j_grads = value_and_vjp(
            [jnp.asarray(a) for a in args], jnp.asarray(cot, dtype=dtype)
        )
        assert j_out.shape == tuple(t_out.shape) and j_out.dtype == dtype
        np.testing.assert_allclose(j_out, t_out.detach().numpy(), **tol, err_msg="value")
        for i, jg, tg in zip(diff, j_grads, t_grads):
            assert np.all(np.isfinite(jg)), f"non-finite gradient of arg {i}"
            tg = np.zeros(args[i].shape) if tg is None else tg.numpy()
            np.testing.assert_allclose(jg, tg, **tol, err_msg=f"grad of arg {i}")


# ---------------------------------------------------------------------------------------------------------
# parity with pytorch-metric-learning: every option, both dtypes, jit and eager

CASES = {
    # name: (jax fn, jax kwargs, pml constructor, layout)
    "contrastive": (contrastive_loss, {}, pml.ContrastiveLoss, "pair"),
    "contrastive_margins": (
        contrastive_loss,
        {"pos_margin": 0.3, "neg_margin": 0.9},
        functools.partial(pml.ContrastiveLoss, pos_margin=0.3, neg_margin=0.9),
        "pair",
    ),
    "contrastive_raw": (
        contrastive_loss,
        {"normalize": False, "neg_margin": 3.0},
        functools.partial(
            pml.ContrastiveLoss,
            neg_margin=3.0,
            distance=pml_distances.LpDistance(normalize_embeddings=False),
        ),
        "pair",
    ),
    "ntxent": (ntxent_loss, {}, pml.NTXentLoss, "pair"),
    "ntxent_t": (
        ntxent_loss,
        {"temperature": 0.5},
        functools.partial(pml.NTXentLoss, temperature=0.5),
        "pair",
    ),
    "supcon": (supervised_contrastive_loss, {}, pml.SupConLoss, "row"),
    "supcon_t": (
        supervised_contrastive_loss,
        {"temperature": 0.5},
        functools.partial(pml.SupConLoss, temperature=0.5),
        "row",
    ),
    "npairs": (npairs_loss, {}, pml.NPairsLoss, "row"),
    "npairs_raw": (
        npairs_loss,
        {"normalize": False},
        functools.partial(
            pml.NPairsLoss, distance=pml_distances.DotProductSimilarity(normalize_embeddings=False)
        ),
        "row",
    ),
    "circle": (circle_loss, {}, pml.CircleLoss, "row"),
    "circle_opts": (
        circle_loss,
        {"m": 0.25, "gamma": 16.0},
        functools.partial(pml.CircleLoss, m=0.25, gamma=16),
        "row",
    ),
    "multi_similarity": (multi_similarity_loss, {}, pml.MultiSimilarityLoss, "row"),
    "multi_similarity_opts": (
        multi_similarity_loss,
        {"alpha": 1.5, "beta": 20.0, "base": 0.3},
        functools.partial(pml.MultiSimilarityLoss, alpha=1.5, beta=20.0, base=0.3),
        "row",
    ),
}

BASE_CASES = ["contrastive", "ntxent", "supcon", "npairs", "circle", "multi_similarity"]


# float32: gamma=80 and 1/temperature=14 amplify float32 rounding of the similarities.
F32_TOL = {"circle": {"rtol": 2e-4, "atol": 2e-4}, "ntxent": {"rtol": 1e-4, "atol": 1e-5}}


def _tol(case, dtype):
    if dtype == np.float64:
        return {"rtol": 1e-8}  # relative: a zero row's gradients are ~1e12 (1 / F.normalize's eps)
    return F32_TOL.get(case.split("_")[0], {"rtol": 5e-5, "atol": 1e-5})


def _edge_sets(rng, case):
    """Same-shape inputs (one compilation): a mixed batch where labels 2 and 3 have no positive partner;
    no positive pair at all; no negative pair at all (one label); a zero embedding (torch's F.normalize
    leaves it 0, gradient 1/eps) with an exact duplicate pair."""
    zero = _emb(rng)
    zero[3] = 0.0
    zero[1] = zero[0]
    zero_labels = LABELS
    if case.startswith("ntxent"):
        # optax and pml normalise a zero row differently (|x|^2 clipped at eps vs |x| clamped at 1e-12);
        # optax is the reference there: test_ntxent_matches_optax_zero_norm_and_traced_temperature.
        zero[3] = 1.0
    if case == "contrastive":
        # With neg_margin = 1 every negative pair of the zero row is a tie at the hinge (distance exactly
        # 1), and whether pml's AvgNonZero counts it depends on the last ulp of cdist; give the zero row
        # positives only. contrastive_margins and contrastive_raw cover its negatives.
        zero_labels = SAME
    return [(_emb(rng), LABELS), (_emb(rng), DISTINCT), (_emb(rng), SAME), (zero, zero_labels)]


# every option in float64; float32 for each loss's defaults (the options do not touch dtype handling)
PML_GRID = [(c, np.float64) for c in sorted(CASES)] + [(c, np.float32) for c in BASE_CASES]


@pytest.mark.parametrize("case,dtype", PML_GRID)
def test_pml_parity(rng, case, dtype):
    """'mean', 'sum' and 'none' (concatenated into one output) against pml's default, Sum and DoNothing
    reducers: values, dtype, shape and the VJP, under jit, on ordinary and edge batches."""
    fn, kwargs, make, layout = CASES[case]
    compare_sets(
        functools.partial(_all_reductions_jax, fn, **kwargs),
        pml_fn(make, layout),
        _edge_sets(rng, case),
        dtype=dtype,
        **_tol(case, dtype),
    )


@pytest.mark.parametrize("case", BASE_CASES)
def test_pml_parity_eager(rng, case):
    """The same without jit (op-by-op), each loss's defaults; float32 eager runs in the ntxent/optax test."""
    fn, kwargs, make, layout = CASES[case]
    compare(
        functools.partial(_all_reductions_jax, fn, **kwargs),
        pml_fn(make, layout),
        [_emb(rng), LABELS],
        torch_kwargs={},
        **_tol(case, np.float64),
    )


CLASSIFIERS = {
    "arcface": (arcface_loss, {}, pml.ArcFaceLoss),
    "arcface_opts": (arcface_loss, {"margin": 10.0, "scale": 8.0}, pml.ArcFaceLoss),
    "arcface_wide": (arcface_loss, {"margin": 120.0, "scale": 4.0}, pml.ArcFaceLoss),
    "cosface": (cosface_loss, {}, pml.CosFaceLoss),
    "cosface_opts": (cosface_loss, {"margin": 0.1, "scale": 10.0}, pml.CosFaceLoss),
}
CLASSIFIER_LABELS = np.array([0, 1, 2, 3, 0, 1, 2, 3])


def _classifier_sets(rng):
    """Ordinary inputs; rows 0-1 near their class centres (small theta: with margin 120 deg the
    cos(theta + m) branch, the others the monotone cos(theta) - m sin m branch); a zero embedding and a
    zero class centre."""
    e, w = rng.standard_normal((8, 5)), rng.standard_normal((4, 5))
    near = e.copy()
    near[:2] = w[:2] + 0.1 * e[:2]
    zero_e, zero_w = e.copy(), w.copy()
    zero_e[2] = 0.0
    zero_w[1] = 0.0
    return [
        (e, CLASSIFIER_LABELS, w),
        (near, CLASSIFIER_LABELS, w),
        (zero_e, CLASSIFIER_LABELS, zero_w),
    ]


@pytest.mark.parametrize(
    "case,dtype",
    [(c, np.float64) for c in sorted(CLASSIFIERS)]
    + [(c, np.float32) for c in ("arcface", "cosface")],
)
def test_margin_softmax_pml_parity(rng, case, dtype):
    fn, kwargs, cls = CLASSIFIERS[case]
    # float32: pml computes cos(acos(c) + m), jaxloss c cos m - sin(theta) sin m; scale 64 amplifies.
    tol = {"rtol": 1e-8} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    compare_sets(
        functools.partial(_all_reductions_jax, fn, **kwargs),
        pml_classifier_fn(cls, **kwargs),
        _classifier_sets(rng),
        diff=(0, 2),
        dtype=dtype,
        **tol,
    )


@pytest.mark.parametrize(
    "fn,cls", [(arcface_loss, pml.ArcFaceLoss), (cosface_loss, pml.CosFaceLoss)]
)
def test_margin_softmax_pml_parity_eager(rng, fn, cls):
    e, w = rng.standard_normal((8, 5)), rng.standard_normal((4, 5))
    compare(
        functools.partial(_all_reductions_jax, fn),
        pml_classifier_fn(cls),
        [e, CLASSIFIER_LABELS, w],
        torch_kwargs={},
        diff=(0, 2),
    )


def test_margin_softmax_on_centre_and_traced_hyperparameters(rng):
    """An embedding exactly on its class centre (pml's acos has an infinite derivative there) keeps pml's
    value and finite gradients; margin and scale may be traced scalars (a learned scale)."""
    e, w = rng.standard_normal((6, 5)), rng.standard_normal((3, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    e[0] = 2.0 * w[0]  # cos = 1 up to rounding after normalisation
    e[1] = -3.0 * w[1]  # cos = -1: theta = pi
    grad = jax.jit(
        jax.value_and_grad(
            lambda a, b, s, m: arcface_loss(a, labels, b, scale=s, margin=m), argnums=(0, 1, 2)
        )
    )
    value, (ge, gw, gs) = grad(e, w, 64.0, 28.6)
    reference = pml_classifier_fn(pml.ArcFaceLoss)(*map(torch.from_numpy, (e, labels, w)))[0]
    np.testing.assert_allclose(value, float(reference), rtol=1e-9)
    assert np.all(np.isfinite(ge)) and np.all(np.isfinite(gw))
    np.testing.assert_allclose(
        value, arcface_loss(e, labels, w), rtol=1e-12
    )  # traced == Python floats
    fd = (
        arcface_loss(e, labels, w, scale=64.0 + 1e-6)
        - arcface_loss(e, labels, w, scale=64.0 - 1e-6)
    ) / 2e-6
    np.testing.assert_allclose(gs, fd, rtol=1e-6)
    cos_grad = jax.jit(
        jax.grad(lambda s, m: cosface_loss(e, labels, w, scale=s, margin=m), argnums=(0, 1))
    )
    gs, gm = cos_grad(10.0, 0.2)
    fd = (
        cosface_loss(e, labels, w, scale=10.0, margin=0.2 + 1e-6)
        - cosface_loss(e, labels, w, scale=10.0, margin=0.2 - 1e-6)
    ) / 2e-6
    np.testing.assert_allclose(gm, fd, rtol=1e-6)


def test_margin_softmax_labels_out_of_range(rng):
    e, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=r"arcface_loss: labels must be in \[0, 2\)"):
        arcface_loss(e, np.array([0, 2, 1]), w)
    with pytest.raises(ValueError, match=r"cosface_loss: labels must be in \[0, 2\)"):
        cosface_loss(e, np.array([0, -1, 1]), w)
    f = jax.jit(checked(arcface_loss))
    err, _ = f(e, jnp.array([0, 5, 1]), w)
    assert "arcface_loss: labels must be in [0, 2)" in err.get()
    err, _ = f(e, jnp.array([0, 1, 1]), w)
    assert err.get() is None


# ---------------------------------------------------------------------------------------------------------
# NT-Xent: optax is the reference of the optax semantics (and of _ntxent, the optax face's kernel)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("jit", [False, True])
def test_ntxent_matches_optax(rng, dtype, jit):
    """Eager: Python-float temperature. jit: the temperature is a traced argument (one compilation for
    both values), differentiated too."""
    e = jnp.asarray(_emb(rng).astype(dtype))
    labels = jnp.asarray(LABELS)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 2e-6, "atol": 1e-7}
    argnums = (0, 1) if jit else 0
    runs = []
    for f in (ntxent_loss, M._ntxent, optax.losses.ntxent):
        run = jax.value_and_grad(lambda x, t, f=f: f(x, labels, temperature=t), argnums)
        runs.append(jax.jit(run) if jit else run)
    for temperature in [0.07, 0.5] if jit else [0.07]:
        t = jnp.asarray(temperature, dtype) if jit else temperature
        (want, want_grad) = runs[2](e, t)
        for run in runs[:2]:
            got, got_grad = run(e, t)
            assert got.dtype == want.dtype == dtype
            np.testing.assert_allclose(got, want, **tol)
            for g, w in zip(jax.tree.leaves(got_grad), jax.tree.leaves(want_grad)):
                np.testing.assert_allclose(g, w, **tol)


def test_ntxent_zero_norm_and_degenerate_batches(rng):
    """A zero row (optax clips |x|^2 at eps): optax's numbers. No positive pair: optax gives nan (kept by
    _ntxent); ntxent_loss gives 0 with a zero gradient, as pml. One label everywhere: no negatives, every
    pair loss is 0 up to rounding, as optax. A batch of one: finite gradient."""
    e = _emb(rng)
    e[2] = 0.0
    e = jnp.asarray(e)
    vg, vg_kernel, vg_optax = (
        jax.value_and_grad(f) for f in (ntxent_loss, M._ntxent, optax.losses.ntxent)
    )
    want = vg_optax(e, LABELS)
    for got in (vg(e, LABELS), vg_kernel(e, LABELS)):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)
    assert np.isnan(vg_optax(e, DISTINCT)[0]) and np.isnan(vg_kernel(e, DISTINCT)[0])
    value, grad = vg(e, DISTINCT)
    assert float(value) == 0.0
    np.testing.assert_array_equal(grad, 0.0)
    want_value, want_grad = vg_optax(e, SAME)
    assert abs(float(want_value)) < 1e-15
    for value, grad in (vg(e, SAME), vg_kernel(e, SAME)):
        np.testing.assert_allclose(value, want_value, atol=1e-15)
        # rounding noise only (log(exp(x)) - x), scaled by 1/sqrt(eps) = 7e7 on the zero row
        np.testing.assert_allclose(grad, want_grad, atol=1e-8)
    value, grad = vg(e[:1], SAME[:1])
    assert float(value) == 0.0 and np.all(np.isfinite(grad))


# ---------------------------------------------------------------------------------------------------------
# InfoNCE against info-nce-pytorch


def _info_nce_ref(temperature, negative_mode):
    """info-nce-pytorch's ``cat([mean, sum, none])``."""

    def fn(*args):
        outs = [
            info_nce(*args, temperature=temperature, reduction=r, negative_mode=negative_mode)
            for r in REDUCTIONS
        ]
        return torch.cat([outs[0].reshape(1), outs[1].reshape(1), outs[2]])

    return fn


INFO_NCE = {"none": (None, 0.1), "unpaired": ((5, 4), 0.7), "paired": ((6, 3, 4), 0.05)}


def _info_nce_args(rng, negatives, zero=False):
    q, p = rng.standard_normal((2, 6, 4))
    shape, _ = INFO_NCE[negatives]
    args = [q, p] if shape is None else [q, p, rng.standard_normal(shape)]
    if zero:
        for a in args:
            a.reshape(-1, 4)[1] = 0.0
    return args


@pytest.mark.parametrize(
    "negatives,dtype", [(n, np.float64) for n in sorted(INFO_NCE)] + [("paired", np.float32)]
)
def test_info_nce_parity(rng, negatives, dtype):
    _, temperature = INFO_NCE[negatives]
    mode = "paired" if negatives == "paired" else "unpaired"
    sets = [_info_nce_args(rng, negatives), _info_nce_args(rng, negatives, zero=True)]
    tol = {"rtol": 1e-8} if dtype == np.float64 else {"rtol": 5e-5, "atol": 1e-5}
    compare_sets(
        functools.partial(
            _all_reductions_jax, info_nce_loss, temperature=temperature, negative_mode=mode
        ),
        _info_nce_ref(temperature, mode),
        sets,
        diff=tuple(range(len(sets[0]))),
        dtype=dtype,
        **tol,
    )


def test_info_nce_parity_eager(rng):
    for negatives in sorted(INFO_NCE):
        _, temperature = INFO_NCE[negatives]
        mode = "paired" if negatives == "paired" else "unpaired"
        args = _info_nce_args(rng, negatives)
        compare(
            functools.partial(
                _all_reductions_jax, info_nce_loss, temperature=temperature, negative_mode=mode
            ),
            _info_nce_ref(temperature, mode),
            args,
            torch_kwargs={},
            diff=tuple(range(len(args))),
        )


def _info_nce_numpy(q, p, n, temperature):
    """Float64 numpy InfoNCE from Oord et al. 2018, eq. 4, with cosine scores exp(cos/tau) (unpaired)."""
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)
    q, p, n = unit(q), unit(p), unit(n)
    pos = np.exp(np.sum(q * p, axis=1) / temperature)
    neg = np.exp(q @ n.T / temperature).sum(axis=1)
    return -np.log(pos / (pos + neg))


def test_info_nce_numpy_reference(rng):
    q, p, n = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((7, 3))
    np.testing.assert_allclose(
        info_nce_loss(q, p, n, temperature=0.3, reduction="none"),
        _info_nce_numpy(q, p, n, 0.3),
        rtol=1e-12,
    )


# ---------------------------------------------------------------------------------------------------------
# Circle: Keras 3 semantics via normalize=False, detach_weights=False


def _keras_circle_all(labels, x, dtype):
    outs = [
        keras.losses.Circle(gamma=32.0, margin=0.3, reduction=r, dtype=dtype)(labels, x)
        for r in ("sum_over_batch_size", "sum", None)
    ]
    return jnp.concatenate([outs[0][None], outs[1][None], outs[2]])


@pytest.mark.parametrize("dtype,jit", [(np.float64, True), (np.float32, True), (np.float64, False)])
def test_circle_matches_keras(rng, dtype, jit):
    """keras.losses.Circle's values and gradients (its 'sum_over_batch_size' with the loss > 0 mask is
    our 'mean')."""
    name = "float64" if dtype == np.float64 else "float32"
    # pml's (and our) Softplus is linear above 20, Keras's exact: gradients differ by up to e^-20 = 2e-9.
    tol = {"rtol": 1e-8, "atol": 1e-10} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-5}

    def ours(x, labels):
        return _all_reductions_jax(
            circle_loss, x, labels, m=0.3, gamma=32.0, normalize=False, detach_weights=False
        )

    def ref(x, labels):
        return _keras_circle_all(labels, x, name)

    def value_and_vjp(f, x, labels, cot):
        out, vjp = jax.vjp(lambda x: f(x, labels), x)
        return out, vjp(cot)[0]

    run = jax.jit(value_and_vjp, static_argnums=0) if jit else value_and_vjp
    for labels in (LABELS, np.array([0, 1, 2, 3, 4, 5, 0, 1, 2])):
        e = _emb(rng)
        e = jnp.asarray((e / np.linalg.norm(e, axis=1, keepdims=True)).astype(dtype))
        cot = jnp.asarray(rng.standard_normal(len(labels) + 2), dtype)
        labels = jnp.asarray(labels)
        (got, got_grad), (want, want_grad) = run(ours, e, labels, cot), run(ref, e, labels, cot)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)
        np.testing.assert_allclose(got_grad, want_grad, **tol)


def test_circle_detach_is_the_difference_between_pml_and_keras(rng):
    """Same value either way; the gradients differ only through the circle weights."""
    e = _emb(rng)
    e = jnp.asarray(e / np.linalg.norm(e, axis=1, keepdims=True))
    f = jax.jit(
        jax.value_and_grad(lambda x, d: circle_loss(x, LABELS, detach_weights=d)), static_argnums=1
    )
    detached, through = f(e, True), f(e, False)
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
    np.testing.assert_allclose(
        supervised_contrastive_loss(e, y, reduction="none"), supcon, rtol=1e-12
    )
    # Wang et al. 2019, eq. 10 (multi-similarity), alpha=2, beta=50, lambda=0.5.
    ms = (
        np.log1p((np.exp(-2 * (s - 0.5)) * pos).sum(1)) / 2
        + np.log1p((np.exp(50 * (s - 0.5)) * neg).sum(1)) / 50
    )
    np.testing.assert_allclose(multi_similarity_loss(e, y, reduction="none"), ms, rtol=1e-12)
    # Sun et al. 2020, eq. 6 (circle loss), m=0.4, gamma=80.
    ap, an = np.maximum(1.4 - s, 0), np.maximum(s + 0.4, 0)
    circle = [
        np.log1p(
            np.exp(-80 * ap[i, pos[i]] * (s[i, pos[i]] - 0.6)).sum()
            * np.exp(80 * an[i, neg[i]] * (s[i, neg[i]] - 0.4)).sum()
        )
        if pos[i].any()
        else 0.0
        for i in range(b)
    ]
    np.testing.assert_allclose(circle_loss(e, y, reduction="none"), circle, rtol=1e-10, atol=1e-14)
    # Chen et al. 2020 (SimCLR), eq. 1 with label groups, tau = 0.07.
    t = np.exp(s / 0.07)
    ntx = np.where(pos, -np.log(t / (t + (t * neg).sum(1, keepdims=True))), 0.0)
    np.testing.assert_allclose(ntxent_loss(e, y, reduction="none"), ntx, rtol=1e-10, atol=1e-12)
    # Hadsell et al. 2006 with pml's unsquared hinges, margins 0 and 1.
    d = np.linalg.norm(
        e[:, None] / np.linalg.norm(e, axis=1)[:, None, None]
        - (e / np.linalg.norm(e, axis=1, keepdims=True))[None],
        axis=-1,
    )
    np.testing.assert_allclose(
        contrastive_loss(e, y, reduction="none"),
        np.where(pos, d, 0) + np.where(neg, np.maximum(1 - d, 0), 0),
        rtol=1e-12,
        atol=1e-15,
    )
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
    c = (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (
        w / np.linalg.norm(w, axis=1, keepdims=True)
    ).T
    onehot = np.eye(4)[yc].astype(bool)
    for fn, target in [
        (arcface_loss, lambda c: np.cos(np.arccos(c) + np.radians(28.6))),
        (cosface_loss, lambda c: c - 0.35),
    ]:
        logits = 64 * np.where(onehot, target(c), c)
        want = (
            np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1))
            + logits.max(1)
            - logits[onehot]
        )
        np.testing.assert_allclose(fn(e, yc, w, reduction="none"), want, rtol=1e-9, atol=1e-13)


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
    e = np.stack([_emb(rng), _emb(rng)])
    labels = np.stack([LABELS, DISTINCT])
    np.testing.assert_allclose(
        jax.jit(jax.vmap(fn))(e, labels), [fn(x, y) for x, y in zip(e, labels)], rtol=1e-12
    )
    half = fn(e[0].astype(np.float16), LABELS)  # computed in float32, returned in float16
    assert half.dtype == jnp.float16
    np.testing.assert_allclose(
        np.float32(half), fn(e[0].astype(np.float16).astype(np.float64), LABELS), rtol=1e-3
    )
    empty = np.zeros((0, 5)), np.zeros(0, dtype=np.int64)
    assert fn(*empty) == 0.0 and fn(*empty, reduction="sum") == 0.0
    assert fn(*empty, reduction="none").shape in {(0,), (0, 0)}


def test_arcface_cosface_vmap_and_dtypes(rng):
    e, w = rng.standard_normal((2, 8, 5)), rng.standard_normal((4, 5))
    labels = np.stack([CLASSIFIER_LABELS, CLASSIFIER_LABELS[::-1]])
    for fn in (arcface_loss, cosface_loss):
        batched = jax.jit(jax.vmap(fn, in_axes=(0, 0, None)))(e, labels, w)
        np.testing.assert_allclose(batched, [fn(x, y, w) for x, y in zip(e, labels)], rtol=1e-12)
        half = fn(e[0].astype(np.float16), labels[0], w.astype(np.float16))
        assert half.dtype == jnp.float16
        np.testing.assert_allclose(
            np.float32(half),
            fn(e[0].astype(np.float16), labels[0], w.astype(np.float16).astype(np.float64)),
            rtol=1e-2,
        )
        assert (
            fn(e[0].astype(np.float32), labels[0], w).dtype == jnp.float64
        )  # promotion of the inputs


def test_errors(rng):
    e = rng.standard_normal((4, 3))
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"contrastive_loss: embeddings must be 2-D; got 1-D"):
        contrastive_loss(e[0], y[:1])
    with pytest.raises(
        ValueError, match=r"ntxent_loss: labels has shape \(3,\); it must be \(4,\)"
    ):
        ntxent_loss(e, y[:3])
    with pytest.raises(
        TypeError, match=r"supervised_contrastive_loss: labels must have an integer dtype"
    ):
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
    with pytest.raises(
        ValueError, match=r"supervised_contrastive_loss: temperature must be a scalar"
    ):
        supervised_contrastive_loss(e, y, temperature=jnp.ones(2))
    with pytest.raises(TypeError, match=r"contrastive_loss: pos_margin must be a number"):
        contrastive_loss(e, y, pos_margin=True)
    with pytest.raises(ValueError, match=r"contrastive_loss: neg_margin must be finite"):
        contrastive_loss(e, y, neg_margin=float("inf"))
    with pytest.raises(TypeError, match=r"contrastive_loss: pos_margin must be an array; got str"):
        contrastive_loss(e, y, pos_margin="big")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'pos_margin'"):
        npairs_loss(e, y, pos_margin=1.0)  # keyword-only hyper-parameters, no stray options
    with pytest.raises(TypeError):
        ntxent_loss(e, y, 0.5)  # temperature is keyword-only
    # arcface / cosface shapes
    with pytest.raises(
        ValueError, match=r"arcface_loss: weight has shape \(2, 4\); it must be \(C, 3\)"
    ):
        arcface_loss(e, y, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"cosface_loss: weight must be 2-D; got 1-D"):
        cosface_loss(e, y, np.ones(3))
    with pytest.raises(
        ValueError, match=r"cosface_loss: labels has shape \(2,\); it must be \(4,\)"
    ):
        cosface_loss(e, y[:2], np.ones((2, 3)))
    # info_nce shapes and options
    with pytest.raises(
        ValueError, match=r"info_nce_loss: positive_key has shape \(3, 3\); it must have the same"
    ):
        info_nce_loss(e, e[:3])
    with pytest.raises(ValueError, match=r"info_nce_loss: query must be 2-D"):
        info_nce_loss(e[0], e[0])
    with pytest.raises(
        ValueError,
        match=r"info_nce_loss: negative_keys has shape \(4, 2, 3\); with "
        r"negative_mode='unpaired' and query \(4, 3\) it must be \(M, 3\)",
    ):
        info_nce_loss(e, e, np.ones((4, 2, 3)))
    with pytest.raises(
        ValueError, match=r"negative_mode='paired' and query \(4, 3\) it must be \(4, M, 3\)"
    ):
        info_nce_loss(e, e, np.ones((5, 2, 3)), negative_mode="paired")
    with pytest.raises(
        ValueError, match=r"info_nce_loss: negative_mode must be 'unpaired' or 'paired'"
    ):
        info_nce_loss(e, e, negative_mode="shared")


def test_catalogue_examples_run():
    """Each registered example is valid and gives a finite loss (the generated transform tests take
    them through jit/vmap/grad)."""
    from jaxloss._src.core.registry import CATALOGUE

    specs = [
        s
        for s in CATALOGUE.values()
        if s.fn.__module__ == "jaxloss._src.families.metric" and s.namespace == "losses"
    ]
    assert {s.name for s in specs} == set(M.__all__)
    for spec in specs:
        args, kwargs = spec.example(np.random.default_rng(0))
        assert spec.family == "metric" and max(spec.diff) < len(args)
        assert np.isfinite(jax.jit(functools.partial(spec.fn, **kwargs))(*args))
