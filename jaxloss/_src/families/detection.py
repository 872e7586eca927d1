"""Detection losses, torchvision-exact: ``sigmoid_focal_loss`` and the box regression losses
``generalized_box_iou_loss``, ``distance_box_iou_loss``, ``complete_box_iou_loss``.

Boxes are ``(..., 4)`` arrays in ``(x1, y1, x2, y2)`` corner form with ``x1 <= x2`` and ``y1 <= y2``, as in
``torchvision.ops``. The elementwise kernel :func:`_sigmoid_focal` is shared with the optax face
(``optax.losses.sigmoid_focal_loss``).

References: torchvision 0.2x ``torchvision/ops/focal_loss.py``, ``giou_loss.py``, ``diou_loss.py``,
``ciou_loss.py`` and ``_utils.py`` (``_loss_inter_union``, ``_diou_iou_loss``, ``_upcast_non_float``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.numerics import _modulating_power
from jaxloss._src.core.registry import fill_docs, register

__all__ = [
    "complete_box_iou_loss",
    "distance_box_iou_loss",
    "generalized_box_iou_loss",
    "sigmoid_focal_loss",
]


# ----------------------------------------------------------------------------------------------------------
# sigmoid focal loss
# ----------------------------------------------------------------------------------------------------------


def _sigmoid_focal(logits, labels, alpha=None, gamma=2.0, *, log_space: bool = True) -> jax.Array:
    """Elementwise sigmoid focal loss ``-alpha_t (1 - p_t)**gamma log(p_t)`` (Lin et al. 2017).

    Args:
      logits: float array.
      labels: float array of the same shape, in ``[0, 1]`` (soft labels allowed).
      alpha: ``None`` for no class weighting (optax's default), else the weight of the positive class (a
        scalar or an array broadcast to ``logits``); negatives get ``1 - alpha``.
      gamma: focusing exponent ``>= 0``.
      log_space: ``True`` computes ``(1 - p_t)**gamma`` as ``exp(gamma * log(1 - p_t))`` with a log-sum-exp,
        in optax 0.2.8's order of operations (``optax.losses.sigmoid_focal_loss``); ``False`` follows
        torchvision's order (``p = sigmoid(x)``, ``p_t = p t + (1 - p)(1 - t)``, ``(1 - p_t)**gamma``), whose
        ``1 - p_t`` cancels for confident predictions, so that ported torchvision code prints its old digits.

    Returns:
      The loss, shaped like ``logits``.
    """
    log_p = jax.nn.log_sigmoid(logits)
    log_q = jax.nn.log_sigmoid(-logits)  # log(1 - sigmoid(x)) = log_sigmoid(-x), stabler
    if log_space:
        ce = -labels * log_p - (1.0 - labels) * log_q
        log_one_minus_p_t = jax.scipy.special.logsumexp(
            jnp.stack([log_p, log_q], axis=-1), axis=-1, b=jnp.stack([1 - labels, labels], axis=-1)
        )
        loss = ce * jnp.exp(gamma * log_one_minus_p_t)
    else:
        # torch's binary_cross_entropy_with_logits: (1 - t) x - log_sigmoid(x)
        ce = (1.0 - labels) * logits - log_p
        p = jax.nn.sigmoid(logits)
        p_t = p * labels + (1 - p) * (1 - labels)
        loss = ce * _modulating_power(1 - p_t, gamma)
    if alpha is None:
        return loss
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss


def _focal_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), (rng.random((4, 3)) > 0.5).astype(np.float64)), {}


@register(
    family="detection",
    reference="torchvision.ops.sigmoid_focal_loss (torchvision 0.2x)",
    example=_focal_example,
    diff=(0, 1),
)
def sigmoid_focal_loss(
    inputs, targets, alpha: float | jax.Array = 0.25, gamma: float = 2, reduction: str = "none"
):
    """Sigmoid focal loss, torchvision's ``torchvision.ops.sigmoid_focal_loss``.

    .. math::
       p = \\sigma(x),\\quad p_t = p\\,t + (1 - p)(1 - t),\\quad
       \\alpha_t = \\alpha t + (1 - \\alpha)(1 - t),\\\\
       \\ell = \\alpha_t\\,(1 - p_t)^\\gamma\\,\\mathrm{BCEWithLogits}(x, t)

    (``alpha < 0`` turns the :math:`\\alpha_t` weighting off, as in torchvision). Lin et al., *Focal Loss for
    Dense Object Detection*, ICCV 2017.

    Gradients stay finite for saturated logits (``+-1e4``) and any ``gamma >= 0``: where ``1 - p_t`` is
    exactly ``0``, the derivative of ``(1 - p_t)**gamma`` is taken as ``0`` (torch gives ``nan`` there for
    ``0 < gamma < 1``).

    Args:
      inputs: logits, any shape.
      targets: binary (or soft) labels in ``[0, 1]``, same shape as ``inputs``.
      alpha: weight of the positive class in ``(0, 1)``; ``-1`` (any negative value) for no weighting.
      gamma: focusing exponent ``>= 0``.
      reduction: ``'none'`` (default, as torchvision) | ``'mean'`` | ``'sum'``.

    Returns:
      The loss, shaped like ``inputs`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.detection import sigmoid_focal_loss
      >>> loss = sigmoid_focal_loss(jnp.array([2.0, -1.0]), jnp.array([1.0, 0.0]))
      >>> print([f"{v:.5f}" for v in loss.tolist()])
      ['0.00045', '0.01699']

    Reference: torchvision.ops.sigmoid_focal_loss (torchvision 0.2x).
    """
    name = "sigmoid_focal_loss"
    R.validate_reduction(name, reduction)
    inputs = V.as_float(name, "inputs", inputs)
    targets = V.as_array(name, "targets", targets)
    V.check_same_shape(name, "targets", targets, "inputs", inputs)
    V.check_option(name, "gamma", gamma, _is_traced(gamma) or gamma >= 0, ">= 0")
    out_dtype = V.result_dtype(inputs, targets)
    cdt = V.compute_dtype(out_dtype)
    inputs, targets = inputs.astype(cdt), targets.astype(cdt)
    if _is_traced(alpha) or not isinstance(alpha, (int, float)):
        alpha = jnp.asarray(alpha, cdt)
        loss = jnp.where(
            alpha >= 0,
            _sigmoid_focal(inputs, targets, alpha, gamma, log_space=False),
            _sigmoid_focal(inputs, targets, None, gamma, log_space=False),
        )
    else:
        loss = _sigmoid_focal(
            inputs, targets, alpha if alpha >= 0 else None, gamma, log_space=False
        )
    return R.reduce(loss, reduction).astype(out_dtype)


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


# ----------------------------------------------------------------------------------------------------------
# box losses
# ----------------------------------------------------------------------------------------------------------


def _prepare_boxes(loss: str, boxes1, boxes2, reduction: str):
    """Validate, broadcast and upcast two ``(..., 4)`` box arrays the way torchvision does.

    torchvision's ``_upcast_non_float`` turns every dtype other than float32/float64 (half precision,
    integers) into float32, so the loss of half-precision or integer boxes is float32.
    """
    R.validate_reduction(loss, reduction)
    boxes1 = V.as_array(loss, "boxes1", boxes1)
    boxes2 = V.as_array(loss, "boxes2", boxes2)
    for nm, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if b.ndim == 0 or b.shape[-1] != 4:
            raise ValueError(
                f"{loss}: {nm} has shape {tuple(b.shape)}; it must be (..., 4) boxes (x1, y1, x2, y2)"
            )
        if not (jnp.issubdtype(b.dtype, jnp.floating) or jnp.issubdtype(b.dtype, jnp.integer)):
            raise TypeError(f"{loss}: {nm} must have a floating or integer dtype; got {b.dtype}")

    def upcast(b):
        return (
            b
            if b.dtype in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))
            else b.astype(jnp.float32)
        )

    V.check_same_shape(
        loss, "boxes2", boxes2, "boxes1", boxes1
    )  # torchvision's masked indexing needs it
    boxes1, boxes2 = upcast(boxes1), upcast(boxes2)
    dtype = jnp.result_type(boxes1, boxes2)
    return boxes1.astype(dtype), boxes2.astype(dtype)


def _box_reduce(loss_values: jax.Array, reduction: str) -> jax.Array:
    """torchvision's box-loss reduction: ``'mean'`` of no boxes is ``0`` (``0.0 * loss.sum()``), not ``nan``."""
    if reduction == "mean" and loss_values.size == 0:
        return 0.0 * jnp.sum(loss_values)
    return R.reduce(loss_values, reduction)


def _inter_union(boxes1: jax.Array, boxes2: jax.Array):
    """Intersection and union areas of paired boxes (torchvision ``_utils._loss_inter_union``)."""
    x1, y1, x2, y2 = (boxes1[..., i] for i in range(4))
    x1g, y1g, x2g, y2g = (boxes2[..., i] for i in range(4))
    xkis1 = jnp.maximum(x1, x1g)  # ties split the gradient in halves, as torch.max(a, b) does
    ykis1 = jnp.maximum(y1, y1g)
    xkis2 = jnp.minimum(x2, x2g)
    ykis2 = jnp.minimum(y2, y2g)
    overlap = (ykis2 > ykis1) & (xkis2 > xkis1)
    inter = jnp.where(overlap, (xkis2 - xkis1) * (ykis2 - ykis1), 0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def _enclosing(boxes1: jax.Array, boxes2: jax.Array):
    """Corners of the smallest box enclosing each pair."""
    xc1 = jnp.minimum(boxes1[..., 0], boxes2[..., 0])
    yc1 = jnp.minimum(boxes1[..., 1], boxes2[..., 1])
    xc2 = jnp.maximum(boxes1[..., 2], boxes2[..., 2])
    yc2 = jnp.maximum(boxes1[..., 3], boxes2[..., 3])
    return xc1, yc1, xc2, yc2


def _giou(boxes1: jax.Array, boxes2: jax.Array, eps: float) -> jax.Array:
    """Per-pair ``1 - GIoU`` (torchvision ``generalized_box_iou_loss``, unreduced)."""
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing(boxes1, boxes2)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return 1 - (iou - ((area_c - union) / (area_c + eps)))


def _diou_iou(boxes1: jax.Array, boxes2: jax.Array, eps: float):
    """Per-pair ``1 - DIoU`` and the IoU (torchvision ``_utils._diou_iou_loss``)."""
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing(boxes1, boxes2)
    diagonal_sq = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x1, y1, x2, y2 = (boxes1[..., i] for i in range(4))
    x1g, y1g, x2g, y2g = (boxes2[..., i] for i in range(4))
    centers_sq = (((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2) + (((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2)
    return 1 - iou + (centers_sq / diagonal_sq), iou


def _aspect_angle(w: jax.Array, h: jax.Array) -> jax.Array:
    """``atan(w / h)`` as torchvision computes it, with finite values and gradients where ``h == 0``.

    For ``h != 0`` this is ``atan2(w', |h|)`` with ``w' = -w`` when ``h < 0`` (the same angle as
    ``atan(w / h)``); a zero-height box gives ``+-pi/2`` as torch does (``atan(+-inf)``), with the finite
    derivative of ``atan2``. A point box (``w == h == 0``; torch: ``atan(0/0) = nan``) gets angle ``0`` and a
    zero gradient.
    """
    point = (w == 0) & (h == 0)
    safe_h = jnp.where(
        point, 1, jnp.abs(h)
    )  # double where: atan2's derivative is 0/0 at the origin
    safe_w = jnp.where(point, 0, jnp.where(h < 0, -w, w))
    return jnp.where(point, 0, jnp.arctan2(safe_w, safe_h))


def _ciou(boxes1: jax.Array, boxes2: jax.Array, eps: float) -> jax.Array:
    """Per-pair ``1 - CIoU`` (torchvision ``complete_box_iou_loss``, unreduced)."""
    diou_loss, iou = _diou_iou(boxes1, boxes2, eps)
    w_pred = boxes1[..., 2] - boxes1[..., 0]
    h_pred = boxes1[..., 3] - boxes1[..., 1]
    w_gt = boxes2[..., 2] - boxes2[..., 0]
    h_gt = boxes2[..., 3] - boxes2[..., 1]
    v = (4 / (math.pi**2)) * ((_aspect_angle(w_gt, h_gt) - _aspect_angle(w_pred, h_pred)) ** 2)
    alpha = jax.lax.stop_gradient(
        v / (1 - iou + v + eps)
    )  # torchvision computes alpha under no_grad
    return diou_loss + alpha * v


_BOX_ARGS = """boxes1: predicted boxes ``(..., 4)`` as ``(x1, y1, x2, y2)`` with ``x1 <= x2``, ``y1 <= y2``.
      boxes2: target boxes, same shape as ``boxes1``.
      reduction: ``'none'`` (default, as torchvision) | ``'mean'`` | ``'sum'``; the ``'mean'`` of no boxes is
        ``0`` (as torchvision).
      eps: small number that keeps the divisions finite."""

_BOX_RETURNS = """The loss, of the batch shape ``(...)`` for ``'none'``, else a scalar. float16/bfloat16 and
      integer boxes give a float32 loss (torchvision's ``_upcast_non_float``)."""


def _box_doc(fn):
    """Fill in the Args and Returns the IoU losses share."""
    fill_docs((fn,), box_args=_BOX_ARGS, box_returns=_BOX_RETURNS)
    return fn


def _boxes_example(rng: np.random.Generator):
    def boxes(n):
        xy = rng.random((n, 2)) * 4
        wh = 0.5 + rng.random((n, 2)) * 3
        return np.concatenate([xy, xy + wh], axis=-1)

    return (boxes(5), boxes(5)), {}


@register(
    family="detection",
    reference="torchvision.ops.generalized_box_iou_loss (torchvision 0.2x)",
    example=_boxes_example,
    diff=(0, 1),
    smooth=False,
)
@_box_doc
def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Generalized IoU loss, torchvision's ``torchvision.ops.generalized_box_iou_loss``.

    .. math::
       \\ell = 1 - \\mathrm{IoU} + \\frac{|C| - |A \\cup B|}{|C| + \\epsilon},\\qquad
       \\mathrm{IoU} = \\frac{|A \\cap B|}{|A \\cup B| + \\epsilon}

    with :math:`C` the smallest box enclosing :math:`A` and :math:`B`. Rezatofighi et al., *Generalized
    Intersection over Union*, CVPR 2019. Gradients are finite for coincident and zero-area boxes.

    Args:
      {box_args}

    Returns:
      {box_returns}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.detection import generalized_box_iou_loss
      >>> a = jnp.array([[0.0, 0.0, 2.0, 2.0]]); b = jnp.array([[1.0, 1.0, 3.0, 3.0]])
      >>> print(f"{generalized_box_iou_loss(a, b)[0]:.4f}")  # 1 - 1/7 + (9 - 7)/9
      1.0794

    Reference: torchvision.ops.generalized_box_iou_loss (torchvision 0.2x).
    """
    name = "generalized_box_iou_loss"
    boxes1, boxes2 = _prepare_boxes(name, boxes1, boxes2, reduction)
    return _box_reduce(_giou(boxes1, boxes2, eps), reduction)


@register(
    family="detection",
    reference="torchvision.ops.distance_box_iou_loss (torchvision 0.2x)",
    example=_boxes_example,
    diff=(0, 1),
    smooth=False,
)
@_box_doc
def distance_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Distance IoU loss, torchvision's ``torchvision.ops.distance_box_iou_loss``.

    .. math::
       \\ell = 1 - \\mathrm{IoU} + \\frac{\\lVert c_A - c_B \\rVert^2}{d_C^2 + \\epsilon}

    with :math:`c` the box centres and :math:`d_C` the diagonal of the enclosing box. Zheng et al.,
    *Distance-IoU Loss*, AAAI 2020. Gradients are finite for coincident and zero-area boxes.

    Args:
      {box_args}

    Returns:
      {box_returns}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.detection import distance_box_iou_loss
      >>> a = jnp.array([[0.0, 0.0, 2.0, 2.0]]); b = jnp.array([[1.0, 1.0, 3.0, 3.0]])
      >>> print(f"{distance_box_iou_loss(a, b)[0]:.4f}")  # 1 - 1/7 + 2/18
      0.9683

    Reference: torchvision.ops.distance_box_iou_loss (torchvision 0.2x).
    """
    name = "distance_box_iou_loss"
    boxes1, boxes2 = _prepare_boxes(name, boxes1, boxes2, reduction)
    return _box_reduce(_diou_iou(boxes1, boxes2, eps)[0], reduction)


@register(
    family="detection",
    reference="torchvision.ops.complete_box_iou_loss (torchvision 0.2x)",
    example=_boxes_example,
    diff=(0, 1),
    smooth=False,
)
@_box_doc
def complete_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """Complete IoU loss, torchvision's ``torchvision.ops.complete_box_iou_loss``.

    .. math::
       \\ell = \\ell_{\\mathrm{DIoU}} + \\alpha v,\\quad
       v = \\frac{4}{\\pi^2}\\Big(\\arctan\\frac{w_B}{h_B} - \\arctan\\frac{w_A}{h_A}\\Big)^2,\\quad
       \\alpha = \\mathrm{sg}\\Big[\\frac{v}{1 - \\mathrm{IoU} + v + \\epsilon}\\Big]

    (:math:`\\mathrm{sg}`: no gradient, as torchvision computes :math:`\\alpha` under ``no_grad``). Zheng et
    al., *Enhancing Geometric Factors in Model Learning and Inference for Object Detection and Instance
    Segmentation*, 2021.

    Deviation: torchvision's ``atan(w / h)`` is ``nan`` for a point box (``w == h == 0``) and has ``nan``
    gradients for any zero-height box; here the angle of a point box is ``0`` and every gradient is finite
    (values agree with torchvision wherever torchvision's are finite).

    Args:
      {box_args}

    Returns:
      {box_returns}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.detection import complete_box_iou_loss
      >>> a = jnp.array([[0.0, 0.0, 2.0, 1.0]]); b = jnp.array([[1.0, 1.0, 3.0, 3.0]])
      >>> print(f"{complete_box_iou_loss(a, b)[0]:.4f}")
      1.1822

    Reference: torchvision.ops.complete_box_iou_loss (torchvision 0.2x).
    """
    name = "complete_box_iou_loss"
    boxes1, boxes2 = _prepare_boxes(name, boxes1, boxes2, reduction)
    return _box_reduce(_ciou(boxes1, boxes2, eps), reduction)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register("sigmoid_focal_loss", family="classification", example=OX.ex_binary)
def optax_sigmoid_focal_loss(logits, labels, *, alpha=None, gamma=2.0):
    """Sigmoid focal loss ``alpha_t (1 - p_t)^gamma BCE(x, y)``, with ``(1 - p_t)`` computed in log space.

    .. math::

        \\ell = \\alpha_t (1 - p_t)^\\gamma\\, \\ell_{\\mathrm{BCE}}(x, y),
        \\quad p_t = y\\, \\sigma(x) + (1 - y)(1 - \\sigma(x)),
        \\quad \\alpha_t = \\alpha y + (1 - \\alpha)(1 - y)

    Args:
      logits: logits, any shape.
      labels: labels in ``[0, 1]`` broadcastable with the logits (a pair broadcasting to neither shape
        raises ``ValueError``).
      alpha: optional weight of the positives (``1 - alpha`` for the negatives).
      gamma: focusing exponent.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import sigmoid_focal_loss
      >>> print(sigmoid_focal_loss(jnp.array([0.0]), jnp.array([1.0])).round(4))
      [0.1733]

    Reference: Lin et al., "Focal Loss for Dense Object Detection", 2017; optax 0.2.8.
    """
    name = "sigmoid_focal_loss"
    logits = V.as_float(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    logits, labels = OX.broadcast_no_outer(name, "logits", logits, "labels", labels)
    return _sigmoid_focal(logits, labels, alpha, gamma, log_space=True)
