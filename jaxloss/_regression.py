"""Regression losses: torch's ``l1_loss``, ``mse_loss``, ``huber_loss``, ``smooth_l1_loss``,
``poisson_nll_loss``, ``gaussian_nll_loss`` and the elementwise kernels optax's faces reuse."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss import _reduction as R
from jaxloss import _validation as V
from jaxloss._registry import register


def _pair_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


def _squared_error(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``(input - target)**2`` (shared by ``mse_loss`` and optax's ``squared_error``)."""
    diff = input - target
    return diff * diff


def _prepare_pair(loss: str, input, target, weight):
    """Convert, broadcast (torch-style) and upcast half precision; returns arrays and the output dtype."""
    input = V.as_float(loss, "input", input)
    target = V.as_float(loss, "target", target)
    out_dtype = V.result_dtype(input, target)
    input, target = V.broadcast_pair(loss, "input", input, "target", target)
    if weight is not None:
        weight = V.as_array(loss, "weight", weight)
        if weight.shape != input.shape:
            raise ValueError(
                f"{loss}: weight has shape {tuple(weight.shape)}; it must have the broadcast shape of "
                f"input and target {tuple(input.shape)}"
            )
    cdt = V.compute_dtype(out_dtype)
    input, target = input.astype(cdt), target.astype(cdt)
    return input, target, weight, out_dtype


@register(
    family="regression",
    reference="torch.nn.functional.mse_loss (torch 2.13)",
    torch="mse_loss",
    example=_pair_example,
    diff=(0, 1),
)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error, torch's ``mse_loss``.

    .. math:: \\ell_i = w_i (x_i - y_i)^2

    Args:
      input: predictions, any shape.
      target: targets, broadcastable to ``input`` (torch warns on a size mismatch; jaxloss broadcasts).
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. With ``weight``, ``'mean'`` is
        ``sum(w * err) / sum(w)`` (torch's weighted mean).
      weight: optional per-element weights with the broadcast shape of ``input`` and ``target``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import mse_loss
      >>> float(mse_loss(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0])))
      2.5
    """
    name = "mse_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, weight, out_dtype = _prepare_pair(name, input, target, weight)
    values = _squared_error(input, target)
    if weight is None:
        return R.reduce(values, reduction).astype(out_dtype)
    values = values * weight
    return R.weighted_reduce(values, weight.astype(values.dtype), reduction).astype(out_dtype)
