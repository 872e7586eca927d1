"""optax's argument conventions, shared by the ``optax_*`` faces of several families.

optax's losses take ``targets=None`` for zeros, numpy-broadcast their inputs, and read a ``where`` with one
dimension fewer than the logits as lacking the reduced axis; these helpers write those rules once (the
library runs under ``jax_numpy_rank_promotion='raise'``, so every broadcast is explicit). The example
generators give the catalogue small valid inputs for the faces of more than one family.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import registry
from jaxloss._src.core import validation as V


def broadcast_no_outer(
    loss: str, a_name: str, a: jax.Array, b_name: str, b: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """:func:`~jaxloss._src.core.validation.broadcast_pair`, refusing a pair that broadcasts to neither shape.

    ``(4, 1)`` with ``(4,)`` gives ``(4, 4)``: such a pair is almost always a forgotten ``squeeze``, and
    optax returns the outer "product" silently.
    """
    a_out, b_out = V.broadcast_pair(loss, a_name, a, b_name, b)
    if a_out.shape != a.shape and a_out.shape != b.shape:
        raise ValueError(
            f"{loss}: {a_name} of shape {tuple(a.shape)} and {b_name} of shape {tuple(b.shape)} would "
            f"broadcast to {tuple(a_out.shape)}, the shape of neither; reshape one of them (e.g. squeeze a "
            "trailing 1) so that one shape broadcasts to the other"
        )
    return a_out, b_out


def broadcast_where(where, shape):
    """``where`` broadcast to ``shape`` explicitly (``None`` stays ``None``)."""
    return None if where is None else jnp.broadcast_to(jnp.asarray(where), shape)


def expand_where(where, logits: jax.Array, axis):
    """optax's convention: a ``where`` with one dimension fewer than ``logits`` lacks the reduced axis."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.ndim != logits.ndim:
        where = jnp.expand_dims(where, axis)
    return broadcast_where(where, logits.shape)


def broadcast_all(*arrays: jax.Array) -> list[jax.Array]:
    """numpy broadcasting, written out."""
    shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    return [jnp.broadcast_to(a, shape) for a in arrays]


def predictions_targets(loss: str, predictions, targets) -> list[jax.Array]:
    """Floating ``predictions`` and ``targets`` broadcast together; optax's ``targets=None`` means zeros."""
    predictions = V.as_float(loss, "predictions", predictions)
    if targets is None:
        targets = jnp.zeros((), predictions.dtype)
    else:
        targets = V.as_array(loss, "targets", targets)
    return broadcast_all(predictions, targets)


def check_axis(loss: str, axis, ndim: int) -> None:
    """An int or a tuple of ints, each in ``[-ndim, ndim)`` (optax raises ``ValueError`` as well)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ValueError(f"{loss}: axis must be an int or a tuple of ints; got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{loss}: axis {a} is out of bounds for logits with {ndim} dimensions")


# --- example inputs for the catalogue ----------------------------------------------------------------------


def ex_pair(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


def ex_probs(rng: np.random.Generator):
    logits = rng.standard_normal((4, 3))
    labels = rng.random((4, 3))
    return (logits, labels / labels.sum(-1, keepdims=True)), {}


def ex_binary(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.integers(0, 2, (4, 3)).astype(np.float64)), {}


def ex_int_labels(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.integers(0, 3, (4,))), {}


def register(name: str, **kwargs):
    """:func:`~jaxloss._src.core.registry.register` for ``jaxloss.optax_losses.<name>``, the match of
    ``optax.losses.<name>`` (optax 0.2.8); ``kwargs`` as there (``family``, ``example``, ``diff``...)."""
    return registry.register(
        namespace="optax_losses",
        name=name,
        optax=name,
        reference=f"optax.losses.{name} (optax 0.2.8)",
        **kwargs,
    )
