"""The rest of rax 0.4's losses against rax itself, with ``segments``, ``lambdaweight_fn`` and ``label_fn``.

rax computes in the same JAX, so values and gradients (``jax.vjp`` of rax's function, float64) are compared on
the same randomised inputs, masked (``where``, with a fully masked list), weighted and segmented, for every
reduction (rax's ``reduce_fn=jnp.mean`` / ``jnp.sum`` / ``None``), in float64 (eager) and float32 (jit).
"""

from __future__ import annotations

import functools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rax

from jaxloss import losses as L


def _seed(*key) -> int:
    """A seed from the test's parameters that is the same in every process (``hash`` of a str is not)."""
    return zlib.crc32(repr(key).encode())


TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 2e-5, "atol": 2e-6}}
RAX_REDUCE = {"mean": jnp.mean, "sum": jnp.sum, "none": None}

PAIRWISE = {"hinge", "logistic", "soft01", "pmse", "qr", "qr_sq"}
#: name -> (jaxloss function, rax function, options for both)
CASES = {
    "softmax": (L.listwise_softmax_loss, rax.softmax_loss, {}),
    "poly1": (L.poly1_softmax_loss, rax.poly1_softmax_loss, {}),
    "poly1_eps": (L.poly1_softmax_loss, rax.poly1_softmax_loss, {"epsilon": -0.7}),
    "unique": (L.unique_softmax_loss, rax.unique_softmax_loss, {}),
    "unique_nogain": (L.unique_softmax_loss, rax.unique_softmax_loss, {"gain_fn": None}),
    "hinge": (L.pairwise_hinge_loss, rax.pairwise_hinge_loss, {}),
    "logistic": (L.pairwise_logistic_loss, rax.pairwise_logistic_loss, {}),
    "soft01": (L.pairwise_soft_zero_one_loss, rax.pairwise_soft_zero_one_loss, {}),
    "pmse": (L.pairwise_mse_loss, rax.pairwise_mse_loss, {}),
    "qr": (L.pairwise_qr_loss, rax.pairwise_qr_loss, {"tau": 0.3}),
    "qr_sq": (L.pairwise_qr_loss, rax.pairwise_qr_loss, {"tau": 0.8, "squared": True}),
    "listmle": (L.listmle_loss, rax.listmle_loss, {}),
    "sigmoid": (L.pointwise_sigmoid_loss, rax.pointwise_sigmoid_loss, {}),
    "mse": (L.pointwise_mse_loss, rax.pointwise_mse_loss, {}),
}


def _inputs(rng, shape, masked, segmented, weighted):
    scores = rng.standard_normal(shape) * 2
    labels = rng.integers(0, 4, shape).astype(np.float64)  # graded labels with ties
    kw = {}
    if masked:
        where = rng.random(shape) < 0.7
        where[0] = False  # a fully masked list
        kw["where"] = where
    if segmented:
        kw["segments"] = rng.integers(0, 3, shape)  # unsorted segment ids
    if weighted:  # (listmle takes no weights, as rax)
        kw["weights"] = rng.random(shape) + 0.5
    return scores, labels, kw


def _rax_shape(name, out, reduction, shape):
    """rax's unreduced pairwise output is (..., L * L); ours (..., L, L)."""
    base = name.split("_")[0] if name.startswith("qr") else name
    if (name in PAIRWISE or base in PAIRWISE) and reduction == "none":
        return out.reshape(*shape, shape[-1])
    return out


def _compare(fn, rax_fn, scores, labels, kw, reduction, name, shape, dtypes):
    rng = np.random.default_rng(7)

    @jax.numpy_rank_promotion("allow")  # rax broadcasts (L, L) masks against (..., L, L) ones
    def ref(s):
        out = rax_fn(s, jnp.asarray(labels), reduce_fn=RAX_REDUCE[reduction], **kw)
        return _rax_shape(name, out, reduction, shape)

    r_value, r_vjp = jax.vjp(ref, jnp.asarray(scores))
    cot = rng.standard_normal(r_value.shape) if reduction == "none" else np.float64(1.0)
    (r_grad,) = r_vjp(jnp.asarray(cot, r_value.dtype))
    for dtype, jit in dtypes:
        s = jnp.asarray(scores, dtype)
        f = lambda s: fn(s, labels, reduction=reduction, **kw)
        f = jax.jit(f) if jit else f
        value, vjp = jax.vjp(f, s)
        (grad,) = vjp(jnp.asarray(cot, dtype))
        assert value.dtype == dtype and value.shape == r_value.shape
        np.testing.assert_allclose(value, r_value, **TOL[dtype])
        assert np.all(np.isfinite(grad))
        ok = np.isfinite(np.asarray(r_grad))
        np.testing.assert_allclose(np.asarray(grad)[ok], np.asarray(r_grad)[ok], **TOL[dtype])
        # rax's gradient is nan where masked items meet -inf scores (and the nan can spread within a
        # list); there ours must be the central difference of rax's value
        if not ok.all() and dtype == np.float64:
            obj = jax.jit(lambda s: jnp.sum(jnp.asarray(cot) * ref(s)))
            for idx in zip(*np.nonzero(~ok)):
                step = np.zeros_like(scores)
                step[idx] = 1e-6
                fd = (obj(scores + step) - obj(scores - step)) / 2e-6
                np.testing.assert_allclose(np.asarray(grad)[idx], fd, rtol=1e-6, atol=1e-7)


#: (variant, reduction, float32 under jit too): every code path once, few compilations
VARIANTS = [("plain", "mean", False), ("masked_weighted", "sum", False), ("all", "none", True)]


@pytest.mark.parametrize("name", list(CASES))
def test_matches_rax(name):
    fn, rax_fn, options = CASES[name]
    for variant, reduction, f32 in VARIANTS:
        rng = np.random.default_rng(_seed(name, variant))
        shape = (3, 2, 7)
        scores, labels, kw = _inputs(
            rng,
            shape,
            # rax 0.4's listmle drops a segment whose valid items are split by masked ones (see
            # test_listmle_segment_with_masked_items_follows_the_formula): segments go unmasked there
            masked=variant == "masked_weighted" or (variant == "all" and name != "listmle"),
            segmented=variant == "all",
            weighted=variant in ("masked_weighted", "all") and name != "listmle",
        )
        if name.startswith("poly1") and variant == "all":
            # rax's poly1 broadcasts a (...,) list mask against (..., L) when segmented and masked: it
            # only runs for one unbatched list
            shape = shape[-1:]
            scores, labels = scores[1, 0], labels[1, 0]
            kw = {k: v[1, 0] for k, v in kw.items()}
        kw.update(options)
        dtypes = [(np.float64, False)] + ([(np.float32, True)] if f32 else [])
        _compare(fn, rax_fn, scores, labels, kw, reduction, name, shape, dtypes)


#: one case per kernel (the option variants share it) for the property tests
KERNELS = [n for n in CASES if n not in ("poly1_eps", "unique_nogain", "qr_sq")]

LAMBDAWEIGHTS = {
    "dcg": rax.dcg_lambdaweight,
    "dcg2": rax.dcg2_lambdaweight,
    "labeldiff": rax.labeldiff_lambdaweight,
    "dcg_topn": functools.partial(rax.dcg_lambdaweight, topn=3),
}


@pytest.mark.parametrize(
    "name, lambdaweight", list(zip(sorted(PAIRWISE), [*LAMBDAWEIGHTS, "dcg", "labeldiff"]))
)
def test_lambdaweights_match_rax(name, lambdaweight):
    fn, rax_fn, options = CASES[name]
    rng = np.random.default_rng(_seed(name, lambdaweight))
    shape = (2, 6)
    scores, labels, kw = _inputs(rng, shape, masked=True, segmented=True, weighted=True)
    kw.update(options, lambdaweight_fn=LAMBDAWEIGHTS[lambdaweight])
    _compare(fn, rax_fn, scores, labels, kw, "none", name, shape, [(np.float64, False)])


def test_softmax_label_fn_matches_rax(rng):
    shape = (3, 6)
    label_fn = rax.utils.normalize_probabilities
    for segmented in (False, True):
        scores, labels, kw = _inputs(
            rng, shape, masked=segmented, segmented=segmented, weighted=True
        )
        kw["label_fn"] = label_fn
        _compare(
            L.listwise_softmax_loss,
            rax.softmax_loss,
            scores,
            labels,
            kw,
            "mean",
            "softmax",
            shape,
            [(np.float64, False)],
        )


@pytest.mark.parametrize("name", KERNELS)
def test_fully_masked_gives_zero_with_finite_zero_gradients(name):
    fn, _, options = CASES[name]
    scores = np.random.default_rng(1).standard_normal((2, 4))
    labels = np.array([[0.0, 1.0, 2.0, 0.0], [1.0, 0.0, 3.0, 1.0]])
    segments = np.array([[0, 0, 1, 1], [2, 0, 2, 0]])
    for seg in (None, segments):
        where = np.zeros((2, 4), bool)
        f = functools.partial(fn, labels=labels, where=where, segments=seg, **options)
        assert f(scores) == 0 and f(scores, reduction="sum") == 0
        assert np.all(jax.grad(f)(scores) == 0)
        where = np.array([[True, True, True, False], [False] * 4])
        f = functools.partial(fn, labels=labels, where=where, segments=seg, **options)
        grad = jax.grad(f)(scores)
        assert np.all(np.isfinite(grad)) and np.all(grad[1] == 0) and np.all(grad[0, 3] == 0)
        if seg is None:
            assert np.all(np.isfinite(jax.hessian(f)(scores)))


@pytest.mark.parametrize("name", KERNELS)
def test_edges_and_half_precision(name):
    fn, _, options = CASES[name]
    fn = functools.partial(fn, **options)
    for s, y in [
        (np.zeros(5), np.arange(5.0)),
        (np.random.default_rng(0).standard_normal(4), np.ones(4)),
        (np.zeros((2, 0)), np.zeros((2, 0))),
        (np.array([1e9, -1e9, 0.0, 3e37]), np.array([0.0, 2.0, 1.0, 1.0])),
    ]:
        value = fn(s, y)
        grad = jax.grad(functools.partial(fn, labels=y))(s)
        assert value.shape == () and np.all(np.isfinite(grad))
        if np.max(np.abs(s), initial=0) < 1e9 or ("mse" not in name and "qr" not in name):
            assert np.isfinite(value)
    rng = np.random.default_rng(3)
    scores, labels = rng.standard_normal((3, 6)), rng.integers(0, 3, (3, 6))
    out = fn(jnp.asarray(scores, jnp.float16), labels)
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(
        np.float32(out),
        fn(scores.astype(np.float32), labels.astype(np.float32)),
        rtol=3e-3,
        atol=2e-3,
    )


@pytest.mark.parametrize("name", KERNELS)
def test_vmap_matches_batch(name):
    fn, _, options = CASES[name]
    scores, labels, kw = _inputs(
        np.random.default_rng(5), (4, 6), masked=True, segmented=True, weighted=True
    )
    if name == "listmle":
        kw.pop("weights")  # rax's listmle takes none
    f = functools.partial(fn, reduction="sum", **options)
    vm = jax.vmap(lambda s, y, w, g, m: f(s, y, where=w, segments=g, **m))(
        scores, labels, kw["where"], kw["segments"], {k: v for k, v in kw.items() if k == "weights"}
    )
    np.testing.assert_allclose(vm.sum(), f(scores, labels, **kw), rtol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        L.poly1_softmax_loss,
        L.unique_softmax_loss,
        L.pairwise_soft_zero_one_loss,
        L.pairwise_mse_loss,
        L.pairwise_qr_loss,
        L.pointwise_sigmoid_loss,
        L.pointwise_mse_loss,
    ],
)
def test_errors(fn):
    name = fn.__name__
    s, y = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        fn(s, y, reduction="batchmean")
    with pytest.raises(ValueError, match=rf"{name}: labels has shape \(2, 4\)"):
        fn(s, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=rf"{name}: where has shape \(3,\)"):
        fn(s, y, where=np.ones(3, bool))
    with pytest.raises(TypeError, match=f"{name}: where must be a boolean array"):
        fn(s, y, where=np.ones((2, 3)))
    with pytest.raises(TypeError, match=f"{name}: scores must have a floating dtype"):
        fn(np.zeros((2, 3), int), y)
    with pytest.raises(ValueError, match=rf"{name}: weights has shape \(3,\)"):
        fn(s, y, weights=np.ones(3))
    with pytest.raises(ValueError, match=rf"{name}: segments has shape \(2, 2\)"):
        fn(s, y, segments=np.ones((2, 2), int))
    if fn is L.pairwise_qr_loss:
        for tau in (0, 1.5, True):
            with pytest.raises(ValueError, match=f"{name}: tau must be a number in"):
                fn(s, y, tau=tau)
    if fn is L.poly1_softmax_loss:
        with pytest.raises(ValueError, match=f"{name}: epsilon must be a number"):
            fn(s, y, epsilon="1")


NN = {
    "Poly1SoftmaxLoss": (L.poly1_softmax_loss, {"epsilon": 0.5}),
    "UniqueSoftmaxLoss": (L.unique_softmax_loss, {"gain_fn": None}),
    "PairwiseSoftZeroOneLoss": (
        L.pairwise_soft_zero_one_loss,
        {"lambdaweight_fn": rax.dcg_lambdaweight},
    ),
    "PairwiseMSELoss": (L.pairwise_mse_loss, {"reduction": "sum"}),
    "PairwiseQRLoss": (L.pairwise_qr_loss, {"tau": 0.2, "squared": True}),
    "PointwiseSigmoidLoss": (L.pointwise_sigmoid_loss, {"reduction": "none"}),
    "PointwiseMSELoss": (L.pointwise_mse_loss, {}),
}


@pytest.mark.parametrize("name", list(NN))
def test_nn_objects(name):
    from jaxloss import nn

    fn, options = NN[name]
    scores, labels, kw = _inputs(np.random.default_rng(2), (2, 5), True, True, True)
    obj = getattr(nn, name)(**options)
    assert obj == getattr(nn, name)(**options) and hash(obj) == hash(getattr(nn, name)(**options))
    step = jax.jit(lambda f, s, y, kw: f(s, y, **kw), static_argnums=0)
    np.testing.assert_allclose(
        step(obj, scores, labels, kw), fn(scores, labels, **kw, **options), rtol=1e-12
    )
    with pytest.raises(TypeError):
        getattr(nn, name)("mean")  # options are keyword-only


def test_listmle_segment_with_masked_items_follows_the_formula():
    """A segment whose valid items are separated by masked ones: jaxloss gives the ListMLE formula.

    Found with random inputs (PYTHONHASHSEED=3 of the old, process-dependent seeding): in segment 0 of the
    list below only items 4 (label 1) and 6 (label 2) are valid; by the definition (Xia et al. 2008), the
    loss is ``-(s6 - logsumexp(s6, s4)) - (s4 - s4) = log(1 + exp(s4 - s6))``, which jaxloss returns on item
    4 (the last of the permutation's non-trivial terms), while rax 0.4 returns 0 for the whole segment.
    """
    s = np.array([2.517, 0.869, -3.039, -3.313, 3.199, -0.45, 2.788])
    labels = np.array([1.0, 3.0, 2.0, 2.0, 1.0, 0.0, 2.0])
    where = np.array([0, 0, 0, 0, 1, 1, 1], bool)
    segments = np.array([0, 1, 0, 1, 0, 2, 0])
    out = np.asarray(
        L.listmle_loss(s, labels, where=where, segments=segments, reduction="none"), np.float64
    )
    expected = np.log1p(np.exp(s[4] - s[6]))
    np.testing.assert_allclose(out.sum(), expected, rtol=1e-6)
    np.testing.assert_allclose(out[[0, 1, 2, 3, 5]], 0.0, atol=1e-12)
