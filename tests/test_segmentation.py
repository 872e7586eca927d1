"""Segmentation losses against Keras 3 (``KERAS_BACKEND=jax``), optax 0.2.8 and written-out float64 references.

* Dice / Tversky: ``keras.losses.dice`` / ``keras.losses.tversky`` (Keras 3.15, jax backend), values and
  gradients (``jax.grad`` through Keras's own function), and optax 0.2.8's ``dice_loss`` /
  ``binary_dice_loss`` where the semantics overlap.
* Every region loss and option: a float64 numpy transcription of the formulas in the docstrings
  (Milletari et al. 2016; Rahman & Wang 2016; Salehi et al. 2017; Abraham & Khan 2019); gradients by
  central finite differences of that reference.
* Lovasz: a float64 numpy transcription of Berman, Rannen Triki & Blaschko (CVPR 2018)'s reference code
  ``lovasz_losses.py`` (``lovasz_grad``, ``lovasz_softmax_flat``, ``lovasz_hinge_flat``, ``flatten_*``),
  with gradients from the Lovasz-extension formula (sort order held fixed) and by finite differences.
"""

from __future__ import annotations

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

from jaxloss._src.families.segmentation import (
    _dice_kernel,
    _safe_ratio,
    dice_loss,
    focal_tversky_loss,
    jaccard_loss,
    lovasz_hinge_loss,
    lovasz_softmax_loss,
    tversky_loss,
)

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 2e-5, "atol": 2e-6}}
GTOL = {np.float64: {"rtol": 1e-6, "atol": 1e-8}, np.float32: {"rtol": 2e-4, "atol": 2e-5}}

assert keras.backend.backend() == "jax"


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _fd_grad(f, x, h=1e-6):
    """Central finite differences of a scalar numpy function (float64)."""
    x = np.array(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


def _run(fn, x, args, kwargs, jit, cot=None):
    """Value and VJP (random cotangent ``cot``) of ``fn(x, *args, **kwargs)``."""
    f = lambda x: fn(x, *args, **kwargs)
    if jit:
        f = jax.jit(f)
    value, vjp = jax.vjp(f, jnp.asarray(x))
    cot = np.ones(value.shape) if cot is None else cot
    (grad,) = vjp(jnp.asarray(cot, value.dtype))
    return np.asarray(value), np.asarray(grad)


# --------------------------------------------------------------------------------------------------------
# Written-out float64 reference for the region losses (the formulas of the docstrings).


def np_region(
    kind,
    x,
    targets,
    *,
    activation=None,
    smooth=0.0,
    eps=1e-7,
    per_image=False,
    ignore_index=None,
    class_weights=None,
    reduction="mean",
    alpha=0.5,
    beta=0.5,
    gamma=0.75,
):
    x = np.asarray(x, np.float64)
    c = x.shape[-1]
    p = {None: lambda v: v, "softmax": _softmax, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[
        activation
    ](x)
    targets = np.asarray(targets)
    if targets.shape == x.shape:
        keep = np.ones(x.shape) if ignore_index is None else (targets != ignore_index).astype(float)
        t = np.where(keep > 0, targets, 0).astype(np.float64)
    else:
        keep = (
            np.ones(targets.shape)
            if ignore_index is None
            else (targets != ignore_index).astype(float)
        )
        keep = np.repeat(keep[..., None], c, -1)
        t = (targets[..., None] == np.arange(c)).astype(np.float64) * keep
    p = p * keep
    axis = tuple(range(1, x.ndim - 1)) if per_image else tuple(range(x.ndim - 1))
    i, ps, ts = (p * t).sum(axis), p.sum(axis), t.sum(axis)
    if kind == "dice":
        num, den = 2 * i + smooth, ps + ts + smooth + eps
    elif kind == "jaccard":
        num, den = i + smooth, ps + ts - i + smooth + eps
    else:  # Tversky: alpha on false positives ps - i, beta on false negatives ts - i
        num, den = i + smooth, i + alpha * (ps - i) + beta * (ts - i) + smooth + eps
    ratio = np.where(den == 0, 1.0, num / np.where(den == 0, 1.0, den))
    loss = 1 - ratio
    if kind == "focal_tversky":
        loss = np.maximum(loss, 0) ** gamma
    if class_weights is not None:
        loss = loss * class_weights
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


REGION = {
    "dice": dice_loss,
    "jaccard": jaccard_loss,
    "tversky": tversky_loss,
    "focal_tversky": focal_tversky_loss,
}

# Every option at least once, combined differently per case.
REGION_CASES = [
    {},
    {"per_image": True, "reduction": "none"},
    {"activation": "softmax", "smooth": 1.0, "reduction": "sum"},
    {"activation": "sigmoid", "per_image": True, "eps": 0.0, "smooth": 0.5},
    {"ignore_index": 255, "per_image": True, "reduction": "none"},
    {"ignore_index": -1, "activation": "softmax", "class_weights": True},
    {"targets": "soft", "activation": "softmax", "per_image": True, "reduction": "none"},
    {"targets": "soft", "ignore_index": -1, "class_weights": True, "reduction": "sum"},
]


def _region_inputs(rng, case, shape=(2, 3, 4, 3)):
    case = dict(case)
    logits = rng.standard_normal(shape)
    x = logits if case.get("activation") else _softmax(logits)
    labels = rng.integers(0, shape[-1], shape[:-1])
    ignore = case.get("ignore_index")
    if case.pop("targets", None) == "soft":
        targets = rng.random(shape)
        if ignore is not None:
            targets[rng.random(shape) < 0.2] = ignore
    else:
        targets = labels
        if ignore is not None:
            targets = np.where(rng.random(labels.shape) < 0.25, ignore, labels)
            targets[0] = ignore  # one image entirely ignored
    if case.get("class_weights"):
        case["class_weights"] = rng.random(shape[-1]) + 0.5
    return x, targets, case


def _dtype_jit_pairs(case):
    """float64 and float32 in one test, one eager and one jitted (alternating with the case)."""
    return [(np.float64, case % 2 == 0), (np.float32, case % 2 == 1)]


@pytest.mark.parametrize("kind", list(REGION))
@pytest.mark.parametrize("case", range(len(REGION_CASES)))
def test_region_losses_match_reference(kind, case):
    rng = np.random.default_rng(100 + case)
    x, targets, kwargs = _region_inputs(rng, REGION_CASES[case])
    if kind in ("tversky", "focal_tversky"):
        kwargs.update(alpha=0.3, beta=0.8)
    if kind == "focal_tversky":
        kwargs.update(gamma=1.7 if case % 2 else 0.75)
    ref = np_region(kind, x, targets, **kwargs)
    cot = rng.standard_normal(np.shape(ref))
    expected_grad = _fd_grad(lambda v: np.sum(cot * np_region(kind, v, targets, **kwargs)), x)
    for dtype, jit in _dtype_jit_pairs(case):
        value, grad = _run(REGION[kind], x.astype(dtype), (targets,), kwargs, jit, cot)
        assert value.dtype == dtype and value.shape == np.shape(ref)
        np.testing.assert_allclose(value, ref, **TOL[dtype])
        np.testing.assert_allclose(grad, expected_grad, **GTOL[dtype])


def test_jaccard_is_tversky_one_one(rng):
    x, y = _softmax(rng.standard_normal((2, 5, 4))), rng.integers(0, 4, (2, 5))
    np.testing.assert_allclose(
        jaccard_loss(x, y, smooth=1.0, reduction="none"),
        tversky_loss(x, y, alpha=1.0, beta=1.0, smooth=1.0, reduction="none"),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        focal_tversky_loss(x, y, alpha=0.4, beta=0.6, gamma=1.0),
        tversky_loss(x, y, alpha=0.4, beta=0.6),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------------------------------------
# Keras 3.15 (jax backend): keras.losses.dice / tversky take (y_true, y_pred, axis) and Dice/Tversky classes.


@pytest.mark.parametrize("per_image", [False, True])
def test_dice_and_tversky_match_keras(rng, per_image):
    for dtype, jit in _dtype_jit_pairs(int(per_image)):
        _check_keras(rng, dtype, jit, per_image)


def _check_keras(rng, dtype, jit, per_image):
    y = rng.integers(0, 3, (2, 4, 5))
    onehot = np.eye(3)[y].astype(dtype)
    p = _softmax(rng.standard_normal((2, 4, 5, 3))).astype(dtype)
    axis = (1, 2) if per_image else (0, 1, 2)
    cases = [
        (dice_loss, {}, lambda t, q: keras.losses.dice(t, q, axis=axis)),
        # Keras's alpha multiplies its "fp" = sum(y_true * (1 - y_pred)), the false negatives: swapped.
        (
            tversky_loss,
            {"alpha": 0.7, "beta": 0.2},
            lambda t, q: keras.losses.tversky(t, q, alpha=0.2, beta=0.7, axis=axis),
        ),
    ]
    for fn, kw, kfn in cases:
        kw = dict(kw, per_image=per_image, reduction="none")
        for targets in (y, onehot):
            value, grad = _run(
                fn, p, (targets,), kw, jit, cot=np.ones((2, 3) if per_image else (3,))
            )
            k_value = np.asarray(kfn(jnp.asarray(onehot), jnp.asarray(p)))
            k_grad = np.asarray(
                jax.grad(lambda q, kfn=kfn: jnp.sum(kfn(jnp.asarray(onehot), q)))(jnp.asarray(p))
            )
            assert value.dtype == k_value.dtype == dtype
            np.testing.assert_allclose(value, k_value, **TOL[dtype])
            np.testing.assert_allclose(grad, k_grad, **TOL[dtype])


def test_dice_classes_match_keras_defaults(rng):
    # The Keras loss objects compute in floatx (float32) and reduce with 'sum_over_batch_size'.
    y = rng.integers(0, 2, (3, 4, 4, 1)).astype(np.float32)
    p = rng.random((3, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(
        dice_loss(p, y), keras.losses.Dice()(y, p), rtol=2e-6
    )  # axis=None: whole batch
    np.testing.assert_allclose(
        dice_loss(p, y, per_image=True), keras.losses.Dice(axis=(1, 2))(y, p), rtol=2e-6
    )
    np.testing.assert_allclose(
        tversky_loss(p, y, alpha=0.1, beta=0.9, per_image=True, reduction="sum"),
        keras.losses.Tversky(alpha=0.9, beta=0.1, axis=(1, 2), reduction="sum")(y, p),
        rtol=2e-6,
    )


# --------------------------------------------------------------------------------------------------------
# optax 0.2.8: dice_loss(predictions, targets, *, class_weights, smooth, alpha, beta, apply_softmax, reduction,
# ignore_background, axis) is Tversky with smoothing on both sides and no eps, per image by default.


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tversky_matches_optax_dice_loss(rng, dtype):
    logits = rng.standard_normal((2, 4, 3, 3)).astype(dtype)
    y = rng.integers(0, 3, (2, 4, 3))
    onehot = np.eye(3)[y].astype(dtype)
    for alpha, beta, smooth in [(0.5, 0.5, 1.0), (0.3, 0.7, 0.1), (0.9, 0.2, 2.0)]:
        ours = functools.partial(
            tversky_loss,
            targets=y,
            alpha=alpha,
            beta=beta,
            smooth=smooth,
            eps=0.0,
            activation="softmax",
            per_image=True,
            reduction="none",
        )
        ref = functools.partial(
            optax.losses.dice_loss,
            targets=jnp.asarray(onehot),
            alpha=alpha,
            beta=beta,
            smooth=smooth,
            reduction="none",
        )
        np.testing.assert_allclose(ours(logits), ref(logits), **TOL[dtype])
        g = jax.grad(lambda x, f=ours: jnp.sum(f(x)))(jnp.asarray(logits))
        g_ref = jax.grad(lambda x, f=ref: jnp.sum(f(x)))(jnp.asarray(logits))
        np.testing.assert_allclose(g, g_ref, **TOL[dtype])
    # optax.losses.binary_dice_loss: sigmoid, one channel, per image.
    x1, t1 = logits[..., 0], (rng.random((2, 4, 3)) < 0.5).astype(dtype)
    ours = tversky_loss(
        x1[..., None],
        t1[..., None],
        smooth=1.0,
        eps=0.0,
        activation="sigmoid",
        per_image=True,
        reduction="none",
    )[:, 0]
    np.testing.assert_allclose(ours, optax.losses.binary_dice_loss(x1, t1), **TOL[dtype])


@pytest.mark.parametrize("axis", [None, (1,), (1, 2), (0, 1, 2)])
def test_dice_kernel_reproduces_optax(rng, axis):
    """The kernel the optax face uses: per-class pieces, optax's weighting and reduction on top."""
    logits = rng.standard_normal((2, 4, 3, 3))
    targets = np.eye(3)[rng.integers(0, 3, (2, 4, 3))]
    w = rng.random(3)
    probs = jax.nn.softmax(logits, axis=-1)
    sum_axis = tuple(range(1, 3)) if axis is None else axis
    i, p, t = _dice_kernel(probs, jnp.asarray(targets), sum_axis)
    loss = (1 - _safe_ratio(i + 1.0, i + 0.4 * (p - i) + 0.6 * (t - i) + 1.0)) * jnp.broadcast_to(
        w, i.shape
    )
    with jax.numpy_rank_promotion("allow"):  # optax multiplies (B, C) by (C,)
        ref = optax.losses.dice_loss(
            logits, targets, alpha=0.4, beta=0.6, class_weights=w, axis=axis, reduction="none"
        )
    np.testing.assert_allclose(loss, ref, rtol=1e-12)


# --------------------------------------------------------------------------------------------------------
# Edges and errors of the region losses.


@pytest.mark.parametrize("kind", list(REGION))
def test_region_edges_have_finite_gradients(kind):
    labels = np.full((2, 3, 4), 255)
    zeros = np.zeros((2, 3, 4, 3))
    cases = [
        (zeros, np.zeros((2, 3, 4), int), {}),  # zero predictions
        (zeros, labels, {"ignore_index": 255, "per_image": True}),  # every pixel ignored
        (
            zeros,
            np.zeros((2, 3, 4), int),
            {"smooth": 0.0, "eps": 0.0, "reduction": "none"},
        ),  # 0 / 0 classes
        (np.zeros((2, 0, 3)), np.zeros((2, 0), int), {"per_image": True}),  # empty images
    ]
    for x, t, kw in cases:
        value, grad = _run(REGION[kind], x, (t,), kw, jit=True)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
        np.testing.assert_allclose(value, np_region(kind, x, t, **kw), rtol=1e-12)
    # smooth = eps = 0 and an empty class: the 0 / 0 convention gives loss 0 for that class.
    x = np.zeros((1, 2, 2))
    x[..., 0] = 1.0
    none = REGION[kind](x, np.zeros((1, 2), int), smooth=0.0, eps=0.0, reduction="none")
    np.testing.assert_array_equal(none, [0.0, 0.0])


def test_region_half_precision(rng):
    x = _softmax(rng.standard_normal((2, 4, 4, 3)))
    y = rng.integers(0, 3, (2, 4, 4))
    for fn in REGION.values():
        out = fn(jnp.asarray(x, jnp.float16), y)
        assert out.dtype == jnp.float16
        np.testing.assert_allclose(np.float32(out), fn(x.astype(np.float32), y), rtol=2e-3)


def test_region_vmap_matches_per_image(rng):
    x = _softmax(rng.standard_normal((3, 4, 5, 3)))
    y = rng.integers(0, 3, (3, 4, 5))
    vm = jax.vmap(lambda a, b: dice_loss(a[None], b[None], reduction="none"))(x, y)
    np.testing.assert_allclose(vm, dice_loss(x, y, per_image=True, reduction="none"), rtol=1e-12)


@pytest.mark.parametrize("kind", list(REGION))
def test_region_errors(kind):
    fn, name = REGION[kind], REGION[kind].__name__
    x = np.full((2, 3, 3), 1 / 3)
    y = np.zeros((2, 3), int)
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        fn(x, y, reduction="batchmean")
    with pytest.raises(ValueError, match=f"{name}: activation must be"):
        fn(x, y, activation="relu")
    with pytest.raises(ValueError, match=f"{name}: activation='softmax' needs C >= 2"):
        fn(x[..., :1], y[..., None], activation="softmax")
    with pytest.raises(
        ValueError, match=rf"{name}: targets has shape \(2, 4\); for predictions \(2, 3, 3\)"
    ):
        fn(x, np.zeros((2, 4), int))
    with pytest.raises(TypeError, match=f"{name}: targets of shape .* must have an integer dtype"):
        fn(x, y.astype(float))
    with pytest.raises(ValueError, match=f"{name}: class-index targets need C >= 2"):
        fn(x[..., :1], y)
    with pytest.raises(
        ValueError, match=rf"{name}: class_weights has shape \(2,\); it must be \(3,\)"
    ):
        fn(x, y, class_weights=np.ones(2))
    with pytest.raises(ValueError, match=rf"{name}: predictions must have shape \(B, ..., C\)"):
        fn(np.ones(3), np.zeros((), int))
    with pytest.raises(TypeError, match=f"{name}: predictions must have a floating dtype"):
        fn(np.ones((2, 3), int), np.zeros(2, int))
    with pytest.raises(
        ValueError, match=r"targets values must be in \[0, 3\) or equal ignore_index=255"
    ):
        fn(x, np.array([[0, 1, 3], [0, 0, 0]]), ignore_index=255)
    with pytest.raises(ValueError, match=f"{name}: per_image must be True or False"):
        fn(x, y, per_image=None)
    fn(x, np.array([[0, 1, 255], [0, 0, 0]]), ignore_index=255)  # valid: no error
    jax.jit(lambda t: fn(x, t))(
        np.array([[0, 1, 3], [0, 0, 0]])
    )  # under jit the data check is skipped
    if kind in ("tversky", "focal_tversky"):
        with pytest.raises(
            ValueError, match=f"{name}: alpha must be a non-negative number; got -0.1"
        ):
            fn(x, y, alpha=-0.1)
    if kind == "focal_tversky":
        with pytest.raises(ValueError, match=f"{name}: gamma must be a positive number; got 0"):
            fn(x, y, gamma=0)


# --------------------------------------------------------------------------------------------------------
# Lovasz: float64 numpy transcription of the reference code of Berman et al. (CVPR 2018), lovasz_losses.py.
# The reference takes channels-first (B, C, H, W) probabilities; these functions take the reference's
# layout and the test transposes. Each returns (value, gradient) with the gradient from the Lovasz
# extension: for the sort order pi, d loss / d e_pi(k) = g_k (Eq. 9 of the paper).


def np_lovasz_grad(gt_sorted):
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1.0 - gt_sorted)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def np_lovasz_softmax_flat(probas, labels, classes="present"):
    """probas (P, C), labels (P,); returns (loss, d loss / d probas)."""
    grad = np.zeros_like(probas)
    if probas.size == 0:
        return 0.0, grad
    c_count = probas.shape[1]
    losses, grads = [], []
    for c in range(c_count) if classes in ("all", "present") else classes:
        fg = (labels == c).astype(np.float64)
        if classes == "present" and fg.sum() == 0:
            continue
        errors = np.abs(fg - probas[:, c])
        perm = np.argsort(-errors, kind="stable")
        g = np_lovasz_grad(fg[perm])
        losses.append(errors[perm] @ g)
        gc = np.zeros_like(probas)
        gc[perm, c] = g * np.sign(probas[perm, c] - fg[perm])  # d|fg - p| / dp
        grads.append(gc)
    if not losses:  # the reference's mean(..., empty=0)
        return 0.0, grad
    return float(np.mean(losses)), sum(grads) / len(losses)


def np_lovasz_softmax(probas, labels, classes="present", per_image=False, ignore=None):
    """probas (B, C, H, W), labels (B, H, W). An all-ignored image counts as 0 (see the loss's docstring)."""

    def flat(prob, lab):
        c = prob.shape[1]
        p = np.moveaxis(prob, 1, -1).reshape(-1, c)
        lab = lab.reshape(-1)
        valid = np.ones(lab.shape, bool) if ignore is None else lab != ignore
        loss, g = np_lovasz_softmax_flat(p[valid], lab[valid], classes)
        full = np.zeros_like(p)
        full[valid] = g
        return loss, np.moveaxis(full.reshape(prob.shape[0], *prob.shape[2:], c), -1, 1)

    if not per_image:
        return flat(probas, labels)
    out = [flat(probas[b : b + 1], labels[b : b + 1]) for b in range(len(probas))]
    return np.mean([o[0] for o in out]), np.concatenate([o[1] for o in out]) / len(out)


def np_lovasz_hinge(logits, labels, per_image=True, ignore=None):
    """logits, labels (B, H, W); returns (loss, d loss / d logits)."""

    def flat(lg, lab):
        lg, lab = lg.reshape(-1), lab.reshape(-1)
        valid = np.ones(lab.shape, bool) if ignore is None else lab != ignore
        grad = np.zeros_like(lg)
        if valid.sum() == 0:  # "only void pixels, the gradients should be 0"
            return 0.0, grad
        x, y = lg[valid], lab[valid].astype(np.float64)
        signs = 2.0 * y - 1.0
        errors = 1.0 - x * signs
        perm = np.argsort(-errors, kind="stable")
        g = np_lovasz_grad(y[perm])
        gv = np.zeros_like(x)
        gv[perm] = g * (errors[perm] > 0) * -signs[perm]
        grad[valid] = gv
        return float(np.maximum(errors[perm], 0) @ g), grad

    if not per_image:
        loss, g = flat(logits, labels)
        return loss, g.reshape(logits.shape)
    out = [flat(logits[b], labels[b]) for b in range(len(logits))]
    return np.mean([o[0] for o in out]), np.stack(
        [o[1].reshape(logits.shape[1:]) for o in out]
    ) / len(out)


def _labels(rng, shape, c, ignore):
    y = rng.integers(0, c, shape)
    if ignore is not None:
        y = np.where(rng.random(shape) < 0.3, ignore, y)
        y[-1] = ignore  # the last image entirely ignored
    return y


LOVASZ_SOFTMAX_CASES = [
    {},
    {"per_image": True},
    {"classes": "all"},
    {"classes": (0, 2), "per_image": True},
    {"ignore_index": 255},
    {"ignore_index": -1, "per_image": True, "classes": "all"},
    {"ignore_index": 255, "per_image": True},
    {"activation": "softmax", "per_image": True},
]


@pytest.mark.parametrize("case", range(len(LOVASZ_SOFTMAX_CASES)))
def test_lovasz_softmax_matches_reference(case):
    kw = dict(LOVASZ_SOFTMAX_CASES[case])
    rng = np.random.default_rng(200 + case)
    logits = rng.standard_normal((3, 4, 5, 4)) * 2
    y = _labels(rng, (3, 4, 5), 4, kw.get("ignore_index"))
    x = logits if kw.get("activation") else _softmax(logits)
    ref_kw = {
        "classes": kw.get("classes", "present"),
        "per_image": kw.get("per_image", False),
        "ignore": kw.get("ignore_index"),
    }

    def ref(v):
        return np_lovasz_softmax(
            np.moveaxis(_softmax(v) if kw.get("activation") else v, -1, 1), y, **ref_kw
        )

    ref_value, ref_grad = ref(x)
    fd = _fd_grad(lambda v: ref(v)[0], x)
    if not kw.get(
        "activation"
    ):  # the extension formula is the gradient with respect to probabilities
        np.testing.assert_allclose(np.moveaxis(ref_grad, 1, -1), fd, rtol=1e-6, atol=1e-8)
    for dtype, jit in _dtype_jit_pairs(case):
        value, grad = _run(lovasz_softmax_loss, x.astype(dtype), (y,), kw, jit)
        assert value.dtype == dtype and value.shape == ()
        np.testing.assert_allclose(value, ref_value, **TOL[dtype])
        np.testing.assert_allclose(grad, fd, **GTOL[dtype])


@pytest.mark.parametrize("per_image", [True, False])
@pytest.mark.parametrize("ignore_index", [None, 255])
def test_lovasz_hinge_matches_reference(per_image, ignore_index):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 6)) * 2
    y = _labels(rng, (3, 4, 6), 2, ignore_index)
    ref_value, ref_grad = np_lovasz_hinge(x, y, per_image=per_image, ignore=ignore_index)
    np.testing.assert_allclose(
        ref_grad,
        _fd_grad(lambda v: np_lovasz_hinge(v, y, per_image, ignore_index)[0], x),
        rtol=1e-6,
        atol=1e-8,
    )
    kw = {"per_image": per_image, "ignore_index": ignore_index}
    for dtype, jit in _dtype_jit_pairs(int(per_image) + (ignore_index is None)):
        value, grad = _run(lovasz_hinge_loss, x.astype(dtype), (y,), kw, jit)
        assert value.dtype == dtype and value.shape == ()
        np.testing.assert_allclose(value, ref_value, **TOL[dtype])
        np.testing.assert_allclose(grad, ref_grad, **GTOL[dtype])


def test_lovasz_reductions(rng):
    p = _softmax(rng.standard_normal((3, 4, 4, 3)))
    y = rng.integers(0, 3, (3, 4, 4))
    none = lovasz_softmax_loss(p, y, per_image=True, reduction="none")
    expected = [
        np_lovasz_softmax(np.moveaxis(p[b : b + 1], -1, 1), y[b : b + 1])[0] for b in range(3)
    ]
    np.testing.assert_allclose(none, expected, rtol=1e-12)
    np.testing.assert_allclose(
        lovasz_softmax_loss(p, y, per_image=True, reduction="sum"), sum(expected), rtol=1e-12
    )
    whole = lovasz_softmax_loss(p, y, reduction="none")
    assert whole.shape == () and np.allclose(whole, lovasz_softmax_loss(p, y, reduction="sum"))
    x = rng.standard_normal((3, 5))
    t = rng.integers(0, 2, (3, 5))
    h_none = lovasz_hinge_loss(x, t, reduction="none")
    np.testing.assert_allclose(
        h_none, [np_lovasz_hinge(x[b : b + 1], t[b : b + 1])[0] for b in range(3)], rtol=1e-12
    )
    np.testing.assert_allclose(lovasz_hinge_loss(x, t, reduction="sum"), np.sum(h_none), rtol=1e-12)


def test_lovasz_edges_have_finite_gradients():
    y_ignored = np.full((2, 3, 3), 255)
    for kw in ({}, {"per_image": True}, {"classes": "all", "per_image": True}):
        value, grad = _run(
            lovasz_softmax_loss,
            np.full((2, 3, 3, 3), 1 / 3),
            (y_ignored,),
            dict(kw, ignore_index=255),
            jit=True,
        )
        assert value == 0 and np.all(grad == 0)
    value, grad = _run(
        lovasz_hinge_loss, np.zeros((2, 3, 3)), (y_ignored,), {"ignore_index": 255}, jit=True
    )
    assert value == 0 and np.all(grad == 0)
    # zero predictions: every error ties; the value is tie-order independent, gradients finite
    y = np.random.default_rng(3).integers(0, 3, (2, 3, 3))
    value, grad = _run(
        lovasz_softmax_loss, np.zeros((2, 3, 3, 3)), (y,), {"classes": "all"}, jit=True
    )
    np.testing.assert_allclose(
        value, np_lovasz_softmax(np.zeros((2, 3, 3, 3)), y, classes="all")[0], rtol=1e-12
    )
    assert np.all(np.isfinite(grad))
    value, grad = _run(lovasz_hinge_loss, np.zeros((2, 3, 3)), (y % 2,), {}, jit=True)
    np.testing.assert_allclose(value, np_lovasz_hinge(np.zeros((2, 3, 3)), y % 2)[0], rtol=1e-12)
    assert np.all(np.isfinite(grad))
    # empty images
    assert lovasz_softmax_loss(np.zeros((2, 0, 3)), np.zeros((2, 0), int), per_image=True) == 0
    assert lovasz_hinge_loss(np.zeros((2, 0)), np.zeros((2, 0), int)) == 0


def test_lovasz_half_precision(rng):
    p = _softmax(rng.standard_normal((2, 4, 4, 3)))
    y = rng.integers(0, 3, (2, 4, 4))
    out = lovasz_softmax_loss(jnp.asarray(p, jnp.float16), y)
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(np.float32(out), lovasz_softmax_loss(p, y), rtol=2e-3)
    out = lovasz_hinge_loss(jnp.asarray(p[..., 0], jnp.bfloat16), y % 2)
    assert out.dtype == jnp.bfloat16


def test_lovasz_errors():
    p = np.full((2, 3, 3), 1 / 3)
    y = np.zeros((2, 3), int)
    n = "lovasz_softmax_loss"
    with pytest.raises(ValueError, match=f"{n}: classes must be 'present', 'all' or a sequence"):
        lovasz_softmax_loss(p, y, classes="some")
    with pytest.raises(
        ValueError, match=rf"{n}: classes must be .* class indices in \[0, 3\); got \(0, 3\)"
    ):
        lovasz_softmax_loss(p, y, classes=(0, 3))
    with pytest.raises(
        ValueError, match=f"{n}: activation must be None or 'softmax'; got 'sigmoid'"
    ):
        lovasz_softmax_loss(p, y, activation="sigmoid")
    with pytest.raises(ValueError, match=f"{n}: predictions must have C >= 2 classes"):
        lovasz_softmax_loss(p[..., :1], y)
    with pytest.raises(
        ValueError, match=rf"{n}: labels has shape \(2, 4\); for predictions \(2, 3, 3\)"
    ):
        lovasz_softmax_loss(p, np.zeros((2, 4), int))
    with pytest.raises(TypeError, match=f"{n}: labels must have an integer dtype"):
        lovasz_softmax_loss(p, y.astype(float))
    with pytest.raises(ValueError, match=rf"{n}: labels values must be in \[0, 3\)"):
        lovasz_softmax_loss(p, y - 1)
    with pytest.raises(ValueError, match=f"{n}: reduction must be one of"):
        lovasz_softmax_loss(p, y, reduction="batchmean")
    with pytest.raises(ValueError, match=f"{n}: per_image must be True or False"):
        lovasz_softmax_loss(p, y, per_image=1)
    n = "lovasz_hinge_loss"
    with pytest.raises(
        ValueError, match=rf"{n}: labels has shape \(2, 4\); it must have the same shape as logits"
    ):
        lovasz_hinge_loss(np.zeros((2, 3)), np.zeros((2, 4), int))
    with pytest.raises(
        ValueError,
        match=r"lovasz_hinge_loss: labels values must be in \{0, 1\} or equal ignore_index=255",
    ):
        lovasz_hinge_loss(np.zeros((2, 3)), np.full((2, 3), 2), ignore_index=255)
    with pytest.raises(ValueError, match=f"{n}: logits must have shape"):
        lovasz_hinge_loss(np.float64(1.0), np.int64(1))
    with pytest.raises(TypeError, match=f"{n}: logits must have a floating dtype"):
        lovasz_hinge_loss(np.zeros((2, 3), int), np.zeros((2, 3), int))
