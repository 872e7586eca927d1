"""Multiclass losses beyond torch and optax: focal, PolyLoss, z-loss, bi-tempered, sparsemax, 1.5-entmax,
Keras' hinge losses, generalized cross entropy.

Shapes: ``logits`` are ``(..., C)`` (class axis last); ``labels`` are either integer class indices of shape
``(...)`` or probabilities of shape ``(..., C)``. Per-example losses have shape ``(...)``; ``reduction``
(``'none'`` | ``'mean'`` | ``'sum'``, default ``'mean'``) acts on them.

Kernels other faces reuse (the optax face in particular):

* :func:`_sparsemax` ``(logits, axis=-1)``: the sparsemax mapping (Euclidean projection onto the simplex).
* :func:`_sparsemax_loss_kernel` ``(logits, labels_onehot)``: per-example multiclass sparsemax loss.
* :func:`_binary_sparsemax_loss` ``(logits, labels)``: elementwise binary sparsemax loss
  (``optax.losses.sparsemax_loss``).
* :func:`_entmax15` ``(logits, axis=-1)``: exact sort-based 1.5-entmax.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.numerics import _modulating_power
from jaxloss._src.core.registry import register

__all__ = [
    "bi_tempered_logistic_loss",
    "categorical_hinge",
    "cross_entropy_with_z_loss",
    "entmax15_loss",
    "generalized_cross_entropy",
    "poly1_cross_entropy",
    "softmax_focal_loss",
    "sparsemax_loss",
    "squared_hinge",
    "z_loss",
]


# ----------------------------------------------------------------------------------------------------------
# shared argument handling
# ----------------------------------------------------------------------------------------------------------


def _logits(loss: str, logits, name: str = "logits") -> jax.Array:
    """Convert ``(..., C)`` scores (the class axis last; not a scalar)."""
    logits = V.as_float(loss, name, logits)
    if logits.ndim == 0:
        raise ValueError(f"{loss}: {name} must be (..., C) with the class axis last; got a scalar")
    return logits


def _prepare(
    loss: str, reduction: str, logits, labels, *, logits_name="logits", labels_name="labels"
):
    """Check ``reduction``; convert ``(..., C)`` logits and index or probability labels.

    Returns ``(logits, targets, out_dtype)`` with ``targets`` the ``(..., C)`` probabilities (one-hot for
    index labels) and both in the compute dtype (half precision computes in float32).
    """
    R.validate_reduction(loss, reduction)
    logits = _logits(loss, logits, logits_name)
    labels = V.as_array(loss, labels_name, labels)
    batch, num_classes = logits.shape[:-1], logits.shape[-1]
    wrong_shape = (
        f"{loss}: {labels_name} has shape {tuple(labels.shape)}; for {logits_name} "
        f"{tuple(logits.shape)} it must be {tuple(batch)} (class indices) or "
        f"{tuple(logits.shape)} (probabilities)"
    )
    if jnp.issubdtype(labels.dtype, jnp.integer):
        if labels.shape != batch:
            raise ValueError(wrong_shape)
        V.data_check(
            loss,
            lambda t: (t >= 0) & (t < num_classes),
            f"{labels_name} values must be in [0, {num_classes})",
            labels,
        )
        out_dtype = V.result_dtype(logits)
        cdt = V.compute_dtype(out_dtype)
        targets = jax.nn.one_hot(labels, num_classes, dtype=cdt)
    elif jnp.issubdtype(labels.dtype, jnp.floating):
        if labels.shape != logits.shape:
            raise ValueError(wrong_shape)
        out_dtype = V.result_dtype(logits, labels)
        cdt = V.compute_dtype(out_dtype)
        targets = labels.astype(cdt)
    else:
        raise TypeError(
            f"{loss}: {labels_name} must be integer class indices or float probabilities; got "
            f"{labels.dtype}"
        )
    return logits.astype(cdt), targets, out_dtype


def _finish(loss: str, values: jax.Array, reduction: str, out_dtype) -> jax.Array:
    return R.reduce(values, reduction).astype(out_dtype)


def _classes_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 5)), rng.integers(0, 5, size=(4,))), {}


def _probs_example(rng: np.random.Generator):
    p = rng.random((4, 5)) + 0.1
    return (rng.standard_normal((4, 5)), p / p.sum(-1, keepdims=True)), {}


# ----------------------------------------------------------------------------------------------------------
# softmax focal loss
# ----------------------------------------------------------------------------------------------------------


def _softmax_focal(logits: jax.Array, targets: jax.Array, alpha, gamma) -> jax.Array:
    """Per-example ``-sum_c alpha_c y_c (1 - p_c)**gamma log p_c`` over the last axis."""
    log_p = jax.nn.log_softmax(logits, axis=-1)
    one_minus_p = -jnp.expm1(log_p)  # 1 - p without cancellation when p is close to 1
    values = -targets * _modulating_power(one_minus_p, gamma) * log_p
    if alpha is not None:
        values = values * jnp.broadcast_to(alpha, values.shape)
    return jnp.sum(values, axis=-1)


@register(
    family="classification",
    reference="Lin et al. 2017, Focal Loss for Dense Object Detection (categorical form)",
    example=_classes_example,
)
def softmax_focal_loss(logits, labels, *, alpha=None, gamma: float = 2.0, reduction: str = "mean"):
    """Categorical (softmax) focal loss.

    .. math:: \\ell = -\\sum_c \\alpha_c\\, y_c\\, (1 - p_c)^\\gamma \\log p_c,\\qquad p = \\mathrm{softmax}(z)

    The multiclass form of Lin et al., *Focal Loss for Dense Object Detection*, ICCV 2017 (as in kornia's
    ``focal_loss`` and the TF-addons/Keras categorical focal cross-entropy). ``gamma = 0`` and no ``alpha``
    is softmax cross-entropy. ``1 - p`` is computed as ``-expm1(log p)`` (no cancellation for confident
    predictions); where ``p == 1`` exactly the derivative of ``(1 - p)**gamma`` is taken as ``0``, so gradients
    are finite for any ``gamma >= 0`` and logits as large as ``+-1e4``.

    Args:
      logits: ``(..., C)`` unnormalised scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      alpha: ``None`` (no weighting), a scalar, or per-class weights ``(C,)``.
      gamma: focusing exponent ``>= 0``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'`` over the per-example losses.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import softmax_focal_loss
      >>> logits = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
      >>> loss = softmax_focal_loss(logits, jnp.array([0, 2]), reduction="none")
      >>> print([f"{v:.4f}" for v in loss.tolist()])
      ['0.0041', '0.8584']

    Reference: Lin et al. 2017, Focal Loss for Dense Object Detection (categorical form).
    """
    name = "softmax_focal_loss"
    logits, targets, out_dtype = _prepare(name, reduction, logits, labels)
    V.check_option(name, "gamma", gamma, isinstance(gamma, jax.core.Tracer) or gamma >= 0, ">= 0")
    if alpha is not None:
        alpha = V.as_array(name, "alpha", alpha)
        if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape[0] != logits.shape[-1]):
            raise ValueError(
                f"{name}: alpha has shape {tuple(alpha.shape)}; it must be a scalar or ({logits.shape[-1]},) "
                "(one weight per class)"
            )
        alpha = alpha.astype(logits.dtype)
    return _finish(name, _softmax_focal(logits, targets, alpha, gamma), reduction, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# PolyLoss
# ----------------------------------------------------------------------------------------------------------


def _poly1(logits: jax.Array, targets: jax.Array, epsilon) -> jax.Array:
    """Per-example Poly-1: ``CE + epsilon * sum(y (1 - p))`` (optax 0.2.8's order of operations)."""
    p = jax.nn.softmax(logits, axis=-1)
    one_minus_pt = jnp.sum(targets * (1 - p), axis=-1)
    cross_entropy = -jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1), axis=-1)
    return cross_entropy + epsilon * one_minus_pt


@register(
    family="classification",
    reference="Leng et al. 2022, PolyLoss; optax.losses.poly_loss_cross_entropy (optax 0.2.8)",
    example=_probs_example,
    diff=(0, 1),
)
def poly1_cross_entropy(
    logits, labels, *, epsilon: float = 2.0, label_smoothing: float = 0.0, reduction: str = "mean"
):
    """Poly-1 cross-entropy (PolyLoss).

    .. math:: \\ell = -\\sum_c y_c \\log p_c + \\epsilon \\sum_c y_c (1 - p_c)

    Leng et al., *PolyLoss: A Polynomial Expansion Perspective of Classification Loss Functions*, ICLR 2022.
    Per example it equals ``optax.losses.poly_loss_cross_entropy(logits, labels, epsilon=epsilon)``
    (with one-hot labels for index labels). With ``label_smoothing`` both terms use the smoothed labels
    ``(1 - s) y + s / C``, as the paper's label-smoothing variant does.

    Args:
      logits: ``(..., C)`` unnormalised scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      epsilon: coefficient of the first polynomial term (the paper recommends 2 for ImageNet, -1 for
        detection; optax's default is 2).
      label_smoothing: in ``[0, 1]``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import poly1_cross_entropy
      >>> loss = poly1_cross_entropy(jnp.array([[1.0, 0.0]]), jnp.array([0]))
      >>> print(f"{loss:.4f}")  # log(1 + 1/e) + 2 (1 - e/(e + 1))
      0.8511

    Reference: Leng et al. 2022, PolyLoss; optax.losses.poly_loss_cross_entropy (optax 0.2.8).
    """
    name = "poly1_cross_entropy"
    V.check_option(name, "label_smoothing", label_smoothing, 0 <= label_smoothing <= 1, "in [0, 1]")
    logits, targets, out_dtype = _prepare(name, reduction, logits, labels)
    if label_smoothing:
        targets = (1 - label_smoothing) * targets + label_smoothing / logits.shape[-1]
    return _finish(name, _poly1(logits, targets, epsilon), reduction, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# z-loss (PaLM / T5X)
# ----------------------------------------------------------------------------------------------------------


@register(
    family="classification",
    reference="Chowdhery et al. 2022 (PaLM) auxiliary z-loss; T5X losses.cross_entropy_with_logits",
    example=lambda rng: ((rng.standard_normal((4, 5)),), {}),
)
def z_loss(logits, *, z_loss_coef: float = 1e-4, reduction: str = "mean"):
    """Auxiliary z-loss: ``z_loss_coef * logsumexp(logits)**2``, which keeps the softmax normaliser near 1.

    .. math:: \\ell = c \\, \\big(\\log \\textstyle\\sum_j e^{z_j}\\big)^2

    PaLM (Chowdhery et al. 2022, Sec. 5) uses ``c = 1e-4``; T5X adds the same term inside
    ``cross_entropy_with_logits`` (see :func:`cross_entropy_with_z_loss`).

    Args:
      logits: ``(..., C)`` unnormalised scores.
      z_loss_coef: the coefficient ``c``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import z_loss
      >>> print(f"{z_loss(jnp.array([[3.0, 3.0]]), z_loss_coef=1.0):.4f}")  # (3 + log 2)**2
      13.6393

    Reference: Chowdhery et al. 2022 (PaLM) auxiliary z-loss; T5X losses.cross_entropy_with_logits.
    """
    name = "z_loss"
    R.validate_reduction(name, reduction)
    logits = _logits(name, logits)
    out_dtype = V.result_dtype(logits)
    logits = logits.astype(V.compute_dtype(out_dtype))
    values = z_loss_coef * jnp.square(jax.nn.logsumexp(logits, axis=-1))
    return _finish(name, values, reduction, out_dtype)


@jax.custom_vjp
def _t5x_cross_entropy(
    logits: jax.Array, targets: jax.Array, z_loss_coef
) -> tuple[jax.Array, jax.Array]:
    """T5X ``losses.cross_entropy_with_logits``: per-example ``(CE + z-loss, z-loss)`` over the last axis."""
    return _t5x_fwd(logits, targets, z_loss_coef)[0]


def _t5x_fwd(logits, targets, z_loss_coef):
    # T5X's forward: max-shifted log-softmax; log_z = log(sum(exp(shifted))) + max.
    max_logit = jnp.max(logits, axis=-1, keepdims=True)
    shifted = logits - max_logit
    exp_shifted = jnp.exp(shifted)
    sum_exp = jnp.sum(exp_shifted, axis=-1, keepdims=True)
    log_softmax = shifted - jnp.log(sum_exp)
    loss = -jnp.sum(targets * log_softmax, axis=-1)
    log_z = jnp.squeeze(jnp.log(sum_exp) + max_logit, axis=-1)
    total_z_loss = z_loss_coef * jnp.square(log_z)
    loss = loss + total_z_loss
    return (loss, total_z_loss), (targets, z_loss_coef, exp_shifted, sum_exp, log_softmax, log_z)


def _t5x_bwd(res, g):
    # T5X's backward: only the first output carries gradient (the z-loss output is for logging); the logits
    # gradient (1 + 2 c log_z) softmax - targets assumes every row of targets sums to 1.
    targets, z_loss_coef, exp_shifted, sum_exp, log_softmax, log_z = res
    g = g[0]
    deriv = jnp.expand_dims(1 + 2 * z_loss_coef * log_z, -1) * exp_shifted / sum_exp - targets
    g_logits = jnp.expand_dims(g, -1) * deriv
    g_targets = -jnp.expand_dims(g, -1) * log_softmax
    return g_logits, g_targets, jnp.zeros_like(z_loss_coef)  # T5X: no gradient for the coefficient


_t5x_cross_entropy.defvjp(_t5x_fwd, _t5x_bwd)


@register(
    family="classification",
    reference="T5X t5x/losses.py cross_entropy_with_logits (custom VJP)",
    example=_probs_example,
    diff=(0, 1),
    forward_mode=False,
)
def cross_entropy_with_z_loss(
    logits,
    targets,
    *,
    z_loss_coef: float = 1e-4,
    return_z_loss: bool = False,
    reduction: str = "mean",
):
    """Softmax cross-entropy plus the auxiliary z-loss, with T5X's ``cross_entropy_with_logits`` semantics.

    .. math:: \\ell = -\\sum_c y_c \\log p_c + c\\,(\\log Z)^2,\\qquad \\log Z = \\log \\textstyle\\sum_j e^{z_j}

    Same forward arithmetic and the same custom gradient as T5X: ``d/dlogits = (1 + 2 c log Z) softmax - y``
    (exact when every row of ``targets`` sums to 1; T5X assumes it, and so does this gradient),
    ``d/dtargets = -log_softmax``, and no gradient to ``z_loss_coef``. The second-order derivatives are those
    of this first-order rule (reverse mode only: ``custom_vjp``).

    Args:
      logits: ``(..., C)`` unnormalised scores.
      targets: class indices ``(...)`` or probabilities ``(..., C)`` (T5X passes one-hot, possibly smoothed).
      z_loss_coef: coefficient ``c`` (T5X's ``z_loss``; PaLM uses ``1e-4``).
      return_z_loss: also return the z-loss term (reduced the same way), as T5X's second output.
      reduction: ``'none'`` (T5X's per-example output) | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss including the z-loss (``(...)`` for ``'none'``, else a scalar), or the pair
      ``(loss, z_loss)`` when ``return_z_loss``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import cross_entropy_with_z_loss
      >>> loss, z = cross_entropy_with_z_loss(jnp.array([[3.0, 3.0]]), jnp.array([0]), z_loss_coef=0.01,
      ...                                     return_z_loss=True)
      >>> print(f"{loss:.4f} {z:.4f}")  # log 2 + 0.01 (3 + log 2)**2
      0.8295 0.1364

    Reference: T5X t5x/losses.py cross_entropy_with_logits (custom VJP).
    """
    name = "cross_entropy_with_z_loss"
    logits, targets, out_dtype = _prepare(name, reduction, logits, targets, labels_name="targets")
    coef = jnp.asarray(z_loss_coef, logits.dtype)
    loss, total_z = _t5x_cross_entropy(logits, targets, coef)
    loss = _finish(name, loss, reduction, out_dtype)
    if return_z_loss:
        return loss, _finish(name, total_z, reduction, out_dtype)
    return loss


# ----------------------------------------------------------------------------------------------------------
# bi-tempered logistic loss
# ----------------------------------------------------------------------------------------------------------


def _log_t(u, t: float):
    """Tempered logarithm ``(u**(1 - t) - 1) / (1 - t)`` (``log u`` at ``t == 1``)."""
    if t == 1.0:
        return jnp.log(u)
    return (u ** (1.0 - t) - 1.0) / (1.0 - t)


def _exp_t(u, t: float):
    """Tempered exponential ``max(0, 1 + (1 - t) u)**(1 / (1 - t))`` (``exp u`` at ``t == 1``)."""
    if t == 1.0:
        return jnp.exp(u)
    return jnp.maximum(0.0, 1.0 + (1.0 - t) * u) ** (1.0 / (1.0 - t))


def _tempered_normalization_value(activations: jax.Array, t: float, num_iters: int) -> jax.Array:
    """``lambda`` with ``sum_j exp_t(a_j - lambda) ~= 1`` (keepdims), by the authors' iterations.

    ``t > 1``: fixed point on the max-shifted activations; ``t < 1``: bisection on ``[0, -log_t(1/d)]``
    with ``d`` the number of classes inside the support (Amid et al. 2019, google/bi-tempered-loss).
    """
    mu = jnp.max(activations, axis=-1, keepdims=True)
    normalized_0 = activations - mu
    if t > 1.0:
        normalized = normalized_0
        for _ in range(num_iters):
            logt_partition = jnp.sum(_exp_t(normalized, t), axis=-1, keepdims=True)
            normalized = normalized_0 * logt_partition ** (1.0 - t)
        logt_partition = jnp.sum(_exp_t(normalized, t), axis=-1, keepdims=True)
        return -_log_t(1.0 / logt_partition, t) + mu
    effective_dim = jnp.sum(normalized_0 > -1.0 / (1.0 - t), axis=-1, keepdims=True).astype(
        activations.dtype
    )
    lower = jnp.zeros_like(mu)
    upper = -_log_t(1.0 / effective_dim, t) * jnp.ones_like(mu)
    for _ in range(num_iters):
        logt_partition = (upper + lower) / 2.0
        sum_probs = jnp.sum(_exp_t(normalized_0 - logt_partition, t), axis=-1, keepdims=True)
        update = (sum_probs < 1.0).astype(activations.dtype)
        lower = lower * update + (1.0 - update) * logt_partition
        upper = upper * (1.0 - update) + update * logt_partition
    return (upper + lower) / 2.0 + mu


def _tempered_normalization(activations: jax.Array, t: float, num_iters: int) -> jax.Array:
    """The normaliser with its implicit-function derivative: ``d lambda = sum_j e_j da_j`` (escort ``e``).

    Differentiating ``sum_j exp_t(a_j - lambda) = 1`` gives ``e_j = p_j**t / sum_k p_k**t``, which is the
    gradient the authors' custom gradient uses; the finite iteration count does not enter the derivative.
    """

    @jax.custom_jvp
    def norm(a):
        return _tempered_normalization_value(a, t, num_iters)

    @norm.defjvp
    def norm_jvp(primals, tangents):
        (a,), (da,) = primals, tangents
        lam = norm(a)
        escort = _exp_t(a - lam, t) ** t
        escort = escort / jnp.sum(escort, axis=-1, keepdims=True)
        return lam, jnp.sum(escort * da, axis=-1, keepdims=True)

    return norm(activations)


def _safe_pow(p: jax.Array, exponent: float) -> jax.Array:
    """``p**exponent`` for ``p >= 0`` with a zero (not nan) gradient where ``p == 0``."""
    positive = p > 0
    safe = jnp.where(positive, p, 1)  # double where: p**(e - 1) is inf at 0 for e < 1
    return jnp.where(
        positive, safe**exponent, 0.0 if exponent > 0 else (1.0 if exponent == 0 else jnp.inf)
    )


def _bi_tempered(activations: jax.Array, labels: jax.Array, t1: float, t2: float, num_iters: int):
    """Per-example bi-tempered logistic loss (google/bi-tempered-loss ``bi_tempered_logistic_loss``)."""
    if t1 == 1.0 and t2 == 1.0:
        # the authors' code falls back to plain softmax cross-entropy here (no label-entropy term)
        return -jnp.sum(labels * jax.nn.log_softmax(activations, axis=-1), axis=-1)
    if t2 == 1.0:
        probabilities = jax.nn.softmax(activations, axis=-1)
    else:
        probabilities = _exp_t(
            activations - _tempered_normalization(activations, t2, num_iters), t2
        )
    if t1 == 1.0:
        log_t1_p = jnp.log(
            jnp.where(probabilities > 0, probabilities, 1.0)
        )  # double where, p == 0 -> -inf
        log_t1_p = jnp.where(probabilities > 0, log_t1_p, -jnp.inf)
    else:
        log_t1_p = (_safe_pow(probabilities, 1.0 - t1) - 1.0) / (1.0 - t1)
    # y * log_t(p) is taken as 0 where y == 0 (the authors' code gives 0 * -inf = nan at p == 0)
    cross = jnp.where(labels == 0, 0.0, labels * jnp.where(labels == 0, 0.0, log_t1_p))
    loss_values = (
        labels * _log_t(labels + 1e-10, t1)
        - cross
        - 1.0 / (2.0 - t1) * (_safe_pow(labels, 2.0 - t1) - _safe_pow(probabilities, 2.0 - t1))
    )
    return jnp.sum(loss_values, axis=-1)


@register(
    family="classification",
    reference="Amid et al. 2019, Robust Bi-Tempered Logistic Loss (google/bi-tempered-loss)",
    example=lambda rng: (_probs_example(rng)[0], {"t1": 0.8, "t2": 1.2}),
)
def bi_tempered_logistic_loss(
    activations,
    labels,
    *,
    t1: float,
    t2: float,
    label_smoothing: float = 0.0,
    num_iters: int = 5,
    reduction: str = "mean",
):
    """Bi-tempered logistic loss (Amid, Warmuth, Anil, Koren, NeurIPS 2019).

    .. math::
       \\hat y = \\exp_{t_2}(a - \\lambda_{t_2}(a)),\\qquad
       \\ell = \\sum_c \\Big[y_c\\big(\\log_{t_1}(y_c + 10^{-10}) - \\log_{t_1}\\hat y_c\\big)
               - \\tfrac{1}{2 - t_1}\\big(y_c^{2 - t_1} - \\hat y_c^{2 - t_1}\\big)\\Big]

    with :math:`\\log_t u = (u^{1-t} - 1)/(1 - t)`, :math:`\\exp_t u = [1 + (1 - t)u]_+^{1/(1-t)}` and the
    normaliser :math:`\\lambda_t` found as in the authors' code (google/bi-tempered-loss): ``num_iters``
    fixed-point iterations for ``t2 > 1``, ``num_iters`` bisection steps for ``t2 < 1``, ``logsumexp`` for
    ``t2 == 1``. ``t1 == t2 == 1`` is plain softmax cross-entropy, as in the authors' code. Label smoothing is
    the authors': ``(1 - C/(C-1) s) y + s/(C-1)``.

    The gradient is the authors' custom gradient: the normaliser is differentiated implicitly (as if
    converged), ``d lambda = sum_j e_j da_j`` with the escort distribution ``e``; classes with zero tempered
    probability (``t2 < 1``) get finite gradients.

    Args:
      activations: ``(..., C)`` unnormalised scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      t1: temperature of the loss, in ``[0, 2)`` (``t1 < 1`` bounds the loss).
      t2: temperature of the tempered softmax, ``> 0`` (``t2 > 1`` gives heavy tails).
      label_smoothing: in ``[0, 1]``.
      num_iters: iterations of the normaliser (Python int ``>= 1``).
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import bi_tempered_logistic_loss
      >>> a = jnp.array([[2.0, 0.5, -1.0]])
      >>> print(f"{bi_tempered_logistic_loss(a, jnp.array([0]), t1=0.8, t2=1.2):.4f}")
      0.2131

    Reference: Amid et al. 2019, Robust Bi-Tempered Logistic Loss (google/bi-tempered-loss).
    """
    name = "bi_tempered_logistic_loss"
    for opt, val, ok, want in (
        ("t1", t1, isinstance(t1, (int, float)) and 0 <= t1 < 2, "a Python float in [0, 2)"),
        ("t2", t2, isinstance(t2, (int, float)) and t2 > 0, "a Python float > 0"),
        ("label_smoothing", label_smoothing, 0 <= label_smoothing <= 1, "in [0, 1]"),
        (
            "num_iters",
            num_iters,
            isinstance(num_iters, int) and num_iters >= 1,
            "a Python int >= 1",
        ),
    ):
        V.check_option(name, opt, val, ok, want)
    activations, targets, out_dtype = _prepare(
        name, reduction, activations, labels, logits_name="activations"
    )
    if label_smoothing > 0.0:
        num_classes = activations.shape[-1]
        if num_classes < 2:
            raise ValueError(f"{name}: label_smoothing needs at least 2 classes; got {num_classes}")
        targets = (
            1 - num_classes / (num_classes - 1) * label_smoothing
        ) * targets + label_smoothing / (num_classes - 1)
    values = _bi_tempered(activations, targets, float(t1), float(t2), num_iters)
    return _finish(name, values, reduction, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# sparsemax and 1.5-entmax
# ----------------------------------------------------------------------------------------------------------


@jax.custom_jvp
def _sparsemax_last(z: jax.Array) -> jax.Array:
    z = z - jax.lax.stop_gradient(
        jnp.max(z, axis=-1, keepdims=True)
    )  # shift-invariant; keeps cumsum small
    z_sorted = -jnp.sort(-z, axis=-1)
    k = jnp.broadcast_to(jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype), z.shape)
    cumsum = jnp.cumsum(z_sorted, axis=-1)
    support_size = jnp.sum(1 + k * z_sorted > cumsum, axis=-1, keepdims=True)  # >= 1 always
    tau = (jnp.take_along_axis(cumsum, support_size - 1, axis=-1) - 1) / support_size.astype(
        z.dtype
    )
    return jnp.maximum(z - tau, 0)


@_sparsemax_last.defjvp
def _sparsemax_last_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    p = _sparsemax_last(z)
    support = (p > 0).astype(p.dtype)
    mean_on_support = jnp.sum(support * dz, axis=-1, keepdims=True) / jnp.sum(
        support, axis=-1, keepdims=True
    )
    return p, support * (dz - mean_on_support)


def _sparsemax(logits: jax.Array, axis: int = -1) -> jax.Array:
    """Sparsemax (Martins & Astudillo 2016): Euclidean projection of ``logits`` onto the simplex along ``axis``.

    Sort-based threshold; the Jacobian-vector product is ``s * (dz - mean_{s}(dz))`` with ``s`` the support.
    """
    logits = jnp.moveaxis(logits, axis, -1)
    return jnp.moveaxis(_sparsemax_last(logits), -1, axis)


@jax.custom_jvp
def _sparsemax_loss_kernel(logits: jax.Array, labels_onehot: jax.Array) -> jax.Array:
    """Per-example sparsemax loss over the last axis (Martins & Astudillo 2016, eq. 19).

    ``L(z; q) = (p - q).z + (|q|^2 - |p|^2) / 2`` with ``p = sparsemax(z)``, equal to the paper's
    ``-q.z + 1/2 sum_{j in S}(z_j^2 - tau^2) + |q|^2 / 2``; gradients ``p - q`` (logits) and ``q - z``
    (labels), exactly.
    """
    p = _sparsemax_last(logits)
    return jnp.sum((p - labels_onehot) * logits, axis=-1) + 0.5 * (
        jnp.sum(labels_onehot * labels_onehot, axis=-1) - jnp.sum(p * p, axis=-1)
    )


@_sparsemax_loss_kernel.defjvp
def _sparsemax_loss_jvp(primals, tangents):
    z, q = primals
    dz, dq = tangents
    p = _sparsemax_last(z)
    value = _sparsemax_loss_kernel(z, q)
    return value, jnp.sum((p - q) * dz, axis=-1) + jnp.sum((q - z) * dq, axis=-1)


def _binary_sparsemax_loss(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Elementwise binary sparsemax loss ``sparse_plus(-z)`` for label 1, ``sparse_plus(z)`` for label 0.

    This is ``optax.losses.sparsemax_loss`` (Blondel et al. 2020, Sec. 4.4), whose name in optax denotes the
    binary loss.
    """
    return jax.nn.sparse_plus(jnp.where(labels, -logits, logits))


@register(
    family="classification",
    reference="Martins & Astudillo 2016; optax.losses.multiclass_sparsemax_loss (optax 0.2.8)",
    example=_classes_example,
    smooth=False,
)
def sparsemax_loss(logits, labels, *, reduction: str = "mean"):
    """Multiclass sparsemax loss (Martins & Astudillo, *From Softmax to Sparsemax*, ICML 2016).

    .. math::
       \\ell(z; q) = -q^\\top z + \\tfrac12 \\sum_{j \\in S(z)} (z_j^2 - \\tau(z)^2) + \\tfrac12 \\lVert q\\rVert^2
       = (p - q)^\\top z + \\tfrac12(\\lVert q\\rVert^2 - \\lVert p\\rVert^2),\\quad p = \\mathrm{sparsemax}(z)

    Per example it equals ``optax.losses.multiclass_sparsemax_loss(logits, labels)`` for index labels and
    ``entmax.sparsemax_loss``. Gradient: ``p - q``.

    Args:
      logits: ``(..., C)`` scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import sparsemax_loss
      >>> print(f"{sparsemax_loss(jnp.array([[1.0, 0.8, -1.0]]), jnp.array([1])):.4f}")  # p = (0.6, 0.4, 0)
      0.3600

    Reference: Martins & Astudillo 2016; optax.losses.multiclass_sparsemax_loss (optax 0.2.8).
    """
    name = "sparsemax_loss"
    logits, targets, out_dtype = _prepare(name, reduction, logits, labels)
    return _finish(name, _sparsemax_loss_kernel(logits, targets), reduction, out_dtype)


@jax.custom_jvp
def _entmax15_last(z: jax.Array) -> jax.Array:
    x = z / 2
    x = x - jax.lax.stop_gradient(jnp.max(x, axis=-1, keepdims=True))
    xs = -jnp.sort(-x, axis=-1)
    rho = jnp.broadcast_to(jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype), z.shape)
    mean = jnp.cumsum(xs, axis=-1) / rho
    mean_sq = jnp.cumsum(xs * xs, axis=-1) / rho
    ss = rho * (mean_sq - mean * mean)
    delta = (1 - ss) / rho
    tau = mean - jnp.sqrt(jnp.maximum(delta, 0))
    support_size = jnp.sum(tau <= xs, axis=-1, keepdims=True)  # >= 1 always
    tau_star = jnp.take_along_axis(tau, support_size - 1, axis=-1)
    return jnp.square(jnp.maximum(x - tau_star, 0))


@_entmax15_last.defjvp
def _entmax15_last_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    p = _entmax15_last(z)
    s = jnp.sqrt(p)
    ds = s * dz
    return p, ds - s * jnp.sum(ds, axis=-1, keepdims=True) / jnp.sum(s, axis=-1, keepdims=True)


def _entmax15(logits: jax.Array, axis: int = -1) -> jax.Array:
    """Exact 1.5-entmax along ``axis`` (Peters, Niculae & Martins 2019, Alg. 2: sort-based threshold).

    ``p = [z/2 - tau]_+^2`` with ``sum p = 1``; Jacobian-vector product ``s dz - s (s.dz) / sum s``,
    ``s = sqrt(p)``.
    """
    logits = jnp.moveaxis(logits, axis, -1)
    return jnp.moveaxis(_entmax15_last(logits), -1, axis)


def _tsallis15_entropy(p: jax.Array) -> jax.Array:
    """Tsallis 1.5-entropy ``(1 - sum p**1.5) / 0.75`` over the last axis."""
    return (1 - jnp.sum(p * jnp.sqrt(p), axis=-1)) / 0.75


@jax.custom_jvp
def _entmax15_loss_kernel(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Per-example 1.5-entmax Fenchel-Young loss ``(p - q).z + H(p) - H(q)`` over the last axis."""
    p = _entmax15_last(logits)
    return (
        jnp.sum((p - targets) * logits, axis=-1)
        + _tsallis15_entropy(p)
        - _tsallis15_entropy(targets)
    )


@_entmax15_loss_kernel.defjvp
def _entmax15_loss_jvp(primals, tangents):
    z, q = primals
    dz, dq = tangents
    p = _entmax15_last(z)
    # d/dq = -z - H'(q) = -z + 2 sqrt(q): finite at q == 0, unlike autodiff through q**1.5's sqrt
    return _entmax15_loss_kernel(z, q), jnp.sum((p - q) * dz, axis=-1) + jnp.sum(
        (2 * jnp.sqrt(q) - z) * dq, axis=-1
    )


@register(
    family="classification",
    reference="Peters, Niculae & Martins 2019, Sparse Sequence-to-Sequence Models; entmax.entmax15_loss",
    example=_classes_example,
    smooth=False,
)
def entmax15_loss(logits, labels, *, reduction: str = "mean"):
    """1.5-entmax loss (Peters, Niculae & Martins, *Sparse Sequence-to-Sequence Models*, ACL 2019).

    The Fenchel-Young loss of the Tsallis 1.5-entropy :math:`H(p) = (1 - \\sum_j p_j^{3/2}) / 0.75`:

    .. math:: \\ell(z; q) = (p - q)^\\top z + H(p) - H(q),\\qquad p = \\mathrm{entmax}_{1.5}(z)

    computed with the exact sort-based threshold (their Algorithm 2). Per example it equals
    ``entmax.entmax15_loss`` (deep-spin/entmax, where ``H(q) = 0`` for index targets). Gradients: ``p - q`` for
    the logits, ``2 sqrt(q) - z`` for probability labels (finite at zero-probability classes).

    Args:
      logits: ``(..., C)`` scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import entmax15_loss
      >>> print(f"{entmax15_loss(jnp.array([[1.0, 0.8, -1.0]]), jnp.array([1])):.4f}")
      0.4976

    Reference: Peters, Niculae & Martins 2019, Sparse Sequence-to-Sequence Models; entmax.entmax15_loss.
    """
    name = "entmax15_loss"
    logits, targets, out_dtype = _prepare(name, reduction, logits, labels)
    return _finish(name, _entmax15_loss_kernel(logits, targets), reduction, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Keras hinge losses
# ----------------------------------------------------------------------------------------------------------


def _prepare_keras(loss: str, reduction: str, y_true, y_pred):
    R.validate_reduction(loss, reduction)
    y_pred = _logits(loss, y_pred, "y_pred")
    y_true = V.as_array(loss, "y_true", y_true)
    V.check_same_shape(loss, "y_true", y_true, "y_pred", y_pred)
    out_dtype = V.result_dtype(y_pred)
    cdt = V.compute_dtype(out_dtype)
    return y_true.astype(cdt), y_pred.astype(cdt), out_dtype


def _keras_example(rng: np.random.Generator):
    return ((rng.random((4, 3)) > 0.5).astype(np.float64), rng.standard_normal((4, 3))), {}


@register(
    family="classification",
    reference="keras.losses.squared_hinge / SquaredHinge (Keras 3)",
    example=_keras_example,
    diff=(1,),
    smooth=False,
)
def squared_hinge(y_true, y_pred, *, reduction: str = "mean"):
    """Squared hinge loss, Keras 3's ``keras.losses.squared_hinge`` (argument order ``y_true, y_pred``).

    .. math:: \\ell = \\frac1C \\sum_c \\max(1 - y_c \\hat y_c, 0)^2

    As in Keras, labels that are all ``0``/``1`` (checked over the whole array) are mapped to ``-1``/``1``;
    otherwise they are used as given (expected ``-1``/``1``). The check is an array operation, so it also
    works under ``jit``.

    Args:
      y_true: labels, same shape ``(..., C)`` as ``y_pred``.
      y_pred: predictions ``(..., C)``.
      reduction: ``'none'`` (``keras.losses.squared_hinge``) | ``'mean'`` (default; Keras'
        ``'sum_over_batch_size'``) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import squared_hinge
      >>> print(f"{squared_hinge(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.2]])):.4f}")  # (1.5**2 + 0.8**2)/2
      1.4450

    Reference: keras.losses.squared_hinge / SquaredHinge (Keras 3).
    """
    name = "squared_hinge"
    y_true, y_pred, out_dtype = _prepare_keras(name, reduction, y_true, y_pred)
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    y_true = jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)
    values = jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)
    return _finish(name, values, reduction, out_dtype)


@register(
    family="classification",
    reference="keras.losses.categorical_hinge / CategoricalHinge (Keras 3)",
    example=_keras_example,
    diff=(1,),
    smooth=False,
)
def categorical_hinge(y_true, y_pred, *, reduction: str = "mean"):
    """Categorical hinge loss, Keras 3's ``keras.losses.categorical_hinge`` (argument order ``y_true, y_pred``).

    .. math:: \\ell = \\max\\big(\\max_c (1 - y_c)\\hat y_c - \\textstyle\\sum_c y_c \\hat y_c + 1,\\ 0\\big)

    Args:
      y_true: one-hot (or soft) labels ``(..., C)``.
      y_pred: predictions ``(..., C)``.
      reduction: ``'none'`` (``keras.losses.categorical_hinge``) | ``'mean'`` (default; Keras'
        ``'sum_over_batch_size'``) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import categorical_hinge
      >>> print(f"{categorical_hinge(jnp.array([[0.0, 1.0]]), jnp.array([[0.5, 0.2]])):.4f}")  # 0.5 - 0.2 + 1
      1.3000

    Reference: keras.losses.categorical_hinge / CategoricalHinge (Keras 3).
    """
    name = "categorical_hinge"
    y_true, y_pred, out_dtype = _prepare_keras(name, reduction, y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max(
        (1.0 - y_true) * y_pred, axis=-1
    )  # ties share the gradient equally, as Keras-on-JAX
    values = jnp.maximum(neg - pos + 1.0, 0.0)
    return _finish(name, values, reduction, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# generalized cross entropy
# ----------------------------------------------------------------------------------------------------------


@register(
    family="classification",
    reference="Zhang & Sabuncu 2018, Generalized Cross Entropy Loss for Training Deep Neural Networks "
    "with Noisy Labels",
    example=_classes_example,
)
def generalized_cross_entropy(logits, labels, *, q: float = 0.7, reduction: str = "mean"):
    """Generalized cross-entropy (the :math:`\\mathcal L_q` loss of Zhang & Sabuncu, NeurIPS 2018).

    .. math:: \\ell = \\sum_c y_c\\, \\frac{1 - p_c^{\\,q}}{q},\\qquad p = \\mathrm{softmax}(z)

    ``q -> 0`` gives cross-entropy, ``q = 1`` the mean absolute error ``1 - p_y`` (paper's default ``q = 0.7``).
    Computed as ``-expm1(q log p) / q`` (stable for confident predictions and extreme logits).

    Args:
      logits: ``(..., C)`` unnormalised scores.
      labels: class indices ``(...)`` or probabilities ``(..., C)``.
      q: in ``(0, 1]``.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.multiclass import generalized_cross_entropy
      >>> print(f"{generalized_cross_entropy(jnp.array([[0.0, 0.0]]), jnp.array([0]), q=1.0):.4f}")  # 1 - 1/2
      0.5000

    Reference: Zhang & Sabuncu 2018, Generalized Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels.
    """
    name = "generalized_cross_entropy"
    V.check_option(name, "q", q, isinstance(q, jax.core.Tracer) or 0 < q <= 1, "in (0, 1]")
    logits, targets, out_dtype = _prepare(name, reduction, logits, labels)
    log_p = jax.nn.log_softmax(logits, axis=-1)
    values = jnp.sum(targets * (-jnp.expm1(q * log_p) / q), axis=-1)
    return _finish(name, values, reduction, out_dtype)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register("sparsemax_loss", family="classification", example=OX.ex_binary, smooth=False)
def optax_sparsemax_loss(logits, labels):
    """Binary sparsemax loss ``sparse_plus(-x)`` for label 1 and ``sparse_plus(x)`` for label 0.

    .. math:: \\ell = \\operatorname{sparse\\_plus}\\big((1 - 2 [y \\ne 0])\\, x\\big)

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


@OX.register(
    "multiclass_sparsemax_loss", family="classification", example=OX.ex_int_labels, smooth=False
)
def optax_multiclass_sparsemax_loss(scores, labels):
    """Multiclass sparsemax loss, the Fenchel-Young loss of the Gini entropy.

    .. math::

        \\ell = \\langle p, s - s_y \\rangle + \\tfrac12 (1 - \\|p\\|^2),
        \\quad p = \\operatorname{sparsemax}(s)

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
    scores = V.as_float("multiclass_sparsemax_loss", "scores", scores)
    labels = V.as_int("multiclass_sparsemax_loss", "labels", labels)
    one_hot = jax.nn.one_hot(labels, scores.shape[-1], dtype=scores.dtype)
    return _sparsemax_loss_kernel(scores, one_hot)
