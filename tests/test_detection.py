"""Detection losses against torchvision's formulas.

torchvision cannot be installed here, so its functions are transcribed twice from torchvision 0.2x's Python
source (``torchvision/ops/focal_loss.py``, ``giou_loss.py``, ``diou_loss.py``, ``ciou_loss.py``,
``_utils.py``): once in float64 numpy (values) and once with torch ops (values in float32/float64 and the
reference gradients through torch 2.13's autograd, compared with :func:`tests.torch_parity.compare`).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.families.detection import (
    _sigmoid_focal,
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    sigmoid_focal_loss,
)
from tests.torch_parity import compare

# ------------------------------------------------------------------------------------------------------------
# torchvision transcriptions, torch ops (autograd gives the reference gradients)
# ------------------------------------------------------------------------------------------------------------


def _tv_reduce(loss, reduction, empty_zero):
    if reduction == "mean":
        return loss.mean() if (loss.numel() > 0 or not empty_zero) else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


def tv_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    # torchvision.ops.sigmoid_focal_loss
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return _tv_reduce(loss, reduction, empty_zero=False)


def _tv_upcast(t):
    # torchvision.ops._utils._upcast_non_float
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def _tv_inter_union(boxes1, boxes2):
    # torchvision.ops._utils._loss_inter_union
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    return intsctk, unionk


def tv_generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    boxes1, boxes2 = _tv_upcast(boxes1), _tv_upcast(boxes2)
    intsctk, unionk = _tv_inter_union(boxes1, boxes2)
    iouk = intsctk / (unionk + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    miouk = iouk - ((area_c - unionk) / (area_c + eps))
    return _tv_reduce(1 - miouk, reduction, empty_zero=True)


def _tv_diou_iou_loss(boxes1, boxes2, eps=1e-7):
    # torchvision.ops.diou_loss._diou_iou_loss
    intsct, union = _tv_inter_union(boxes1, boxes2)
    iou = intsct / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    diagonal_distance_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x_p, y_p = (x2 + x1) / 2, (y2 + y1) / 2
    x_g, y_g = (x1g + x2g) / 2, (y1g + y2g) / 2
    centers_distance_squared = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    return 1 - iou + (centers_distance_squared / diagonal_distance_squared), iou


def tv_distance_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    boxes1, boxes2 = _tv_upcast(boxes1), _tv_upcast(boxes2)
    loss, _ = _tv_diou_iou_loss(boxes1, boxes2, eps)
    return _tv_reduce(loss, reduction, empty_zero=True)


def tv_complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    boxes1, boxes2 = _tv_upcast(boxes1), _tv_upcast(boxes2)
    diou_loss, iou = _tv_diou_iou_loss(boxes1, boxes2, eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    w_pred, h_pred = x2 - x1, y2 - y1
    w_gt, h_gt = x2g - x1g, y2g - y1g
    v = (4 / (torch.pi**2)) * torch.pow((torch.atan(w_gt / h_gt) - torch.atan(w_pred / h_pred)), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _tv_reduce(diou_loss + alpha * v, reduction, empty_zero=True)


# ------------------------------------------------------------------------------------------------------------
# the same formulas in float64 numpy (an independent transcription of the values)
# ------------------------------------------------------------------------------------------------------------


def np_sigmoid_focal(x, t, alpha, gamma):
    p = 1 / (1 + np.exp(-x))
    ce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None and alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


def np_box_terms(b1, b2, eps):
    x1, y1, x2, y2 = np.moveaxis(b1, -1, 0)
    x1g, y1g, x2g, y2g = np.moveaxis(b2, -1, 0)
    iw = np.minimum(x2, x2g) - np.maximum(x1, x1g)
    ih = np.minimum(y2, y2g) - np.maximum(y1, y1g)
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    cw = np.maximum(x2, x2g) - np.minimum(x1, x1g)
    ch = np.maximum(y2, y2g) - np.minimum(y1, y1g)
    giou = 1 - (iou - (cw * ch - union) / (cw * ch + eps))
    rho2 = ((x1 + x2) / 2 - (x1g + x2g) / 2) ** 2 + ((y1 + y2) / 2 - (y1g + y2g) / 2) ** 2
    diou = 1 - iou + rho2 / (cw**2 + ch**2 + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (
            4
            / math.pi**2
            * (np.arctan((x2g - x1g) / (y2g - y1g)) - np.arctan((x2 - x1) / (y2 - y1))) ** 2
        )
    ciou = diou + v / (1 - iou + v + eps) * v
    return giou, diou, ciou


def random_boxes(rng, shape, degenerate=False):
    xy = rng.uniform(-2, 4, shape + (2,))
    wh = rng.uniform(0.1, 3, shape + (2,))
    if degenerate:
        wh = wh * (rng.random(shape + (2,)) > 0.4)
    return np.concatenate([xy, xy + wh], axis=-1)


BOX_LOSSES = [
    (generalized_box_iou_loss, tv_generalized_box_iou_loss, 0),
    (distance_box_iou_loss, tv_distance_box_iou_loss, 1),
    (complete_box_iou_loss, tv_complete_box_iou_loss, 2),
]
BOX_IDS = ["giou", "diou", "ciou"]


# ------------------------------------------------------------------------------------------------------------
# sigmoid focal loss
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2), (-1, 2), (0.7, 0), (0.25, 0.5), (0.5, 3.5)])
def test_sigmoid_focal_vs_torchvision(rng, dtype, alpha, gamma):
    x = rng.standard_normal((3, 5)) * 3
    t = (rng.random((3, 5)) > 0.5).astype(np.float64)
    for reduction, jit in (("none", dtype == np.float32), ("mean", True), ("sum", False)):
        kw = {"alpha": alpha, "gamma": gamma, "reduction": reduction}
        compare(
            sigmoid_focal_loss,
            tv_sigmoid_focal_loss,
            [x, t],
            kwargs=kw,
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )


def test_sigmoid_focal_soft_targets_and_shapes(rng):
    for shape in [(), (2, 3, 4)]:
        x = np.asarray(rng.standard_normal(shape) * 2)
        t = np.asarray(rng.random(shape))
        if shape:
            compare(sigmoid_focal_loss, tv_sigmoid_focal_loss, [x, t], diff=(0, 1))
        np.testing.assert_allclose(
            sigmoid_focal_loss(x, t, alpha=0.3, gamma=1.5),
            np_sigmoid_focal(x, t, 0.3, 1.5),
            rtol=1e-12,
        )


def test_sigmoid_focal_default_matches_numpy(rng):
    x = rng.standard_normal((4, 6)) * 4
    t = (rng.random((4, 6)) > 0.3).astype(np.float64)
    np.testing.assert_allclose(
        sigmoid_focal_loss(x, t), np_sigmoid_focal(x, t, 0.25, 2), rtol=1e-12
    )


def test_sigmoid_focal_empty():
    x = np.zeros((0, 3))
    assert sigmoid_focal_loss(x, x, reduction="none").shape == (0, 3)
    assert float(sigmoid_focal_loss(x, x, reduction="sum")) == 0.0
    assert np.isnan(
        float(sigmoid_focal_loss(x, x, reduction="mean"))
    )  # torch: mean of nothing is nan


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_extreme_logits_finite_grads(gamma):
    x = jnp.array([1e4, -1e4, 1e4, -1e4, 40.0, -40.0, 0.0])
    t = jnp.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    for fn in (
        lambda x, t: jnp.sum(sigmoid_focal_loss(x, t, gamma=gamma)),
        lambda x, t: jnp.sum(_sigmoid_focal(x, t, None, gamma)),
    ):
        val, grads = jax.value_and_grad(fn, argnums=(0, 1))(x, t)
        assert np.isfinite(val)
        assert all(np.all(np.isfinite(g)) for g in grads)
    # torch agrees on the values of the confident entries (value there is ~0 or ~1e4 * alpha_t)
    tx, tt = torch.tensor(np.asarray(x)), torch.tensor(np.asarray(t))
    np.testing.assert_allclose(
        sigmoid_focal_loss(x, t, gamma=gamma),
        tv_sigmoid_focal_loss(tx, tt, gamma=gamma).numpy(),
        rtol=1e-12,
    )


def test_sigmoid_focal_kernel_matches_optax(rng):
    """The shared kernel in its default (log-space) form is optax 0.2.8's sigmoid_focal_loss."""
    x = rng.standard_normal((5, 4)) * 5
    t = rng.random((5, 4))
    t[0] = (t[0] > 0.5).astype(np.float64)
    for alpha, gamma in ((None, 2.0), (0.25, 0.5)):

        def both(a, b, fn):
            return fn(a, b), jax.grad(lambda a, b: jnp.sum(fn(a, b)), argnums=(0, 1))(a, b)

        def ref(a, b):
            return optax.losses.sigmoid_focal_loss(a, b, alpha=alpha, gamma=gamma)

        def got(a, b):
            return _sigmoid_focal(a, b, alpha, gamma)

        for dtype in (np.float64, np.float32):
            xd, td = jnp.asarray(x, dtype), jnp.asarray(t, dtype)
            tol = 1e-13 if dtype == np.float64 else 1e-6
            (r, (gr0, gr1)), (g, (gg0, gg1)) = jax.jit(
                lambda a, b: (both(a, b, ref), both(a, b, got))
            )(xd, td)
            assert g.dtype == r.dtype
            for mine, theirs in ((g, r), (gg0, gr0), (gg1, gr1)):
                np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol)
    # the torchvision arithmetic order and the log-space one agree in float64
    np.testing.assert_allclose(
        _sigmoid_focal(jnp.asarray(x), jnp.asarray(t), 0.25, 2.0, log_space=False),
        _sigmoid_focal(jnp.asarray(x), jnp.asarray(t), 0.25, 2.0),
        rtol=1e-10,
        atol=1e-14,
    )


def test_sigmoid_focal_traced_alpha(rng):
    x = rng.standard_normal(6)
    t = (rng.random(6) > 0.5).astype(np.float64)
    f = jax.jit(lambda a: sigmoid_focal_loss(x, t, alpha=a))
    np.testing.assert_allclose(f(0.3), np_sigmoid_focal(x, t, 0.3, 2), rtol=1e-12)
    np.testing.assert_allclose(f(-1.0), np_sigmoid_focal(x, t, -1, 2), rtol=1e-12)


def test_sigmoid_focal_half_precision(rng):
    x = rng.standard_normal((3, 4)).astype(np.float16)
    t = (rng.random((3, 4)) > 0.5).astype(np.float16)
    out = sigmoid_focal_loss(x, t, reduction="sum")
    assert out.dtype == jnp.float16
    ref = np_sigmoid_focal(x.astype(np.float64), t.astype(np.float64), 0.25, 2).sum()
    np.testing.assert_allclose(float(out), ref, rtol=2e-3)


def test_sigmoid_focal_errors():
    with pytest.raises(ValueError, match="sigmoid_focal_loss: targets has shape"):
        sigmoid_focal_loss(np.zeros((2, 3)), np.zeros((3,)))
    with pytest.raises(ValueError, match="sigmoid_focal_loss: reduction must be"):
        sigmoid_focal_loss(np.zeros(3), np.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="sigmoid_focal_loss: gamma must be >= 0"):
        sigmoid_focal_loss(np.zeros(3), np.zeros(3), gamma=-1)
    with pytest.raises(TypeError, match="sigmoid_focal_loss: inputs must have a floating dtype"):
        sigmoid_focal_loss(np.zeros(3, np.int32), np.zeros(3))


# ------------------------------------------------------------------------------------------------------------
# box losses
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fns", BOX_LOSSES, ids=BOX_IDS)
def test_box_losses_vs_torchvision(rng, dtype, fns):
    fn, tv_fn, _ = fns
    b1 = random_boxes(rng, (6,))
    b2 = random_boxes(rng, (6,))
    b2[0] = b1[0]  # coincident pair
    b2[1] = b1[1] + np.array([10.0, 10.0, 10.0, 10.0])  # disjoint pair
    b2[2] = b1[2] + np.array([0.5, 0.0, 0.5, 0.0])  # tied y coordinates
    for reduction, jit in (("none", dtype == np.float32), ("mean", True), ("sum", False)):
        compare(
            fn, tv_fn, [b1, b2], kwargs={"reduction": reduction}, diff=(0, 1), dtype=dtype, jit=jit
        )
    compare(
        fn, tv_fn, [b1[0], b2[0]], kwargs={"eps": 1e-3}, diff=(0, 1), dtype=dtype
    )  # a single (4,) box


@pytest.mark.parametrize("fns", BOX_LOSSES, ids=BOX_IDS)
def test_box_losses_vs_numpy_float64(rng, fns):
    fn, _, k = fns
    for shape in [(), (8,), (2, 3)]:
        b1, b2 = random_boxes(rng, shape), random_boxes(rng, shape)
        for eps in (1e-7, 0.5):
            np.testing.assert_allclose(
                fn(b1, b2, eps=eps), np_box_terms(b1, b2, eps)[k], rtol=1e-12, atol=1e-14
            )


@pytest.mark.parametrize("fns", BOX_LOSSES, ids=BOX_IDS)
def test_box_losses_empty(fns):
    fn, tv_fn, _ = fns
    empty = np.zeros((0, 4))
    assert fn(empty, empty).shape == (0,)
    assert float(fn(empty, empty, reduction="mean")) == 0.0  # torchvision: 0.0 * loss.sum()
    assert float(fn(empty, empty, reduction="sum")) == 0.0
    compare(fn, tv_fn, [empty, empty], kwargs={"reduction": "mean"}, diff=(0, 1))


@pytest.mark.parametrize("fns", BOX_LOSSES, ids=BOX_IDS)
def test_box_losses_degenerate_and_coincident_grads(rng, fns):
    fn, tv_fn, _ = fns
    b1 = random_boxes(rng, (12,), degenerate=True)
    b2 = random_boxes(rng, (12,), degenerate=True)
    b2[:4] = b1[:4]  # coincident, some of them zero-area
    b1[4] = b2[4] = [1.0, 1.0, 1.0, 1.0]  # coincident point boxes
    b1[5] = [0.0, 0.0, 0.0, 0.0]  # point box against a proper one
    b1[6] = [0.0, 0.0, 2.0, 0.0]  # zero height
    for red in ("none", "sum"):
        val, vjp = jax.vjp(lambda a, b: fn(a, b, reduction=red), jnp.asarray(b1), jnp.asarray(b2))
        grads = vjp(jnp.ones_like(val))
        assert np.all(np.isfinite(val))
        assert all(np.all(np.isfinite(g)) for g in grads)
    # where torchvision's values are finite they agree; its gradients agree where torch's are finite
    t1, t2 = torch.tensor(b1, requires_grad=True), torch.tensor(b2, requires_grad=True)
    tv = tv_fn(t1, t2)
    ok = np.isfinite(tv.detach().numpy())
    np.testing.assert_allclose(
        np.asarray(fn(b1, b2))[ok], tv.detach().numpy()[ok], rtol=1e-12, atol=1e-14
    )
    tv.sum().backward()
    g1, g2 = jax.grad(lambda a, b: jnp.sum(fn(a, b)), argnums=(0, 1))(
        jnp.asarray(b1), jnp.asarray(b2)
    )
    for g, tg in ((g1, t1.grad.numpy()), (g2, t2.grad.numpy())):
        rows = np.all(np.isfinite(tg), axis=-1)
        np.testing.assert_allclose(np.asarray(g)[rows], tg[rows], rtol=1e-10, atol=1e-12)


def test_ciou_zero_height_and_point_boxes():
    # zero-height box: torchvision's value is finite (atan(+inf) = pi/2) and ours equals it
    b1 = np.array([[0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    b2 = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    tv = tv_complete_box_iou_loss(torch.tensor(b1), torch.tensor(b2)).numpy()
    got = np.asarray(complete_box_iou_loss(b1, b2))
    np.testing.assert_allclose(got[0], tv[0], rtol=1e-12)
    assert np.isnan(tv[1])  # torchvision: atan(0/0) is nan for a point box
    # ours takes the point box's angle as 0: v = (4/pi^2)(pi/4)^2 = 1/4 for a unit square target
    diou = float(distance_box_iou_loss(b1[1], b2[1]))
    iou = 0.0
    v = 0.25
    np.testing.assert_allclose(got[1], diou + v / (1 - iou + v + 1e-7) * v, rtol=1e-12)


@pytest.mark.parametrize("fns", BOX_LOSSES, ids=BOX_IDS)
def test_box_losses_dtypes(rng, fns):
    fn, tv_fn, _ = fns
    b1 = np.round(random_boxes(rng, (5,)) * 4)
    b2 = np.round(random_boxes(rng, (5,)) * 4)
    for dtype in (np.int32, np.float16):
        out = fn(b1.astype(dtype), b2.astype(dtype))
        assert out.dtype == jnp.float32  # torchvision's _upcast_non_float
        ref = tv_fn(torch.tensor(b1.astype(dtype)), torch.tensor(b2.astype(dtype)))
        assert ref.dtype == torch.float32
        np.testing.assert_allclose(out, ref.numpy(), rtol=2e-6, atol=1e-6)
    assert fn(b1.astype(np.float32), b2).dtype == jnp.float64  # promotion, as torch


@pytest.mark.parametrize("fn", [f for f, _, _ in BOX_LOSSES], ids=BOX_IDS)
def test_box_losses_errors(fn):
    name = fn.__name__
    with pytest.raises(
        ValueError, match=f"{name}: boxes1 has shape \\(3, 5\\); it must be \\(..., 4\\)"
    ):
        fn(np.zeros((3, 5)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=f"{name}: boxes2 has shape \\(\\)"):
        fn(np.zeros((3, 4)), np.zeros(()))
    with pytest.raises(
        ValueError, match=f"{name}: boxes2 has shape \\(2, 4\\); it must have the same shape"
    ):
        fn(np.zeros((3, 4)), np.zeros((2, 4)))
    with pytest.raises(
        ValueError, match=f"{name}: boxes2 has shape \\(1, 4\\); it must have the same shape"
    ):
        fn(np.zeros((3, 4)), np.zeros((1, 4)))  # torchvision does not broadcast boxes either
    with pytest.raises(ValueError, match=f"{name}: reduction must be"):
        fn(np.zeros((3, 4)), np.zeros((3, 4)), reduction="batchmean")
    with pytest.raises(TypeError, match=f"{name}: boxes1 must have a floating or integer dtype"):
        fn(np.zeros((3, 4), bool), np.zeros((3, 4)))


def test_box_losses_vmap_and_hessian_finite(rng):
    b1 = jnp.asarray(random_boxes(rng, (4, 3)))
    b2 = jnp.asarray(random_boxes(rng, (4, 3)))
    b2 = b2.at[0, 0].set(b1[0, 0])
    for fn, _, _ in BOX_LOSSES:
        np.testing.assert_allclose(jax.jit(jax.vmap(fn))(b1, b2), fn(b1, b2), rtol=1e-14)
    h = jax.jit(jax.vmap(jax.hessian(complete_box_iou_loss)))(b1[0], b2[0])
    assert h.shape == (3, 4, 4)
    assert np.all(np.isfinite(h))
