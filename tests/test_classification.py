"""nll_loss and cross_entropy against torch 2.13 (computed in the same run), and the optax kernels."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.core.validation import checked
from jaxloss._src.families.classification import cross_entropy as ce_module
from jaxloss._src.families.classification.cross_entropy import (
    _class_block,
    _cross_entropy_indices,
    _cross_entropy_probs,
    cross_entropy,
    nll_loss,
)
from tests.torch_parity import compare

REDUCTIONS = ["none", "mean", "sum"]
SHAPES = {"batched": (7, 5), "unbatched": (5,), "kdim": (4, 5, 3, 2)}


def _index_target(rng, shape, ignore_index=-100, num_ignored=2):
    """Class indices for an input of ``shape`` (class axis 1, or 0 unbatched) with some ignored."""
    num_classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = rng.integers(0, num_classes, tshape)
    if tshape and num_ignored:
        flat = t.reshape(-1)
        flat[rng.choice(flat.size, num_ignored, replace=False)] = ignore_index
    return np.asarray(t, dtype=np.int64)


def _torch_fn(fn, shape, reduction):
    """torch's function; for unbatched input (a) a 0-d index target is restored (``torch_parity`` converts
    arrays with ``np.ascontiguousarray``, which makes 0-d arrays 1-d), and (b) ``'none'``, whose backward
    fails in torch 2.13 ("size mismatch") when unbatched, is computed on a batch of one and squeezed."""
    if len(shape) != 1:
        return fn

    def unbatched(x, t, *args, **kwargs):
        probs = tuple(t.shape) == tuple(x.shape)
        if not probs:
            t = t.reshape(())
        if reduction != "none":
            return fn(x, t, *args, **kwargs)
        return fn(x[None], t[None] if probs else t.reshape(1), *args, **kwargs)[0]

    return unbatched


MODES = [(np.float64, False), (np.float32, True)]


def _probs(rng, shape):
    axis = 0 if len(shape) == 1 else 1
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------------------------------------ cross_entropy


@pytest.mark.parametrize("dtype, jit", MODES)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_indices(rng, dtype, jit, shape, reduction):
    shape = SHAPES[shape]
    x = rng.standard_normal(shape) * 3
    t = _index_target(rng, shape)
    w = rng.uniform(0.2, 2.0, shape[0] if len(shape) == 1 else shape[1])
    ref = _torch_fn(F.cross_entropy, shape, reduction)
    kw = {"reduction": reduction}
    compare(cross_entropy, ref, [x, t], kwargs=kw, dtype=dtype, jit=jit)
    # weights + ignore_index + label smoothing together, and smoothing alone
    kw = {"reduction": reduction, "label_smoothing": 0.15}
    compare(cross_entropy, ref, [x, t, w], kwargs=kw, dtype=dtype, jit=jit)
    compare(cross_entropy, ref, [x, t], kwargs=kw, dtype=dtype, jit=not jit)


@pytest.mark.parametrize("smoothing", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_in_range_ignore_index(rng, smoothing, reduction):
    x = rng.standard_normal((9, 4))
    t = np.array([0, 1, 2, 3, 2, 2, 1, 0, 3])
    w = rng.uniform(0.2, 2.0, 4)
    kw = {"ignore_index": 2, "reduction": reduction, "label_smoothing": smoothing}
    compare(cross_entropy, F.cross_entropy, [x, t, w], kwargs=kw)
    compare(cross_entropy, F.cross_entropy, [x, t], kwargs=kw, jit=True)


@pytest.mark.parametrize("dtype, jit", MODES)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(rng, dtype, jit, shape, reduction):
    shape = SHAPES[shape]
    x = rng.standard_normal(shape) * 2
    p = _probs(rng, shape)
    w = rng.uniform(0.2, 2.0, shape[0] if len(shape) == 1 else shape[1])
    ref = _torch_fn(F.cross_entropy, shape, reduction)
    # gradients with respect to the logits and to the probability target (torch differentiates both)
    kw = {"reduction": reduction}
    compare(cross_entropy, ref, [x, p], kwargs=kw, diff=(0, 1), dtype=dtype, jit=jit)
    kw = {"reduction": reduction, "label_smoothing": 0.25}
    compare(cross_entropy, ref, [x, p, w], kwargs=kw, diff=(0, 1), dtype=dtype, jit=not jit)
    if reduction == "mean":
        # a negative ignore_index is accepted (and has no effect) with probabilities, as in torch
        compare(cross_entropy, ref, [x, p], kwargs=dict(kw, ignore_index=-1), dtype=dtype, jit=jit)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_all_ignored(reduction, smoothing):
    """'mean' over no target is 0/0 = nan (value and gradient) as torch; 'sum' and 'none' give zeros."""
    x = np.random.default_rng(1).standard_normal((3, 4))
    t = np.full((3,), -100)
    w = np.array([0.5, 1.0, 2.0, 1.5])
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    jv, _tv = compare(cross_entropy, F.cross_entropy, [x, t, w], kwargs=kw)
    assert np.isnan(jv).all() == (reduction == "mean")
    compare(cross_entropy, F.cross_entropy, [x, t], kwargs=kw, jit=True)


def test_cross_entropy_empty_batch():
    x = np.zeros((0, 4))
    for target in (np.zeros((0,), np.int64), np.zeros((0, 4))):
        for reduction in REDUCTIONS:
            got = cross_entropy(x, target, reduction=reduction)
            want = F.cross_entropy(
                torch.from_numpy(x), torch.from_numpy(target), reduction=reduction
            )
            np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_cross_entropy_extreme_logits():
    """Large logits keep full precision (log_softmax form); -inf logits behave as in torch."""
    for x, t in [
        (np.array([[1e4, 1e4 + 0.5, 1e4 + 0.25], [-1e9, 3.0, 1e9]]), np.array([0, 1])),
        (np.array([[-np.inf, 0.0, 1.0], [0.0, 0.0, 0.0]]), np.array([1, 2])),
    ]:
        for dtype in (np.float64, np.float32):
            compare(
                cross_entropy, F.cross_entropy, [x, t], kwargs={"reduction": "none"}, dtype=dtype
            )
    x = np.array([[-np.inf, 0.0, 1.0]])
    got = cross_entropy(x, np.array([0]), reduction="none")
    assert np.isposinf(np.asarray(got)).all()


def test_cross_entropy_legacy_reduction(rng):
    x = rng.standard_normal((6, 3))
    t = rng.integers(0, 3, 6)
    for size_average, reduce in [(None, False), (False, None), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = F.cross_entropy(
                torch.from_numpy(x), torch.from_numpy(t), size_average=size_average, reduce=reduce
            )
        with pytest.warns(DeprecationWarning):
            got = cross_entropy(x, t, size_average=size_average, reduce=reduce)
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_cross_entropy_half_precision(rng, dtype):
    """Half precision is computed in float32 and cast back; compare with torch in float64."""
    x = rng.standard_normal((6, 5))
    t = _index_target(rng, (6, 5))
    xh = jnp.asarray(x, dtype)
    x64 = np.asarray(xh.astype(jnp.float64))
    for kw in [{}, {"label_smoothing": 0.1, "reduction": "none"}]:
        got = cross_entropy(xh, t, **kw)
        assert got.dtype == dtype
        want = F.cross_entropy(torch.from_numpy(x64), torch.from_numpy(t), **kw).numpy()
        np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-2, atol=1e-2)
    g = jax.grad(lambda x: cross_entropy(x, t).astype(jnp.float32))(xh)
    assert g.dtype == dtype


def test_cross_entropy_transforms(rng):
    """vmap, jvp and the Hessian work (XLA autodiff; no custom rule to break)."""
    x = rng.standard_normal((3, 4))
    t = np.array([0, 3, -100])
    w = rng.uniform(0.5, 2, 4)
    f = lambda x: cross_entropy(x, t, w, label_smoothing=0.1)
    xt = torch.from_numpy(x)
    want_h = torch.autograd.functional.hessian(
        lambda x: F.cross_entropy(x, torch.from_numpy(t), torch.from_numpy(w), label_smoothing=0.1),
        xt,
    )
    np.testing.assert_allclose(np.asarray(jax.hessian(f)(x)), want_h.numpy(), rtol=1e-9, atol=1e-12)
    v = rng.standard_normal(x.shape)
    _, tangent = jax.jvp(f, (x,), (v,))
    np.testing.assert_allclose(float(tangent), float(np.sum(jax.grad(f)(x) * v)), rtol=1e-10)
    xs = np.stack([x, -x])
    batched = jax.vmap(f)(xs)
    np.testing.assert_allclose(np.asarray(batched), [float(f(x)), float(f(-x))], rtol=1e-12)


def _weighted_smoothing_reference(x, t, w, eps, reduction, ignore_index=-100):
    """torch's formula written out with an explicit ``log_softmax`` (no kernel of jaxloss involved)."""
    logp = jax.nn.log_softmax(x, axis=1)
    keep = t != ignore_index
    safe = jnp.where(keep, t, 0)
    w_t = jnp.where(keep, w[safe], 0.0)
    nll = -jnp.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    smooth = -jnp.sum(w[None, :] * logp, axis=1)
    loss = jnp.where(keep, (1 - eps) * w_t * nll + eps / x.shape[1] * smooth, 0.0)
    if reduction == "none":
        return loss
    return jnp.sum(loss) / (jnp.sum(w_t) if reduction == "mean" else 1.0)


@pytest.mark.parametrize("num_classes", [24, 256])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weighted_smoothing_class_blocks(rng, num_classes, reduction):
    """weight + ignore_index + label smoothing with C a multiple of 8, where the statistics, the target gather
    and the gradient run on the (N, C // k, k) view (``_class_block``): torch's values and logit gradients
    (float64 and float32, eager and jit), the weight gradient, jvp and vmap; smoothing alone beside it."""
    assert 0 < _class_block(num_classes) < num_classes
    x = rng.standard_normal((6, num_classes)) * 3
    t = _index_target(rng, (6, num_classes))
    w = rng.uniform(0.2, 2.0, num_classes)
    kw = {"reduction": reduction, "label_smoothing": 0.15}
    for dtype, jit in MODES + [(np.float64, True), (np.float32, False)]:
        compare(cross_entropy, F.cross_entropy, [x, t, w], kwargs=kw, dtype=dtype, jit=jit)
        compare(cross_entropy, F.cross_entropy, [x, t], kwargs=kw, dtype=dtype, jit=jit)
    # large logits keep their precision (no sum(w x) - max * sum(w) cancellation)
    for offset in (1e4, -1e9):
        for args in ([x + offset, t, w], [x + offset, t]):
            compare(cross_entropy, F.cross_entropy, args, kwargs=kw)
            compare(cross_entropy, F.cross_entropy, args, kwargs=kw, dtype=np.float32)

    # torch does not differentiate the weights; jaxloss does, as the formula written out does
    def loss(x, w):
        return jnp.sum(cross_entropy(x, t, w, **kw))

    def ref(x, w):
        return jnp.sum(_weighted_smoothing_reference(x, t, w, 0.15, reduction))

    np.testing.assert_allclose(float(loss(x, w)), float(ref(x, w)), rtol=1e-12)
    for got, want in zip(jax.grad(loss, (0, 1))(x, w), jax.grad(ref, (0, 1))(x, w)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-13)
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    _, tangent = jax.jvp(loss, (x, w), (vx, vw))
    _, want_tangent = jax.jvp(ref, (x, w), (vx, vw))
    np.testing.assert_allclose(float(tangent), float(want_tangent), rtol=1e-10)
    xs = np.stack([x, -x])
    np.testing.assert_allclose(
        np.asarray(jax.vmap(loss, (0, None))(xs, w)),
        [float(loss(x, w)), float(loss(-x, w))],
        rtol=1e-12,
    )


def test_cross_entropy_weighted_smoothing_class_blocks_hessian(rng):
    """Second derivatives through the (N, C // k, k) view match torch's Hessian."""
    x = rng.standard_normal((3, 24))
    t = np.array([5, 23, -100])
    w = rng.uniform(0.5, 2, 24)
    for weight in (w, None):
        tw = None if weight is None else torch.from_numpy(weight)
        want_h = torch.autograd.functional.hessian(
            lambda x: F.cross_entropy(x, torch.from_numpy(t), tw, label_smoothing=0.1),
            torch.from_numpy(x),
        )
        got_h = jax.hessian(lambda x: cross_entropy(x, t, weight, label_smoothing=0.1))(x)
        np.testing.assert_allclose(np.asarray(got_h), want_h.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_class_blocks_out_of_range_under_jit(rng):
    """An out-of-range target under plain jit gives what the unsplit gather gives (nan), ignored ones 0."""
    x = rng.standard_normal((3, 24))
    w = rng.uniform(0.5, 2, 24)
    t = jnp.array([30, -100, 2])
    for weight in (w, None):
        got = jax.jit(
            lambda x, t: cross_entropy(x, t, weight, label_smoothing=0.1, reduction="none")
        )(x, t)
        assert np.isnan(got[0]) and got[1] == 0 and np.isfinite(got[2])


@pytest.fixture(params=["one-hot", "scatter"])
def gradient_path(request, monkeypatch):
    """Both ways the target's logit gets its gradient: a fused one-hot select (small logits) and the
    gather's scatter (above ``_ONE_HOT_GRADIENT_MAX`` elements, forced here with a limit of 0)."""
    if request.param == "scatter":
        monkeypatch.setattr(ce_module, "_ONE_HOT_GRADIENT_MAX", 0)
    return request.param


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_paths_match_torch(rng, gradient_path, reduction):
    x = rng.standard_normal((6, 5, 3)) * 3
    t = _index_target(rng, x.shape)
    w = rng.uniform(0.2, 2.0, 5)
    t3 = np.where(t == -100, 3, t)  # ignore_index=3: an in-range class
    for tt, kw in (
        (t, {}),
        (t, {"label_smoothing": 0.2}),
        (t3, {"ignore_index": 3, "label_smoothing": 0.1}),
    ):
        kw = {"reduction": reduction, **kw}
        compare(cross_entropy, F.cross_entropy, [x, tt], kwargs=kw)
        compare(cross_entropy, F.cross_entropy, [x, tt, w], kwargs=kw, dtype=np.float32, jit=True)
    logp = np.log(_probs(rng, x.shape))
    compare(nll_loss, F.nll_loss, [logp, t, w], kwargs={"reduction": reduction}, jit=True)


def test_gradient_paths_transforms(rng, gradient_path):
    x = rng.standard_normal((4, 5))
    t = np.array([0, 4, -100, 2])
    f = lambda x: cross_entropy(x, t, label_smoothing=0.1)
    want_h = torch.autograd.functional.hessian(
        lambda x: F.cross_entropy(x, torch.from_numpy(t), label_smoothing=0.1), torch.from_numpy(x)
    )
    np.testing.assert_allclose(np.asarray(jax.hessian(f)(x)), want_h.numpy(), rtol=1e-9, atol=1e-12)
    v = rng.standard_normal(x.shape)
    _, tangent = jax.jvp(f, (x,), (v,))
    np.testing.assert_allclose(float(tangent), float(np.sum(jax.grad(f)(x) * v)), rtol=1e-10)
    batched = jax.vmap(f)(np.stack([x, -x]))
    np.testing.assert_allclose(np.asarray(batched), [float(f(x)), float(f(-x))], rtol=1e-12)


def test_gradient_paths_invalid_targets_under_jit(rng, gradient_path):
    """Under jit (no eager check) a target out of range, negative included, gives nan and no gradient
    at all to its row's logits beyond the normaliser's; the optax face wraps negative labels as optax."""
    x = rng.standard_normal((4, 6))
    t = jnp.array([7, -3, -100, 1])
    loss = jax.jit(lambda x, t: cross_entropy(x, t, reduction="none"))(x, t)
    assert np.isnan(loss[0]) and np.isnan(loss[1]) and loss[2] == 0 and np.isfinite(loss[3])
    grad = jax.jit(jax.grad(lambda x, t: cross_entropy(x, t, reduction="sum")))(x, t)
    softmax = np.asarray(jax.nn.softmax(x, axis=1))
    np.testing.assert_allclose(np.asarray(grad[:2]), softmax[:2], rtol=1e-12)
    assert np.all(np.asarray(grad[2]) == 0)
    labels = jnp.array([0, -1, -6, 5])
    ours = jax.grad(lambda x: jnp.sum(_cross_entropy_indices(x, labels)))(x)
    want = jax.grad(
        lambda x: jnp.sum(optax.losses.softmax_cross_entropy_with_integer_labels(x, labels))
    )(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(want), rtol=1e-12)


def test_small_gradient_has_no_scatter(rng):
    """Small logits: the target's gradient is fused into the gradient pass (no scatter kernel to
    compile); large ones keep the scatter (a fused select is slower there)."""
    for shape, scatter in (((256, 512), False), ((1024, 2048), True)):
        x = jnp.zeros(shape, jnp.float32)
        t = jnp.zeros(shape[:1], jnp.int32)
        f = jax.jit(jax.grad(lambda x, t: cross_entropy(x, t, label_smoothing=0.1)))
        assert ("scatter(" in f.lower(x, t).compile().as_text()) == scatter


def test_cross_entropy_errors(rng):
    x = np.zeros((3, 5))
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: target has shape \(3, 4\); for input \(3, 5\) it must be \(3,\) \(class indices\) "
        r"or \(3, 5\) \(probabilities\)",
    ):
        cross_entropy(x, np.zeros((3, 4)))
    with pytest.raises(
        TypeError, match="cross_entropy: target holds class indices and must have an integer"
    ):
        cross_entropy(x, np.zeros((3,)))
    with pytest.raises(
        TypeError, match="cross_entropy: target of shape .* must have a floating dtype"
    ):
        cross_entropy(x, np.zeros((3, 5), np.int32))
    with pytest.raises(
        ValueError, match=r"cross_entropy: label_smoothing must be a float in \[0, 1\]; got 1.5"
    ):
        cross_entropy(x, np.zeros((3,), np.int32), label_smoothing=1.5)
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing"):
        cross_entropy(x, np.zeros((3,), np.int32), label_smoothing=-0.1)
    with pytest.raises(
        ValueError, match=r"cross_entropy: weight has shape \(4,\); it must be \(5,\)"
    ):
        cross_entropy(x, np.zeros((3,), np.int32), weight=np.ones(4))
    with pytest.raises(
        ValueError, match="cross_entropy: ignore_index is not supported for probability targets"
    ):
        cross_entropy(x, np.full((3, 5), 0.2), ignore_index=1)
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        cross_entropy(x, np.zeros((3,), np.int32), reduction="batchmean")
    with pytest.raises(ValueError, match="cross_entropy: input must be"):
        cross_entropy(np.float64(1.0), np.zeros((), np.int32))
    with pytest.raises(TypeError, match="cross_entropy: input must have a floating dtype"):
        cross_entropy(np.zeros((3, 5), np.int32), np.zeros((3,), np.int32))


def test_cross_entropy_data_errors():
    """Out-of-range targets: ValueError eagerly (torch raises), reported by checkify under jit."""
    x = np.zeros((2, 3))
    for bad in ([0, 3], [-1, 0], [0, -100 + 1]):
        with pytest.raises(
            ValueError, match=r"cross_entropy: target values must be in \[0, 3\) or equal "
        ):
            cross_entropy(x, np.array(bad))
        with pytest.raises(IndexError):
            F.cross_entropy(torch.from_numpy(x), torch.tensor(bad))
    with pytest.raises(ValueError, match="ignore_index=1"):
        cross_entropy(x, np.array([0, -100]), ignore_index=1)
    err, _ = jax.jit(checked(cross_entropy))(jnp.asarray(x), jnp.array([0, 5]))
    assert "cross_entropy: target values must be in [0, 3)" in err.get()
    err, value = jax.jit(checked(cross_entropy))(jnp.asarray(x), jnp.array([0, 2]))
    assert err.get() is None
    np.testing.assert_allclose(float(value), np.log(3.0))
    # a concrete target closed over by a jitted function is still checked while tracing
    bad = jnp.array([0, 7])
    with pytest.raises(ValueError, match="cross_entropy: target values"):
        jax.jit(lambda x: cross_entropy(x, bad))(jnp.asarray(x))


# ---------------------------------------------------------------------------------------------------- nll_loss


@pytest.mark.parametrize("dtype, jit", MODES)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(rng, dtype, jit, shape, reduction):
    shape = SHAPES[shape]
    axis = 0 if len(shape) == 1 else 1
    logp = np.log(_probs(rng, shape))
    t = _index_target(rng, shape)
    w = rng.uniform(0.2, 2.0, shape[axis])
    ref = _torch_fn(F.nll_loss, shape, reduction)
    compare(nll_loss, ref, [logp, t, w], kwargs={"reduction": reduction}, dtype=dtype, jit=jit)
    if len(shape) > 1:
        t2 = np.where(t == -100, 1, t)
        kw = {"reduction": reduction, "ignore_index": 1}
        compare(nll_loss, ref, [logp, t2], kwargs=kw, dtype=dtype, jit=not jit)


def test_nll_loss_all_ignored_and_empty():
    logp = np.log(np.full((2, 3), 1 / 3))
    t = np.array([-100, -100])
    for reduction in REDUCTIONS:
        compare(nll_loss, F.nll_loss, [logp, t, np.ones(3)], kwargs={"reduction": reduction})
    assert np.isnan(float(nll_loss(logp, t)))
    assert np.isnan(float(nll_loss(np.zeros((0, 3)), np.zeros((0,), np.int64))))


def test_nll_loss_legacy_and_errors():
    logp = np.log(np.full((2, 3), 1 / 3))
    t = np.array([0, 2])
    with pytest.warns(DeprecationWarning):
        assert nll_loss(logp, t, reduce=False).shape == (2,)
    with pytest.raises(
        ValueError,
        match=r"nll_loss: target has shape \(2, 3\); for input \(2, 3\) it must be \(2,\)",
    ):
        nll_loss(logp, np.zeros((2, 3), np.int64))
    with pytest.raises(
        ValueError, match=r"nll_loss: target values must be in \[0, 3\) or equal ignore_index=-100"
    ):
        nll_loss(logp, np.array([0, 3]))
    with pytest.raises(TypeError, match="nll_loss: target holds class indices"):
        nll_loss(logp, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"nll_loss: weight has shape \(2,\)"):
        nll_loss(logp, t, weight=np.ones(2))
    err, _ = jax.jit(checked(nll_loss))(jnp.zeros((2, 3)), jnp.array([0, 5]))
    assert err.get().startswith(
        "nll_loss: target values must be in [0, 3) or equal ignore_index=-100"
    )


# ----------------------------------------------------------------------------------------------- optax kernels


def test_kernels_match_optax(rng):
    logits = rng.standard_normal((2, 3, 6)) * 4
    labels = rng.integers(0, 6, (2, 3))
    probs = _probs(rng, (2, 6, 3)).transpose(0, 2, 1)
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_indices(logits, labels)),
        np.asarray(optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels)),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_probs(logits, probs)),
        np.asarray(optax.losses.softmax_cross_entropy(logits, probs)),
        rtol=1e-12,
    )
    # class axis elsewhere, and a tuple of class axes (flat row-major labels, as optax)
    moved = np.moveaxis(logits, -1, 1)
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_indices(moved, labels, axis=1)),
        np.asarray(optax.losses.softmax_cross_entropy_with_integer_labels(moved, labels, axis=1)),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_probs(moved, np.moveaxis(probs, -1, 1), axis=1)),
        np.asarray(optax.losses.softmax_cross_entropy(moved, np.moveaxis(probs, -1, 1), axis=1)),
        rtol=1e-12,
    )
    two = logits.reshape(2, 3, 2, 3)
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_indices(two, labels, axis=(2, 3))),
        np.asarray(
            optax.losses.softmax_cross_entropy_with_integer_labels(two, labels, axis=(2, 3))
        ),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        np.asarray(_cross_entropy_probs(two, probs.reshape(2, 3, 2, 3), axis=(2, 3))),
        np.asarray(optax.losses.softmax_cross_entropy(two, probs.reshape(2, 3, 2, 3), axis=(2, 3))),
        rtol=1e-12,
    )
    g1 = jax.grad(lambda z: _cross_entropy_indices(z, labels).sum())(logits)
    g2 = jax.grad(
        lambda z: optax.losses.softmax_cross_entropy_with_integer_labels(z, labels).sum()
    )(logits)
    np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-10, atol=1e-14)
