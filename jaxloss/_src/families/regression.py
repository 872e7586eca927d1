"""Regression losses.

* torch's ``l1_loss``, ``mse_loss``, ``huber_loss``, ``smooth_l1_loss``, ``poisson_nll_loss`` and
  ``gaussian_nll_loss`` (torch 2.13: names, positional order, defaults and every branch);
* Keras-style losses beyond torch: ``log_cosh_loss``, ``mean_absolute_percentage_error``,
  ``mean_squared_logarithmic_error`` (Keras 3), ``quantile_loss`` (pinball loss, Koenker & Bassett
  1978) and ``tweedie_nll_loss`` (the ``reg:tweedie`` objective of XGBoost and LightGBM);
* the elementwise kernels other faces reuse: ``_squared_error``, ``_absolute_error``, ``_huber``,
  ``_smooth_l1``, ``_log_cosh``, ``_poisson_nll``, ``_gaussian_nll``, ``_pinball``,
  ``_tweedie_nll``.

Keras-style losses follow Keras's per-sample convention: the elementwise loss is averaged over the
last axis (one value per sample, shape ``input.shape[:-1]``, what ``reduction='none'`` returns),
then ``'mean'`` averages and ``'sum'`` adds those per-sample values. Like Keras they first align
ranks that differ by one trailing axis of size 1 (``(N,)`` against ``(N, 1)`` becomes ``(N, 1)``
against ``(N, 1)``), so such a pair is never broadcast to ``(N, N)``.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.kernels import _one_pass_kernel, _same_kind, _signed_sum
from jaxloss._src.core.registry import fill_docs, register

_LOG2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# --------------------------------------------------------------------------------------------------
# Examples for the catalogue (small valid float64 inputs)
# --------------------------------------------------------------------------------------------------


def _pair_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


def _poisson_example(rng: np.random.Generator):
    # counts away from 1, where full=True's Stirling term switches on (a jump in value)
    return (rng.standard_normal((4, 3)), rng.uniform(1.5, 4.0, (4, 3))), {"full": True}


def _gaussian_example(rng: np.random.Generator):
    x, y = rng.standard_normal((2, 4, 3))
    return (x, y, rng.uniform(0.5, 2.0, (4, 3))), {}


def _positive_pair_example(rng: np.random.Generator):
    return (rng.uniform(0.5, 3.0, (4, 3)), rng.uniform(0.5, 3.0, (4, 3))), {}


def _quantile_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3))), {"quantiles": (0.1, 0.9)}


def _tweedie_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.gamma(2.0, 1.0, (4, 3))), {"power": 1.5}


# --------------------------------------------------------------------------------------------------
# Elementwise kernels (inputs already converted, broadcast and in the compute dtype)
# --------------------------------------------------------------------------------------------------


def _is_number(x) -> bool:
    """A Python/numpy real number (not an array that may be traced)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _squared_error_value(input, target):
    diff = input - target
    return diff * diff


_squared_error_fast = _one_pass_kernel(_squared_error_value)


def _squared_error(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``(input - target)**2`` (shared by ``mse_loss`` and optax's ``squared_error``)."""
    if _same_kind(input, target):
        return _squared_error_fast(input, target)
    return _squared_error_value(input, target)


def _absolute_error_tangent(args, tangents):
    input, target = args
    dinput, dtarget = tangents
    s = jnp.sign(input - target)  # torch's l1_loss backward: sign(d), 0 at d = 0
    return _signed_sum([(s, dinput), (-s, dtarget)])


# |d| has exactly the bits of d * sign(d) (what the fallback computes), nan included
_absolute_error_fast = _one_pass_kernel(lambda i, t: jnp.abs(i - t), _absolute_error_tangent)


def _absolute_error(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``|input - target|`` whose gradient is ``sign(input - target)``: ``0`` at equality.

    torch's ``l1_loss`` backward is ``sign(d)``; ``jnp.abs`` differentiates to ``1`` at ``0``, so the
    product ``d * sign(d)`` (exactly ``|d|``) is used instead.
    """
    if _same_kind(input, target):
        return _absolute_error_fast(input, target)
    diff = input - target
    return diff * jnp.sign(diff)


def _huber_value(input, target, delta):
    # select-free form of torch's where(z < delta, 0.5 z z, delta (z - 0.5 delta)), the same bits:
    # with m = min(z, delta), z < delta gives z (z - 0.5 z) = z (0.5 z) (z - 0.5 z is exact), else
    # delta (z - 0.5 delta). Without a select the CPU reduction fuses it (one pass over the inputs).
    z = jnp.abs(input - target)
    m = jnp.minimum(z, delta)
    return m * (z - 0.5 * m)


def _clip_tangent(scale_by_delta: bool):
    def tangent(args, tangents):
        input, target, delta = args
        dinput, dtarget, _ = tangents
        g = jnp.clip(input - target, -delta, delta)  # torch's huber/smooth_l1 backward, continuous
        if scale_by_delta:
            g = g / delta
        return _signed_sum([(g, dinput), (-g, dtarget)])

    return tangent


_huber_fast = _one_pass_kernel(_huber_value, _clip_tangent(False))


def _huber(input: jax.Array, target: jax.Array, delta: float) -> jax.Array:
    """Elementwise Huber loss: ``0.5 d**2`` if ``|d| <= delta`` else ``delta (|d| - 0.5 delta)``.

    ``d = input - target``. Written as torch's kernel writes it (``z < delta`` picks the quadratic
    piece); both pieces give the same bits at ``|d| == delta``, so this is also optax's
    ``huber_loss``. The gradient is ``clip(d, -delta, delta)``.
    """
    if _is_number(delta) and _same_kind(input, target):
        return _huber_fast(input, target, jnp.asarray(delta, input.dtype))
    z = jnp.abs(input - target)
    return jnp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


def _smooth_l1_value(input, target, beta):
    z = jnp.abs(input - target)
    return jnp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)


def _smooth_l1_pow2_value(input, target, beta):
    # beta a power of two: (huber with delta = beta) * (1 / beta) has exactly the bits of torch's
    # formula (scaling by a power of two is exact), and is select-free (see _huber_value)
    return _huber_value(input, target, beta) * (1 / beta)


_smooth_l1_fast = _one_pass_kernel(_smooth_l1_value, _clip_tangent(True))
_smooth_l1_pow2_fast = _one_pass_kernel(_smooth_l1_pow2_value, _clip_tangent(True))


def _smooth_l1(input: jax.Array, target: jax.Array, beta: float) -> jax.Array:
    """Elementwise smooth L1: ``0.5 d**2 / beta`` if ``|d| < beta`` else ``|d| - 0.5 beta`` (``beta > 0``)."""
    if _is_number(beta) and _same_kind(input, target):
        kernel = _smooth_l1_pow2_fast if math.frexp(beta)[0] == 0.5 else _smooth_l1_fast
        return kernel(input, target, jnp.asarray(beta, input.dtype))
    return _smooth_l1_value(input, target, beta)


def _log_cosh(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``log(cosh(input - target))``.

    ``log(cosh d) = logaddexp(d, -d) - log 2`` never overflows (``cosh`` does beyond ``|d| ~ 710``)
    and its gradient is ``tanh(d)``, ``0`` at ``d = 0``.
    """
    diff = input - target
    return jnp.logaddexp(diff, -diff) - jnp.asarray(_LOG2, diff.dtype)


def _poisson_nll_value(
    input: jax.Array, target: jax.Array, eps, log_input: bool, full: bool
) -> jax.Array:
    if log_input:
        loss = jnp.exp(input) - target * input
    else:
        loss = input - target * jnp.log(input + eps)
    if full:
        masked = target <= 1  # torch's masked_fill(target <= 1, 0): a nan target keeps its nan term
        # double where: log is taken of 2 where masked, so t = 0 has a finite gradient (torch: nan)
        t = jnp.where(masked, jnp.asarray(2, target.dtype), target)
        stirling = t * jnp.log(t) - t + 0.5 * jnp.log(2 * math.pi * t)
        loss = loss + jnp.where(masked, jnp.zeros_like(stirling), stirling)
    return loss


@functools.cache
def _poisson_nll_kernel(log_input: bool, full: bool):
    # same value and autodiff derivative; only the passes over memory change (see _one_pass_kernel)
    return _one_pass_kernel(
        lambda input, target, eps: _poisson_nll_value(input, target, eps, log_input, full)
    )


def _poisson_nll(
    input: jax.Array, target: jax.Array, log_input: bool, full: bool, eps: float
) -> jax.Array:
    """Elementwise Poisson negative log-likelihood, torch's formula.

    ``exp(input) - target * input`` (``log_input``) or ``input - target * log(input + eps)``;
    ``full`` adds Stirling's term ``t log t - t + 0.5 log(2 pi t)`` where ``target > 1`` only (torch
    masks ``t <= 1``).
    """
    if _is_number(eps) and _same_kind(input, target):
        kernel = _poisson_nll_kernel(bool(log_input), bool(full))
        return kernel(input, target, jnp.asarray(eps, input.dtype))
    return _poisson_nll_value(input, target, eps, log_input, full)


def _gaussian_nll(input: jax.Array, target: jax.Array, var: jax.Array, full: bool) -> jax.Array:
    """Elementwise Gaussian negative log-likelihood ``0.5 (log var + (input - target)**2 / var)``.

    ``var`` is already clamped (see :func:`_clamp_min_pass_gradient`); ``full`` adds
    ``0.5 log(2 pi)``.
    """
    loss = 0.5 * (jnp.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + _HALF_LOG_2PI
    return loss


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _clamp_min_pass_gradient(x: jax.Array, minimum: float) -> jax.Array:
    """``max(x, minimum)`` whose derivative is ``1`` everywhere (clamped entries included).

    torch's ``gaussian_nll_loss`` clamps ``var`` in place under ``no_grad``: the value is clamped
    but the gradient flows to ``var`` as if it had not been.
    """
    return jnp.maximum(x, minimum)


@_clamp_min_pass_gradient.defjvp
def _clamp_min_pass_gradient_jvp(minimum, primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return _clamp_min_pass_gradient(x, minimum), x_dot


def _pinball(input: jax.Array, target: jax.Array, quantile) -> jax.Array:
    """Elementwise pinball (check) loss ``rho_q(u) = u (q - [u < 0])`` with ``u = target - input``.

    Koenker & Bassett (1978). At ``u = 0`` the gradient picks the ``u >= 0`` piece: ``-q`` for
    ``input``.
    """
    u = target - input
    return u * jnp.where(u < 0, quantile - 1, quantile)


def _tweedie_nll(input: jax.Array, target: jax.Array, power: float, log_input: bool) -> jax.Array:
    """Elementwise Tweedie negative log-likelihood (constant in the mean dropped), ``1 < power < 2``.

    With ``f = log(mu)`` (``input`` itself when ``log_input``):
    ``-target exp((1 - p) f) / (1 - p) + exp((2 - p) f) / (2 - p)``.
    """
    log_mu = input if log_input else jnp.log(input)
    return -target * jnp.exp((1 - power) * log_mu) / (1 - power) + jnp.exp((2 - power) * log_mu) / (
        2 - power
    )


# --------------------------------------------------------------------------------------------------
# Shared argument handling
# --------------------------------------------------------------------------------------------------


def _prepare_pair(
    loss: str, input, target, weight=None, *, target_kind=V.as_float, int_input: bool = True
):
    """Convert, broadcast (torch-style) and upcast half precision.

    Returns ``(input, target, weight, out_dtype, input_shape)``. ``weight`` must have ``input``'s
    own shape, as torch requires; it is returned unbroadcast (torch's weighted mean divides by its
    sum as given).
    """
    if not int_input:  # torch's huber kernel refuses an integer input even beside a float target
        V.as_float(loss, "input", input)
    if target_kind is not V.as_float:
        target_kind(loss, "target", target)  # the target's own dtype rule
    input, target = V.as_float_group(loss, ("input", input), ("target", target))
    input_shape = input.shape
    arrays = [input, target]
    if weight is not None:
        weight = V.as_array(loss, "weight", weight)
        if weight.shape != input.shape:
            raise ValueError(
                f"{loss}: weight has shape {tuple(weight.shape)}; it must have input's shape "
                f"{tuple(input.shape)}"
            )
        arrays.append(weight)
    out_dtype = V.result_dtype(*arrays)
    input, target = V.broadcast_pair(loss, "input", input, "target", target)
    cdt = V.compute_dtype(out_dtype)
    input, target = input.astype(cdt), target.astype(cdt)
    if weight is not None:
        weight = weight.astype(cdt)
    return input, target, weight, out_dtype, input_shape


def _apply_weight(values: jax.Array, weight, reduction: str, *, weighted_mean: bool) -> jax.Array:
    """Reduce, multiplying by ``weight`` first; ``weighted_mean`` picks ``sum(w l) / sum(w)`` over ``mean(w l)``."""
    if weight is None:
        return R.reduce(values, reduction)
    values = values * jnp.broadcast_to(weight, values.shape)
    if weighted_mean:
        return R.weighted_reduce(values, weight, reduction)
    return R.reduce(values, reduction)


def _keras_same_rank(input: jax.Array, target: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Keras's ``squeeze_or_expand_to_same_rank``: ranks differing by one trailing size-1 axis are aligned.

    The array with the extra trailing 1 is squeezed, except that a 1-D partner is expanded instead.
    """
    if input.ndim == target.ndim + 1 and input.shape[-1:] == (1,):
        return (input, target[..., None]) if target.ndim == 1 else (input[..., 0], target)
    if target.ndim == input.ndim + 1 and target.shape[-1:] == (1,):
        return (input[..., None], target) if input.ndim == 1 else (input, target[..., 0])
    return input, target


def _prepare_keras(loss: str, input, target):
    """Convert, align ranks as Keras does, broadcast and upcast half precision; at least 1-D."""
    input = V.as_float(loss, "input", input)
    target = V.as_float(loss, "target", target)
    out_dtype = V.result_dtype(input, target)
    input, target = _keras_same_rank(input, target)
    input, target = V.broadcast_pair(loss, "input", input, "target", target)
    if input.ndim == 0:
        raise ValueError(
            f"{loss}: input and target must have at least 1 dimension (the loss averages over the last "
            "axis); got 0-d arrays"
        )
    cdt = V.compute_dtype(out_dtype)
    return input.astype(cdt), target.astype(cdt), out_dtype


def _keras_reduce(values: jax.Array, reduction: str, out_dtype, scale: float = 1.0) -> jax.Array:
    """Keras's rule: ``scale`` times the mean over the last axis (one value per sample), then ``reduction``."""
    per_sample = jnp.mean(values, axis=-1)
    if scale != 1.0:
        per_sample = scale * per_sample
    return R.reduce(per_sample, reduction).astype(out_dtype)


# --------------------------------------------------------------------------------------------------
# torch losses
# --------------------------------------------------------------------------------------------------


@register(
    family="regression",
    reference="torch.nn.functional.l1_loss (torch 2.13)",
    torch="l1_loss",
    example=_pair_example,
    diff=(0, 1),
)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error, torch's ``l1_loss``.

    .. math:: \\ell_i = w_i |x_i - y_i|

    The gradient at ``x_i = y_i`` is ``0`` (torch's ``sign(0) = 0``).

    Args:
      input: predictions, any shape.
      target: targets, broadcastable with ``input`` (torch warns on a size mismatch; jaxloss
        broadcasts).
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it, with a
        ``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. With ``weight``, ``'mean'`` is
        ``sum(w * err) / sum(w)`` (torch's weighted mean).
      weight: optional weights with ``input``'s shape (torch requires exactly that shape).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import l1_loss
      >>> float(l1_loss(jnp.array([1.0, -2.0]), jnp.array([0.0, 0.0])))
      1.5
      >>> float(l1_loss(jnp.array([1.0, -2.0]), jnp.array([0.0, 0.0]), weight=jnp.array([3.0, 1.0])))
      1.25

    Reference: ``torch.nn.functional.l1_loss`` (torch 2.13).
    """
    name = "l1_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, weight, out_dtype, _ = _prepare_pair(name, input, target, weight)
    values = _absolute_error(input, target)
    return _apply_weight(values, weight, reduction, weighted_mean=True).astype(out_dtype)


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
      target: targets, broadcastable with ``input`` (torch warns on a size mismatch; jaxloss
        broadcasts).
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it, with a
        ``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. With ``weight``, ``'mean'`` is
        ``sum(w * err) / sum(w)`` (torch's weighted mean).
      weight: optional weights with ``input``'s shape (torch requires exactly that shape).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import mse_loss
      >>> float(mse_loss(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0])))
      2.5

    Reference: ``torch.nn.functional.mse_loss`` (torch 2.13).
    """
    name = "mse_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, weight, out_dtype, _ = _prepare_pair(name, input, target, weight)
    values = _squared_error(input, target)
    return _apply_weight(values, weight, reduction, weighted_mean=True).astype(out_dtype)


@register(
    family="regression",
    reference="torch.nn.functional.huber_loss (torch 2.13)",
    torch="huber_loss",
    example=_pair_example,
    diff=(0, 1),
)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss, torch's ``huber_loss``.

    .. math::
        \\ell_i = w_i \\begin{cases} \\tfrac12 d_i^2 & |d_i| < \\delta \\\\
                  \\delta (|d_i| - \\tfrac12 \\delta) & \\text{otherwise} \\end{cases},
        \\qquad d_i = x_i - y_i

    The gradient is ``w_i * clip(d_i, -delta, delta)`` (continuous at ``|d| = delta``).

    Args:
      input: predictions, any shape.
      target: targets, broadcastable with ``input``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. With ``weight``, ``'mean'`` is
        ``mean(w * loss)`` over the elements (unlike ``mse_loss``/``l1_loss``, torch does not divide
        by ``sum(w)`` here).
      delta: the threshold between the quadratic and the linear piece; must be positive.
      weight: optional weights with ``input``'s shape.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import huber_loss
      >>> huber_loss(jnp.array([0.5, 3.0]), jnp.array([0.0, 0.0]), reduction="none").tolist()
      [0.125, 2.5]

    Reference: ``torch.nn.functional.huber_loss`` (torch 2.13); Huber, "Robust Estimation of a
    Location Parameter", Ann. Math. Statist. 35 (1964).
    """
    name = "huber_loss"
    R.validate_reduction(name, reduction)
    V.check_option(name, "delta", delta, delta > 0, "positive")
    input, target, weight, out_dtype, _ = _prepare_pair(
        name, input, target, weight, int_input=False
    )
    values = _huber(input, target, delta)
    return _apply_weight(values, weight, reduction, weighted_mean=False).astype(out_dtype)


@register(
    family="regression",
    reference="torch.nn.functional.smooth_l1_loss (torch 2.13)",
    torch="smooth_l1_loss",
    example=_pair_example,
    diff=(0, 1),
)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss, torch's ``smooth_l1_loss``.

    .. math::
        \\ell_i = \\begin{cases} \\tfrac12 d_i^2 / \\beta & |d_i| < \\beta \\\\
                  |d_i| - \\tfrac12 \\beta & \\text{otherwise} \\end{cases},
        \\qquad d_i = x_i - y_i

    ``beta = 0`` is exactly ``l1_loss`` (as torch). Equals ``huber_loss(..., delta=beta) / beta``.

    Args:
      input: predictions, any shape.
      target: targets, broadcastable with ``input``.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
      beta: the threshold between the quadratic and the linear piece; must be non-negative.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import smooth_l1_loss
      >>> smooth_l1_loss(jnp.array([0.5, 3.0]), jnp.array([0.0, 0.0]), reduction="none").tolist()
      [0.125, 2.5]

    Reference: ``torch.nn.functional.smooth_l1_loss`` (torch 2.13); Girshick, "Fast R-CNN" (2015).
    """
    name = "smooth_l1_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    V.check_option(name, "beta", beta, beta >= 0, "non-negative")
    input, target, _, out_dtype, _ = _prepare_pair(name, input, target)
    if beta == 0:
        values = _absolute_error(input, target)  # torch calls l1_loss for beta == 0
    else:
        values = _smooth_l1(input, target, beta)
    return R.reduce(values, reduction).astype(out_dtype)


def _as_float_or_int(loss: str, name: str, x) -> jax.Array:
    """Counts may be integers (torch promotes them); booleans and complex are refused."""
    arr = V.as_array(loss, name, x)
    if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)):
        raise TypeError(f"{loss}: {name} must have a floating or integer dtype; got {arr.dtype}")
    return arr


@register(
    family="regression",
    reference="torch.nn.functional.poisson_nll_loss (torch 2.13)",
    torch="poisson_nll_loss",
    example=_poisson_example,
    diff=(0, 1),
)
def poisson_nll_loss(
    input,
    target,
    log_input=True,
    full=False,
    size_average=None,
    eps=1e-8,
    reduce=None,
    reduction="mean",
):
    """Poisson negative log-likelihood, torch's ``poisson_nll_loss``.

    .. math::
        \\ell_i = \\begin{cases} e^{x_i} - y_i x_i & \\text{log\\_input} \\\\
                  x_i - y_i \\log(x_i + \\epsilon) & \\text{otherwise} \\end{cases}
                  \\; + \\; [\\text{full} \\wedge y_i > 1]
                  \\left(y_i \\log y_i - y_i + \\tfrac12 \\log(2 \\pi y_i)\\right)

    Stirling's term is added only where ``target > 1`` (torch masks ``target <= 1``); there the
    gradient with respect to ``target`` is finite (torch's is ``nan`` at ``target = 0`` with
    ``full=True``).

    Args:
      input: the log-rate (``log_input=True``) or the rate, any shape.
      target: counts, broadcastable with ``input`` (integer counts are accepted).
      log_input: whether ``input`` is the log of the rate.
      full: add Stirling's approximation of ``log(target!)``.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      eps: added to the rate before its log when ``log_input=False``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import poisson_nll_loss
      >>> round(float(poisson_nll_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0]))), 6)
      0.859141

    Reference: ``torch.nn.functional.poisson_nll_loss`` (torch 2.13).
    """
    name = "poisson_nll_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, _, out_dtype, _ = _prepare_pair(
        name, input, target, target_kind=_as_float_or_int
    )
    values = _poisson_nll(input, target, bool(log_input), bool(full), eps)
    return R.reduce(values, reduction).astype(out_dtype)


def _gaussian_var(name: str, input: jax.Array, var) -> jax.Array:
    """torch's accepted ``var`` forms, returned ready to broadcast against ``input``.

    A Python number fills ``input``'s shape; an array must have ``input``'s shape, or ``input``'s
    shape without its last axis (a trailing axis is added), or ``input``'s rank with exactly one
    mismatched axis where ``var`` has size 1 (torch's test: the sizes of ``var`` at mismatched axes
    sum to 1).
    """
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries; got {var!r}")
        return jnp.full(input.shape, var, dtype=input.dtype)
    var = V.as_float(name, "var", var)
    V.data_check(name, lambda v: ~(v < 0), "var has negative entry/entries", var)
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var[..., None]
    if var.ndim == input.ndim and sum(v for x, v in zip(input.shape, var.shape) if x != v) == 1:
        return var
    raise ValueError(
        f"{name}: var has shape {tuple(var.shape)}; for input {tuple(input.shape)} it must be "
        f"{tuple(input.shape)}, {tuple(input.shape[:-1])}, or input's shape with one axis of size 1"
    )


@register(
    family="regression",
    reference="torch.nn.functional.gaussian_nll_loss (torch 2.13)",
    torch="gaussian_nll_loss",
    example=_gaussian_example,
    diff=(0, 1, 2),
)
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood, torch's ``gaussian_nll_loss``.

    .. math::
        \\ell_i = \\tfrac12 \\left(\\log \\bar v_i + \\frac{(x_i - y_i)^2}{\\bar v_i}\\right),
        \\qquad \\bar v_i = \\max(v_i, \\epsilon)
                  \\; [+ \\tfrac12 \\log 2\\pi \\text{ if full}]

    The clamp at ``eps`` changes the value only: as in torch (which clamps under ``no_grad``) the
    gradient reaches ``var`` as if it had not been clamped, i.e. it is the derivative evaluated at
    the clamped value.

    Args:
      input: the predicted means, shape ``(N, *)`` or ``(*)``.
      target: samples, broadcastable with ``input``.
      var: the predicted variances: an array of ``input``'s shape, of ``input``'s shape without its
        last axis, or of ``input``'s rank with one axis of size 1 (homoscedastic along it); or a
        non-negative Python number. A negative entry raises ``ValueError`` on concrete arrays
        (reported by :func:`jaxloss.checked` under ``jit``; under plain ``jit`` it is clamped to
        ``eps``).
      full: add the constant ``0.5 * log(2 * pi)``.
      eps: the lower clamp of ``var``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then the broadcast shape of the three arrays).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import gaussian_nll_loss
      >>> float(gaussian_nll_loss(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0]), 1.0))
      1.0

    Reference: ``torch.nn.functional.gaussian_nll_loss`` (torch 2.13); Nix & Weigend, "Estimating
    the mean and variance of the target probability distribution" (1994).
    """
    name = "gaussian_nll_loss"
    input, target = V.as_float_group(name, ("input", input), ("target", target))
    var = _gaussian_var(name, input, var)
    R.validate_reduction(name, reduction)
    out_dtype = V.result_dtype(input, target, var)
    try:
        shape = jnp.broadcast_shapes(input.shape, target.shape, var.shape)
    except ValueError as err:
        raise ValueError(
            f"{name}: input {tuple(input.shape)}, target {tuple(target.shape)} and var "
            f"{tuple(var.shape)} do not broadcast"
        ) from err
    cdt = V.compute_dtype(out_dtype)
    input, target, var = (jnp.broadcast_to(a, shape).astype(cdt) for a in (input, target, var))
    var = _clamp_min_pass_gradient(var, eps)
    values = _gaussian_nll(input, target, var, bool(full))
    return R.reduce(values, reduction).astype(out_dtype)


# --------------------------------------------------------------------------------------------------
# Beyond torch: Keras 3 regression losses, pinball and Tweedie
# --------------------------------------------------------------------------------------------------


@register(
    family="regression",
    reference="keras.losses.log_cosh (Keras 3)",
    example=_pair_example,
    diff=(0, 1),
)
def log_cosh_loss(input, target, *, reduction="mean"):
    """Log-cosh loss, Keras 3's ``log_cosh`` (optax's ``log_cosh`` per element).

    .. math:: \\ell_n = \\frac{1}{D} \\sum_{d} \\log\\cosh(x_{n,d} - y_{n,d})

    Computed as ``logaddexp(d, -d) - log 2`` (no overflow for large errors); behaves like
    ``d**2 / 2`` for small errors and like ``|d| - log 2`` for large ones.

    Args:
      input: predictions (Keras's ``y_pred``), shape ``(*B, D)``.
      target: targets (Keras's ``y_true``), broadcastable with ``input``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'none'`` returns one value per sample, the
        mean over the last axis: shape ``input.shape[:-1]`` (after Keras's rank alignment), as
        Keras's function.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import log_cosh_loss
      >>> round(float(log_cosh_loss(jnp.array([[1.0, 1.0], [0.0, 0.0]]), jnp.array([[0.0, 1.0], [0.0, 0.0]]))), 6)
      0.108445

    Reference: ``keras.losses.log_cosh`` / ``keras.losses.LogCosh`` (Keras 3).
    """
    name = "log_cosh_loss"
    R.validate_reduction(name, reduction)
    input, target, out_dtype = _prepare_keras(name, input, target)
    return _keras_reduce(_log_cosh(input, target), reduction, out_dtype)


@register(
    family="regression",
    reference="keras.losses.mean_absolute_percentage_error (Keras 3)",
    example=_positive_pair_example,
    diff=(0, 1),
)
def mean_absolute_percentage_error(input, target, *, epsilon=1e-7, reduction="mean"):
    """Mean absolute percentage error, Keras 3's ``mean_absolute_percentage_error``.

    .. math::
        \\ell_n = \\frac{100}{D} \\sum_d \\frac{|y_{n,d} - x_{n,d}|}{\\max(|y_{n,d}|, \\epsilon)}

    Args:
      input: predictions (Keras's ``y_pred``), shape ``(*B, D)``.
      target: targets (Keras's ``y_true``), broadcastable with ``input``.
      epsilon: the floor of ``|target|`` in the denominator (Keras's ``backend.epsilon()``,
        ``1e-7``).
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'none'`` returns one value per sample, the
        mean over the last axis: shape ``input.shape[:-1]`` (after Keras's rank alignment), as
        Keras's function.

    Returns:
      The loss, in percent; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import mean_absolute_percentage_error
      >>> float(mean_absolute_percentage_error(jnp.array([[1.5, 3.0]]), jnp.array([[1.0, 4.0]])))
      37.5

    Reference: ``keras.losses.mean_absolute_percentage_error`` (Keras 3).
    """
    name = "mean_absolute_percentage_error"
    R.validate_reduction(name, reduction)
    input, target, out_dtype = _prepare_keras(name, input, target)
    values = jnp.abs((target - input) / jnp.maximum(jnp.abs(target), epsilon))
    return _keras_reduce(values, reduction, out_dtype, scale=100.0)


@register(
    family="regression",
    reference="keras.losses.mean_squared_logarithmic_error (Keras 3)",
    example=_positive_pair_example,
    diff=(0, 1),
)
def mean_squared_logarithmic_error(input, target, *, epsilon=1e-7, reduction="mean"):
    """Mean squared logarithmic error, Keras 3's ``mean_squared_logarithmic_error``.

    .. math:: \\ell_n = \\frac{1}{D} \\sum_d \\left(\\log(1 + \\max(x_{n,d}, \\epsilon))
              - \\log(1 + \\max(y_{n,d}, \\epsilon))\\right)^2

    Values below ``epsilon`` (zero and negative ones included) are replaced by ``epsilon``, so their
    gradient is ``0``. ``log1p`` is used (Keras writes ``log(x + 1)``; equal up to rounding, and
    more accurate for small values).

    Args:
      input: predictions (Keras's ``y_pred``), shape ``(*B, D)``.
      target: targets (Keras's ``y_true``), broadcastable with ``input``.
      epsilon: the floor of both arguments (Keras's ``backend.epsilon()``, ``1e-7``).
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'none'`` returns one value per sample, the
        mean over the last axis: shape ``input.shape[:-1]`` (after Keras's rank alignment), as
        Keras's function.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp, math
      >>> from jaxloss.losses import mean_squared_logarithmic_error
      >>> bool(jnp.isclose(mean_squared_logarithmic_error(jnp.array([[math.e - 1]]), jnp.array([[0.0]])), 1.0))
      True

    Reference: ``keras.losses.mean_squared_logarithmic_error`` (Keras 3).
    """
    name = "mean_squared_logarithmic_error"
    R.validate_reduction(name, reduction)
    input, target, out_dtype = _prepare_keras(name, input, target)
    # log1p: accurate for arguments near 0, where log(x + 1) loses every digit below the ulp of 1
    diff = jnp.log1p(jnp.maximum(input, epsilon)) - jnp.log1p(jnp.maximum(target, epsilon))
    return _keras_reduce(diff * diff, reduction, out_dtype)


@register(
    family="regression",
    reference="pinball loss, Koenker & Bassett (1978); tfa.losses.pinball_loss per-sample convention",
    example=_quantile_example,
    diff=(0, 1),
)
def quantile_loss(input, target, *, quantiles=0.5, reduction="mean"):
    """Quantile (pinball) loss.

    .. math:: \\rho_q(u) = u\\,(q - [u < 0]) = \\max(q u, (q - 1) u), \\qquad u = y - x

    With one quantile ``q``, ``input`` and ``target`` pair elementwise and each sample's loss is the
    mean over the last axis. With a sequence of ``Q`` quantiles, ``input`` has a trailing quantile
    axis, ``input.shape == (*target.shape, Q)`` (``target`` may also broadcast to
    ``input.shape[:-1]``), column ``k`` is the prediction of quantile ``quantiles[k]``, and each
    sample's loss is the mean over the quantile axis. At ``u = 0`` the gradient with respect to
    ``input`` is ``-q``.

    Args:
      input: predicted quantiles, ``(*B, D)`` for one quantile or ``(*B, Q)`` for ``Q`` quantiles.
      target: observations: broadcastable with ``input`` (one quantile) or to ``input.shape[:-1]``.
      quantiles: a number in ``[0, 1]`` or a sequence of them (``0.5`` gives half the absolute
        error).
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'none'`` returns the per-sample losses,
        shape ``input.shape[:-1]``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import quantile_loss
      >>> x, y = jnp.array([[0.0, 1.0]]), jnp.array([2.0])  # two quantiles, one sample
      >>> [round(float(v), 6) for v in quantile_loss(x, y, quantiles=(0.1, 0.9), reduction="none")]
      [0.55]

    Reference: R. Koenker and G. Bassett, "Regression Quantiles", Econometrica 46(1), 33-50 (1978).
    """
    name = "quantile_loss"
    R.validate_reduction(name, reduction)
    if isinstance(quantiles, (Sequence, np.ndarray)) and not isinstance(quantiles, str):
        q = np.asarray(quantiles, dtype=np.float64)
        V.check_option(
            name,
            "quantiles",
            quantiles,
            q.ndim == 1 and q.size > 0 and bool(np.all((q >= 0) & (q <= 1))),
            "a number in [0, 1] or a non-empty 1-D sequence of them",
        )
        input = V.as_float(name, "input", input)
        target = V.as_float(name, "target", target)
        out_dtype = V.result_dtype(input, target)
        if input.ndim == 0 or input.shape[-1] != q.size:
            raise ValueError(
                f"{name}: input has shape {tuple(input.shape)}; with {q.size} quantiles its last axis must "
                f"have size {q.size}"
            )
        try:
            target = jnp.broadcast_to(target, input.shape[:-1])
        except ValueError as err:
            raise ValueError(
                f"{name}: target has shape {tuple(target.shape)}; it must broadcast to input's shape "
                f"without the quantile axis {tuple(input.shape[:-1])}"
            ) from err
        cdt = V.compute_dtype(out_dtype)
        input = input.astype(cdt)
        target = jnp.broadcast_to(target[..., None], input.shape).astype(cdt)
        quantile = jnp.broadcast_to(jnp.asarray(q, cdt), input.shape)
    else:
        V.check_option(
            name,
            "quantiles",
            quantiles,
            isinstance(quantiles, numbers.Real) and 0 <= quantiles <= 1,
            "a number in [0, 1] or a non-empty 1-D sequence of them",
        )
        input, target, out_dtype = _prepare_keras(name, input, target)
        quantile = float(quantiles)
    return _keras_reduce(_pinball(input, target, quantile), reduction, out_dtype)


@register(
    family="regression",
    reference="Tweedie NLL of XGBoost reg:tweedie (tweedie-nloglik) and LightGBM objective='tweedie'",
    example=_tweedie_example,
    diff=(0, 1),
)
def tweedie_nll_loss(input, target, *, power=1.5, log_input=True, reduction="mean"):
    """Tweedie negative log-likelihood (compound Poisson-gamma), as XGBoost's and LightGBM's ``tweedie``.

    .. math::
        \\ell_{n} = \\frac{1}{D} \\sum_d -\\frac{y_{n,d}\\, \\mu_{n,d}^{1-p}}{1-p}
                  + \\frac{\\mu_{n,d}^{2-p}}{2-p},
        \\qquad \\mu = e^{x} \\text{ if log\\_input else } x

    This is the negative log-likelihood of a Tweedie distribution with variance ``phi * mu**p``, up
    to terms that do not depend on ``mu`` (divided by ``phi``); XGBoost's ``reg:tweedie`` and
    LightGBM's ``objective='tweedie'`` minimise it with a log link (their raw score is ``input``
    with ``log_input=True``) and report it as ``tweedie-nloglik@p`` / ``tweedie``. Keras 3 has no
    Tweedie loss.

    Args:
      input: the log of the predicted mean (``log_input=True``) or the mean itself (then positive),
        shape ``(*B, D)``.
      target: non-negative observations, broadcastable with ``input``.
      power: the variance power ``p``, strictly between 1 (Poisson: use :func:`poisson_nll_loss`)
        and 2 (gamma).
      log_input: whether ``input`` is ``log(mu)``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'none'`` returns one value per sample, the
        mean over the last axis: shape ``input.shape[:-1]`` (after Keras's rank alignment), as
        Keras's function.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import tweedie_nll_loss
      >>> float(tweedie_nll_loss(jnp.array([[0.0]]), jnp.array([[1.0]])))
      4.0

    Reference: Jorgensen, "Exponential dispersion models", JRSS B 49 (1987); XGBoost
    ``reg:tweedie`` / ``tweedie-nloglik`` and LightGBM ``tweedie`` objective and metric.
    """
    name = "tweedie_nll_loss"
    R.validate_reduction(name, reduction)
    V.check_option(
        name,
        "power",
        power,
        isinstance(power, numbers.Real) and 1 < power < 2,
        "a number in (1, 2)",
    )
    input, target, out_dtype = _prepare_keras(name, input, target)
    return _keras_reduce(
        _tweedie_nll(input, target, float(power), bool(log_input)), reduction, out_dtype
    )


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


_OPTAX_PREDICTIONS_TARGETS = """predictions: predictions, any shape.
      targets: targets broadcastable with the predictions; zeros when ``None``."""


@OX.register("huber_loss", family="regression", example=OX.ex_pair, diff=(0, 1))
def optax_huber_loss(predictions, targets=None, *, delta=1.0):
    """Huber loss: ``0.5 e^2`` for ``|e| <= delta``, ``delta (|e| - 0.5 delta)`` beyond, with ``e = p - t``.

    .. math::

        \\ell = \\begin{cases} \\tfrac12 e^2 & |e| \\le \\delta \\\\
        \\delta (|e| - \\tfrac12 \\delta) & |e| > \\delta \\end{cases},
        \\quad e = p - t

    Args:
      {predictions_targets}
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
    return _huber(*OX.predictions_targets("huber_loss", predictions, targets), delta)


@OX.register("l2_loss", family="regression", example=OX.ex_pair, diff=(0, 1))
def optax_l2_loss(predictions, targets=None):
    """Half the squared error, ``0.5 (p - t)^2``, elementwise.

    .. math:: \\ell = \\tfrac12 (p - t)^2

    Args:
      predictions: as in :func:`squared_error`.
      targets: as in :func:`squared_error`.

    Returns:
      Half of :func:`squared_error`, elementwise.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import l2_loss
      >>> print(l2_loss(jnp.array([1.0, -2.0])))
      [0.5 2. ]

    Reference: optax.losses.l2_loss (optax 0.2.8).
    """
    return 0.5 * optax_squared_error(predictions, targets)


@OX.register("log_cosh", family="regression", example=OX.ex_pair, diff=(0, 1))
def optax_log_cosh(predictions, targets=None):
    """Log-cosh loss ``log(cosh(p - t))``, elementwise; about ``e^2/2`` near 0 and ``|e| - log 2`` far out.

    .. math:: \\ell = \\log \\cosh(p - t)

    Args:
      {predictions_targets}

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import log_cosh
      >>> print(log_cosh(jnp.array([0.0, 1000.0])).round(4))
      [  0.      999.30676]

    Reference: optax.losses.log_cosh (optax 0.2.8).
    """
    return _log_cosh(*OX.predictions_targets("log_cosh", predictions, targets))


fill_docs(
    (optax_huber_loss, optax_log_cosh),
    predictions_targets=_OPTAX_PREDICTIONS_TARGETS,
)


@OX.register("squared_error", family="regression", example=OX.ex_pair, diff=(0, 1))
def optax_squared_error(predictions, targets=None):
    """Elementwise squared error ``(p - t)^2`` (``p^2`` without targets).

    .. math:: \\ell = (p - t)^2

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
    predictions = V.as_float("squared_error", "predictions", predictions)
    if targets is None:
        return _squared_error(predictions, jnp.zeros((), predictions.dtype))
    targets = V.as_array("squared_error", "targets", targets)
    V.check_same_shape("squared_error", "targets", targets, "predictions", predictions)
    return _squared_error(predictions, targets)
