"""Fenchel-Young losses: optax's ``make_fenchel_young_loss`` and the ``0 log 0 = 0`` cross-entropy kernel.

For a convex regulariser with conjugate ("max function") :math:`\\Omega^*`, the Fenchel-Young loss is

.. math:: L(\\theta; y) = \\Omega^*(\\theta) - \\langle y, \\theta \\rangle + \\Omega(y)

optax (and jaxloss) drop the :math:`\\Omega(y)` term, which does not depend on the scores. With
:math:`\\Omega^* = \\operatorname{logsumexp}` and a probability vector :math:`y` this is the softmax
cross-entropy; :func:`_safe_cross_entropy` is that loss written so that a class with label ``0`` and logit
``-inf`` contributes ``0`` (the convention ``0 log 0 = 0``) in the value and in the gradient.

Reference: Blondel, Martins, Niculae, "Learning with Fenchel-Young Losses", JMLR 2020.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import validation as V


def make_fenchel_young_loss(max_fun: Callable[..., Any]) -> Callable[..., jax.Array]:
    """Build the Fenchel-Young loss of a max function (optax's ``make_fenchel_young_loss``).

    .. math:: L(\\theta; y) = \\max\\nolimits_{\\Omega}(\\theta) - \\langle y, \\theta \\rangle

    Args:
      max_fun: the max function (conjugate of the regulariser), mapping a vector of scores ``(n,)`` to a
        scalar, e.g. ``jax.scipy.special.logsumexp``. Extra positional/keyword arguments of the returned
        loss are passed on to it.

    Returns:
      ``loss(scores, targets, *args, **kwargs)`` over the last axis: scores and targets of shape
      ``(*B, n)`` give a loss of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jax.scipy.special import logsumexp
      >>> from jaxloss.optax_losses import make_fenchel_young_loss
      >>> loss = make_fenchel_young_loss(logsumexp)
      >>> print(f"{float(loss(jnp.array([0.0, 0.0]), jnp.array([1.0, 0.0]))):.4f}")  # log(2)
      0.6931

    Reference: Blondel et al., "Learning with Fenchel-Young Losses", JMLR 2020; optax 0.2.8.
    """
    max_last_axis = jnp.vectorize(max_fun, signature="(n)->()")
    dot_last_axis = jnp.vectorize(jnp.vdot, signature="(n),(n)->()")

    def fenchel_young_loss(scores, targets, *args, **kwargs):
        scores = jnp.asarray(scores)
        targets = jnp.asarray(targets)
        return max_last_axis(scores, *args, **kwargs) - dot_last_axis(targets, scores)

    return fenchel_young_loss


@jax.custom_jvp
def _weighted_log_softmax(logits: jax.Array, weights: jax.Array) -> jax.Array:
    """``weights * log_softmax(logits)`` over the last axis, ``0`` wherever ``weights == 0``."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return jnp.where(weights != 0, weights * log_probs, 0)  # 0 * (-inf) is 0 here, not nan


@_weighted_log_softmax.defjvp
def _weighted_log_softmax_jvp(primals, tangents):
    # Written out so the zero-weight, -inf-logit entries give a zero (not nan) tangent.
    logits, weights = primals
    logits_dot, weights_dot = tangents
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    probs = jax.nn.softmax(logits, axis=-1)
    value = jnp.where(weights != 0, weights * log_probs, 0)
    mean_dot = jnp.sum(logits_dot * probs, axis=-1, keepdims=True)
    return value, weights * logits_dot - weights * mean_dot + weights_dot * log_probs


def _safe_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-example ``-sum_c y_c log softmax(x)_c`` over the last axis with ``0 log 0 = 0``."""
    return -jnp.sum(_weighted_log_softmax(logits, labels), axis=-1)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register(
    "safe_softmax_cross_entropy", family="classification", example=OX.ex_probs, diff=(0, 1)
)
def optax_safe_softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy over the last axis with ``0 log 0 = 0`` (a ``-inf`` logit with label 0 is fine).

    .. math:: \\ell = -\\sum_c y_c \\log \\operatorname{softmax}(x)_c, \\quad 0 \\log 0 = 0

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
    logits = V.as_float(name, "logits", logits)
    labels = V.as_array(name, "labels", labels)
    labels = jnp.broadcast_to(labels, jnp.broadcast_shapes(labels.shape, logits.shape))
    dtype = jnp.result_type(logits, labels)
    return _safe_cross_entropy(logits.astype(dtype), labels.astype(dtype))
