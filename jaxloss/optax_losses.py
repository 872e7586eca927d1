"""A drop-in for ``optax.losses`` (optax 0.2.8): every public name, same signatures, same per-example values.

Replace ``optax.losses`` by ``jaxloss.optax_losses`` and nothing changes, except where optax 0.2.8 has a bug;
each such difference is listed, with its reason and its test, in ``docs/optax_differences.md``:

* ``dice_loss(..., apply_softmax=False)`` (and ``binary_dice_loss(..., apply_sigmoid=False)``) work under
  ``jit``; the probability check is a :func:`jaxloss._src.core.validation.data_check`, and a single channel is checked
  for values in ``[0, 1]`` instead of "sums to 1";
* ``sigmoid_binary_cross_entropy``, ``sigmoid_focal_loss`` and ``hinge_loss`` raise ``ValueError`` for a pair of
  shapes that broadcast to neither (``(4, 1)`` with ``(4,)``) instead of silently returning ``(4, 4)``;
* ``cosine_similarity``/``cosine_distance`` give ``0`` similarity and a finite gradient for a zero vector (and a
  fully masked row) with ``epsilon=0``; ``ntxent`` gives ``0`` without positive pairs; ``smooth_labels`` stays
  finite on a fully masked row; ``softmax_cross_entropy``/``poly_loss_cross_entropy`` with ``where`` give a
  zero (not ``nan``) gradient for masked labels;
* ``triplet_margin_loss`` takes the absolute value inside its ``norm_degree``-norm (optax's is signed for odd
  degrees); ``multiclass_sparsemax_loss`` keeps float32 and differentiates under ``jax_enable_x64``.

Shape legend: ``B`` batch dimensions (any number), ``C`` classes, ``T`` time, ``N`` label length.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.families import detection as _detection
from jaxloss._src.families import divergence as _divergence
from jaxloss._src.families import fenchel_young as _fy
from jaxloss._src.families import hinge as _hinge
from jaxloss._src.families import metric as _metric
from jaxloss._src.families import multiclass as _multiclass
from jaxloss._src.families import ranking as _ranking
from jaxloss._src.families import regression as _regression
from jaxloss._src.families import segmentation as _segmentation
from jaxloss._src.families.classification import cross_entropy as _classification
from jaxloss._src.families.ctc import optax_ctc_loss as ctc_loss
from jaxloss._src.families.ctc import optax_ctc_loss_with_forward_probs as ctc_loss_with_forward_probs
from jaxloss._src.families.fenchel_young import make_fenchel_young_loss
from jaxloss._src.core.registry import register

__all__ = [
    "binary_dice_loss",
    "convex_kl_divergence",
    "cosine_distance",
    "cosine_similarity",
    "ctc_loss",
    "ctc_loss_with_forward_probs",
    "dice_loss",
    "generalized_kl_divergence",
    "hinge_loss",
    "huber_loss",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "l2_loss",
    "log_cosh",
    "make_fenchel_young_loss",
    "multiclass_generalized_dice_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "ntxent",
    "perceptron_loss",
    "poly_loss_cross_entropy",
    "ranking_softmax_loss",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "sparsemax_loss",
    "squared_error",
    "triplet_margin_loss",
]

_REF = "optax.losses.{} (optax 0.2.8)"


# --- small private helpers shared by the faces below -------------------------------------------------------


def _ex_pair(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


def _ex_signs(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.choice([-1.0, 1.0], (4, 3))), {}


def _ex_probs(rng: np.random.Generator):
    logits = rng.standard_normal((4, 3))
    labels = rng.random((4, 3))
    return (logits, labels / labels.sum(-1, keepdims=True)), {}


def _ex_log_probs(rng: np.random.Generator):
    (logits, labels), _ = _ex_probs(rng)
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True)), labels), {}


def _ex_binary(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.integers(0, 2, (4, 3)).astype(np.float64)), {}


def _ex_int_labels(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.integers(0, 3, (4,))), {}


def _ex_segmentation(rng: np.random.Generator):
    logits = rng.standard_normal((2, 3, 3, 4))
    targets = np.eye(4)[rng.integers(0, 4, (2, 3, 3))]
    return (logits, targets), {}


def _floating(loss: str, name: str, x) -> jax.Array:
    """optax's ``check_subdtype(x, jnp.floating)`` with a message naming the loss and the argument."""
    return V.as_float(loss, name, x)


def _check_no_outer_broadcast(
    loss: str, a_name: str, a: jax.Array, b_name: str, b: jax.Array
) -> None:
    """Refuse shapes that broadcast to neither input's shape (``(4, 1)`` with ``(4,)`` gives ``(4, 4)``).

    Such a pair is almost always a forgotten ``squeeze``; optax returns the outer "product" silently.
    """
    try:
        shape = jnp.broadcast_shapes(a.shape, b.shape)
    except ValueError as err:
        raise ValueError(
            f"{loss}: {a_name} of shape {tuple(a.shape)} and {b_name} of shape {tuple(b.shape)} "
            "do not broadcast"
        ) from err
    if shape != a.shape and shape != b.shape:
        raise ValueError(
            f"{loss}: {a_name} of shape {tuple(a.shape)} and {b_name} of shape {tuple(b.shape)} would "
            f"broadcast to {tuple(shape)}, the shape of neither; reshape one of them (e.g. squeeze a "
            "trailing 1) so that one shape broadcasts to the other"
        )


def _expand_where(where, logits: jax.Array, axis):
    """optax's convention: a ``where`` with one dimension fewer than ``logits`` lacks the reduced axis."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.ndim != logits.ndim:
        where = jnp.expand_dims(where, axis)
    return _broadcast_where(where, logits.shape)


def _broadcast_where(where, shape):
    """``where`` broadcast to ``shape`` explicitly (``None`` stays ``None``)."""
    return None if where is None else jnp.broadcast_to(jnp.asarray(where), shape)


def _broadcast_all(*arrays: jax.Array) -> list[jax.Array]:
    """numpy broadcasting, written out (the library runs under ``jax_numpy_rank_promotion='raise'``)."""
    shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    return [jnp.broadcast_to(a, shape) for a in arrays]


def _zeros_or_broadcast(loss: str, predictions: jax.Array, targets) -> jax.Array:
    """optax's ``targets=None`` means zeros."""
    if targets is None:
        return jnp.zeros((), predictions.dtype)
    return V.as_array(loss, "targets", targets)


def _check_axis(loss: str, axis, ndim: int) -> None:
    """An int or a tuple of ints, each in ``[-ndim, ndim)`` (optax raises ``ValueError`` as well)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ValueError(f"{loss}: axis must be an int or a tuple of ints; got {axis!r}")  # noqa: TRY004 (optax: ValueError)
        if not -ndim <= a < ndim:
            raise ValueError(f"{loss}: axis {a} is out of bounds for logits with {ndim} dimensions")


def _cosine_similarity(a: jax.Array, b: jax.Array, epsilon, axis, where) -> jax.Array:
    """optax's cosine similarity: each vector over ``sqrt(max(||v||^2, epsilon))``, then their dot product.

    Unlike torch's kernel (:func:`jaxloss._src.families.distance._cosine_similarity`), ``epsilon`` bounds the *squared*
    norm and the clip passes no gradient below it, as in optax. A squared norm that is still ``0`` after the
    clip (a zero vector, or a fully masked one, with ``epsilon=0``) is divided by ``1`` instead of ``0``: the
    vector stays ``0``, so the similarity is ``0`` and its gradient finite (optax gives ``nan``).
    """
    a_norm2 = jnp.sum(jnp.square(a), axis=axis, where=where, keepdims=True)
    b_norm2 = jnp.sum(jnp.square(b), axis=axis, where=where, keepdims=True)

    def unit(v, norm2):
        clipped = jnp.clip(norm2, epsilon)
        # double where: no sqrt(0) in the value or the gradient
        safe = jnp.where(clipped > 0, clipped, 1)
        return v / jnp.sqrt(safe)

    return jnp.sum(unit(a, a_norm2) * unit(b, b_norm2), axis=axis, where=where)


def _dice_per_class(probs, targets, *, smooth, alpha, beta, axis):
    """Tversky/Dice loss per class: ``1 - (I + s) / (I + alpha FP + beta FN + s)`` summed over ``axis``."""
    intersection, pred_sum, target_sum = _segmentation._dice_kernel(probs, targets, axis)
    numerator = intersection + smooth
    denominator = (
        intersection
        + alpha * (pred_sum - intersection)
        + beta * (target_sum - intersection)
        + smooth
    )
    return 1.0 - numerator / denominator


def _check_probabilities(loss: str, probs: jax.Array) -> None:
    """``apply_softmax=False``: class probabilities sum to 1 (several channels) or lie in [0, 1] (one)."""
    if probs.shape[-1] == 1:
        V.data_check(
            loss,
            lambda p: (p >= 0) & (p <= 1),
            "with apply_softmax=False and a single channel, predictions must be probabilities in [0, 1]",
            probs,
        )
    else:
        V.data_check(
            loss,
            lambda p: jnp.abs(jnp.sum(p, axis=-1) - 1) <= 1e-8 + 1e-5,  # allclose(rtol=1e-5)
            "with apply_softmax=False, predictions must be probability distributions that sum to 1 "
            "along the class axis (the last one)",
            probs,
        )


# --- the faces, in alphabetical order ----------------------------------------------------------------------


@register(
    namespace="optax_losses",
    optax="binary_dice_loss",
    family="segmentation",
    reference=_REF.format("binary_dice_loss"),
    example=lambda rng: ((rng.standard_normal((2, 4, 4)), rng.integers(0, 2, (2, 4, 4)) * 1.0), {}),
)
def binary_dice_loss(predictions, targets, *, smooth=1.0, apply_sigmoid=True):
    """Binary Dice loss: :func:`dice_loss` with a single (sigmoid) channel, averaged over it.

    Args:
      predictions: logits (or probabilities with ``apply_sigmoid=False``) of shape ``(B, ...)`` or
        ``(B, ..., 1)``.
      targets: binary targets of the same shape.
      smooth: added to the numerator and the denominator.
      apply_sigmoid: apply a sigmoid to ``predictions`` first.

    Returns:
      The loss per example, shape ``(B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import binary_dice_loss
      >>> print(binary_dice_loss(jnp.array([[9.0, -9.0]]), jnp.array([[1.0, 0.0]])).round(4))
      [0.0001]

    Reference: Milletari et al., "V-Net", 2016; optax 0.2.8 ``binary_dice_loss``. With
    ``apply_sigmoid=False`` optax requires every prediction to equal 1; jaxloss checks they lie in [0, 1].
    """
    predictions = _floating("binary_dice_loss", "predictions", predictions)
    targets = V.as_array("binary_dice_loss", "targets", targets)
    if predictions.ndim == targets.ndim and predictions.shape[-1] != 1:
        predictions, targets = predictions[..., None], targets[..., None]
    return dice_loss(
        predictions, targets, smooth=smooth, apply_softmax=apply_sigmoid, reduction="mean"
    )


@register(
    namespace="optax_losses",
    optax="convex_kl_divergence",
    family="divergence",
    reference=_REF.format("convex_kl_divergence"),
    example=_ex_log_probs,
    diff=(0, 1),
)
def convex_kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Deprecated alias of :func:`generalized_kl_divergence` (warns, as optax does).

    Example:
      >>> import warnings, jax.numpy as jnp
      >>> from jaxloss.optax_losses import convex_kl_divergence
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     print(float(convex_kl_divergence(jnp.log(jnp.array([0.5, 0.5])), jnp.array([0.5, 0.5]))))
      0.0

    Reference: optax.losses.convex_kl_divergence (optax 0.2.8).
    """
    warnings.warn(
        "The function convex_kl_divergence is deprecated. Please use generalized_kl_divergence instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)


@register(
    namespace="optax_losses",
    optax="cosine_distance",
    family="distance",
    reference=_REF.format("cosine_distance"),
    example=_ex_pair,
    diff=(0, 1),
)
def cosine_distance(predictions, targets, *, epsilon=0.0, axis=-1, where=None):
    """Cosine distance ``1 - cos(angle)`` between predictions and targets over ``axis``.

    Args:
      predictions: vectors of shape ``(*B, D)``.
      targets: vectors of the same shape.
      epsilon: lower bound on each *squared* norm.
      axis: axis or axes of the vectors.
      where: elements to include.

    Returns:
      Distances of shape ``(*B,)``; ``1`` for a zero vector with ``epsilon=0`` (optax: ``nan``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import cosine_distance
      >>> print(cosine_distance(jnp.array([[1.0, 0.0]]), jnp.array([[0.0, 2.0]])))
      [1.]

    Reference: optax.losses.cosine_distance (optax 0.2.8).
    """
    return 1.0 - cosine_similarity(predictions, targets, epsilon=epsilon, axis=axis, where=where)


@register(
    namespace="optax_losses",
    optax="cosine_similarity",
    family="distance",
    reference=_REF.format("cosine_similarity"),
    example=_ex_pair,
    diff=(0, 1),
)
def cosine_similarity(predictions, targets, *, epsilon=0.0, axis=-1, where=None):
    """Cosine similarity between predictions and targets over ``axis``.

    .. math:: s = \\frac{a}{\\sqrt{\\max(\\|a\\|^2, \\epsilon)}} \\cdot \\frac{b}{\\sqrt{\\max(\\|b\\|^2, \\epsilon)}}

    Args:
      predictions: vectors of shape ``(*B, D)``.
      targets: vectors of the same shape.
      epsilon: lower bound on each *squared* norm.
      axis: axis or axes of the vectors.
      where: elements to include.

    Returns:
      Similarities of shape ``(*B,)``. A zero (or fully masked) vector with ``epsilon=0`` gives ``0``
      with a finite gradient, where optax gives ``nan``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import cosine_similarity
      >>> print(cosine_similarity(jnp.array([[3.0, 4.0], [0.0, 0.0]]), jnp.array([[3.0, 4.0], [1.0, 0.0]])))
      [1. 0.]

    Reference: optax.losses.cosine_similarity (optax 0.2.8).
    """
    name = "cosine_similarity"
    predictions = _floating(name, "predictions", predictions)
    targets = _floating(name, "targets", targets)
    predictions, targets = _broadcast_all(predictions, targets)
    where = _broadcast_where(where, predictions.shape)
    return _cosine_similarity(predictions, targets, epsilon, axis, where)


@register(
    namespace="optax_losses",
    optax="dice_loss",
    family="segmentation",
    reference=_REF.format("dice_loss"),
    example=_ex_segmentation,
)
def dice_loss(
    predictions,
    targets,
    *,
    class_weights=None,
    smooth=1.0,
    alpha=0.5,
    beta=0.5,
    apply_softmax=True,
    reduction="mean",
    ignore_background=False,
    axis=None,
):
    """Soft Dice (Tversky with ``alpha``, ``beta``) loss per class, reduced over the classes.

    .. math:: \\ell_c = 1 - \\frac{I_c + s}{I_c + \\alpha (P_c - I_c) + \\beta (T_c - I_c) + s}

    with :math:`I_c = \\sum_i p_{ic} t_{ic}`, :math:`P_c = \\sum_i p_{ic}`, :math:`T_c = \\sum_i t_{ic}`.

    Args:
      predictions: logits ``(B, ..., C)`` (sigmoid when ``C == 1``, softmax otherwise), or probabilities
        with ``apply_softmax=False``; ``(B, ...)`` is read as one channel.
      targets: one-hot (or binary) targets of the same shape.
      class_weights: optional ``(C,)`` weights.
      smooth: added to the numerator and the denominator.
      alpha: weight of false positives.
      beta: weight of false negatives.
      apply_softmax: map logits to probabilities first. With ``False`` the predictions are checked (eagerly,
        or under :func:`jaxloss.checked`); under plain ``jit`` they are used as given (optax fails there).
      reduction: ``'mean'`` | ``'sum'`` | ``'none'`` over the classes.
      ignore_background: drop class 0 when ``C > 1``.
      axis: axes summed per class; by default all but the first and the last.

    Returns:
      ``(B,)`` for ``'mean'``/``'sum'``, ``(B, C)`` for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import dice_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> targets = jnp.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> print(dice_loss(probs, targets, apply_softmax=False).round(4))
      [0.075]

    Reference: Milletari et al., "V-Net", 2016; Salehi et al., "Tversky loss", 2017; optax 0.2.8.
    """
    name = "dice_loss"
    R.validate_reduction(name, reduction)
    predictions = _floating(name, "predictions", predictions)
    targets = V.as_array(name, "targets", targets)
    if predictions.ndim == targets.ndim - 1:
        predictions = predictions[..., None]
    if targets.ndim == predictions.ndim - 1:
        targets = targets[..., None]
    V.check_same_shape(name, "targets", targets, "predictions", predictions)
    if apply_softmax:
        if predictions.shape[-1] == 1:
            probs = jax.nn.sigmoid(predictions)
        else:
            probs = jax.nn.softmax(predictions, axis=-1)
    else:
        _check_probabilities(name, predictions)
        probs = predictions
    if axis is None:
        axis = tuple(range(1, probs.ndim - 1))
    per_class = _dice_per_class(probs, targets, smooth=smooth, alpha=alpha, beta=beta, axis=axis)
    if class_weights is not None:
        class_weights = V.as_array(name, "class_weights", class_weights)
        V.check_ndim(name, "class_weights", class_weights, (1,))
        per_class = per_class * jnp.broadcast_to(class_weights, per_class.shape)
    if ignore_background and probs.shape[-1] > 1:
        per_class = per_class[..., 1:]
    if reduction == "none":
        return per_class
    return jnp.mean(per_class, axis=-1) if reduction == "mean" else jnp.sum(per_class, axis=-1)


@register(
    namespace="optax_losses",
    optax="generalized_kl_divergence",
    family="divergence",
    reference=_REF.format("generalized_kl_divergence"),
    example=_ex_log_probs,
    diff=(0, 1),
)
def generalized_kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Generalized KL divergence for unnormalised distributions (Bregman divergence of ``x log x - x``).

    .. math:: D(t \\| p) = \\sum_i t_i (\\log t_i - \\log p_i) + p_i - t_i

    Args:
      log_predictions: log-probabilities (possibly unnormalised), ``(*B, D)``.
      targets: non-negative targets of the same shape.
      axis: axis or axes to sum over.
      where: elements to include.

    Returns:
      Divergences of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import generalized_kl_divergence
      >>> print(float(generalized_kl_divergence(jnp.log(jnp.array([1.0, 2.0])), jnp.array([1.0, 2.0]))))
      0.0

    Reference: optax.losses.generalized_kl_divergence (optax 0.2.8).
    """
    log_predictions = _floating("generalized_kl_divergence", "log_predictions", log_predictions)
    targets = _floating("generalized_kl_divergence", "targets", targets)
    log_predictions, targets = _broadcast_all(log_predictions, targets)
    where = _broadcast_where(where, targets.shape)
    kl = jnp.sum(_divergence._kl_pointwise(log_predictions, targets, False), axis=axis, where=where)
    return kl + jnp.sum(jnp.exp(log_predictions) - targets, axis=axis, where=where)


@register(
    namespace="optax_losses",
    optax="hinge_loss",
    family="margin",
    reference=_REF.format("hinge_loss"),
    example=_ex_signs,
    smooth=False,
)
def hinge_loss(predictor_outputs, targets):
    """Binary hinge loss ``max(0, 1 - s t)`` elementwise.

    Args:
      predictor_outputs: scores ``s``.
      targets: targets ``t`` in ``{-1, 1}``, broadcastable with the scores (a pair broadcasting to neither
        shape, such as ``(4, 1)`` with ``(4,)``, raises ``ValueError``; optax returns ``(4, 4)``).

    Returns:
      The elementwise loss, of the broadcast shape.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import hinge_loss
      >>> print(hinge_loss(jnp.array([2.0, 0.5, -1.0]), jnp.array([1.0, 1.0, 1.0])))
      [0.  0.5 2. ]

    Reference: optax.losses.hinge_loss (optax 0.2.8).
    """
    name = "hinge_loss"
    scores = V.as_array(name, "predictor_outputs", predictor_outputs)
    targets = V.as_array(name, "targets", targets)
    _check_no_outer_broadcast(name, "predictor_outputs", scores, "targets", targets)
    scores, targets = V.broadcast_pair(name, "predictor_outputs", scores, "targets", targets)
    return _hinge._hinge(scores, targets)


@register(
    namespace="optax_losses",
    optax="huber_loss",
    family="regression",
    reference=_REF.format("huber_loss"),
    example=_ex_pair,
    diff=(0, 1),
)
def huber_loss(predictions, targets=None, *, delta=1.0):
    """Huber loss: ``0.5 e^2`` for ``|e| <= delta``, ``delta (|e| - 0.5 delta)`` beyond, with ``e = p - t``.

    Args:
      predictions: predictions, any shape.
      targets: targets broadcastable with the predictions; zeros when ``None``.
      delta: where the loss turns from quadratic to linear.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import huber_loss
      >>> print(huber_loss(jnp.array([0.5, 3.0])))
      [0.125 2.5  ]

    Reference: optax.losses.huber_loss (optax 0.2.8).
    """
    name = "huber_loss"
    predictions = _floating(name, "predictions", predictions)
    targets = _zeros_or_broadcast(name, predictions, targets)
    predictions, targets = _broadcast_all(predictions, targets)
    return _regression._huber(predictions, targets, delta)


@register(
    namespace="optax_losses",
    optax="kl_divergence",
    family="divergence",
    reference=_REF.format("kl_divergence"),
    example=_ex_log_probs,
    diff=(0, 1),
)
def kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Kullback-Leibler divergence of the predictions from the targets, ``sum t (log t - log p)``.

    Args:
      log_predictions: log-probabilities ``(*B, D)``.
      targets: probabilities of the same shape (``0 log 0 = 0``).
      axis: axis or axes to sum over.
      where: elements to include.

    Returns:
      Divergences of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import kl_divergence
      >>> print(round(float(kl_divergence(jnp.log(jnp.array([0.5, 0.5])), jnp.array([1.0, 0.0]))), 4))
      0.6931

    Reference: optax.losses.kl_divergence (optax 0.2.8).
    """
    log_predictions = _floating("kl_divergence", "log_predictions", log_predictions)
    targets = _floating("kl_divergence", "targets", targets)
    log_predictions, targets = _broadcast_all(log_predictions, targets)
    where = _broadcast_where(where, targets.shape)
    return jnp.sum(
        _divergence._kl_pointwise(log_predictions, targets, False), axis=axis, where=where
    )


@register(
    namespace="optax_losses",
    optax="kl_divergence_with_log_targets",
    family="divergence",
    reference=_REF.format("kl_divergence_with_log_targets"),
    example=lambda rng: ((_ex_log_probs(rng)[0][0], _ex_log_probs(rng)[0][0]), {}),
    diff=(0, 1),
)
def kl_divergence_with_log_targets(log_predictions, log_targets, axis=-1, where=None):
    """Kullback-Leibler divergence with targets in log space, ``sum exp(lt) (lt - lp)``.

    Args:
      log_predictions: log-probabilities ``(*B, D)``.
      log_targets: log-probabilities of the targets, same shape.
      axis: axis or axes to sum over.
      where: elements to include.

    Returns:
      Divergences of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import kl_divergence_with_log_targets
      >>> lp = jnp.log(jnp.array([0.5, 0.5]))
      >>> print(float(kl_divergence_with_log_targets(lp, lp)))
      0.0

    Reference: optax.losses.kl_divergence_with_log_targets (optax 0.2.8).
    """
    log_predictions = _floating(
        "kl_divergence_with_log_targets", "log_predictions", log_predictions
    )
    log_targets = _floating("kl_divergence_with_log_targets", "log_targets", log_targets)
    log_predictions, log_targets = _broadcast_all(log_predictions, log_targets)
    where = _broadcast_where(where, log_targets.shape)
    loss = _divergence._kl_pointwise(log_predictions, log_targets, True)
    return jnp.sum(loss, axis=axis, where=where)


@register(
    namespace="optax_losses",
    optax="l2_loss",
    family="regression",
    reference=_REF.format("l2_loss"),
    example=_ex_pair,
    diff=(0, 1),
)
def l2_loss(predictions, targets=None):
    """Half the squared error, ``0.5 (p - t)^2``, elementwise.

    Args:
      predictions: predictions, any shape.
      targets: targets of the same shape; zeros when ``None``.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import l2_loss
      >>> print(l2_loss(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0])))
      [0.5 2. ]

    Reference: optax.losses.l2_loss (optax 0.2.8).
    """
    return 0.5 * squared_error(predictions, targets)


@register(
    namespace="optax_losses",
    optax="log_cosh",
    family="regression",
    reference=_REF.format("log_cosh"),
    example=_ex_pair,
    diff=(0, 1),
)
def log_cosh(predictions, targets=None):
    """Log-cosh loss ``log(cosh(p - t))``, elementwise; about ``e^2/2`` near 0 and ``|e| - log 2`` far out.

    Args:
      predictions: predictions, any shape.
      targets: targets broadcastable with the predictions; zeros when ``None``.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import log_cosh
      >>> print(log_cosh(jnp.array([0.0, 1000.0])).round(4))
      [  0.      999.30676]

    Reference: optax.losses.log_cosh (optax 0.2.8).
    """
    name = "log_cosh"
    predictions = _floating(name, "predictions", predictions)
    targets = _zeros_or_broadcast(name, predictions, targets)
    predictions, targets = _broadcast_all(predictions, targets)
    return _regression._log_cosh(predictions, targets)


@register(
    namespace="optax_losses",
    optax="multiclass_generalized_dice_loss",
    family="segmentation",
    reference=_REF.format("multiclass_generalized_dice_loss"),
    example=_ex_segmentation,
)
def multiclass_generalized_dice_loss(
    predictions, targets, *, smooth=1.0, apply_softmax=True, ignore_background=False
):
    """Generalized Dice loss: :func:`dice_loss` per class weighted by inverse squared class frequency.

    The weights are ``1 / (f_c^2 + 1e-7)`` normalised to sum to ``C``, with ``f_c`` the total target mass
    of class ``c``; the result is the mean of the weighted per-class, per-example losses.

    Args:
      predictions: logits ``(B, ..., C)``.
      targets: one-hot targets of the same shape.
      smooth: added to the numerator and the denominator.
      apply_softmax: map logits to probabilities first.
      ignore_background: drop class 0.

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_generalized_dice_loss
      >>> t = jnp.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> print(round(float(multiclass_generalized_dice_loss(20 * t - 10, t)), 4))
      0.0

    Reference: Sudre et al., "Generalised Dice overlap", 2017; optax 0.2.8.
    """
    name = "multiclass_generalized_dice_loss"
    predictions = _floating(name, "predictions", predictions)
    targets = V.as_array(name, "targets", targets)
    V.check_same_shape(name, "targets", targets, "predictions", predictions)
    class_frequencies = jnp.sum(targets, axis=tuple(range(targets.ndim - 1)))
    class_weights = 1.0 / (class_frequencies**2 + 1e-7)  # 1e-7: a class absent from the targets
    class_weights = class_weights / jnp.sum(class_weights) * class_weights.shape[0]
    per_class = dice_loss(
        predictions,
        targets,
        class_weights=class_weights,
        smooth=smooth,
        apply_softmax=apply_softmax,
        reduction="none",
        ignore_background=ignore_background,
    )
    return jnp.mean(per_class)


@register(
    namespace="optax_losses",
    optax="multiclass_hinge_loss",
    family="margin",
    reference=_REF.format("multiclass_hinge_loss"),
    example=_ex_int_labels,
    smooth=False,
)
def multiclass_hinge_loss(scores, labels):
    """Multiclass (Crammer-Singer) hinge loss ``max_k(s_k + [k != y]) - s_y``.

    Args:
      scores: scores ``(*B, C)``.
      labels: integer labels ``(*B,)``.

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_hinge_loss
      >>> print(multiclass_hinge_loss(jnp.array([[2.0, 1.5, 0.0]]), jnp.array([0])))
      [0.5]

    Reference: Crammer & Singer, JMLR 2001; optax 0.2.8.
    """
    scores = V.as_array("multiclass_hinge_loss", "scores", scores)
    labels = V.as_array("multiclass_hinge_loss", "labels", labels)
    return _hinge._multiclass_hinge(scores, labels)


@register(
    namespace="optax_losses",
    optax="multiclass_perceptron_loss",
    family="margin",
    reference=_REF.format("multiclass_perceptron_loss"),
    example=_ex_int_labels,
    smooth=False,
)
def multiclass_perceptron_loss(scores, labels):
    """Multiclass perceptron loss ``max_k s_k - s_y``.

    Args:
      scores: scores ``(*B, C)``.
      labels: integer labels ``(*B,)``.

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_perceptron_loss
      >>> print(multiclass_perceptron_loss(jnp.array([[2.0, 1.5, 0.0]]), jnp.array([1])))
      [0.5]

    Reference: Collins, EMNLP 2002; optax 0.2.8.
    """
    scores = V.as_array("multiclass_perceptron_loss", "scores", scores)
    labels = V.as_array("multiclass_perceptron_loss", "labels", labels)
    return _hinge._multiclass_perceptron(scores, labels)


@register(
    namespace="optax_losses",
    optax="multiclass_sparsemax_loss",
    family="classification",
    reference=_REF.format("multiclass_sparsemax_loss"),
    example=_ex_int_labels,
    smooth=False,
)
def multiclass_sparsemax_loss(scores, labels):
    """Multiclass sparsemax loss, the Fenchel-Young loss of the Gini entropy.

    .. math:: \\ell = \\langle p, s - s_y \\rangle + \\tfrac12 (1 - \\|p\\|^2), \\quad p = \\operatorname{sparsemax}(s)

    Args:
      scores: scores ``(*B, C)``.
      labels: integer labels ``(*B,)``.

    Returns:
      Losses of shape ``(*B,)``, in the scores' dtype (optax 0.2.8 returns float64 for float32 scores
      under ``jax_enable_x64`` and then cannot differentiate).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_sparsemax_loss
      >>> print(multiclass_sparsemax_loss(jnp.array([[2.0, 0.0, 0.0]]), jnp.array([0])))
      [0.]

    Reference: Martins & Astudillo, "From Softmax to Sparsemax", ICML 2016; optax 0.2.8.
    """
    scores = _floating("multiclass_sparsemax_loss", "scores", scores)
    labels = V.as_int("multiclass_sparsemax_loss", "labels", labels)
    one_hot = jax.nn.one_hot(labels, scores.shape[-1], dtype=scores.dtype)
    return _multiclass._sparsemax_loss_kernel(scores, one_hot)


@register(
    namespace="optax_losses",
    optax="ntxent",
    family="metric",
    reference=_REF.format("ntxent"),
    example=lambda rng: ((rng.standard_normal((4, 3)), np.array([0, 0, 1, 1])), {}),
)
def ntxent(embeddings, labels, temperature=0.07):
    """Normalized temperature-scaled cross-entropy (NT-Xent, SimCLR), averaged over the positive pairs.

    For each positive pair ``(i, j)`` (same label, ``i != j``) with cosine similarities ``c``:
    ``-log(exp(c_ij / T) / (exp(c_ij / T) + sum_{k: label_k != label_i} exp(c_ik / T)))``.

    Args:
      embeddings: ``(B, D)``.
      labels: ``(B,)`` group ids; equal ids are positive pairs.
      temperature: the temperature ``T``.

    Returns:
      A scalar; ``0`` (with zero gradient) when there is no positive pair (optax: ``nan``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ntxent
      >>> e = jnp.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
      >>> print(round(float(ntxent(e, jnp.array([0, 0, 1, 1]))), 4))
      0.0

    Reference: Chen et al., "A Simple Framework for Contrastive Learning", 2020; optax 0.2.8.
    """
    name = "ntxent"
    embeddings = _floating(name, "embeddings", embeddings)
    labels = V.as_array(name, "labels", labels)
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"{name}: labels has {labels.shape[0]} rows; it must have one per embedding "
            f"({embeddings.shape[0]})"
        )
    eps = jnp.finfo(embeddings.dtype).eps  # optax clips the squared norms at the input dtype's eps
    per_pair, positives = _metric._ntxent_pairs(embeddings, labels, temperature, eps)
    # no positive pair: 0 / 1, not optax's 0 / 0
    return jnp.sum(per_pair) / jnp.maximum(jnp.sum(positives), 1)


@register(
    namespace="optax_losses",
    optax="perceptron_loss",
    family="margin",
    reference=_REF.format("perceptron_loss"),
    example=_ex_signs,
    smooth=False,
)
def perceptron_loss(predictor_outputs, targets):
    """Binary perceptron loss ``max(0, -s t)`` elementwise.

    Args:
      predictor_outputs: scores ``s``.
      targets: targets ``t`` in ``{-1, 1}``, the same shape.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import perceptron_loss
      >>> print(perceptron_loss(jnp.array([2.0, -0.5]), jnp.array([1.0, 1.0])))
      [0.  0.5]

    Reference: optax.losses.perceptron_loss (optax 0.2.8).
    """
    name = "perceptron_loss"
    scores = V.as_array(name, "predictor_outputs", predictor_outputs)
    targets = V.as_array(name, "targets", targets)
    V.check_same_shape(name, "targets", targets, "predictor_outputs", scores)
    return _hinge._perceptron(scores, targets)


@register(
    namespace="optax_losses",
    optax="poly_loss_cross_entropy",
    family="classification",
    reference=_REF.format("poly_loss_cross_entropy"),
    example=_ex_probs,
    diff=(0, 1),
)
def poly_loss_cross_entropy(logits, labels, *, epsilon=2.0, axis=-1, where=None):
    """Poly-1 loss: softmax cross-entropy plus ``epsilon`` times ``sum y (1 - p)``.

    Args:
      logits: ``(*B, C)``.
      labels: probabilities broadcastable to the logits.
      epsilon: coefficient of the first polynomial term.
      axis: class axis or axes.
      where: elements to include (``(*B, C)``, or ``(*B,)`` in :func:`softmax_cross_entropy`).

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import poly_loss_cross_entropy
      >>> print(round(float(poly_loss_cross_entropy(jnp.zeros(2), jnp.array([1.0, 0.0]))), 4))
      1.6931

    Reference: Leng et al., "PolyLoss", ICLR 2022; optax 0.2.8.
    """
    logits = _floating("poly_loss_cross_entropy", "logits", logits)
    labels = _floating("poly_loss_cross_entropy", "labels", labels)
    logits, labels = _broadcast_all(logits, labels)
    where = _broadcast_where(where, logits.shape)
    probs = jax.nn.softmax(logits, axis=axis, where=where)
    one_minus_pt = jnp.sum(labels * (1 - probs), axis=axis, where=where)
    cross_entropy = softmax_cross_entropy(logits, labels, axis=axis, where=where)
    return cross_entropy + epsilon * one_minus_pt


@register(
    namespace="optax_losses",
    optax="ranking_softmax_loss",
    family="ranking",
    reference=_REF.format("ranking_softmax_loss"),
    example=_ex_binary,
)
def ranking_softmax_loss(logits, labels, *, where=None, weights=None, reduce_fn=jnp.mean):
    """Listwise softmax ranking loss ``-sum_i y_i log softmax(s)_i`` per list, then ``reduce_fn``.

    Args:
      logits: scores ``(*B, L)``.
      labels: relevance labels ``(*B, L)``.
      where: valid items ``(*B, L)``; lists without a valid item are left out of the reduction.
      weights: per-item weights multiplying the labels.
      reduce_fn: ``jnp.mean`` (``0`` when no list is valid), ``jnp.sum`` or ``None`` (per-list losses,
        ``0`` for lists without a valid item).

    Returns:
      The reduced loss, or ``(*B,)`` with ``reduce_fn=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ranking_softmax_loss
      >>> print(round(float(ranking_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0]))), 3))
      1.408

    Reference: Cao et al., "Learning to Rank: From Pairwise Approach to Listwise Approach", 2007; optax.
    """
    name = "ranking_softmax_loss"
    logits = _floating(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    logits, labels = _broadcast_all(logits, labels)
    where = _broadcast_where(where, logits.shape)
    if weights is not None:
        weights = jnp.broadcast_to(jnp.asarray(weights), labels.shape)
    # per list; 0 for a list without valid items
    loss = _ranking._listwise_softmax(logits, labels, where, weights)
    valid_lists = None if where is None else jnp.any(where, axis=-1)
    if reduce_fn is None:
        return loss
    out = reduce_fn(loss, where=valid_lists)
    if reduce_fn is jnp.mean:
        # a mean over no valid list is 0, unless the losses themselves carry a nan
        out = jnp.where(jnp.isnan(out) & ~jnp.any(jnp.isnan(loss)), 0.0, out)
    return out


@register(
    namespace="optax_losses",
    optax="safe_softmax_cross_entropy",
    family="classification",
    reference=_REF.format("safe_softmax_cross_entropy"),
    example=_ex_probs,
    diff=(0, 1),
)
def safe_softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy over the last axis with ``0 log 0 = 0`` (a ``-inf`` logit with label 0 is fine).

    Args:
      logits: ``(*B, C)``; may contain ``-inf`` where the label is ``0``.
      labels: probabilities broadcastable to the logits.

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import safe_softmax_cross_entropy
      >>> print(round(float(safe_softmax_cross_entropy(jnp.array([-jnp.inf, 0.0, 0.0]),
      ...                                              jnp.array([0.0, 1.0, 0.0]))), 4))
      0.6931

    Reference: optax.losses.safe_softmax_cross_entropy (optax 0.2.8).
    """
    name = "safe_softmax_cross_entropy"
    logits = _floating(name, "logits", logits)
    labels = V.as_array(name, "labels", labels)
    labels = jnp.broadcast_to(labels, jnp.broadcast_shapes(labels.shape, logits.shape))
    dtype = jnp.result_type(logits, labels)
    return _fy._safe_cross_entropy(logits.astype(dtype), labels.astype(dtype))


@register(
    namespace="optax_losses",
    optax="sigmoid_binary_cross_entropy",
    family="classification",
    reference=_REF.format("sigmoid_binary_cross_entropy"),
    example=_ex_binary,
    diff=(0, 1),
)
def sigmoid_binary_cross_entropy(logits, labels):
    """Elementwise sigmoid cross-entropy ``-y log sigmoid(x) - (1 - y) log sigmoid(-x)``.

    Args:
      logits: logits, any shape.
      labels: binary labels or probabilities broadcastable with the logits (a pair broadcasting to neither
        shape, such as ``(4, 1)`` with ``(4,)``, raises ``ValueError``; optax returns ``(4, 4)``).

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import sigmoid_binary_cross_entropy
      >>> print(sigmoid_binary_cross_entropy(jnp.array([0.0, 100.0]), jnp.array([1.0, 1.0])).round(4))
      [0.6931 0.    ]

    Reference: optax.losses.sigmoid_binary_cross_entropy (optax 0.2.8).
    """
    name = "sigmoid_binary_cross_entropy"
    logits = _floating(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    _check_no_outer_broadcast(name, "logits", logits, "labels", labels)
    logits, labels = V.broadcast_pair(name, "logits", logits, "labels", labels)
    log_p = jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)  # log(1 - sigmoid(x)) = log_sigmoid(-x), stabler
    return -labels * log_p - (1.0 - labels) * log_not_p


@register(
    namespace="optax_losses",
    optax="sigmoid_focal_loss",
    family="classification",
    reference=_REF.format("sigmoid_focal_loss"),
    example=_ex_binary,
)
def sigmoid_focal_loss(logits, labels, *, alpha=None, gamma=2.0):
    """Sigmoid focal loss ``alpha_t (1 - p_t)^gamma BCE(x, y)``, with ``(1 - p_t)`` computed in log space.

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
    logits = _floating(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    _check_no_outer_broadcast(name, "logits", logits, "labels", labels)
    logits, labels = V.broadcast_pair(name, "logits", logits, "labels", labels)
    return _detection._sigmoid_focal(logits, labels, alpha, gamma, log_space=True)


def smooth_labels(labels, alpha, *, axis=-1, where=None):
    """Label smoothing: ``(1 - alpha) y + alpha / K`` with ``K`` the number of (selected) classes.

    Args:
      labels: one-hot labels ``(*B, C)``.
      alpha: smoothing factor.
      axis: class axis or axes.
      where: selected classes; ``K`` counts them per row (a row with none counts ``1``, so it stays finite,
        where optax divides by ``0``).

    Returns:
      Smoothed labels of the same shape.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import smooth_labels
      >>> print(smooth_labels(jnp.array([0.0, 1.0]), 0.2))
      [0.1 0.9]
    """
    labels = _floating("smooth_labels", "labels", labels)
    if where is None:
        num_categories = jnp.size(labels, axis)
    else:
        num_categories = jnp.maximum(jnp.sum(where, axis, keepdims=True), 1)
    return (1.0 - alpha) * labels + alpha / num_categories


@register(
    namespace="optax_losses",
    optax="softmax_cross_entropy",
    family="classification",
    reference=_REF.format("softmax_cross_entropy"),
    example=_ex_probs,
    diff=(0, 1),
)
def softmax_cross_entropy(logits, labels, axis=-1, where=None):
    """Softmax cross-entropy with probability labels, ``-sum_c y_c log softmax(x)_c``.

    Args:
      logits: ``(*B, C)``.
      labels: probabilities broadcastable to the logits.
      axis: class axis or axes (``None``: all).
      where: elements to include, ``(*B, C)`` or ``(*B,)``; masked classes get a zero gradient for their
        labels (optax: ``nan``).

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import softmax_cross_entropy
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
      >>> print(softmax_cross_entropy(logits, labels).round(4))
      [0.27609998 2.9517999 ]

    Reference: optax.losses.softmax_cross_entropy (optax 0.2.8).
    """
    logits = _floating("softmax_cross_entropy", "logits", logits)
    labels = V.as_array("softmax_cross_entropy", "labels", labels)
    logits, labels = _broadcast_all(logits, labels)
    if where is None:
        axes = tuple(range(logits.ndim)) if axis is None else axis
        return _classification._cross_entropy_probs(logits, labels, axes)
    where = _expand_where(where, logits, axis)
    log_probs = jax.nn.log_softmax(logits, axis, where)
    log_probs = jnp.where(where, log_probs, 0)  # masked -inf would make the labels' gradient nan
    return -(labels * log_probs).sum(axis, where=where)


@register(
    namespace="optax_losses",
    optax="softmax_cross_entropy_with_integer_labels",
    family="classification",
    reference=_REF.format("softmax_cross_entropy_with_integer_labels"),
    example=_ex_int_labels,
)
def softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1, where=None):
    """Softmax cross-entropy with integer labels, ``logsumexp(x) - x_y``.

    Args:
      logits: ``(*B, C)``; with a tuple ``axis`` the class axes are flattened (C-order) and a label is a flat
        index into them.
      labels: integer labels ``(*B,)``.
      axis: class axis (int) or axes (tuple).
      where: elements to include, ``(*B, C)`` or ``(*B,)``; fully masked rows give ``0``.

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import softmax_cross_entropy_with_integer_labels
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> print(softmax_cross_entropy_with_integer_labels(logits, jnp.array([0, 1])).round(4))
      [0.27609998 2.9517999 ]

    Reference: optax.losses.softmax_cross_entropy_with_integer_labels (optax 0.2.8).
    """
    name = "softmax_cross_entropy_with_integer_labels"
    logits = _floating(name, "logits", logits)
    labels = V.as_int(name, "labels", labels)
    _check_axis(name, axis, logits.ndim)
    if where is None:
        return _classification._cross_entropy_indices(logits, labels, axis)
    where = _expand_where(where, logits, axis)
    if isinstance(axis, tuple):
        logits_shape = logits.shape
        class_axes = tuple(int(a) % logits.ndim for a in axis)
        batch_axes = tuple(a for a in range(logits.ndim) if a not in class_axes)
        perm = batch_axes + class_axes
        batch_shape = tuple(logits.shape[a] for a in batch_axes)
        logits = logits.transpose(perm).reshape(batch_shape + (-1,))
        if where is not None:
            where = jnp.broadcast_to(where, tuple(logits_shape))
            where = where.transpose(perm).reshape(batch_shape + (-1,))
        axis = len(batch_axes)
    else:
        axis = int(axis) % logits.ndim
    label_logits = jnp.take_along_axis(logits, jnp.expand_dims(labels, axis), axis=axis).take(
        0, axis=axis
    )
    log_normalizers = jax.nn.logsumexp(logits, axis=axis, where=where)
    out = log_normalizers - label_logits
    if where is not None:
        out = jnp.where(jnp.any(where, axis), out, 0.0)
    return out


@register(
    namespace="optax_losses",
    optax="sparsemax_loss",
    family="classification",
    reference=_REF.format("sparsemax_loss"),
    example=_ex_binary,
    smooth=False,
)
def sparsemax_loss(logits, labels):
    """Binary sparsemax loss ``sparse_plus(-x)`` for label 1 and ``sparse_plus(x)`` for label 0.

    Args:
      logits: logits, any shape.
      labels: labels in ``{0, 1}`` (any non-zero counts as 1), broadcastable with the logits.

    Returns:
      The elementwise loss; zero exactly when ``sparse_sigmoid(x) == y``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import sparsemax_loss
      >>> print(sparsemax_loss(jnp.array([0.0, 2.0]), jnp.array([1, 0])))
      [0.25 2.  ]

    Reference: Blondel et al., "Learning with Fenchel-Young Losses", JMLR 2020, sec. 4.4; optax 0.2.8.
    """
    logits = V.as_array("sparsemax_loss", "logits", logits)
    labels = V.as_array("sparsemax_loss", "labels", labels)
    logits, labels = V.broadcast_pair("sparsemax_loss", "logits", logits, "labels", labels)
    return jax.nn.sparse_plus(jnp.where(labels, -logits, logits))


@register(
    namespace="optax_losses",
    optax="squared_error",
    family="regression",
    reference=_REF.format("squared_error"),
    example=_ex_pair,
    diff=(0, 1),
)
def squared_error(predictions, targets=None):
    """Elementwise squared error ``(p - t)^2`` (``p^2`` without targets).

    Args:
      predictions: predictions, any shape.
      targets: targets of the same shape, or ``None``.

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import squared_error
      >>> print(squared_error(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0])))
      [1. 4.]

    Reference: optax.losses.squared_error (optax 0.2.8).
    """
    predictions = _floating("squared_error", "predictions", predictions)
    if targets is None:
        return _regression._squared_error(predictions, jnp.zeros((), predictions.dtype))
    targets = V.as_array("squared_error", "targets", targets)
    V.check_same_shape("squared_error", "targets", targets, "predictions", predictions)
    return _regression._squared_error(predictions, targets)


@register(
    namespace="optax_losses",
    optax="triplet_margin_loss",
    family="margin",
    reference=_REF.format("triplet_margin_loss"),
    example=lambda rng: (tuple(rng.standard_normal((3, 4, 5))), {}),
    diff=(0, 1, 2),
    smooth=False,
)
def triplet_margin_loss(
    anchors, positives, negatives, axis=-1, norm_degree=2, margin=1.0, eps=1e-6
):
    """Triplet margin loss ``max(d(a, p) - d(a, n) + margin, 0)`` with ``d(x, y) = (sum |x - y|^q + eps)^(1/q)``.

    Args:
      anchors: ``(B, D)``.
      positives: ``(B, D)``.
      negatives: ``(B, D)``.
      axis: the feature axis.
      norm_degree: ``q``. jaxloss takes ``|x - y|`` (a norm); optax 0.2.8 raises the signed difference to
        ``q``, which differs for odd or fractional ``q``.
      margin: the margin.
      eps: added inside the root (keeps the gradient finite at ``d = 0``).

    Returns:
      Losses of shape ``(B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import triplet_margin_loss
      >>> a = jnp.array([[0.0, 0.0], [1.0, 1.0]])
      >>> p = jnp.array([[0.1, 0.1], [1.1, 1.1]])
      >>> n = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> print(triplet_margin_loss(a, p, n).round(4))
      [0.1414 0.1414]

    Reference: Balntas et al., BMVC 2016; optax 0.2.8.
    """
    name = "triplet_margin_loss"
    anchors = _floating(name, "anchors", anchors)
    positives = _floating(name, "positives", positives)
    negatives = _floating(name, "negatives", negatives)

    def distance(x, y):
        return jnp.power(jnp.power(jnp.abs(x - y), norm_degree).sum(axis) + eps, 1 / norm_degree)

    return jnp.maximum(distance(anchors, positives) - distance(anchors, negatives) + margin, 0)
