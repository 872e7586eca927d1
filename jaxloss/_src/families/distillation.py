"""Divergences between distributions: knowledge distillation (Hinton et al. 2015), Jensen-Shannon, and the
generalized Kullback-Leibler divergence of optax.

Shapes: distributions and logits are ``(..., C)`` with the class axis last; per-example values have shape
``(...)`` and ``reduction`` (``'none'`` | ``'mean'`` | ``'sum'``, default ``'mean'``) acts on them.

Kernel other faces reuse: :func:`_generalized_kl` ``(log_predictions, targets, axis=-1, where=None)``, with
``optax.losses.generalized_kl_divergence``'s arguments and order of operations.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import register

__all__ = ["distillation_loss", "generalized_kl_divergence", "js_divergence"]


def _plogp_ratio(log_p: jax.Array, log_q: jax.Array) -> jax.Array:
    """Elementwise ``p (log p - log q)`` from log-probabilities, ``0`` where ``p == 0`` (value and gradient).

    The double ``where`` keeps ``0 * (-inf)`` and its ``nan`` gradient out where ``log p = -inf``.
    """
    present = log_p > -jnp.inf
    safe_log_p = jnp.where(present, log_p, 0.0)
    safe_log_q = jnp.where(present, log_q, 0.0)
    return jnp.where(present, jnp.exp(safe_log_p) * (safe_log_p - safe_log_q), 0.0)


def _check_pair(loss: str, a_name: str, a, b_name: str, b):
    a = V.as_float(loss, a_name, a)
    b = V.as_float(loss, b_name, b)
    if a.ndim == 0:
        raise ValueError(
            f"{loss}: {a_name} must be (..., C) with the class axis last; got a scalar"
        )
    V.check_same_shape(loss, b_name, b, a_name, a)
    out_dtype = V.result_dtype(a, b)
    cdt = V.compute_dtype(out_dtype)
    return a.astype(cdt), b.astype(cdt), out_dtype


# ----------------------------------------------------------------------------------------------------------
# knowledge distillation
# ----------------------------------------------------------------------------------------------------------


def _distill_example(rng: np.random.Generator):
    return (
        rng.standard_normal((4, 5)),
        rng.standard_normal((4, 5)),
        rng.integers(0, 5, size=(4,)),
    ), {}


@register(
    family="divergence",
    reference="Hinton, Vinyals & Dean 2015, Distilling the Knowledge in a Neural Network",
    example=_distill_example,
    diff=(0, 1),
)
def distillation_loss(
    student_logits,
    teacher_logits,
    labels=None,
    *,
    temperature: float = 3.0,
    alpha: float | None = None,
    reduction: str = "mean",
):
    """Knowledge-distillation loss (Hinton, Vinyals & Dean 2015).

    .. math::
       \\ell = \\alpha\\, T^2\\, \\mathrm{KL}\\big(\\mathrm{softmax}(t/T)\\,\\|\\,\\mathrm{softmax}(s/T)\\big)
             + (1 - \\alpha)\\, \\mathrm{CE}(s, y)

    The :math:`T^2` factor keeps the soft term's gradients on the scale of the hard term's as ``T`` varies
    (Hinton et al., Sec. 2). Without ``labels`` the loss is the soft term alone, :math:`T^2\\,\\mathrm{KL}`
    (then ``alpha`` must stay ``None``); its batch mean equals Keras 3's
    ``keras.distillation.LogitsDistillation(temperature, loss=keras.losses.KLDivergence())`` (whose KL clips
    probabilities below ``1e-7``; note that in Keras 3.15 the default ``loss='kl_divergence'`` resolves to the
    plain function, which LogitsDistillation then applies to the raw scaled logits). Defaults follow Keras: ``temperature=3``,
    ``alpha=0.5``. Gradients flow to the teacher too; wrap it in ``jax.lax.stop_gradient`` for a fixed
    teacher.

    Args:
      student_logits: ``(..., C)`` student scores ``s``.
      teacher_logits: ``(..., C)`` teacher scores ``t``.
      labels: optional hard labels: class indices ``(...)`` or probabilities ``(..., C)``.
      temperature: ``T > 0``.
      alpha: weight of the soft term in ``[0, 1]`` (default ``0.5`` when ``labels`` are given).
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'`` over the per-example losses.

    Returns:
      The loss: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.distillation import distillation_loss
      >>> s = jnp.array([[1.0, 0.0, -1.0]]); t = jnp.array([[2.0, 0.5, -1.0]])
      >>> print(f"{distillation_loss(s, t, temperature=1.0):.4f}")  # KL(softmax(t) || softmax(s))
      0.0395
      >>> print(f"{distillation_loss(s, t, jnp.array([0]), temperature=2.0, alpha=0.7):.4f}")
      0.1694

    Reference: Hinton, Vinyals & Dean 2015, Distilling the Knowledge in a Neural Network.
    """
    name = "distillation_loss"
    R.validate_reduction(name, reduction)
    s, t, out_dtype = _check_pair(
        name, "student_logits", student_logits, "teacher_logits", teacher_logits
    )
    V.check_option(
        name,
        "temperature",
        temperature,
        isinstance(temperature, jax.core.Tracer) or temperature > 0,
        "> 0",
    )
    soft = temperature**2 * jnp.sum(
        _plogp_ratio(
            jax.nn.log_softmax(t / temperature, axis=-1),
            jax.nn.log_softmax(s / temperature, axis=-1),
        ),
        axis=-1,
    )
    if labels is None:
        if alpha is not None:
            raise ValueError(
                f"{name}: alpha weighs the soft term against the labels' term; got alpha={alpha!r} "
                "without labels"
            )
        return R.reduce(soft, reduction).astype(out_dtype)
    alpha = 0.5 if alpha is None else alpha
    V.check_option(
        name, "alpha", alpha, isinstance(alpha, jax.core.Tracer) or 0 <= alpha <= 1, "in [0, 1]"
    )
    labels = V.as_array(name, "labels", labels)
    num_classes = s.shape[-1]
    if jnp.issubdtype(labels.dtype, jnp.integer) and labels.shape == s.shape[:-1]:
        V.data_check(
            name,
            lambda y: (y >= 0) & (y < num_classes),
            f"labels values must be in [0, {num_classes})",
            labels,
        )
        targets = jax.nn.one_hot(labels, num_classes, dtype=s.dtype)
    elif jnp.issubdtype(labels.dtype, jnp.floating) and labels.shape == s.shape:
        targets = labels.astype(s.dtype)
    else:
        raise ValueError(
            f"{name}: labels has shape {tuple(labels.shape)} and dtype {labels.dtype}; for student_logits "
            f"{tuple(s.shape)} it must be integer {tuple(s.shape[:-1])} (class indices) or float "
            f"{tuple(s.shape)} (probabilities)"
        )
    hard = -jnp.sum(targets * jax.nn.log_softmax(s, axis=-1), axis=-1)
    return R.reduce(alpha * soft + (1 - alpha) * hard, reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Jensen-Shannon divergence
# ----------------------------------------------------------------------------------------------------------


def _js(log_p: jax.Array, log_q: jax.Array) -> jax.Array:
    """Per-example JS divergence (nats) over the last axis from log-probabilities."""
    # log((p + q) / 2) without under/overflow; a class absent from both is masked below, and its logaddexp
    # inputs are replaced (double where: logaddexp's derivative at (-inf, -inf) is nan)
    either = (log_p > -jnp.inf) | (log_q > -jnp.inf)
    log_m = jnp.logaddexp(jnp.where(either, log_p, 0.0), jnp.where(either, log_q, 0.0)) - math.log(
        2.0
    )
    return 0.5 * jnp.sum(_plogp_ratio(log_p, log_m) + _plogp_ratio(log_q, log_m), axis=-1)


def _safe_log(p: jax.Array) -> jax.Array:
    """``log p`` with ``-inf`` at ``p == 0`` and a zero (not ``inf``) gradient there."""
    positive = p > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, p, 1.0)), -jnp.inf)


def _js_example(rng: np.random.Generator):
    p = rng.random((4, 5)) + 0.1
    q = rng.random((4, 5)) + 0.1
    return (p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)), {}


@register(
    family="divergence",
    reference="Lin 1991, Divergence measures based on the Shannon entropy; scipy.spatial.distance.jensenshannon**2",
    example=_js_example,
    diff=(0, 1),
)
def js_divergence(p, q, *, log_inputs: bool = False, reduction: str = "mean"):
    """Jensen-Shannon divergence between two distributions along the last axis (natural log, in nats).

    .. math::
       \\mathrm{JS}(P, Q) = \\tfrac12 \\mathrm{KL}(P \\| M) + \\tfrac12 \\mathrm{KL}(Q \\| M),\\qquad
       M = \\tfrac12 (P + Q)

    Symmetric, in ``[0, log 2]``; the square of ``scipy.spatial.distance.jensenshannon`` (Lin 1991). Inputs
    are probabilities (``log_inputs=False``) or log-probabilities (``log_inputs=True``, e.g. ``log_softmax``
    outputs, more accurate for tiny probabilities); they are not renormalised. A class with zero probability
    contributes ``0`` and gets a finite gradient (``0`` for its own ``p log p`` term, whose one-sided derivative
    is infinite).

    Args:
      p: ``(..., C)`` first distribution.
      q: ``(..., C)`` second distribution, same shape.
      log_inputs: whether ``p`` and ``q`` are log-probabilities.
      reduction: ``'none'`` | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The divergence: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.distillation import js_divergence
      >>> print(f"{js_divergence(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])):.6f}")  # log 2
      0.693147

    Reference: Lin 1991, Divergence measures based on the Shannon entropy; scipy.spatial.distance.jensenshannon**2.
    """
    name = "js_divergence"
    R.validate_reduction(name, reduction)
    p, q, out_dtype = _check_pair(name, "p", p, "q", q)
    log_p, log_q = (p, q) if log_inputs else (_safe_log(p), _safe_log(q))
    return R.reduce(_js(log_p, log_q), reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# generalized KL divergence (optax)
# ----------------------------------------------------------------------------------------------------------


def _generalized_kl(log_predictions, targets, axis=-1, where=None) -> jax.Array:
    """optax's generalized KL: ``sum t (log t - log p) + sum (p - t)`` over ``axis`` (optax 0.2.8's order).

    ``log t`` is taken as ``0`` where ``t == 0`` (as optax), and here its gradient there is finite too
    (optax's is ``nan``: ``0 * (1/0)`` through the unselected ``log`` branch).
    """
    log_predictions = jnp.asarray(log_predictions)
    targets = jnp.asarray(targets)
    nonzero = targets != 0
    log_targets = jnp.where(nonzero, jnp.log(jnp.where(nonzero, targets, 1)), 0)  # double where
    x = jnp.sum(targets * (log_targets - log_predictions), axis=axis, where=where)
    y = jnp.sum(jnp.exp(log_predictions) - targets, axis=axis, where=where)
    return x + y


def _gkl_example(rng: np.random.Generator):
    return (np.log(rng.random((4, 5)) + 0.1), rng.random((4, 5)) + 0.1), {}


@register(
    family="divergence",
    reference="optax.losses.generalized_kl_divergence (optax 0.2.8); Bregman divergence of x log x - x",
    example=_gkl_example,
    diff=(0, 1),
)
def generalized_kl_divergence(log_predictions, targets, *, reduction: str = "mean"):
    """Generalized Kullback-Leibler divergence of unnormalised distributions (optax's semantics).

    .. math:: D(t \\| p) = \\sum_c \\big[t_c (\\log t_c - \\log p_c) + p_c - t_c\\big]

    the Bregman divergence of :math:`x \\log x - x` (Boyd & Vandenberghe, *Convex Optimization*, p. 90). Per
    example it equals ``optax.losses.generalized_kl_divergence(log_predictions, targets)``; where a target is
    ``0`` its term is ``p_c`` and (unlike optax, whose gradient there is ``nan``) its gradient is finite.

    Args:
      log_predictions: ``(..., C)`` log of the predicted (unnormalised) distribution.
      targets: ``(..., C)`` non-negative target values, same shape.
      reduction: ``'none'`` (optax's per-example output) | ``'mean'`` (default) | ``'sum'``.

    Returns:
      The divergence: ``(...)`` for ``'none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.distillation import generalized_kl_divergence
      >>> print(f"{generalized_kl_divergence(jnp.log(jnp.array([2.0, 1.0])), jnp.array([1.0, 1.0])):.4f}")
      0.3069

    Reference: optax.losses.generalized_kl_divergence (optax 0.2.8); Bregman divergence of x log x - x.
    """
    name = "generalized_kl_divergence"
    R.validate_reduction(name, reduction)
    log_predictions, targets, out_dtype = _check_pair(
        name, "log_predictions", log_predictions, "targets", targets
    )
    return R.reduce(_generalized_kl(log_predictions, targets), reduction).astype(out_dtype)
