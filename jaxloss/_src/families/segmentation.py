"""Segmentation losses: region-overlap losses (Dice, Jaccard, Tversky, focal Tversky) and the Lovasz losses.

Shape legend (used throughout this module): ``B`` batch, ``C`` classes, ``...`` spatial axes (any number,
possibly none). Every layout is **channels-last**, as in Keras: predictions are ``(B, ..., C)``; targets are
either class indices ``(B, ...)`` or one-hot / soft / multi-label targets ``(B, ..., C)``. The Lovasz hinge
loss is binary and takes ``(B, ...)`` logits and labels.

Private kernels that other faces (``jaxloss.optax_losses``) reuse:

* :func:`_dice_kernel` ``(probs, targets, axis, mask=None) -> (intersection, pred_sum, target_sum)``;
* :func:`_safe_ratio` ``(numerator, denominator) -> ratio`` with ``0 / 0 := 1``;
* :func:`_lovasz_extension` ``(errors, foreground, valid, transform=None) -> loss`` over the last axis.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import fill_docs, register

_ACTIVATIONS = (None, "softmax", "sigmoid")


# ----------------------------------------------------------------------------------------------------------
# Examples for the catalogue (small valid float64 inputs).


def _probs_example(rng: np.random.Generator):
    logits = rng.standard_normal((2, 3, 4, 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return (probs, rng.integers(0, 3, (2, 3, 4))), {}


def _hinge_example(rng: np.random.Generator):
    return (rng.standard_normal((2, 3, 4)), rng.integers(0, 2, (2, 3, 4))), {}


# ----------------------------------------------------------------------------------------------------------
# Kernels.


def _dice_kernel(
    probs: jax.Array, targets: jax.Array, axis: int | Sequence[int], mask: jax.Array | None = None
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-class overlap pieces of the soft region losses.

    Args:
      probs: ``(B, ..., C)`` probabilities (any float array; no activation is applied here).
      targets: ``(B, ..., C)`` one-hot, soft or multi-label targets, same shape and dtype as ``probs``.
      axis: the axes summed over (e.g. the spatial axes for per-image sums, every axis but the last for
        per-batch sums, or optax's ``axis``).
      mask: optional array of ``probs``'s shape (1 keeps an element, 0 drops it from every sum).

    Returns:
      ``(intersection, pred_sum, target_sum)``: ``sum(p * t)``, ``sum(p)`` and ``sum(t)`` over ``axis``;
      each has ``probs``'s shape without ``axis``. False positives are ``pred_sum - intersection`` and false
      negatives ``target_sum - intersection``.
    """
    if mask is not None:
        probs = probs * mask
        targets = targets * mask
    intersection = jnp.sum(probs * targets, axis=axis)
    pred_sum = jnp.sum(probs, axis=axis)
    target_sum = jnp.sum(targets, axis=axis)
    return intersection, pred_sum, target_sum


def _safe_ratio(numerator: jax.Array, denominator: jax.Array) -> jax.Array:
    """``numerator / denominator`` with ``0 / 0 := 1`` (an empty class predicted empty is a perfect match).

    The denominator can only be 0 when ``smooth = eps = 0`` and a class is absent from both the
    prediction and the target; the double ``where`` keeps the gradient finite (zero) there.
    """
    empty = denominator == 0
    return jnp.where(empty, 1.0, numerator / jnp.where(empty, 1.0, denominator))


def _safe_power(x: jax.Array, gamma: float) -> jax.Array:
    """``max(x, 0) ** gamma`` with a zero (not infinite) gradient at 0 when ``gamma < 1``."""
    positive = x > 0
    return jnp.where(positive, jnp.where(positive, x, 1.0) ** gamma, 0.0)


def _dice_overlap(i: jax.Array, p: jax.Array, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    return 2.0 * i, p + t


def _jaccard_overlap(i: jax.Array, p: jax.Array, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    return i, p + t - i  # the union


def _lovasz_grad(fg_sorted: jax.Array) -> jax.Array:
    """Gradient of the Lovasz extension of the Jaccard loss at errors sorted in decreasing order.

    ``fg_sorted`` is ``(..., N)`` with 1 for a foreground pixel, 0 otherwise, in the order of decreasing
    error. Berman et al. (2018), Eq. (9): ``g_i = J(pi_1..i) - J(pi_1..i-1)`` with ``J`` the Jaccard loss
    of the ``i`` pixels of largest error predicted as foreground. The union is at least 1 at every
    position (it counts the first pixel either way), so the division is always safe.
    """
    gts = jnp.sum(fg_sorted, axis=-1, keepdims=True)
    gts = jnp.broadcast_to(gts, fg_sorted.shape)
    intersection = gts - jnp.cumsum(fg_sorted, axis=-1)
    union = gts + jnp.cumsum(1.0 - fg_sorted, axis=-1)
    jaccard = 1.0 - intersection / union
    return jnp.concatenate([jaccard[..., :1], jnp.diff(jaccard, axis=-1)], axis=-1)


@functools.partial(jax.jit, static_argnames=("transform",))  # one compiled program, also when eager
def _lovasz_extension(
    errors: jax.Array,
    foreground: jax.Array,
    valid: jax.Array,
    transform: Callable[[jax.Array], jax.Array] | None = None,
) -> jax.Array:
    """Lovasz extension of the Jaccard loss over the last axis (Berman et al. 2018, Algorithm 1).

    Args:
      errors: ``(..., N)`` per-pixel errors (the sort key).
      foreground: ``(..., N)`` 1.0 for foreground pixels, 0.0 otherwise (same dtype as ``errors``).
      valid: ``(..., N)`` boolean; invalid (ignored) pixels are sorted after every valid one and add
        nothing, so the result equals the reference run on the valid pixels alone.
      transform: applied to the sorted errors before the dot product (``jax.nn.relu`` for the hinge).

    Returns:
      ``(...)``: ``sum_i transform(e_(i)) * g_i`` with ``e`` sorted in decreasing order and ``g`` from
      :func:`_lovasz_grad`. The sort is a permutation, differentiable almost everywhere in ``errors``.
    """
    key = jnp.where(valid, errors, -jnp.inf)  # ignored pixels sort last
    perm = jnp.argsort(key, axis=-1, descending=True, stable=True)
    errors_sorted = jnp.take_along_axis(errors, perm, axis=-1)
    fg_sorted = jnp.take_along_axis(foreground, perm, axis=-1)
    valid_sorted = jnp.take_along_axis(valid, perm, axis=-1)
    grad = jax.lax.stop_gradient(_lovasz_grad(fg_sorted))
    if transform is not None:
        errors_sorted = transform(errors_sorted)
    return jnp.sum(jnp.where(valid_sorted, errors_sorted, 0) * grad, axis=-1)


# ----------------------------------------------------------------------------------------------------------
# Shared argument handling.


def _prepare_predictions(name: str, predictions, activation) -> tuple[jax.Array, jnp.dtype]:
    """Convert, check ``(B, ..., C)``, upcast half precision and apply the activation."""
    predictions = V.as_float(name, "predictions", predictions)
    V.check_option(
        name, "activation", activation, activation in _ACTIVATIONS, "None, 'softmax' or 'sigmoid'"
    )
    if predictions.ndim < 2:
        raise ValueError(
            f"{name}: predictions must have shape (B, ..., C) (channels-last, at least 2-D); "
            f"got shape {tuple(predictions.shape)}"
        )
    if activation == "softmax" and predictions.shape[-1] < 2:
        raise ValueError(
            f"{name}: activation='softmax' needs C >= 2 classes on the last axis; got predictions of "
            f"shape {tuple(predictions.shape)} (use activation='sigmoid' for binary segmentation)"
        )
    out_dtype = jnp.dtype(predictions.dtype)
    predictions = predictions.astype(V.compute_dtype(out_dtype))
    if activation == "softmax":
        predictions = jax.nn.softmax(predictions, axis=-1)
    elif activation == "sigmoid":
        predictions = jax.nn.sigmoid(predictions)
    return predictions, out_dtype


def _check_class_indices(
    name: str, arg: str, labels: jax.Array, num_classes: int, ignore_index: int | None
) -> None:
    """Concrete ``labels`` must lie in ``[0, num_classes)`` or equal ``ignore_index``."""
    allowed = f"[0, {num_classes})" + (
        "" if ignore_index is None else f" or equal ignore_index={ignore_index}"
    )
    V.data_check(
        name,
        lambda t: (
            ((t >= 0) & (t < num_classes)) | (False if ignore_index is None else t == ignore_index)
        ),
        f"{arg} values must be in {allowed}",
        labels,
    )


def _prepare_targets(
    name: str, probs: jax.Array, targets, ignore_index: int | None
) -> tuple[jax.Array, jax.Array | None]:
    """Targets as ``(B, ..., C)`` floats, plus the mask of kept elements (``None`` when nothing is ignored).

    Class indices ``(B, ...)`` (integer dtype) are one-hot encoded and ``ignore_index`` drops whole pixels;
    targets of ``probs``'s shape are used as they are and ``ignore_index`` drops single elements.
    """
    targets = V.as_array(name, "targets", targets)
    num_classes = probs.shape[-1]
    if targets.shape == probs.shape:
        keep = None if ignore_index is None else targets != ignore_index
        targets = targets.astype(probs.dtype)
        if keep is not None:
            targets = jnp.where(keep, targets, 0)
    elif targets.shape == probs.shape[:-1]:
        if not jnp.issubdtype(targets.dtype, jnp.integer):
            raise TypeError(
                f"{name}: targets of shape {tuple(targets.shape)} are class indices and must have an "
                f"integer dtype; got {targets.dtype}"
            )
        if num_classes < 2:
            raise ValueError(
                f"{name}: class-index targets need C >= 2 classes; for binary segmentation pass targets "
                f"of shape {tuple(probs.shape)} (1 = foreground)"
            )
        _check_class_indices(name, "targets", targets, num_classes, ignore_index)
        keep = (
            None
            if ignore_index is None
            else jnp.broadcast_to((targets != ignore_index)[..., None], probs.shape)
        )
        targets = jax.nn.one_hot(targets, num_classes, dtype=probs.dtype)
    else:
        raise ValueError(
            f"{name}: targets has shape {tuple(targets.shape)}; for predictions {tuple(probs.shape)} it must "
            f"be {tuple(probs.shape[:-1])} (class indices) or {tuple(probs.shape)} (one-hot or soft)"
        )
    mask = None if keep is None else keep.astype(probs.dtype)
    return targets, mask


def _prepare_class_weights(name: str, class_weights, num_classes: int, dtype) -> jax.Array | None:
    if class_weights is None:
        return None
    class_weights = V.as_float(name, "class_weights", class_weights)
    if class_weights.shape != (num_classes,):
        raise ValueError(
            f"{name}: class_weights has shape {tuple(class_weights.shape)}; it must be ({num_classes},) "
            "(one weight per class)"
        )
    return class_weights.astype(dtype)


def _region_loss(
    name: str,
    overlap: Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    predictions,
    targets,
    activation,
    smooth: float,
    eps: float,
    per_image: bool,
    ignore_index: int | None,
    class_weights,
    reduction: str,
    gamma: float | None = None,
) -> jax.Array:
    """Driver shared by the overlap losses: activation, targets, sums, per-class loss, weights, reduction.

    ``overlap(I, P, T)`` gives the ratio's ``(numerator, denominator)``; the per-class loss is
    ``1 - (numerator + smooth) / (denominator + smooth + eps)``, raised to ``gamma`` when given.
    """
    R.validate_reduction(name, reduction)
    V.check_option(name, "per_image", per_image, isinstance(per_image, bool), "True or False")
    probs, out_dtype = _prepare_predictions(name, predictions, activation)
    targets, mask = _prepare_targets(name, probs, targets, ignore_index)
    weights = _prepare_class_weights(name, class_weights, probs.shape[-1], probs.dtype)
    # per image: sum the spatial axes -> (B, C); per batch: sum every axis but the class axis -> (C,)
    axis = tuple(range(1, probs.ndim - 1)) if per_image else tuple(range(probs.ndim - 1))
    intersection, pred_sum, target_sum = _dice_kernel(probs, targets, axis, mask)
    numerator, denominator = overlap(intersection, pred_sum, target_sum)
    values = 1.0 - _safe_ratio(numerator + smooth, denominator + smooth + eps)
    if gamma is not None:
        values = _safe_power(values, gamma)
    if weights is not None:
        values = values * jnp.broadcast_to(weights, values.shape)
    return R.reduce(values, reduction).astype(out_dtype)


_REGION_INPUTS = """predictions: ``(B, ..., C)`` probabilities, or logits with ``activation``; channels-last.
        For binary segmentation use ``C = 1``.
      targets: class indices ``(B, ...)`` (integer dtype; needs ``C >= 2``), or one-hot, soft or multi-label
        targets ``(B, ..., C)`` (any numeric dtype)."""

_REGION_OPTIONS = """activation: ``None`` (``predictions`` are probabilities, as Keras takes them),
        ``'softmax'`` (over the class axis) or ``'sigmoid'`` (elementwise; binary or multi-label).
      smooth: added to the numerator and the denominator (Laplace smoothing; 1 is common).
      eps: added to the denominator only (Keras's ``backend.epsilon()``).
      per_image: ``False`` (default, as Keras's ``axis=None``): the sums run over the batch and the spatial
        axes, one value per class ``(C,)``; ``True``: per image, ``(B, C)``.
      ignore_index: with class-index targets, pixels whose target equals it are dropped from every sum;
        with ``(B, ..., C)`` targets, single elements equal to it are dropped. An image with every pixel
        ignored has all sums 0 (loss ``1 - smooth / (smooth + eps)``, ``1`` by default) and finite gradients.
      class_weights: optional ``(C,)`` weights multiplying each class's loss before the reduction.
      reduction: ``'none'`` (the per-class losses, ``(C,)`` or ``(B, C)``), ``'mean'`` (their mean, as
        Keras's default ``'sum_over_batch_size'``) or ``'sum'``."""


@register(
    family="segmentation",
    reference="keras.losses.Dice (Keras 3.15); Milletari et al. 2016 (V-Net)",
    example=_probs_example,
)
def dice_loss(
    predictions,
    targets,
    *,
    activation: str | None = None,
    smooth: float = 0.0,
    eps: float = 1e-7,
    per_image: bool = False,
    ignore_index: int | None = None,
    class_weights=None,
    reduction: str = "mean",
) -> jax.Array:
    """Soft Dice loss, per class, channels-last.

    .. math:: \\ell_c = 1 - \\frac{2 I_c + s}{P_c + T_c + s + \\epsilon}, \\quad
              I_c = \\sum_i p_{ic} t_{ic},\\ P_c = \\sum_i p_{ic},\\ T_c = \\sum_i t_{ic}

    with the sums over the pixels ``i`` of the whole batch (or of each image with ``per_image=True``).
    With ``smooth=0`` and ``eps=1e-7`` (the defaults) this is ``keras.losses.dice(y_true, y_pred, axis=...)``
    with ``axis`` the summed axes: ``Dice(axis=(0, 1, 2))`` on ``(B, H, W, C)`` inputs gives the
    ``(C,)`` values of ``reduction='none'``, ``Dice(axis=(1, 2))`` the ``(B, C)`` ones of ``per_image=True``.
    A denominator of exactly 0 (``smooth = eps = 0`` and an empty class) counts as a perfect match (loss 0).

    Source: Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Keras 3 ``keras.losses.Dice``.

    Args:
      {inputs}
      {options}

    Returns:
      The loss: a scalar, or ``(C,)`` / ``(B, C)`` with ``reduction='none'``; dtype of ``predictions``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import dice_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])  # (B=1, 3 pixels, C=2)
      >>> labels = jnp.array([[0, 1, 1]])
      >>> [round(v, 4) for v in dice_loss(probs, labels, reduction='none').tolist()]
      [0.3333, 0.2727]

    Reference: keras.losses.Dice (Keras 3.15); Milletari et al. 2016 (V-Net).
    """
    options = (activation, smooth, eps, per_image, ignore_index, class_weights, reduction)
    return _region_loss("dice_loss", _dice_overlap, predictions, targets, *options)


@register(
    family="segmentation",
    reference="soft Jaccard / IoU loss (Rahman & Wang 2016); written-out float64 reference",
    example=_probs_example,
)
def jaccard_loss(
    predictions,
    targets,
    *,
    activation: str | None = None,
    smooth: float = 0.0,
    eps: float = 1e-7,
    per_image: bool = False,
    ignore_index: int | None = None,
    class_weights=None,
    reduction: str = "mean",
) -> jax.Array:
    """Soft Jaccard (intersection-over-union) loss, per class, channels-last.

    .. math:: \\ell_c = 1 - \\frac{I_c + s}{P_c + T_c - I_c + s + \\epsilon}

    with ``I, P, T`` as in :func:`dice_loss`. It equals :func:`tversky_loss` with ``alpha = beta = 1``.

    Source: Rahman & Wang, "Optimizing Intersection-Over-Union in Deep Neural Networks for Image
    Segmentation", ISVC 2016.

    Args:
      {inputs}
      {options}

    Returns:
      The loss: a scalar, or ``(C,)`` / ``(B, C)`` with ``reduction='none'``; dtype of ``predictions``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import jaccard_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])
      >>> labels = jnp.array([[0, 1, 1]])
      >>> [round(v, 4) for v in jaccard_loss(probs, labels, reduction='none').tolist()]
      [0.5, 0.4286]

    Reference: soft Jaccard / IoU loss (Rahman & Wang 2016); written-out float64 reference.
    """
    options = (activation, smooth, eps, per_image, ignore_index, class_weights, reduction)
    return _region_loss("jaccard_loss", _jaccard_overlap, predictions, targets, *options)


def _tversky_overlap(alpha, beta):
    def overlap(i, p, t):
        # false positives P - I and false negatives T - I (Salehi et al.'s alpha and beta)
        return i, i + alpha * (p - i) + beta * (t - i)

    return overlap


def _check_alpha_beta(name: str, alpha, beta) -> None:
    for arg, value in (("alpha", alpha), ("beta", beta)):
        V.check_option(
            name,
            arg,
            value,
            isinstance(value, (int, float)) and value >= 0,
            "a non-negative number",
        )


@register(
    family="segmentation",
    reference="keras.losses.Tversky (Keras 3.15) with alpha and beta swapped; Salehi et al. 2017",
    example=_probs_example,
)
def tversky_loss(
    predictions,
    targets,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    activation: str | None = None,
    smooth: float = 0.0,
    eps: float = 1e-7,
    per_image: bool = False,
    ignore_index: int | None = None,
    class_weights=None,
    reduction: str = "mean",
) -> jax.Array:
    """Tversky loss, per class, channels-last: Dice with separate weights for false positives and negatives.

    .. math:: \\ell_c = 1 - \\frac{I_c + s}{I_c + \\alpha (P_c - I_c) + \\beta (T_c - I_c) + s + \\epsilon}

    ``alpha`` weighs the false positives ``P - I`` and ``beta`` the false negatives ``T - I``, as in
    Salehi et al. and optax's ``dice_loss``. **Keras's ``Tversky(alpha, beta)`` weighs them the other
    way round** (its ``alpha`` multiplies ``sum(y_true * (1 - y_pred))``, the false negatives):
    ``keras.losses.tversky(y, p, alpha=a, beta=b)`` equals this loss with ``alpha=b, beta=a``.
    ``alpha = beta = 0.5`` is Dice (with the smoothing halved), ``alpha = beta = 1`` is Jaccard.

    Source: Salehi, Erdogmus & Gholipour, "Tversky loss function for image segmentation using 3D fully
    convolutional deep networks", MLMI 2017.

    Args:
      {inputs}
      alpha: weight of the false positives (non-negative).
      beta: weight of the false negatives (non-negative; ``beta > alpha`` favours recall).
      {options}

    Returns:
      The loss: a scalar, or ``(C,)`` / ``(B, C)`` with ``reduction='none'``; dtype of ``predictions``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import tversky_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])
      >>> labels = jnp.array([[0, 1, 1]])
      >>> [round(v, 4) for v in tversky_loss(probs, labels, alpha=0.3, beta=0.7, reduction='none').tolist()]
      [0.2562, 0.3296]

    Reference: keras.losses.Tversky (Keras 3.15) with alpha and beta swapped; Salehi et al. 2017.
    """
    name = "tversky_loss"
    _check_alpha_beta(name, alpha, beta)
    options = (activation, smooth, eps, per_image, ignore_index, class_weights, reduction)
    return _region_loss(name, _tversky_overlap(alpha, beta), predictions, targets, *options)


@register(
    family="segmentation",
    reference="focal Tversky loss (Abraham & Khan 2019); written-out float64 reference",
    example=_probs_example,
)
def focal_tversky_loss(
    predictions,
    targets,
    *,
    alpha: float = 0.3,
    beta: float = 0.7,
    gamma: float = 0.75,
    activation: str | None = None,
    smooth: float = 0.0,
    eps: float = 1e-7,
    per_image: bool = False,
    ignore_index: int | None = None,
    class_weights=None,
    reduction: str = "mean",
) -> jax.Array:
    """Focal Tversky loss: the per-class Tversky loss raised to the power ``gamma``.

    .. math:: \\ell_c = \\mathrm{TL}_c^{\\,\\gamma}, \\quad \\mathrm{TL}_c = 1 - \\frac{I_c + s}
              {I_c + \\alpha (P_c - I_c) + \\beta (T_c - I_c) + s + \\epsilon}

    as :func:`tversky_loss` (``alpha`` on the false positives, ``beta`` on the false negatives). The paper
    writes the exponent as ``1 / gamma`` with ``gamma = 4/3``; here ``gamma`` is the exponent itself, so the
    paper's setting is the default ``gamma = 0.75``. The paper puts its ``alpha = 0.7`` on the false
    negatives; in this module's convention that is the default ``alpha=0.3, beta=0.7``. At
    ``TL_c = 0`` the gradient is taken as 0 (the derivative of ``x ** gamma`` is infinite there for
    ``gamma < 1``).

    Source: Abraham & Khan, "A Novel Focal Tversky loss function with improved Attention U-Net for lesion
    segmentation", ISBI 2019.

    Args:
      {inputs}
      alpha: weight of the false positives (non-negative).
      beta: weight of the false negatives (non-negative).
      gamma: the focal exponent (positive; below 1 focuses on hard classes).
      {options}

    Returns:
      The loss: a scalar, or ``(C,)`` / ``(B, C)`` with ``reduction='none'``; dtype of ``predictions``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import focal_tversky_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])
      >>> labels = jnp.array([[0, 1, 1]])
      >>> loss = focal_tversky_loss(probs, labels, alpha=0.3, beta=0.7, gamma=0.75, reduction='none')
      >>> [round(v, 4) for v in loss.tolist()]
      [0.3601, 0.435]

    Reference: focal Tversky loss (Abraham & Khan 2019); written-out float64 reference.
    """
    name = "focal_tversky_loss"
    _check_alpha_beta(name, alpha, beta)
    V.check_option(
        name, "gamma", gamma, isinstance(gamma, (int, float)) and gamma > 0, "a positive number"
    )
    options = (activation, smooth, eps, per_image, ignore_index, class_weights, reduction)
    overlap = _tversky_overlap(alpha, beta)
    return _region_loss(name, overlap, predictions, targets, *options, gamma=gamma)


fill_docs(
    (dice_loss, jaccard_loss, tversky_loss, focal_tversky_loss),
    inputs=_REGION_INPUTS,
    options=_REGION_OPTIONS,
)


# ----------------------------------------------------------------------------------------------------------
# Lovasz losses (Berman, Rannen Triki & Blaschko, CVPR 2018).


def _lovasz_reduce(
    name: str, values: jax.Array, per_image: bool, reduction: str, out_dtype
) -> jax.Array:
    """``values`` is ``(B,)`` per image or ``(1,)`` for the whole batch; 'none' gives ``(B,)`` or ``()``."""
    if not per_image:
        values = values[0]
    return R.reduce(values, reduction).astype(out_dtype)


def _check_per_image(name: str, per_image) -> None:
    V.check_option(name, "per_image", per_image, isinstance(per_image, bool), "True or False")


@register(
    family="segmentation",
    reference="Berman et al. 2018, lovasz_softmax (reference PyTorch code); written-out float64 reference",
    example=_probs_example,
    smooth=False,
)
def lovasz_softmax_loss(
    predictions,
    labels,
    *,
    activation: str | None = None,
    classes: str | Sequence[int] = "present",
    per_image: bool = False,
    ignore_index: int | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Lovasz-softmax loss: a convex surrogate of the per-class Jaccard loss (mean IoU), channels-last.

    For each class ``c`` the errors ``e_i = |[y_i = c] - p_ic|`` are sorted in decreasing order and

    .. math:: \\ell_c = \\sum_i e_{(i)}\\, g_i(c), \\quad
              g_i(c) = J_c(\\{(1), \\dots, (i)\\}) - J_c(\\{(1), \\dots, (i-1)\\})

    with ``J_c`` the Jaccard loss of predicting the first ``i`` sorted pixels as class ``c`` (the gradient
    of the Lovasz extension of ``J_c``). The loss is the mean of ``ell_c`` over the chosen classes. The
    sort runs under ``jit``; the loss is piecewise linear in ``p``, so gradients are exact away from ties.

    Source: Berman, Rannen Triki & Blaschko, "The Lovasz-Softmax loss: A tractable surrogate for the
    optimization of the intersection-over-union measure in neural networks", CVPR 2018 (and the authors'
    reference code ``lovasz_losses.py``, which takes channels-first ``(B, C, H, W)`` probabilities).
    One deviation: with ``per_image=True``, an image whose pixels are all ignored contributes 0 to the
    mean (the reference code fails on it); likewise a loss with no class present is 0.

    Args:
      predictions: ``(B, ..., C)`` probabilities (as the reference takes them), or logits with
        ``activation='softmax'``; channels-last, ``C >= 2``.
      labels: ``(B, ...)`` integer class indices in ``[0, C)`` (or ``ignore_index``).
      activation: ``None`` (probabilities) or ``'softmax'``.
      classes: ``'present'`` (default: mean over the classes present among the non-ignored labels of each
        image, or of the batch), ``'all'`` (every class), or a sequence of class indices.
      per_image: ``False`` (default, as the reference): one loss for the flattened batch; ``True``: one per
        image, then the reduction over images.
      ignore_index: pixels with this label are dropped (the reference's ``ignore``).
      reduction: over the per-image losses: ``'mean'`` (the reference), ``'sum'`` or ``'none'`` (``(B,)``
        with ``per_image=True``; the scalar otherwise).

    Returns:
      The loss; a scalar unless ``reduction='none'`` and ``per_image=True``; dtype of ``predictions``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import lovasz_softmax_loss
      >>> probs = jnp.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]])
      >>> labels = jnp.array([[0, 1, 1]])
      >>> round(float(lovasz_softmax_loss(probs, labels)), 4)
      0.3833

    Reference: Berman et al. 2018, lovasz_softmax (reference PyTorch code); written-out float64 reference.
    """
    name = "lovasz_softmax_loss"
    R.validate_reduction(name, reduction)
    _check_per_image(name, per_image)
    V.check_option(
        name, "activation", activation, activation in (None, "softmax"), "None or 'softmax'"
    )
    probs, out_dtype = _prepare_predictions(name, predictions, activation)
    num_classes = probs.shape[-1]
    if num_classes < 2:
        raise ValueError(
            f"{name}: predictions must have C >= 2 classes on the last axis; got shape "
            f"{tuple(probs.shape)} (use lovasz_hinge_loss for binary segmentation)"
        )
    if isinstance(classes, str):
        V.check_option(
            name,
            "classes",
            classes,
            classes in ("present", "all"),
            "'present', 'all' or a sequence of class indices",
        )
        selected = None
    else:
        selected = tuple(int(c) for c in classes)
        V.check_option(
            name,
            "classes",
            classes,
            len(selected) > 0 and all(0 <= c < num_classes for c in selected),
            f"'present', 'all' or a non-empty sequence of class indices in [0, {num_classes})",
        )
    labels = V.as_int(name, "labels", labels)
    if labels.shape != probs.shape[:-1]:
        raise ValueError(
            f"{name}: labels has shape {tuple(labels.shape)}; for predictions {tuple(probs.shape)} it must be "
            f"{tuple(probs.shape[:-1])}"
        )
    _check_class_indices(name, "labels", labels, num_classes, ignore_index)
    batch = probs.shape[0] if per_image else 1
    probs = probs.reshape(batch, -1, num_classes)  # (B, N, C) or (1, B*N, C)
    labels = labels.reshape(batch, -1)
    valid = jnp.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    class_ids = jnp.arange(num_classes)
    fg = (labels[:, None, :] == class_ids[None, :, None]) & valid[:, None, :]  # (B, C, N)
    fg_float = fg.astype(probs.dtype)
    errors = jnp.abs(fg_float - jnp.swapaxes(probs, 1, 2))
    per_class = _lovasz_extension(
        errors, fg_float, jnp.broadcast_to(valid[:, None, :], fg.shape)
    )  # (B, C)
    if selected is not None:
        values = jnp.mean(per_class[:, jnp.array(selected)], axis=-1)
    elif classes == "all":
        values = jnp.mean(per_class, axis=-1)
    else:
        present = jnp.any(fg, axis=-1)
        values = R.masked_mean(per_class, present, axis=-1)  # 0 when no class is present
    return _lovasz_reduce(name, values, per_image, reduction, out_dtype)


@register(
    family="segmentation",
    reference="Berman et al. 2018, lovasz_hinge (reference PyTorch code); written-out float64 reference",
    example=_hinge_example,
    smooth=False,
)
def lovasz_hinge_loss(
    logits,
    labels,
    *,
    per_image: bool = True,
    ignore_index: int | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Lovasz hinge loss: a convex surrogate of the binary Jaccard loss (foreground IoU).

    With signs ``s_i = 2 y_i - 1`` and hinge errors ``e_i = 1 - s_i x_i`` sorted in decreasing order,

    .. math:: \\ell = \\sum_i \\max(e_{(i)}, 0)\\, g_i

    with ``g`` the gradient of the Lovasz extension of the foreground Jaccard loss (see
    :func:`lovasz_softmax_loss`).

    Source: Berman, Rannen Triki & Blaschko, CVPR 2018 (reference code ``lovasz_hinge``). An image whose
    pixels are all ignored contributes 0 (as in the reference), with zero gradients.

    Args:
      logits: ``(B, ...)`` real-valued scores (foreground if positive).
      labels: ``(B, ...)`` binary labels, 1 for foreground, 0 for background (or ``ignore_index``).
      per_image: ``True`` (default, as the reference): one loss per image, then the reduction; ``False``:
        one loss for the flattened batch.
      ignore_index: pixels with this label are dropped (the reference's ``ignore``).
      reduction: over the per-image losses: ``'mean'`` (the reference), ``'sum'`` or ``'none'`` (``(B,)``
        with ``per_image=True``; the scalar otherwise).

    Returns:
      The loss; a scalar unless ``reduction='none'`` and ``per_image=True``; dtype of ``logits``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.segmentation import lovasz_hinge_loss
      >>> logits = jnp.array([[2.0, -1.0, 0.5, -0.3]])
      >>> labels = jnp.array([[1, 0, 0, 1]])
      >>> round(float(lovasz_hinge_loss(logits, labels)), 4)
      0.9333

    Reference: Berman et al. 2018, lovasz_hinge (reference PyTorch code); written-out float64 reference.
    """
    name = "lovasz_hinge_loss"
    R.validate_reduction(name, reduction)
    _check_per_image(name, per_image)
    logits = V.as_float(name, "logits", logits)
    labels = V.as_array(name, "labels", labels)
    if logits.ndim < 1:
        raise ValueError(f"{name}: logits must have shape (B, ...); got a scalar")
    V.check_same_shape(name, "labels", labels, "logits", logits)
    allowed = "{0, 1}" + ("" if ignore_index is None else f" or equal ignore_index={ignore_index}")
    V.data_check(
        name,
        lambda t: (t == 0) | (t == 1) | (False if ignore_index is None else t == ignore_index),
        f"labels values must be in {allowed}",
        labels,
    )
    out_dtype = jnp.dtype(logits.dtype)
    logits = logits.astype(V.compute_dtype(out_dtype))
    batch = logits.shape[0] if per_image else 1
    logits = logits.reshape(batch, -1)
    labels = labels.reshape(batch, -1)
    valid = jnp.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    fg = ((labels == 1) & valid).astype(logits.dtype)
    errors = 1.0 - logits * (2.0 * fg - 1.0)
    values = _lovasz_extension(errors, fg, valid, transform=jax.nn.relu)
    return _lovasz_reduce(name, values, per_image, reduction, out_dtype)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


def _optax_segmentation_example(rng: np.random.Generator):
    logits = rng.standard_normal((2, 3, 3, 4))
    targets = np.eye(4)[rng.integers(0, 4, (2, 3, 3))]
    return (logits, targets), {}


def _optax_dice_per_class(probs, targets, *, smooth, alpha, beta, axis):
    """Tversky/Dice loss per class: ``1 - (I + s) / (I + alpha FP + beta FN + s)`` summed over ``axis``.

    Unlike :func:`_tversky_per_class`, ``0 / 0`` (``smooth=0`` and a class absent from both) stays ``nan``,
    as in optax.
    """
    intersection, pred_sum, target_sum = _dice_kernel(probs, targets, axis)
    numerator = intersection + smooth
    denominator = (
        intersection
        + alpha * (pred_sum - intersection)
        + beta * (target_sum - intersection)
        + smooth
    )
    return 1.0 - numerator / denominator


def _optax_check_probabilities(loss: str, probs: jax.Array) -> None:
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


@OX.register("dice_loss", family="segmentation", example=_optax_segmentation_example)
def optax_dice_loss(
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
    predictions = V.as_float(name, "predictions", predictions)
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
        _optax_check_probabilities(name, predictions)
        probs = predictions
    if axis is None:
        axis = tuple(range(1, probs.ndim - 1))
    per_class = _optax_dice_per_class(
        probs, targets, smooth=smooth, alpha=alpha, beta=beta, axis=axis
    )
    if class_weights is not None:
        class_weights = V.as_array(name, "class_weights", class_weights)
        V.check_ndim(name, "class_weights", class_weights, (1,))
        per_class = per_class * jnp.broadcast_to(class_weights, per_class.shape)
    if ignore_background and probs.shape[-1] > 1:
        per_class = per_class[..., 1:]
    if reduction == "none":
        return per_class
    return jnp.mean(per_class, axis=-1) if reduction == "mean" else jnp.sum(per_class, axis=-1)


@OX.register(
    "binary_dice_loss",
    family="segmentation",
    example=lambda rng: ((rng.standard_normal((2, 4, 4)), rng.integers(0, 2, (2, 4, 4)) * 1.0), {}),
)
def optax_binary_dice_loss(predictions, targets, *, smooth=1.0, apply_sigmoid=True):
    """Binary Dice loss: :func:`dice_loss` with a single (sigmoid) channel, averaged over it.

    .. math::

        \\ell = 1 - \\frac{\\sum_i p_i t_i + s}{\\tfrac12 \\sum_i p_i + \\tfrac12 \\sum_i t_i + s},
        \\quad p = \\sigma(x)

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
    predictions = V.as_float("binary_dice_loss", "predictions", predictions)
    targets = V.as_array("binary_dice_loss", "targets", targets)
    if predictions.ndim == targets.ndim and predictions.shape[-1] != 1:
        predictions, targets = predictions[..., None], targets[..., None]
    return optax_dice_loss(
        predictions, targets, smooth=smooth, apply_softmax=apply_sigmoid, reduction="mean"
    )


@OX.register(
    "multiclass_generalized_dice_loss", family="segmentation", example=_optax_segmentation_example
)
def optax_multiclass_generalized_dice_loss(
    predictions, targets, *, smooth=1.0, apply_softmax=True, ignore_background=False
):
    """Generalized Dice loss: :func:`dice_loss` per class weighted by inverse squared class frequency.

    .. math::

        \\ell = \\operatorname{mean}_{b, c}\\, w_c \\ell_{bc},
        \\quad w_c = \\frac{C\\, (f_c^2 + 10^{-7})^{-1}}{\\sum_k (f_k^2 + 10^{-7})^{-1}}

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
    predictions = V.as_float(name, "predictions", predictions)
    targets = V.as_array(name, "targets", targets)
    V.check_same_shape(name, "targets", targets, "predictions", predictions)
    class_frequencies = jnp.sum(targets, axis=tuple(range(targets.ndim - 1)))
    class_weights = 1.0 / (class_frequencies**2 + 1e-7)  # 1e-7: a class absent from the targets
    class_weights = class_weights / jnp.sum(class_weights) * class_weights.shape[0]
    per_class = optax_dice_loss(
        predictions,
        targets,
        class_weights=class_weights,
        smooth=smooth,
        apply_softmax=apply_softmax,
        reduction="none",
        ignore_background=ignore_background,
    )
    return jnp.mean(per_class)
