"""Hinge and perceptron kernels: optax's binary and multiclass margin losses.

Shape legend: ``B`` batch dimensions (any number), ``C`` classes.

* binary: ``max(0, 1 - s t)`` (hinge) and ``max(0, -s t)`` (perceptron) for scores ``s`` and targets
  ``t`` in ``{-1, 1}``;
* multiclass: ``max_k(s_k + [k != y]) - s_y`` (Crammer-Singer hinge) and ``max_k s_k - s_y`` (perceptron)
  for scores ``s`` of shape ``(*B, C)`` and integer labels ``y`` of shape ``(*B,)``.

The faces live in :mod:`jaxloss.optax_losses`; these kernels take arrays already converted and checked.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


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
