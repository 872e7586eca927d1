"""Hinge and perceptron kernels: optax's binary and multiclass margin losses.

Shape legend: ``B`` batch dimensions (any number), ``C`` classes.

* binary: ``max(0, 1 - s t)`` (hinge) and ``max(0, -s t)`` (perceptron) for scores ``s`` and targets
  ``t`` in ``{-1, 1}``;
* multiclass: ``max_k(s_k + [k != y]) - s_y`` (Crammer-Singer hinge) and ``max_k s_k - s_y`` (perceptron)
  for scores ``s`` of shape ``(*B, C)`` and integer labels ``y`` of shape ``(*B,)``.

The kernels take arrays already converted and checked; the ``optax_*`` faces at the end of this module
convert and check them, and :mod:`jaxloss.optax_losses` binds those under optax's names.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import fill_docs


def _hinge(scores: jax.Array, targets: jax.Array) -> jax.Array:
    """Elementwise binary hinge ``max(0, 1 - scores * targets)``."""
    return jnp.maximum(0, 1 - scores * targets)


def _perceptron(scores: jax.Array, targets: jax.Array) -> jax.Array:
    """Elementwise binary perceptron ``max(0, -scores * targets)``."""
    return jnp.maximum(0, -scores * targets)


def _label_score(scores: jax.Array, one_hot: jax.Array) -> jax.Array:
    """``scores[..., y]`` read through the one-hot mask (``0`` for a label outside ``[0, C)``, as optax).

    ``where`` instead of a product keeps ``-inf``/``inf`` scores of the other classes out of the sum.
    """
    return jnp.sum(jnp.where(one_hot, scores, 0), axis=-1)


def _multiclass_hinge(scores: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-example Crammer-Singer hinge ``max_k(s_k + 1 - [k == y]) - s_y``; ``(*B, C), (*B,) -> (*B,)``."""
    one_hot = jax.nn.one_hot(labels, scores.shape[-1], dtype=scores.dtype)
    return jnp.max(scores + 1 - one_hot, axis=-1) - _label_score(scores, one_hot)


def _multiclass_perceptron(scores: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-example multiclass perceptron ``max_k s_k - s_y``; ``(*B, C), (*B,) -> (*B,)``."""
    one_hot = jax.nn.one_hot(labels, scores.shape[-1], dtype=scores.dtype)
    return jnp.max(scores, axis=-1) - _label_score(scores, one_hot)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


def _optax_signs_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.choice([-1.0, 1.0], (4, 3))), {}


@OX.register("hinge_loss", family="margin", example=_optax_signs_example, smooth=False)
def optax_hinge_loss(predictor_outputs, targets):
    """Binary hinge loss ``max(0, 1 - s t)`` elementwise.

    .. math:: \\ell = \\max(0, 1 - s t)

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
    scores, targets = OX.broadcast_no_outer(name, "predictor_outputs", scores, "targets", targets)
    return _hinge(scores, targets)


@OX.register("perceptron_loss", family="margin", example=_optax_signs_example, smooth=False)
def optax_perceptron_loss(predictor_outputs, targets):
    """Binary perceptron loss ``max(0, -s t)`` elementwise.

    .. math:: \\ell = \\max(0, -s t)

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
    return _perceptron(scores, targets)


def _optax_multiclass(loss: str, kernel, scores, labels) -> jax.Array:
    """A multiclass kernel on optax's ``(scores, labels)``, converted to arrays."""
    return kernel(V.as_array(loss, "scores", scores), V.as_array(loss, "labels", labels))


_OPTAX_SCORES_LABELS = """scores: scores ``(*B, C)``.
      labels: integer labels ``(*B,)``.

    Returns:
      Losses of shape ``(*B,)``."""


@OX.register("multiclass_hinge_loss", family="margin", example=OX.ex_int_labels, smooth=False)
def optax_multiclass_hinge_loss(scores, labels):
    """Multiclass (Crammer-Singer) hinge loss ``max_k(s_k + [k != y]) - s_y``.

    .. math:: \\ell = \\max_k \\big(s_k + [k \\ne y]\\big) - s_y

    Args:
      {scores_labels}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_hinge_loss
      >>> print(multiclass_hinge_loss(jnp.array([[2.0, 1.5, 0.0]]), jnp.array([0])))
      [0.5]

    Reference: Crammer & Singer, JMLR 2001; optax 0.2.8.
    """
    return _optax_multiclass("multiclass_hinge_loss", _multiclass_hinge, scores, labels)


@OX.register("multiclass_perceptron_loss", family="margin", example=OX.ex_int_labels, smooth=False)
def optax_multiclass_perceptron_loss(scores, labels):
    """Multiclass perceptron loss ``max_k s_k - s_y``.

    .. math:: \\ell = \\max_k s_k - s_y

    Args:
      {scores_labels}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import multiclass_perceptron_loss
      >>> scores = jnp.array([[2.0, 1.5, 0.0], [0.0, 1.0, 3.0]])
      >>> print(multiclass_perceptron_loss(scores, jnp.array([1, 2])))
      [0.5 0. ]

    Reference: Collins, EMNLP 2002; optax 0.2.8.
    """
    return _optax_multiclass("multiclass_perceptron_loss", _multiclass_perceptron, scores, labels)


fill_docs(
    (optax_multiclass_hinge_loss, optax_multiclass_perceptron_loss),
    scores_labels=_OPTAX_SCORES_LABELS,
)
