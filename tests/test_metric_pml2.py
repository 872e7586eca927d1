"""More pytorch-metric-learning 2.9 losses against pml itself (torch, float64 reference).

Values and gradients with respect to the embeddings and to the learnable class centres are compared on
randomised batches, with pml's default reducer (``'mean'``) and pml's ``SumReducer`` (``'sum'``); our
float64 under ``jit`` and eagerly, and float32 against the same float64 reference.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import reducers as pml_reducers

from jaxloss import losses as L
from jaxloss import nn

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-4, "atol": 2e-5}
REDUCERS = {"mean": None, "sum": pml_reducers.SumReducer}


def _pml_value_and_grads(loss, args, params=()):
    """pml's loss of torch float64 ``args`` and its gradients w.r.t. the float args and ``params``."""
    tensors = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in args]
    out = loss(*tensors)
    wrt = [t for t in tensors if t.requires_grad] + [getattr(loss, p) for p in params]
    grads = torch.autograd.grad(out, wrt, allow_unused=True)
    return out.item(), [np.zeros(t.shape) if g is None else g.numpy() for t, g in zip(wrt, grads)]


def _check(fn, args, ref, ref_grads, argnums, full=True, **options):
    """Our value and gradients (float64 jit and eager, float32 jit) against pml's float64 ones; a ``'sum'``
    reduction, or ``full=False``, only in float64 under jit (the other modes run the same code)."""
    modes = [(np.float64, True)]
    if full and options.get("reduction", "mean") == "mean":
        modes += [(np.float64, False), (np.float32, True)]
    for dtype, jit in modes:
        g = jax.value_and_grad(lambda *a: fn(*a, **options), argnums=argnums)
        g = jax.jit(g) if jit else g
        cast = [jnp.asarray(a, dtype) if a.dtype.kind == "f" else a for a in args]
        value, grads = g(*cast)
        tol = F64 if dtype == np.float64 else F32
        assert value.dtype == dtype
        np.testing.assert_allclose(value, ref, **tol, err_msg=f"{fn.__name__} {options} value")
        for i, grad in enumerate(grads):
            np.testing.assert_allclose(
                grad, ref_grads[i], **tol, err_msg=f"{fn.__name__} {options} grad {i}"
            )


# ---------------------------------------------------------------------------------------------------------
# multiplicative angular margins (pml stores W as (D, C); ours is (C, D))

MARGIN_SOFTMAX = {
    "large_margin": (L.large_margin_softmax_loss, pml.LargeMarginSoftmaxLoss),
    "sphereface": (L.sphereface_loss, pml.SphereFaceLoss),
}


@pytest.mark.parametrize("name, margin, scale", [("large_margin", 4, 1.0), ("sphereface", 3, 0.7)])
def test_margin_softmax_matches_pml(name, margin, scale):
    fn, cls = MARGIN_SOFTMAX[name]
    rng = np.random.default_rng(margin)
    b, d, c = 8, 4, 3
    x, y, w = rng.standard_normal((b, d)), rng.integers(0, c, b), rng.standard_normal((c, d)) * 1.5
    x[0] = w[y[0]] * 0.7  # on its class centre: theta = 0, the k = 0 boundary
    for reduction, reducer in REDUCERS.items():
        loss = cls(c, d, margin=margin, scale=scale, reducer=reducer() if reducer else None)
        loss.W.data = torch.tensor(w.T.copy())
        ref, (gx, gw) = _pml_value_and_grads(loss, (x, y), ("W",))
        _check(
            fn, (x, y, w), ref, [gx, gw.T], (0, 2), margin=margin, scale=scale, reduction=reduction
        )


def test_margin_softmax_none_sums_and_errors():
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2]), rng.standard_normal((3, 3))
    for fn in (L.large_margin_softmax_loss, L.sphereface_loss):
        none = fn(x, y, w, reduction="none")
        assert none.shape == (6,)
        np.testing.assert_allclose(jnp.sum(none), fn(x, y, w, reduction="sum"), rtol=1e-12)
        # a zero embedding: finite value and gradients (torch's norm gradient is nan there)
        x0 = x.copy()
        x0[0] = 0.0
        grads = jax.grad(lambda a, b: fn(a, y, b), argnums=(0, 1))(jnp.asarray(x0), jnp.asarray(w))
        assert all(np.all(np.isfinite(g)) for g in grads)
        with pytest.raises(ValueError, match=f"{fn.__name__}: margin must be a positive int"):
            fn(x, y, w, margin=2.5)
        with pytest.raises(ValueError, match=f"{fn.__name__}: margin must be a positive int"):
            fn(x, y, w, margin=0)
        with pytest.raises(ValueError, match=rf"{fn.__name__}: labels must be in \[0, 3\)"):
            fn(x, y + 1, w)


# ---------------------------------------------------------------------------------------------------------
# batch-all triplets (pml's TripletMarginLoss, default AvgNonZeroReducer)


def _labelled(rng, b=9, d=4, c=3):
    x = rng.standard_normal((b, d))
    y = np.concatenate([rng.integers(0, c - 1, b - 1), [c - 1]])  # class c - 1 is a singleton
    rng.shuffle(y)
    return x, y


@pytest.mark.parametrize(
    "options",
    [{}, {"margin": 0.3, "swap": True}, {"margin": 0.2, "smooth_loss": True}, {"margin": -0.4}],
)
def test_batch_all_triplet_matches_pml(options):
    rng = np.random.default_rng(len(options) + int(abs(options.get("margin", 0)) * 10))
    x, y = _labelled(rng)
    for reduction, reducer in REDUCERS.items():
        loss = pml.TripletMarginLoss(**options, reducer=reducer() if reducer else None)
        ref, grads = _pml_value_and_grads(loss, (x, y))
        _check(
            L.batch_all_triplet_margin_loss,
            (x, y),
            ref,
            grads,
            (0,),
            full=not options,
            reduction=reduction,
            **options,
        )


def test_batch_all_triplet_degenerate_and_none():
    rng = np.random.default_rng(3)
    x, y = _labelled(rng, b=6)
    x[1] = x[0]  # identical rows: distance 0, zero gradient (torch's cdist)
    f = L.batch_all_triplet_margin_loss
    none = f(x, y, margin=0.5, reduction="none")
    assert none.shape == (6, 6, 6)
    np.testing.assert_allclose(jnp.sum(none), f(x, y, margin=0.5, reduction="sum"), rtol=1e-12)
    for labels in (y, np.zeros(6, int), np.arange(6)):  # one class / all singletons: no triplet, 0
        ref, (gx,) = _pml_value_and_grads(pml.TripletMarginLoss(margin=0.5), (x, labels))
        value, grad = jax.value_and_grad(lambda a: f(a, labels, margin=0.5))(x)
        np.testing.assert_allclose(value, ref, **F64)
        np.testing.assert_allclose(grad, gx, **F64)
    with pytest.raises(TypeError, match="batch_all_triplet_margin_loss: swap must be a bool"):
        f(x, y, swap=1)
    with pytest.raises(ValueError, match="batch_all_triplet_margin_loss: reduction must be one of"):
        f(x, y, reduction="batchmean")


# ---------------------------------------------------------------------------------------------------------
# VICReg (two views, no labels)


@pytest.mark.parametrize(
    "options",
    [{}, {"invariance_lambda": 3.0, "variance_mu": 2.0, "covariance_v": 0.5, "eps": 0.01}],
)
def test_vicreg_matches_pml(options):
    rng = np.random.default_rng(len(options))
    # small and large spreads: some dimensions below the unit standard deviation (hinge active), some above
    x = rng.standard_normal((7, 4)) * np.array([0.3, 0.8, 1.5, 2.0])
    r = rng.standard_normal((7, 4)) * np.array([1.7, 0.5, 1.1, 0.2])
    for reduction, reducer in REDUCERS.items():
        loss = pml.VICRegLoss(**options, reducer=reducer() if reducer else None)
        xt, rt = torch.tensor(x, requires_grad=True), torch.tensor(r, requires_grad=True)
        out = loss(xt, ref_emb=rt)
        grads = [g.numpy() for g in torch.autograd.grad(out, [xt, rt])]
        _check(
            L.vicreg_loss,
            (x, r),
            out.item(),
            grads,
            (0, 1),
            full=not options,
            reduction=reduction,
            **options,
        )


def test_vicreg_errors():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="vicreg_loss: reduction must be one of"):
        L.vicreg_loss(x, x, reduction="none")
    with pytest.raises(ValueError, match=r"vicreg_loss: ref_emb has shape \(4, 2\)"):
        L.vicreg_loss(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match="vicreg_loss: embeddings needs at least 2 rows"):
        L.vicreg_loss(x[:1], x[:1])
    # constant views: zero variance, finite gradients (eps keeps the square root away from 0)
    g = jax.grad(L.vicreg_loss, argnums=(0, 1))(jnp.asarray(x), jnp.asarray(x))
    assert all(np.all(np.isfinite(a)) for a in g)


# ---------------------------------------------------------------------------------------------------------
# histogram loss


class _HistogramLoss64(pml.HistogramLoss):
    """pml's HistogramLoss with its density's bin nodes in the distances' dtype: pml's own
    ``compute_density`` (2.9) multiplies the long bin indices by ``delta`` in torch's default float32,
    which leaves ~1e-7 relative errors in float64; this copy differs only in that cast."""

    def compute_density(self, distances):
        r_star = torch.floor((distances + 1) / self.delta).long()
        delta_ijr_a = (distances + 1 - r_star.to(distances.dtype) * self.delta) / self.delta
        delta_ijr_b = ((r_star.to(distances.dtype) + 1) * self.delta - 1 - distances) / self.delta
        density = torch.zeros(round(1 + 2 / self.delta), dtype=distances.dtype)
        density.scatter_add_(0, r_star + 1, delta_ijr_a)
        density.scatter_add_(0, r_star, delta_ijr_b)
        return density / distances.size(0)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("n_bins", [100, 7])
def test_histogram_matches_pml(n_bins):
    rng = np.random.default_rng(n_bins)
    x, y = _labelled(rng, b=10)
    for (
        reduction,
        reducer,
    ) in REDUCERS.items():  # already reduced: every pml reducer returns the value
        loss = _HistogramLoss64(n_bins=n_bins, reducer=reducer() if reducer else None)
        ref, grads = _pml_value_and_grads(loss, (x, y))
        _check(
            L.histogram_loss,
            (x, y),
            ref,
            grads,
            (0,),
            full=n_bins == 100,
            n_bins=n_bins,
            reduction=reduction,
        )
    # pml itself, float32 bin nodes and all, is the float64 reference (ours, above) to about 1e-6
    ref32, (gx32,) = _pml_value_and_grads(pml.HistogramLoss(n_bins=n_bins), (x, y))
    np.testing.assert_allclose(ref32, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx32, grads[0], rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_histogram_degenerate_none_and_errors():
    rng = np.random.default_rng(5)
    x, y = _labelled(rng, b=6)
    terms = L.histogram_loss(x, y, n_bins=10, reduction="none")
    assert terms.shape == (11,)
    np.testing.assert_allclose(jnp.sum(terms), L.histogram_loss(x, y, n_bins=10), rtol=1e-12)
    # only positives of one class: the other rows' negative pairs still count (their anchor has a positive)
    for labels in (np.array([0, 0, 1, 2, 3, 4]), np.zeros(6, int), np.arange(6)):
        ref, (gx,) = _pml_value_and_grads(_HistogramLoss64(n_bins=10), (x, labels))
        value, grad = jax.value_and_grad(lambda a: L.histogram_loss(a, labels, n_bins=10))(x)
        np.testing.assert_allclose(value, ref, **F64)
        np.testing.assert_allclose(grad, gx, **F64)
    x2 = x.copy()
    x2[1] = x2[0]  # a cosine of 1 (pml: index out of range): the last bin, finite gradients
    g = jax.grad(lambda a: L.histogram_loss(a, np.array([0, 0, 1, 1, 0, 1])))(jnp.asarray(x2))
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="histogram_loss: n_bins must be a positive int"):
        L.histogram_loss(x, y, n_bins=0)


# ---------------------------------------------------------------------------------------------------------
# ranked list loss


@pytest.mark.parametrize(
    "options",
    [
        {"margin": 0.4, "Tn": 1.0},
        {"margin": 0.8, "Tn": 2.0, "Tp": 1.5, "imbalance": 0.3, "alpha": 1.3},
    ],
)
def test_ranked_list_matches_pml(options):
    rng = np.random.default_rng(len(options))
    x, y = _labelled(rng, b=10)
    x[1] = x[0]  # an identical pair: distance 0, excluded from both sets (pml's ``> 0`` selection)
    for reduction, reducer in REDUCERS.items():
        loss = pml.RankedListLoss(**options, reducer=reducer() if reducer else None)
        ref, grads = _pml_value_and_grads(loss, (x, y))
        _check(
            L.ranked_list_loss,
            (x, y),
            ref,
            grads,
            (0,),
            full=len(options) == 2,
            reduction=reduction,
            **options,
        )


def test_ranked_list_degenerate_none_and_errors():
    rng = np.random.default_rng(6)
    x, y = _labelled(rng, b=6)
    f = L.ranked_list_loss
    none = f(x, y, margin=0.5, Tn=1.0, reduction="none")
    assert none.shape == (6,)
    np.testing.assert_allclose(
        jnp.sum(none), f(x, y, margin=0.5, Tn=1.0, reduction="sum"), rtol=1e-12
    )
    for labels in (np.zeros(6, int), np.arange(6)):
        ref, (gx,) = _pml_value_and_grads(pml.RankedListLoss(margin=0.5, Tn=1.0), (x, labels))
        value, grad = jax.value_and_grad(lambda a: f(a, labels, margin=0.5, Tn=1.0))(x)
        np.testing.assert_allclose(value, ref, **F64)
        np.testing.assert_allclose(grad, gx, **F64)
    with pytest.raises(ValueError, match=r"ranked_list_loss: imbalance must be in \[0, 1\]"):
        f(x, y, margin=0.5, Tn=1.0, imbalance=1.5)
    with pytest.raises(TypeError):
        f(x, y)  # margin and Tn are required, as in pml


# ---------------------------------------------------------------------------------------------------------
# PNP (already reduced in pml: every pml reducer returns the mean over anchors with a positive)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"variant": "Ds", "anneal": 0.1},
        {"variant": "Dq", "alpha": 2.0, "anneal": 0.05},
        {"variant": "Iu", "anneal": 0.2},
        {"variant": "Ib", "b": 3.0, "anneal": 0.3},
    ],
    ids=lambda o: o.get("variant", "O"),
)
def test_pnp_matches_pml(options):
    rng = np.random.default_rng(7)
    x, y = _labelled(rng, b=9)
    ref, grads = _pml_value_and_grads(pml.PNPLoss(**options), (x, y))
    _check(
        L.pnp_loss, (x, y), ref, grads, (0,), full=options.get("variant") in (None, "Dq"), **options
    )


def test_pnp_reductions_degenerate_and_errors():
    rng = np.random.default_rng(8)
    x, y = _labelled(rng, b=7)
    f = L.pnp_loss
    none = f(x, y, variant="Dq", anneal=0.1, reduction="none")
    has_positive = np.array([np.sum(y == t) > 1 for t in y])
    assert none.shape == (7,) and np.all(none[~has_positive] == 0)
    np.testing.assert_allclose(
        f(x, y, variant="Dq", anneal=0.1), np.mean(none[has_positive]), rtol=1e-12
    )
    np.testing.assert_allclose(
        f(x, y, variant="Dq", anneal=0.1, reduction="sum"), np.sum(none), rtol=1e-12
    )
    for labels in (np.zeros(7, int), np.arange(7)):  # no negatives / no positives
        ref, (gx,) = _pml_value_and_grads(pml.PNPLoss(), (x, labels))
        value, grad = jax.value_and_grad(lambda a: f(a, labels))(x)
        np.testing.assert_allclose(value, ref, **F64)
        np.testing.assert_allclose(grad, gx, **F64)
    with pytest.raises(ValueError, match="pnp_loss: variant must be one of"):
        f(x, y, variant="X")
    with pytest.raises(ValueError, match="pnp_loss: anneal must be > 0"):
        f(x, y, anneal=0.0)


# ---------------------------------------------------------------------------------------------------------
# Smooth-AP: pml needs labels sorted in equal classes, and its blocks are as long as the number of classes,
# so pml's batches here have C classes of C rows. pml stores its precisions in torch's default dtype
# (float32): the float64 reference runs with float64 as torch's default.


@pytest.fixture
def torch_float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("classes, temperature", [(3, 0.01), (4, 0.2)])
def test_smooth_ap_matches_pml(classes, temperature, torch_float64_default):
    rng = np.random.default_rng(classes)
    x, y = rng.standard_normal((classes * classes, 4)), np.repeat(np.arange(classes), classes)
    for reduction, reducer in REDUCERS.items():
        loss = pml.SmoothAPLoss(temperature=temperature, reducer=reducer() if reducer else None)
        ref, grads = _pml_value_and_grads(loss, (x, y))
        _check(
            L.smooth_ap_loss,
            (x, y),
            ref,
            grads,
            (0,),
            full=classes == 3,
            temperature=temperature,
            reduction=reduction,
        )
    # rows in any order, labels from the batch: the same per-row losses, permuted
    perm = rng.permutation(len(y))
    np.testing.assert_allclose(
        L.smooth_ap_loss(x[perm], y[perm], temperature=temperature, reduction="none"),
        L.smooth_ap_loss(x, y, temperature=temperature, reduction="none")[perm],
        rtol=1e-12,
    )


def test_smooth_ap_float32_pml_and_errors():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((9, 4)), np.repeat(np.arange(3), 3)
    ref, (gx,) = _pml_value_and_grads(pml.SmoothAPLoss(), (x, y))  # pml's float32 precisions
    value, grad = jax.value_and_grad(lambda a: L.smooth_ap_loss(a, y))(x)
    np.testing.assert_allclose(value, ref, rtol=1e-6)
    np.testing.assert_allclose(grad, gx, rtol=1e-5, atol=1e-7)
    # a singleton class: only the anchor itself, ranked behind the others by their sigmoids
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3])
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit[-1] @ unit.T
    expected = 1 - 1 / (1 + np.sum(1 / (1 + np.exp(-(sims[:-1] - sims[-1]) / 0.01))))
    np.testing.assert_allclose(
        L.smooth_ap_loss(x, labels, reduction="none")[-1], expected, rtol=1e-9
    )
    assert np.all(np.isfinite(jax.grad(lambda a: L.smooth_ap_loss(a, labels))(x)))
    with pytest.raises(ValueError, match="smooth_ap_loss: temperature must be > 0"):
        L.smooth_ap_loss(x, y, temperature=0.0)


# ---------------------------------------------------------------------------------------------------------
# manifold loss: pml inverts I - alpha S in float32 (``.float()``) whatever the dtype; the float64 reference
# runs pml with that cast made the identity. The meta classes go in as pml's indices_tuple.


def _pml_manifold(x, meta, proxies, options):
    loss = pml.ManifoldLoss(x.shape[1], K=proxies.shape[0], **options)
    loss.proxies.data = torch.tensor(proxies)
    xt = torch.tensor(x, requires_grad=True)
    out = loss(xt, indices_tuple=torch.tensor(meta))
    return out.item(), [g.numpy() for g in torch.autograd.grad(out, [xt, loss.proxies])]


@pytest.mark.parametrize("options", [{}, {"lambdaC": 0.5, "alpha": 0.6, "margin": 0.01}])
def test_manifold_matches_pml(options, monkeypatch):
    rng = np.random.default_rng(len(options))
    x, proxies = rng.standard_normal((8, 4)), rng.standard_normal((3, 4))
    meta = np.array([0, 1, 2, 0, 1, 2, 2, 0])
    ref32, grads32 = _pml_manifold(x, meta, proxies, options)  # pml as shipped (float32 inverse)
    monkeypatch.setattr(torch.Tensor, "float", lambda self: self)
    ref, grads = _pml_manifold(x, meta, proxies, options)
    for reduction in ("mean", "sum"):  # already reduced: every pml reducer returns the value
        _check(
            L.manifold_loss,
            (x, meta, proxies),
            ref,
            grads,
            (0, 2),
            full=not options,
            reduction=reduction,
            **options,
        )
    # pml as shipped is the float64 reference (ours, above) to float32 accuracy
    np.testing.assert_allclose(ref32, ref, rtol=1e-6)
    np.testing.assert_allclose(grads32[0], grads[0], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads32[1], grads[1], rtol=1e-4, atol=1e-7)


def test_manifold_errors():
    x, p, meta = np.ones((4, 3)), np.eye(2, 3), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"manifold_loss: meta_classes must be in \[0, 2\)"):
        L.manifold_loss(x, meta + 1, p)
    with pytest.raises(ValueError, match=r"manifold_loss: proxies has shape \(2, 2\)"):
        L.manifold_loss(x, meta, np.eye(2))
    with pytest.raises(ValueError, match="manifold_loss: lambdaC must be >= 0"):
        L.manifold_loss(x, meta, p, lambdaC=-1.0)
    with pytest.raises(ValueError, match="manifold_loss: reduction must be one of"):
        L.manifold_loss(x, meta, p, reduction="none")


# ---------------------------------------------------------------------------------------------------------
# dynamic soft margin: pml's running histogram (its module state) is our argument and second result


@pytest.mark.parametrize("options", [{}, {"num_bins": 7, "momentum": 0.3, "min_val": -2.5}])
def test_dynamic_soft_margin_matches_pml_over_steps(options):
    rng = np.random.default_rng(len(options))
    loss, histogram = pml.DynamicSoftMarginLoss(**options), None
    for step in range(2):  # the first step starts from zeros (momentum 1), the next one blends
        x, y = _labelled(rng, b=8)
        ref, grads = _pml_value_and_grads(loss, (x, y))
        ref_hist = loss.hist_.detach().numpy()
        loss.hist_ = loss.hist_.detach()
        fn = jax.value_and_grad(
            lambda a, h: L.dynamic_soft_margin_loss(a, y, h, return_histogram=True, **options),
            has_aux=True,
        )
        full = step == 1 and not options
        modes = [(np.float64, True)] + ([(np.float64, False), (np.float32, True)] if full else [])
        for dtype, jit in modes:
            h = None if histogram is None else jnp.asarray(histogram, dtype)
            (value, new_hist), grad = (jax.jit(fn) if jit else fn)(jnp.asarray(x, dtype), h)
            tol = F64 if dtype == np.float64 else F32
            assert value.dtype == dtype and new_hist.dtype == dtype
            np.testing.assert_allclose(value, ref, **tol, err_msg=f"step {step}")
            np.testing.assert_allclose(grad, grads[0], **tol, err_msg=f"step {step}")
            np.testing.assert_allclose(new_hist, ref_hist, **tol, err_msg=f"step {step}")
        histogram = ref_hist


def test_dynamic_soft_margin_degenerate_none_and_errors():
    rng = np.random.default_rng(12)
    x, y = _labelled(rng, b=6)
    f = L.dynamic_soft_margin_loss
    none = f(x, y, reduction="none")
    assert none.shape == (6, 6, 6)
    np.testing.assert_allclose(jnp.sum(none), f(x, y, reduction="sum"), rtol=1e-12)
    h = np.full(10, 0.1)
    for labels in (np.zeros(6, int), np.arange(6)):  # no triplet: 0, the histogram unchanged
        ref, (gx,) = _pml_value_and_grads(pml.DynamicSoftMarginLoss(), (x, labels))
        (value, new_h), grad = jax.value_and_grad(
            lambda a: f(a, labels, h, return_histogram=True), has_aux=True
        )(x)
        np.testing.assert_allclose(value, ref, **F64)
        np.testing.assert_allclose(grad, gx, **F64)
        np.testing.assert_array_equal(new_h, h)
    with pytest.raises(ValueError, match=r"dynamic_soft_margin_loss: histogram has shape \(3,\)"):
        f(x, y, np.ones(3))
    with pytest.raises(ValueError, match="dynamic_soft_margin_loss: min_val must be < 0"):
        f(x, y, min_val=0.5)


# ---------------------------------------------------------------------------------------------------------
# nn objects

NN = {
    "LargeMarginSoftmaxLoss": (L.large_margin_softmax_loss, {"margin": 2, "scale": 2.0}),
    "SphereFaceLoss": (L.sphereface_loss, {"margin": 3, "reduction": "sum"}),
    "BatchAllTripletMarginLoss": (L.batch_all_triplet_margin_loss, {"margin": 0.2, "swap": True}),
    "VICRegLoss": (L.vicreg_loss, {"variance_mu": 5.0, "reduction": "sum"}),
    "HistogramLoss": (L.histogram_loss, {"n_bins": 20}),
    "RankedListLoss": (L.ranked_list_loss, {"margin": 0.4, "Tn": 2.0, "Tp": 0.5}),
    "PNPLoss": (L.pnp_loss, {"variant": "Ds", "anneal": 0.1}),
    "SmoothAPLoss": (L.smooth_ap_loss, {"temperature": 0.05, "reduction": "none"}),
    "ManifoldLoss": (L.manifold_loss, {"alpha": 0.5, "lambdaC": 2.0}),
    "DynamicSoftMarginLoss": (L.dynamic_soft_margin_loss, {"num_bins": 5, "momentum": 0.5}),
}


@pytest.mark.parametrize("name", list(NN))
def test_nn_objects(name):
    fn, options = NN[name]
    rng = np.random.default_rng(4)
    x, y, w = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2]), rng.standard_normal((3, 3))
    obj = getattr(nn, name)(**options)
    assert obj == getattr(nn, name)(**options) and hash(obj) == hash(getattr(nn, name)(**options))
    step = jax.jit(lambda f, *a: f(*a), static_argnums=0)
    if name == "VICRegLoss":
        args = (x, x[::-1] + 0.5)  # two views
    elif name in ("LargeMarginSoftmaxLoss", "SphereFaceLoss", "ManifoldLoss"):
        args = (x, y, w)  # class centres (proxies)
    else:
        args = (x, y)
    np.testing.assert_allclose(step(obj, *args), fn(*args, **options), rtol=1e-12)
    with pytest.raises(TypeError):
        getattr(nn, name)(2)  # options are keyword-only
