"""The rest of pytorch-metric-learning 2.9's losses against pml itself (torch, float64 reference).

Values and gradients with respect to the embeddings and to the learnable tensors (proxies, SoftTriple's
centres, MarginLoss's beta) are compared on randomised batches (graded labels with a singleton class, so
some anchors have no positive), with pml's default reducer (``'mean'``) and pml's ``SumReducer``
(``'sum'``); our float64 under ``jit`` and eagerly, and float32 against the same float64 reference.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import reducers as pml_reducers

from jaxloss import losses as L

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-4, "atol": 2e-5}


def _pml_value_and_grads(loss, embeddings, labels, params=()):
    """pml's loss and its gradients w.r.t. the embeddings and the named tensors (float64)."""
    x = torch.tensor(embeddings, requires_grad=True)
    out = loss(x, torch.tensor(labels))
    tensors = [x] + [getattr(loss, p) for p in params]
    grads = torch.autograd.grad(out, tensors, allow_unused=True)
    grads = [np.zeros(t.shape) if g is None else g.numpy() for t, g in zip(tensors, grads)]
    return out.item(), grads


def _set(loss, **tensors):
    for name, value in tensors.items():
        getattr(loss, name).data = torch.tensor(value)
    return loss


#: name -> (jaxloss fn, extra args (rng, classes, dim) -> tuple, pml factory (reducer, *args) -> loss,
#:          names of pml's learnable tensors, options)
def _proxies(rng, c, d):
    return (rng.standard_normal((c, d)),)


def _centers(rng, c, d):
    return (rng.standard_normal((c, 3, d)),)


def _unit_rows(w):
    return w / np.linalg.norm(w, axis=1, keepdims=True)  # pml keeps P2SGrad's weight columns unit


def _beta(rng, c, d):
    return (rng.random(c) * 0.4 + 0.9,)


CASES = {
    "lifted": (L.lifted_structure_loss, None, lambda r: pml.LiftedStructureLoss(reducer=r), {}),
    "lifted_margins": (
        L.lifted_structure_loss,
        None,
        lambda r: pml.LiftedStructureLoss(neg_margin=0.7, pos_margin=0.2, reducer=r),
        {"neg_margin": 0.7, "pos_margin": 0.2},
    ),
    "glifted": (
        L.generalized_lifted_structure_loss,
        None,
        lambda r: pml.GeneralizedLiftedStructureLoss(neg_margin=0.8, pos_margin=0.1, reducer=r),
        {"neg_margin": 0.8, "pos_margin": 0.1},
    ),
    # pml stores beta as float32: 1.25 is exact (1.2 is not)
    "margin": (
        lambda x, y, **kw: L.margin_loss(x, y, 1.25, **kw),
        None,
        lambda r: pml.MarginLoss(beta=1.25, reducer=r),
        {},
    ),
    "margin_scalar_beta": (
        lambda x, y, **kw: L.margin_loss(x, y, jnp.asarray(1.05, x.dtype), **kw),
        None,
        lambda r: pml.MarginLoss(margin=0.3, nu=0.1, beta=1.05, learn_beta=True, reducer=r),
        {"margin": 0.3, "nu": 0.1},
    ),
    "margin_class_beta": (
        L.margin_loss,
        _beta,
        lambda r, beta: _set(
            pml.MarginLoss(nu=0.2, learn_beta=True, num_classes=len(beta), reducer=r), beta=beta
        ),
        {"nu": 0.2},
    ),
    "nca": (
        L.nca_loss,
        None,
        lambda r: pml.NCALoss(softmax_scale=2.0, reducer=r),
        {"softmax_scale": 2.0},
    ),
    "proxy_nca": (
        L.proxy_nca_loss,
        _proxies,
        lambda r, p: _set(
            pml.ProxyNCALoss(p.shape[0], p.shape[1], softmax_scale=3.0, reducer=r), proxies=p
        ),
        {"softmax_scale": 3.0},
    ),
    "proxy_anchor": (
        L.proxy_anchor_loss,
        _proxies,
        lambda r, p: _set(pml.ProxyAnchorLoss(p.shape[0], p.shape[1], reducer=r), proxies=p),
        {},
    ),
    "proxy_anchor_opts": (
        L.proxy_anchor_loss,
        _proxies,
        lambda r, p: _set(
            pml.ProxyAnchorLoss(p.shape[0], p.shape[1], margin=0.3, alpha=8, reducer=r), proxies=p
        ),
        {"margin": 0.3, "alpha": 8.0},
    ),
    "soft_triple": (
        L.soft_triple_loss,
        _centers,
        lambda r, c: _set(
            pml.SoftTripleLoss(c.shape[0], c.shape[2], centers_per_class=c.shape[1], reducer=r),
            fc=c.reshape(-1, c.shape[2]).T.copy(),
        ),
        {},
    ),
    "soft_triple_opts": (
        L.soft_triple_loss,
        _centers,
        lambda r, c: _set(
            pml.SoftTripleLoss(
                c.shape[0],
                c.shape[2],
                centers_per_class=c.shape[1],
                la=5,
                gamma=0.5,
                margin=0.2,
                reducer=r,
            ),
            fc=c.reshape(-1, c.shape[2]).T.copy(),
        ),
        {"la": 5.0, "gamma": 0.5, "margin": 0.2},
    ),
    "fast_ap": (L.fast_ap_loss, None, lambda r: pml.FastAPLoss(reducer=r), {}),
    "fast_ap_bins": (
        L.fast_ap_loss,
        None,
        lambda r: pml.FastAPLoss(num_bins=4, reducer=r),
        {"num_bins": 4},
    ),
    "tuplet": (
        L.tuplet_margin_loss,
        None,
        lambda r: pml.TupletMarginLoss(scale=16, reducer=r),
        {"scale": 16.0},
    ),
    "tuplet_default": (L.tuplet_margin_loss, None, lambda r: pml.TupletMarginLoss(reducer=r), {}),
    "instance": (
        L.instance_loss,
        None,
        lambda r: pml.InstanceLoss(gamma=8, reducer=r),
        {"gamma": 8.0},
    ),
    "angular": (
        L.angular_loss,
        None,
        lambda r: pml.AngularLoss(alpha=35, reducer=r),
        {"alpha": 35.0},
    ),
    "ipv": (
        L.intra_pair_variance_loss,
        None,
        lambda r: pml.IntraPairVarianceLoss(pos_eps=0.05, neg_eps=0.02, reducer=r),
        {"pos_eps": 0.05, "neg_eps": 0.02},
    ),
    "snr": (
        L.signal_to_noise_ratio_contrastive_loss,
        None,
        lambda r: pml.SignalToNoiseRatioContrastiveLoss(pos_margin=0.1, neg_margin=1.2, reducer=r),
        {"pos_margin": 0.1, "neg_margin": 1.2},
    ),
    "normalized_softmax": (
        L.normalized_softmax_loss,
        _proxies,
        lambda r, w: _set(
            pml.NormalizedSoftmaxLoss(w.shape[0], w.shape[1], temperature=0.3, reducer=r),
            W=w.T.copy(),
        ),
        {"temperature": 0.3},
    ),
    "p2s": (
        L.p2s_grad_loss,
        lambda rng, c, d: (_unit_rows(rng.standard_normal((c, d))),),
        lambda r, w: _set(pml.P2SGradLoss(w.shape[1], w.shape[0], reducer=r), weight=w.T.copy()),
        {},
    ),
    "subcenter_arcface": (
        L.sub_center_arcface_loss,
        _centers,
        lambda r, c: _set(
            pml.SubCenterArcFaceLoss(
                num_classes=c.shape[0],
                embedding_size=c.shape[2],
                sub_centers=c.shape[1],
                scale=8,
                margin=20,
                reducer=r,
            ),
            W=c.reshape(-1, c.shape[2]).T.copy(),
        ),
        {"scale": 8.0, "margin": 20.0},
    ),
    "tcm": (
        L.threshold_consistent_margin_loss,
        None,
        lambda r: pml.ThresholdConsistentMarginLoss(
            lambda_plus=0.7, lambda_minus=1.3, margin_plus=0.3, margin_minus=-0.1, reducer=r
        ),
        {"lambda_plus": 0.7, "lambda_minus": 1.3, "margin_plus": 0.3, "margin_minus": -0.1},
    ),
}
PARAMS = {
    "margin_class_beta": ("beta",),
    "proxy_nca": ("proxies",),
    "proxy_anchor": ("proxies",),
    "proxy_anchor_opts": ("proxies",),
    "soft_triple": ("fc",),
    "soft_triple_opts": ("fc",),
    "margin_scalar_beta": ("beta",),
    "normalized_softmax": ("W",),
    "p2s": ("weight",),
    "subcenter_arcface": ("W",),
}
ALREADY_REDUCED = {"p2s", "tcm"}
REDUCERS = {"mean": None, "sum": pml_reducers.SumReducer}


def _batch(rng, name):
    b, d, c = 10, 5, 4
    x = rng.standard_normal((b, d))
    y = np.concatenate([rng.integers(0, c - 1, b - 1), [c - 1]])  # class c - 1 is a singleton
    rng.shuffle(y)
    if name.startswith("instance"):
        y = y * 3 + 5  # pml ranks the distinct labels; they need not be 0..C-1
    return x, y, c


@pytest.mark.parametrize("name", list(CASES))
def test_matches_pml(name):
    fn, extra, make, options = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    x, y, c = _batch(rng, name)
    args = extra(rng, c, x.shape[1]) if extra else ()
    params = PARAMS.get(name, ())
    for reduction, reducer in REDUCERS.items():
        if reduction == "sum" and name in ALREADY_REDUCED:
            continue  # pml's value is already reduced: every pml reducer returns the 'mean'
        loss = make(reducer() if reducer else None, *args)
        if name == "margin_scalar_beta":
            loss.beta.data = torch.tensor([1.05], dtype=torch.float64)
        ref, ref_grads = _pml_value_and_grads(loss, x, y, params)
        if (
            name == "soft_triple" or name == "soft_triple_opts"
        ):  # pml's fc is (D, C*K): ours (C, K, D)
            ref_grads[1] = ref_grads[1].T.reshape(args[0].shape)
        if name == "subcenter_arcface":  # pml's W is (D, C*K): ours (C, K, D)
            ref_grads[1] = ref_grads[1].T.reshape(args[0].shape)
        if name in ("normalized_softmax", "p2s"):  # pml's W is (D, C): ours (C, D)
            ref_grads[1] = ref_grads[1].T
        if name == "p2s":  # our weight gradient carries pml's constant renorm factor (docstring)
            norm = np.linalg.norm(args[0], axis=1, keepdims=True)
            ref_grads[1] = ref_grads[1] * (1e-5 / (norm + 1e-7) * 1e5)
        if name == "margin_scalar_beta":
            ref_grads[1] = ref_grads[1].reshape(())
        argnums = tuple(range(1 + len(args))) if name != "margin_scalar_beta" else (0,)
        f = lambda x, *a: fn(x, y, *a, reduction=reduction, **options)
        for dtype, jit in [(np.float64, True), (np.float64, False), (np.float32, True)]:
            if dtype == np.float64 and not jit and reduction == "sum":
                continue  # eager once is enough
            g = jax.value_and_grad(f, argnums=argnums)
            g = jax.jit(g) if jit else g
            cast = [jnp.asarray(a, dtype) for a in (x, *args)]
            value, grads = g(*cast)
            tol = F64 if dtype == np.float64 else F32
            assert value.dtype == dtype
            np.testing.assert_allclose(value, ref, **tol, err_msg=f"{name} {reduction} value")
            for i, grad in enumerate(grads):
                np.testing.assert_allclose(
                    grad, ref_grads[i], **tol, err_msg=f"{name} {reduction} grad {i}"
                )
        if name == "margin_scalar_beta":  # beta's own gradient (pml's learn_beta)
            gb = jax.grad(lambda b: L.margin_loss(x, y, b, reduction=reduction, **options))(1.05)
            np.testing.assert_allclose(gb, ref_grads[1], **F64)


@pytest.mark.parametrize(
    "name",
    [
        "lifted",
        "glifted",
        "margin",
        "nca",
        "proxy_nca",
        "proxy_anchor",
        "soft_triple",
        "fast_ap",
        "tuplet",
        "instance",
        "angular",
        "ipv",
        "snr",
        "normalized_softmax",
        "p2s",
        "tcm",
        "subcenter_arcface",
    ],
)
def test_none_sums_to_sum_and_degenerate_batches(name):
    fn, extra, _, options = CASES[name]
    rng = np.random.default_rng(11)
    x, y, c = _batch(rng, name)
    args = extra(rng, c, x.shape[1]) if extra else ()
    f = functools.partial(fn, **options)
    np.testing.assert_allclose(
        jnp.sum(f(x, y, *args, reduction="none")), f(x, y, *args, reduction="sum"), rtol=1e-12
    ) if name not in ("margin", "proxy_anchor", "tcm") else None
    # identical rows (zero distances), a zero row, one class only, all singletons: finite, no nan grads
    x2 = x.copy()
    x2[1] = x2[0]
    x2[2] = 0.0
    for labels in (y, np.zeros_like(y), np.arange(len(y)) % c if extra else np.arange(len(y))):
        for xx in (x2,):
            value, grads = jax.value_and_grad(
                lambda x, *a: f(x, labels, *a), argnums=tuple(range(1 + len(args)))
            )(jnp.asarray(xx), *args)
            assert np.isfinite(value)
            assert all(np.all(np.isfinite(g)) for g in grads)


def test_degenerate_batches_match_pml():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3))
    x[1] = x[0]
    one_class, singletons = np.zeros(5, int), np.arange(5)
    for name in [
        "lifted",
        "glifted",
        "margin",
        "nca",
        "fast_ap",
        "tuplet",
        "instance",
        "angular",
        "ipv",
        "snr",
        "tcm",
    ]:
        fn, _, make, options = CASES[name]
        for labels in (one_class, singletons):
            ref, _ = _pml_value_and_grads(make(None), x, labels)
            if name == "nca" and labels is singletons:
                # no row has a positive: pml's MeanReducer averages an empty tensor (nan); ours is 0
                assert np.isnan(ref) and fn(x, labels, **options) == 0
                continue
            np.testing.assert_allclose(fn(x, labels, **options), ref, **F64, err_msg=name)


def test_errors():
    x, y = np.zeros((4, 3)), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="lifted_structure_loss: reduction must be one of"):
        L.lifted_structure_loss(x, y, reduction="batchmean")
    with pytest.raises(ValueError, match=r"proxy_anchor_loss: labels must be in \[0, 2\)"):
        L.proxy_anchor_loss(x, np.array([0, 1, 2, 0]), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"proxy_nca_loss: proxies has shape \(2, 4\)"):
        L.proxy_nca_loss(x, y, np.ones((2, 4)))
    with pytest.raises(ValueError, match="soft_triple_loss: centers must"):
        L.soft_triple_loss(x, y, np.ones((2, 3)))
    with pytest.raises(ValueError, match="fast_ap_loss: num_bins must be a positive int"):
        L.fast_ap_loss(x, y, num_bins=0)
    with pytest.raises(ValueError, match=r"margin_loss: labels must be in \[0, 1\)"):
        L.margin_loss(x, y, np.ones(1))
    with pytest.raises(ValueError, match="soft_triple_loss: gamma must be > 0"):
        L.soft_triple_loss(x, y, np.ones((2, 2, 3)), gamma=0.0)


NN = {
    "LiftedStructureLoss": (L.lifted_structure_loss, {"neg_margin": 0.7}, None),
    "GeneralizedLiftedStructureLoss": (
        L.generalized_lifted_structure_loss,
        {"pos_margin": 0.2},
        None,
    ),
    "MarginLoss": (L.margin_loss, {"margin": 0.3, "nu": 0.1}, _beta),
    "NCALoss": (L.nca_loss, {"softmax_scale": 2.0}, None),
    "ProxyNCALoss": (L.proxy_nca_loss, {"softmax_scale": 2.0}, _proxies),
    "ProxyAnchorLoss": (L.proxy_anchor_loss, {"alpha": 8.0, "reduction": "sum"}, _proxies),
    "SoftTripleLoss": (L.soft_triple_loss, {"la": 4.0, "gamma": 0.3}, _centers),
    "FastAPLoss": (L.fast_ap_loss, {"num_bins": 5}, None),
    "TupletMarginLoss": (L.tuplet_margin_loss, {"scale": 8.0, "reduction": "none"}, None),
    "InstanceLoss": (L.instance_loss, {"gamma": 4.0}, None),
    "AngularLoss": (L.angular_loss, {"alpha": 30.0}, None),
    "IntraPairVarianceLoss": (L.intra_pair_variance_loss, {"pos_eps": 0.1}, None),
    "SignalToNoiseRatioContrastiveLoss": (
        L.signal_to_noise_ratio_contrastive_loss,
        {"neg_margin": 0.5},
        None,
    ),
    "NormalizedSoftmaxLoss": (L.normalized_softmax_loss, {"temperature": 0.2}, _proxies),
    "SubCenterArcFaceLoss": (L.sub_center_arcface_loss, {"scale": 8.0}, _centers),
    "ThresholdConsistentMarginLoss": (
        L.threshold_consistent_margin_loss,
        {"margin_minus": 0.1},
        None,
    ),
}


@pytest.mark.parametrize("name", list(NN))
def test_nn_objects(name):
    from jaxloss import nn

    fn, options, extra = NN[name]
    rng = np.random.default_rng(4)
    x, y, c = _batch(rng, name.lower())
    args = extra(rng, c, x.shape[1]) if extra else ()
    obj = getattr(nn, name)(**options)
    assert obj == getattr(nn, name)(**options) and hash(obj) == hash(getattr(nn, name)(**options))
    step = jax.jit(lambda f, *a: f(*a), static_argnums=0)
    np.testing.assert_allclose(step(obj, x, y, *args), fn(x, y, *args, **options), rtol=1e-12)
    with pytest.raises(TypeError):
        getattr(nn, name)(0.5)  # options are keyword-only


def test_centre_errors_name_the_class_count_and_the_argument():
    """Sub-centres ``(C, K, D)``: labels must be below ``C`` (not ``C * K``); shapes name the argument."""
    x, y = np.zeros((4, 3)), np.array([0, 0, 1, 1])
    centres = np.ones((2, 2, 3))
    for fn in (L.soft_triple_loss, L.sub_center_arcface_loss):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: labels must be in \[0, 2\)"):
            fn(x, np.array([0, 1, 2, 3]), centres)
        with pytest.raises(
            ValueError,
            match=rf"{fn.__name__}: centers has shape \(2, 2, 4\); it must be \(C, K, 3\)",
        ):
            fn(x, y, np.ones((2, 2, 4)))
    with pytest.raises(
        ValueError, match=r"manifold_loss: meta_classes has shape \(3,\); it must be \(4,\)"
    ):
        L.manifold_loss(x, np.array([0, 1, 0]), np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"vicreg_loss: ref_emb has shape \(4, 2\); it must have the same shape"
    ):
        L.vicreg_loss(x, np.zeros((4, 2)))
