"""Reinforcement-learning losses, returns and temporal-difference errors with rlax 0.1.9's numbers.

Every function matched with rlax keeps rlax's name, argument names, order and defaults (including the
``stop_target_gradients`` / ``use_stop_gradient`` flags, applied where rlax applies ``stop_gradient``); the
losses that rlax averages (``policy_gradient_loss``, ``entropy_loss``, ``clipped_surrogate_pg_loss``) add a
keyword-only ``reduction='mean'`` (rlax's result) so ``'none'`` gives the per-step values. The flags are Python
booleans (decided at trace time).

Shapes follow rlax, which is written for one trajectory: sequences have the time axis ``T`` leading
(``r_t``, ``discount_t``, ``v_t`` of shape ``(T,)``); per-transition functions (``q_learning``, ...) take
action values ``(A,)`` and scalars. jaxloss also accepts extra batch axes without ``vmap``: trailing axes
for sequences (``(T, B...)``, the time axis stays first) and leading axes for per-transition functions and
policy losses (``(B..., A)``); ``jax.vmap`` over a leading batch axis works as with rlax.

Half-precision inputs are computed in float32 and the result cast back.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import fill_docs, register

__all__ = [
    "clipped_surrogate_pg_loss",
    "clipped_value_loss",
    "double_q_learning",
    "entropy_loss",
    "expected_sarsa",
    "lambda_returns",
    "n_step_bootstrapped_returns",
    "policy_gradient_loss",
    "q_learning",
    "td_lambda",
    "truncated_generalized_advantage_estimation",
    "vtrace",
    "vtrace_td_error_and_advantage",
]

_RLAX = "rlax 0.1.9"


class VTraceOutput(NamedTuple):
    """What :func:`vtrace_td_error_and_advantage` returns (rlax's ``VTraceOutput`` fields)."""

    errors: jax.Array
    pg_advantage: jax.Array
    q_estimate: jax.Array


# ----------------------------------------------------------------------------------------------------------
# Argument handling.


def _floats(name: str, *named: tuple[str, object]):
    """Convert floating arguments that must all have the first one's shape; returns (arrays, out_dtype)."""
    arrays = [V.as_float(name, arg, x) for arg, x in named]
    first_name, first = named[0][0], arrays[0]
    for (arg, _), a in zip(named[1:], arrays[1:]):
        V.check_same_shape(name, arg, a, first_name, first)
    out_dtype = V.result_dtype(*arrays)
    cdt = V.compute_dtype(out_dtype)
    return [a.astype(cdt) for a in arrays], out_dtype


def _sequence(name: str, *named: tuple[str, object]):
    arrays, out_dtype = _floats(name, *named)
    if arrays[0].ndim < 1:
        raise ValueError(
            f"{name}: {named[0][0]} must have a leading time axis (T, ...); got a scalar"
        )
    return arrays, out_dtype


def _mixing(name: str, arg: str, value, like: jax.Array) -> jax.Array:
    """``lambda_``-style parameter: a scalar or an array of ``like``'s shape, as rlax's ``ones_like(d) * l``."""
    lam = V.as_array(name, arg, value)
    if not (jnp.issubdtype(lam.dtype, jnp.floating) or jnp.issubdtype(lam.dtype, jnp.integer)):
        raise TypeError(f"{name}: {arg} must be a real number or array; got dtype {lam.dtype}")
    if lam.ndim != 0 and lam.shape != like.shape:
        raise ValueError(
            f"{name}: {arg} has shape {tuple(lam.shape)}; it must be a scalar or have shape {tuple(like.shape)}"
        )
    return jnp.ones_like(like) * lam.astype(like.dtype)


def _actions(name: str, arg: str, a, values: jax.Array) -> jax.Array:
    """Integer action indices of shape ``values.shape[:-1]``; out-of-range values raise eagerly."""
    a = V.as_int(name, arg, a)
    if a.shape != values.shape[:-1]:
        raise ValueError(
            f"{name}: {arg} has shape {tuple(a.shape)}; for action values of shape {tuple(values.shape)} "
            f"it must be {tuple(values.shape[:-1])}"
        )
    num = values.shape[-1]
    V.data_check(name, lambda x: (x >= 0) & (x < num), f"{arg} values must be in [0, {num})", a)
    return a


def _take(values: jax.Array, a: jax.Array) -> jax.Array:
    """``values[..., a]`` per batch element (rlax's ``q_tm1[a_tm1]`` / ``base.batched_index``)."""
    return jnp.squeeze(jnp.take_along_axis(values, a[..., None], axis=-1), axis=-1)


def _per_transition(name: str, q_tm1, a_tm1, r_t, discount_t, *q_named):
    """Common checks for q_learning-style functions: q's ``(..., A)``, actions and scalars ``(...)``."""
    q_arrays, out_dtype = _floats(name, ("q_tm1", q_tm1), *q_named)
    q_tm1 = q_arrays[0]
    if q_tm1.ndim < 1:
        raise ValueError(f"{name}: q_tm1 must have an action axis (..., A); got a scalar")
    (r_t, discount_t), rd_dtype = _floats(name, ("r_t", r_t), ("discount_t", discount_t))
    if r_t.shape != q_tm1.shape[:-1]:
        raise ValueError(
            f"{name}: r_t has shape {tuple(r_t.shape)}; for q_tm1 of shape {tuple(q_tm1.shape)} it must be "
            f"{tuple(q_tm1.shape[:-1])}"
        )
    out_dtype = jnp.promote_types(out_dtype, rd_dtype)
    cdt = V.compute_dtype(out_dtype)
    a_tm1 = _actions(name, "a_tm1", a_tm1, q_tm1)
    return (
        q_tm1.astype(cdt),
        a_tm1,
        r_t.astype(cdt),
        discount_t.astype(cdt),
        [q.astype(cdt) for q in q_arrays[1:]],
        out_dtype,
    )


def _q_td_error(stop_target_gradients: bool, target_tm1, q_tm1, a_tm1, out_dtype) -> jax.Array:
    """``target_tm1 - q_tm1[a_tm1]``, the target ``stop_gradient``-ed when asked."""
    target_tm1 = _maybe_stop(stop_target_gradients, target_tm1)
    return (target_tm1 - _take(q_tm1, a_tm1)).astype(out_dtype)


def _maybe_stop(flag: bool, x: jax.Array) -> jax.Array:
    return jax.lax.stop_gradient(x) if flag else x


def _check_flag(name: str, arg: str, value) -> None:
    V.check_option(name, arg, value, isinstance(value, (bool, np.bool_)), "a Python bool")


# ----------------------------------------------------------------------------------------------------------
# Examples for the registry (small float64 numpy inputs; sequences (T, B) with a trailing batch axis).


def _sequence_example(rng: np.random.Generator, extra: int = 0):
    shape = (5, 2)
    r = rng.standard_normal(shape)
    discount = rng.uniform(0.5, 1.0, shape)
    v = rng.standard_normal((shape[0] + extra, shape[1]))
    return r, discount, v


def _lambda_returns_example(rng):
    r, d, v = _sequence_example(rng)
    return (r, d, v), {"lambda_": 0.8}


def _td_lambda_example(rng):
    r, d, v = _sequence_example(rng)
    return (rng.standard_normal(r.shape), r, d, v, 0.7), {}


def _n_step_example(rng):
    r, d, v = _sequence_example(rng)
    return (r, d, v, 3), {"lambda_t": 0.9}


def _gae_example(rng):
    r, d, v = _sequence_example(rng, extra=1)
    return (r, d, 0.95, v), {}


def _vtrace_example(rng):
    r, d, v = _sequence_example(rng)
    v_tm1 = rng.standard_normal(r.shape)
    rho = np.exp(rng.standard_normal(r.shape) * 0.5)
    # the full derivative (stop_target_gradients=False), so finite differences can check it
    return (v_tm1, v, r, d, rho), {
        "lambda_": 0.9,
        "clip_rho_threshold": 1.2,
        "stop_target_gradients": False,
    }


def _q_example(rng, extra=0):
    b, a = 4, 3
    args = [
        rng.standard_normal((b, a)),
        rng.integers(0, a, b),
        rng.standard_normal(b),
        rng.uniform(0.5, 1, b),
    ]
    args += [rng.standard_normal((b, a)) for _ in range(1 + extra)]
    return args


def _q_learning_example(rng):
    return tuple(_q_example(rng)), {}


def _double_q_example(rng):
    return tuple(_q_example(rng, extra=1)), {}


def _expected_sarsa_example(rng):
    args = _q_example(rng)
    args.append(rng.dirichlet(np.ones(3), 4))
    return tuple(args), {}


def _pg_example(rng):
    t, a = 6, 4
    return (
        rng.standard_normal((t, a)),
        rng.integers(0, a, t),
        rng.standard_normal(t),
        rng.uniform(0, 1, t),
    ), {}


def _entropy_example(rng):
    return (rng.standard_normal((6, 4)), rng.uniform(0, 1, 6)), {}


def _ppo_example(rng):
    # ratios on both sides of the clip range [0.8, 1.2], none within 1e-3 of its ends
    ratios = np.array([0.5, 0.9, 1.05, 1.3, 1.6, 0.7])
    return (ratios + 1e-2 * rng.uniform(-1, 1, 6), rng.standard_normal(6)), {"epsilon": 0.2}


def _value_clip_example(rng):
    old = rng.standard_normal(6)
    delta = np.array([-0.5, -0.1, 0.05, 0.12, 0.4, -0.3])
    return (old + delta + 1e-2 * rng.uniform(-1, 1, 6), old, rng.standard_normal(6)), {
        "epsilon": 0.2
    }


# ----------------------------------------------------------------------------------------------------------
# Multistep returns.


@jax.jit
def _lambda_returns(r_t, discount_t, v_t, lambda_):
    """rlax's backward scan ``G_t = r_t + g_t ((1 - l_t) v_t + l_t G_{t+1})`` from ``G_T = v_T``."""

    def body(acc, xs):
        returns, discounts, values, lam = xs
        acc = returns + discounts * ((1 - lam) * values + lam * acc)
        return acc, acc

    _, returns = jax.lax.scan(body, v_t[-1], (r_t, discount_t, v_t, lambda_), reverse=True)
    return returns


@register(
    family="rl",
    reference=f"rlax.lambda_returns ({_RLAX})",
    example=_lambda_returns_example,
    diff=(0, 1, 2),
)
def lambda_returns(
    r_t, discount_t, v_t, lambda_=1.0, stop_target_gradients: bool = False
) -> jax.Array:
    """Truncated lambda-returns of a trajectory, computed backwards in time.

    .. math:: G_t = r_{t+1} + \\gamma_{t+1} \\big[(1 - \\lambda_{t+1}) v_{t+1} + \\lambda_{t+1} G_{t+1}\\big],
              \\qquad G_{T-1} \\text{ bootstraps from } v_T

    (``G_t`` uses ``r_t[t]``, ``discount_t[t]``, ``v_t[t]`` for step ``t + 1``, as rlax). With ``lambda_=1``
    the discounted return bootstrapped from the last value; with ``0`` the one-step targets.

    Source: Sutton & Barto, "Reinforcement Learning: An Introduction", ch. 12; rlax 0.1.9
    ``rlax.lambda_returns`` (same arguments).

    Args:
      r_t: ``(T, ...)`` rewards for steps ``1..T`` (time axis first; trailing batch axes allowed).
      discount_t: ``(T, ...)`` discounts for steps ``1..T``.
      v_t: ``(T, ...)`` state values for steps ``1..T``.
      lambda_: mixing parameter: a scalar or an array of ``r_t``'s shape.
      stop_target_gradients: apply ``stop_gradient`` to the returns (rlax's default ``False``).

    Returns:
      ``(T, ...)`` returns, dtype of the inputs.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import lambda_returns
      >>> lambda_returns(jnp.array([1.0, 0.0, 2.0]), jnp.array([0.9, 0.9, 0.0]), jnp.array([0.5, 1.0, 3.0]),
      ...                lambda_=0.5)
      Array([1.8325   , 1.3499999, 2.       ], dtype=float32)

    Reference: rlax.lambda_returns (rlax 0.1.9).
    """
    name = "lambda_returns"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    (r_t, discount_t, v_t), out_dtype = _sequence(
        name, ("r_t", r_t), ("discount_t", discount_t), ("v_t", v_t)
    )
    lam = _mixing(name, "lambda_", lambda_, discount_t)
    returns = _lambda_returns(r_t, discount_t, v_t, lam)
    return _maybe_stop(stop_target_gradients, returns).astype(out_dtype)


@register(family="rl", reference=f"rlax.td_lambda ({_RLAX})", example=_td_lambda_example)
def td_lambda(
    v_tm1, r_t, discount_t, v_t, lambda_, stop_target_gradients: bool = True
) -> jax.Array:
    """TD(lambda) errors: lambda-returns minus the predicted values.

    .. math:: \\delta_t = G^\\lambda_t - v_t

    with :math:`G^\\lambda` the :func:`lambda_returns` of ``(r_t, discount_t, v_t, lambda_)``.

    Source: Sutton & Barto, ch. 12; rlax 0.1.9 ``rlax.td_lambda`` (same arguments; the targets are
    ``stop_gradient``-ed by default, so gradients flow only to ``v_tm1``).

    Args:
      v_tm1: ``(T, ...)`` predicted values for steps ``0..T-1``.
      r_t: ``(T, ...)`` rewards for steps ``1..T``.
      discount_t: ``(T, ...)`` discounts for steps ``1..T``.
      v_t: ``(T, ...)`` values for steps ``1..T`` (bootstrap).
      lambda_: mixing parameter: a scalar or an array of ``r_t``'s shape.
      stop_target_gradients: ``stop_gradient`` on the lambda-returns (rlax's default ``True``).

    Returns:
      ``(T, ...)`` TD(lambda) errors; square them (e.g. ``0.5 * err ** 2``) for a value loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import td_lambda
      >>> td_lambda(jnp.array([1.0, 1.0]), jnp.array([1.0, 0.0]), jnp.array([0.9, 0.0]),
      ...           jnp.array([2.0, 0.5]), 0.5)
      Array([ 0.9, -1. ], dtype=float32)

    Reference: rlax.td_lambda (rlax 0.1.9).
    """
    name = "td_lambda"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    (v_tm1, r_t, discount_t, v_t), out_dtype = _sequence(
        name, ("v_tm1", v_tm1), ("r_t", r_t), ("discount_t", discount_t), ("v_t", v_t)
    )
    lam = _mixing(name, "lambda_", lambda_, discount_t)
    target_tm1 = _maybe_stop(stop_target_gradients, _lambda_returns(r_t, discount_t, v_t, lam))
    return (target_tm1 - v_tm1).astype(out_dtype)


@functools.partial(jax.jit, static_argnums=(4,))
def _n_step(r_t, discount_t, v_t, lambda_t, n: int):
    seq_len = r_t.shape[0]
    rest = r_t.shape[1:]
    pad_size = min(n - 1, seq_len)
    last = v_t[-1:]
    # shift bootstrap values by n and pad the end with the last value, as rlax
    targets = jnp.concatenate([v_t[n - 1 :], jnp.repeat(last, pad_size, axis=0)])
    r_t = jnp.concatenate([r_t, jnp.zeros((n - 1, *rest), r_t.dtype)])
    discount_t = jnp.concatenate([discount_t, jnp.ones((n - 1, *rest), r_t.dtype)])
    lambda_t = jnp.concatenate([lambda_t, jnp.ones((n - 1, *rest), r_t.dtype)])
    v_t = jnp.concatenate([v_t, jnp.repeat(last, n - 1, axis=0)])
    for i in reversed(range(n)):
        r_ = r_t[i : i + seq_len]
        discount_ = discount_t[i : i + seq_len]
        lambda_ = lambda_t[i : i + seq_len]
        v_ = v_t[i : i + seq_len]
        targets = r_ + discount_ * ((1.0 - lambda_) * v_ + lambda_ * targets)
    return targets


@register(
    family="rl",
    reference=f"rlax.n_step_bootstrapped_returns ({_RLAX})",
    example=_n_step_example,
    diff=(0, 1, 2),
)
def n_step_bootstrapped_returns(
    r_t, discount_t, v_t, n: int, lambda_t=1.0, stop_target_gradients: bool = False
) -> jax.Array:
    """Strided n-step bootstrapped returns: ``n`` rewards, then the value ``n`` steps ahead.

    .. math:: G_t = r_{t+1} + \\gamma_{t+1} \\big(r_{t+2} + \\gamma_{t+2}
              (\\cdots (r_{t+n} + \\gamma_{t+n} v_{t+n}))\\big)

    for ``lambda_t = 1``; otherwise each step mixes in its value as
    ``G = r + \\gamma ((1 - \\lambda) v + \\lambda G')``. Near the end of the sequence the bootstrap is the
    last value (rlax pads rewards with 0 and discounts with 1).

    Source: Sutton & Barto, ch. 7; rlax 0.1.9 ``rlax.n_step_bootstrapped_returns`` (same arguments).

    Args:
      r_t: ``(T, ...)`` rewards for steps ``1..T``.
      discount_t: ``(T, ...)`` discounts for steps ``1..T``.
      v_t: ``(T, ...)`` values to bootstrap from for steps ``1..T``.
      n: number of steps (a Python int ``>= 1``).
      lambda_t: scalar or ``(T, ...)`` mixing parameters.
      stop_target_gradients: ``stop_gradient`` on the returns (rlax's default ``False``).

    Returns:
      ``(T, ...)`` returns for steps ``0..T-1``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import n_step_bootstrapped_returns
      >>> r, d, v = jnp.array([1.0, 1.0, 1.0]), jnp.array([0.5, 0.5, 0.5]), jnp.array([4.0, 4.0, 4.0])
      >>> n_step_bootstrapped_returns(r, d, v, 2)
      Array([2.5, 2.5, 3. ], dtype=float32)

    Reference: rlax.n_step_bootstrapped_returns (rlax 0.1.9).
    """
    name = "n_step_bootstrapped_returns"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    V.check_option(
        name,
        "n",
        n,
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1,
        "an int >= 1",
    )
    (r_t, discount_t, v_t), out_dtype = _sequence(
        name, ("r_t", r_t), ("discount_t", discount_t), ("v_t", v_t)
    )
    lam = _mixing(name, "lambda_t", lambda_t, discount_t)
    targets = _n_step(r_t, discount_t, v_t, lam, int(n))
    return _maybe_stop(stop_target_gradients, targets).astype(out_dtype)


@jax.jit
def _gae(r_t, discount_t, lambda_, values):
    delta_t = r_t + discount_t * values[1:] - values[:-1]

    def body(acc, xs):
        deltas, discounts, lam = xs
        acc = deltas + discounts * lam * acc
        return acc, acc

    _, advantage_t = jax.lax.scan(
        body, jnp.zeros_like(delta_t[0]), (delta_t, discount_t, lambda_), reverse=True
    )
    return advantage_t


@register(
    family="rl",
    reference=f"rlax.truncated_generalized_advantage_estimation ({_RLAX})",
    example=_gae_example,
    diff=(0, 1, 3),
)
def truncated_generalized_advantage_estimation(
    r_t, discount_t, lambda_, values, stop_target_gradients: bool = False
) -> jax.Array:
    """Generalized advantage estimates (GAE) over a truncated trajectory.

    .. math:: \\hat A_t = \\sum_{k \\ge 0} \\Big(\\prod_{j=1}^{k} \\gamma_{t+j} \\lambda_{t+j}\\Big)
              \\delta_{t+k}, \\qquad \\delta_t = r_{t+1} + \\gamma_{t+1} v_{t+1} - v_t

    computed backwards. Source: Schulman et al., "High-dimensional continuous control using generalized
    advantage estimation", ICLR 2016; rlax 0.1.9 ``rlax.truncated_generalized_advantage_estimation`` (same
    arguments; note ``values`` has one more step than the rewards).

    Args:
      r_t: ``(T, ...)`` rewards for steps ``1..T``.
      discount_t: ``(T, ...)`` discounts for steps ``1..T``.
      lambda_: mixing parameter: a scalar or an array of ``r_t``'s shape.
      values: ``(T + 1, ...)`` values for steps ``0..T``.
      stop_target_gradients: ``stop_gradient`` on the advantages (rlax's default ``False``).

    Returns:
      ``(T, ...)`` advantages for steps ``0..T-1``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import truncated_generalized_advantage_estimation as gae
      >>> gae(jnp.array([1.0, 1.0]), jnp.array([0.9, 0.9]), 0.5, jnp.array([0.0, 1.0, 2.0]))
      Array([2.71, 1.8 ], dtype=float32)

    Reference: rlax.truncated_generalized_advantage_estimation (rlax 0.1.9).
    """
    name = "truncated_generalized_advantage_estimation"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    (r_t, discount_t), out_dtype = _sequence(name, ("r_t", r_t), ("discount_t", discount_t))
    values = V.as_float(name, "values", values)
    want = (r_t.shape[0] + 1, *r_t.shape[1:])
    if values.shape != want:
        raise ValueError(
            f"{name}: values has shape {tuple(values.shape)}; for r_t of shape {tuple(r_t.shape)} it must be "
            f"{want} (one more step)"
        )
    out_dtype = jnp.promote_types(out_dtype, values.dtype)
    cdt = V.compute_dtype(out_dtype)
    r_t, discount_t, values = r_t.astype(cdt), discount_t.astype(cdt), values.astype(cdt)
    lam = _mixing(name, "lambda_", lambda_, discount_t)
    advantages = _gae(r_t, discount_t, lam, values)
    return _maybe_stop(stop_target_gradients, advantages).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# V-trace.


def _vtrace_inputs(name, v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_, sample_mask):
    (v_tm1, v_t, r_t, discount_t, rho_tm1), out_dtype = _sequence(
        name,
        ("v_tm1", v_tm1),
        ("v_t", v_t),
        ("r_t", r_t),
        ("discount_t", discount_t),
        ("rho_tm1", rho_tm1),
    )
    lam = _mixing(name, "lambda_", lambda_, discount_t)
    if sample_mask is None:
        mask = jnp.ones_like(rho_tm1)
    else:
        sample_mask = V.as_array(name, "sample_mask", sample_mask)
        if sample_mask.dtype != jnp.bool_:
            raise TypeError(
                f"{name}: sample_mask must be a boolean array; got dtype {sample_mask.dtype}"
            )
        V.check_same_shape(name, "sample_mask", sample_mask, "rho_tm1", rho_tm1)
        mask = sample_mask.astype(rho_tm1.dtype)
    return v_tm1, v_t, r_t, discount_t, rho_tm1, lam, mask, out_dtype


@functools.partial(jax.jit, static_argnums=(8,))
def _vtrace(
    v_tm1,
    v_t,
    r_t,
    discount_t,
    rho_tm1,
    lambda_,
    clip_rho_threshold,
    learnable,
    stop_target_gradients,
):
    c_tm1 = jnp.minimum(1.0, rho_tm1) * lambda_
    clipped_rhos_tm1 = jnp.minimum(clip_rho_threshold, rho_tm1)
    td_errors = clipped_rhos_tm1 * (r_t + discount_t * v_t - v_tm1)

    def body(acc, xs):
        td_error, discount, mask, c = xs
        acc = mask * (td_error + discount * c * acc) + (1.0 - mask) * acc
        return acc, acc

    _, errors = jax.lax.scan(
        body, jnp.zeros_like(td_errors[0]), (td_errors, discount_t, learnable, c_tm1), reverse=True
    )
    if stop_target_gradients:
        return jax.lax.stop_gradient(errors + v_tm1) - v_tm1
    return errors


def _check_threshold(name, arg, value):
    V.check_option(
        name, arg, value, isinstance(value, (int, float, np.floating, np.integer)), "a real number"
    )


@register(
    family="rl", reference=f"rlax.vtrace ({_RLAX})", example=_vtrace_example, diff=(0, 1, 2, 3)
)
def vtrace(
    v_tm1,
    v_t,
    r_t,
    discount_t,
    rho_tm1,
    lambda_=1.0,
    clip_rho_threshold: float = 1.0,
    stop_target_gradients: bool = True,
    sample_mask=None,
) -> jax.Array:
    """V-trace errors: multistep TD errors with clipped importance weights (IMPALA).

    .. math:: \\mathrm{err}_t = \\delta_t + \\gamma_{t+1} c_{t+1} \\mathrm{err}_{t+1},\\quad
              \\delta_t = \\min(\\bar\\rho, \\rho_t)(r_{t+1} + \\gamma_{t+1} v_{t+1} - v_t),\\quad
              c_t = \\lambda \\min(1, \\rho_t)

    with steps where ``sample_mask`` is ``False`` passing the accumulator through unchanged.

    Source: Espeholt et al., "IMPALA", ICML 2018 (arXiv:1802.01561); rlax 0.1.9 ``rlax.vtrace`` (same
    arguments). With ``stop_target_gradients`` the gradient of the errors w.r.t. ``v_tm1`` is ``-1`` and
    nothing flows into the targets.

    Args:
      v_tm1: ``(T, ...)`` values at steps ``0..T-1``.
      v_t: ``(T, ...)`` values at steps ``1..T``.
      r_t: ``(T, ...)`` rewards.
      discount_t: ``(T, ...)`` discounts.
      rho_tm1: ``(T, ...)`` importance ratios ``pi(a|s) / mu(a|s)`` at steps ``0..T-1``.
      lambda_: mixing parameter: a scalar or an array of ``r_t``'s shape.
      clip_rho_threshold: ``rho-bar``, the clip of the importance weights in the TD errors.
      stop_target_gradients: ``stop_gradient`` on the targets ``err + v_tm1`` (rlax's default ``True``).
      sample_mask: optional boolean ``(T, ...)``; ``False`` steps are not learned from.

    Returns:
      ``(T, ...)`` V-trace errors ``v_s - v_tm1``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import vtrace
      >>> vtrace(jnp.array([0.0, 0.5]), jnp.array([0.5, 1.0]), jnp.array([1.0, 1.0]), jnp.array([0.9, 0.9]),
      ...        jnp.array([2.0, 0.5]))
      Array([2.08      , 0.70000005], dtype=float32)

    Reference: rlax.vtrace (rlax 0.1.9).
    """
    name = "vtrace"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    _check_threshold(name, "clip_rho_threshold", clip_rho_threshold)
    v_tm1, v_t, r_t, discount_t, rho_tm1, lam, mask, out_dtype = _vtrace_inputs(
        name, v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_, sample_mask
    )
    errors = _vtrace(
        v_tm1,
        v_t,
        r_t,
        discount_t,
        rho_tm1,
        lam,
        clip_rho_threshold,
        mask,
        bool(stop_target_gradients),
    )
    return errors.astype(out_dtype)


@register(
    family="rl",
    reference=f"rlax.vtrace_td_error_and_advantage ({_RLAX})",
    example=_vtrace_example,
    diff=(0, 1, 2, 3),
)
def vtrace_td_error_and_advantage(
    v_tm1,
    v_t,
    r_t,
    discount_t,
    rho_tm1,
    lambda_=1.0,
    clip_rho_threshold: float = 1.0,
    clip_pg_rho_threshold: float = 1.0,
    stop_target_gradients: bool = True,
    sample_mask=None,
) -> VTraceOutput:
    """V-trace errors, the policy-gradient advantages and the Q estimates of IMPALA.

    With ``errors`` from :func:`vtrace` and targets ``v_s = errors + v_tm1``:

    .. math:: q_t = r_{t+1} + \\gamma_{t+1}\\big(\\lambda_{t+1} v_{s,t+1} + (1 - \\lambda_{t+1}) v_{t+1}\\big),
              \\quad A_t = \\min(\\bar\\rho_{pg}, \\rho_t)(q_t - v_t)

    (the last step bootstraps from ``v_t[-1]``).

    Source: Espeholt et al., "IMPALA", ICML 2018; rlax 0.1.9 ``rlax.vtrace_td_error_and_advantage`` (same
    arguments and output fields).

    Args:
      v_tm1: ``(T, ...)`` values at steps ``0..T-1``.
      v_t: ``(T, ...)`` values at steps ``1..T``.
      r_t: ``(T, ...)`` rewards.
      discount_t: ``(T, ...)`` discounts.
      rho_tm1: ``(T, ...)`` importance ratios at steps ``0..T-1``.
      lambda_: mixing parameter: a scalar or an array of ``r_t``'s shape.
      clip_rho_threshold: clip of the importance weights in the TD errors.
      clip_pg_rho_threshold: clip of the importance weights in the advantages.
      stop_target_gradients: ``stop_gradient`` on the V-trace targets (rlax's default ``True``).
      sample_mask: optional boolean ``(T, ...)``; ``False`` steps are not learned from.

    Returns:
      ``VTraceOutput(errors, pg_advantage, q_estimate)``, a named tuple of ``(T, ...)`` arrays.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import vtrace_td_error_and_advantage
      >>> out = vtrace_td_error_and_advantage(jnp.array([0.0, 0.5]), jnp.array([0.5, 1.0]),
      ...     jnp.array([1.0, 1.0]), jnp.array([0.9, 0.9]), jnp.array([2.0, 0.5]))
      >>> out.pg_advantage
      Array([2.08, 0.7 ], dtype=float32)

    Reference: rlax.vtrace_td_error_and_advantage (rlax 0.1.9).
    """
    name = "vtrace_td_error_and_advantage"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    _check_threshold(name, "clip_rho_threshold", clip_rho_threshold)
    _check_threshold(name, "clip_pg_rho_threshold", clip_pg_rho_threshold)
    v_tm1, v_t, r_t, discount_t, rho_tm1, lam, mask, out_dtype = _vtrace_inputs(
        name, v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_, sample_mask
    )
    errors = _vtrace(
        v_tm1,
        v_t,
        r_t,
        discount_t,
        rho_tm1,
        lam,
        clip_rho_threshold,
        mask,
        bool(stop_target_gradients),
    )
    targets_tm1 = errors + v_tm1
    q_bootstrap = jnp.concatenate(
        [lam[:-1] * targets_tm1[1:] + (1 - lam[:-1]) * v_tm1[1:], v_t[-1:]], axis=0
    )
    q_estimate = r_t + discount_t * q_bootstrap
    clipped_pg_rho_tm1 = jnp.minimum(clip_pg_rho_threshold, rho_tm1)
    pg_advantages = clipped_pg_rho_tm1 * (q_estimate - v_tm1)
    return VTraceOutput(
        errors=errors.astype(out_dtype),
        pg_advantage=pg_advantages.astype(out_dtype),
        q_estimate=q_estimate.astype(out_dtype),
    )


# ----------------------------------------------------------------------------------------------------------
# One-step action-value TD errors.

_Q_ARGS = """q_tm1: ``(..., A)`` action values at time ``t-1``.
      a_tm1: ``(...)`` integer actions taken at ``t-1`` (in ``[0, A)``; checked when called eagerly).
      r_t: ``(...)`` rewards at time ``t``.
      discount_t: ``(...)`` discounts at time ``t``."""


@register(family="rl", reference=f"rlax.q_learning ({_RLAX})", example=_q_learning_example)
def q_learning(q_tm1, a_tm1, r_t, discount_t, q_t, stop_target_gradients: bool = True) -> jax.Array:
    """Q-learning temporal-difference error.

    .. math:: \\delta = r_t + \\gamma_t \\max_a q_t(a) - q_{t-1}(a_{t-1})

    Source: Watkins & Dayan, "Q-learning", 1992; rlax 0.1.9 ``rlax.q_learning`` (same arguments; the target
    is ``stop_gradient``-ed by default).

    Args:
      {q_args}
      q_t: ``(..., A)`` action values at time ``t``.
      stop_target_gradients: ``stop_gradient`` on the target (rlax's default ``True``).

    Returns:
      ``(...)`` TD errors (a scalar for a single transition, as rlax).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import q_learning
      >>> q_learning(jnp.array([1.0, 2.0]), jnp.array(0), jnp.array(1.0), jnp.array(0.5), jnp.array([3.0, 4.0]))
      Array(2., dtype=float32)

    Reference: rlax.q_learning (rlax 0.1.9).
    """
    name = "q_learning"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    q_tm1, a_tm1, r_t, discount_t, (q_t,), out_dtype = _per_transition(
        name, q_tm1, a_tm1, r_t, discount_t, ("q_t", q_t)
    )
    target_tm1 = r_t + discount_t * jnp.max(q_t, axis=-1)
    return _q_td_error(stop_target_gradients, target_tm1, q_tm1, a_tm1, out_dtype)


@register(family="rl", reference=f"rlax.double_q_learning ({_RLAX})", example=_double_q_example)
def double_q_learning(
    q_tm1, a_tm1, r_t, discount_t, q_t_value, q_t_selector, stop_target_gradients: bool = True
) -> jax.Array:
    """Double Q-learning temporal-difference error: one network selects, the other evaluates.

    .. math:: \\delta = r_t + \\gamma_t\\, q^{value}_t\\big(\\arg\\max_a q^{selector}_t(a)\\big)
              - q_{t-1}(a_{t-1})

    Ties in the selector go to the first maximal action (``argmax``). Source: van Hasselt, "Double
    Q-learning", NeurIPS 2010; rlax 0.1.9 ``rlax.double_q_learning`` (same arguments).

    Args:
      {q_args}
      q_t_value: ``(..., A)`` action values at time ``t`` used for the target's value.
      q_t_selector: ``(..., A)`` action values at time ``t`` used to select the action (no gradient).
      stop_target_gradients: ``stop_gradient`` on the target (rlax's default ``True``).

    Returns:
      ``(...)`` TD errors.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import double_q_learning
      >>> double_q_learning(jnp.array([1.0, 2.0]), jnp.array(1), jnp.array(1.0), jnp.array(0.5),
      ...                   jnp.array([3.0, 4.0]), jnp.array([1.0, 0.0]))
      Array(0.5, dtype=float32)

    Reference: rlax.double_q_learning (rlax 0.1.9).
    """
    name = "double_q_learning"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    q_tm1, a_tm1, r_t, discount_t, (q_t_value, q_t_selector), out_dtype = _per_transition(
        name,
        q_tm1,
        a_tm1,
        r_t,
        discount_t,
        ("q_t_value", q_t_value),
        ("q_t_selector", q_t_selector),
    )
    best = jnp.argmax(q_t_selector, axis=-1)
    target_tm1 = r_t + discount_t * _take(q_t_value, best)
    return _q_td_error(stop_target_gradients, target_tm1, q_tm1, a_tm1, out_dtype)


@register(family="rl", reference=f"rlax.expected_sarsa ({_RLAX})", example=_expected_sarsa_example)
def expected_sarsa(
    q_tm1, a_tm1, r_t, discount_t, q_t, probs_a_t, stop_target_gradients: bool = True
) -> jax.Array:
    """Expected SARSA temporal-difference error: the target averages ``q_t`` under the policy.

    .. math:: \\delta = r_t + \\gamma_t \\sum_a \\pi_t(a) q_t(a) - q_{t-1}(a_{t-1})

    Source: van Seijen et al., "A theoretical and empirical analysis of Expected Sarsa", ADPRL 2009;
    rlax 0.1.9 ``rlax.expected_sarsa`` (same arguments).

    Args:
      {q_args}
      q_t: ``(..., A)`` action values at time ``t``.
      probs_a_t: ``(..., A)`` action probabilities at time ``t``.
      stop_target_gradients: ``stop_gradient`` on the target (rlax's default ``True``).

    Returns:
      ``(...)`` TD errors.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import expected_sarsa
      >>> expected_sarsa(jnp.array([1.0, 2.0]), jnp.array(0), jnp.array(1.0), jnp.array(0.5),
      ...                jnp.array([3.0, 4.0]), jnp.array([0.5, 0.5]))
      Array(1.75, dtype=float32)

    Reference: rlax.expected_sarsa (rlax 0.1.9).
    """
    name = "expected_sarsa"
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    q_tm1, a_tm1, r_t, discount_t, (q_t, probs_a_t), out_dtype = _per_transition(
        name, q_tm1, a_tm1, r_t, discount_t, ("q_t", q_t), ("probs_a_t", probs_a_t)
    )
    target_tm1 = r_t + discount_t * jnp.sum(q_t * probs_a_t, axis=-1)
    return _q_td_error(stop_target_gradients, target_tm1, q_tm1, a_tm1, out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Policy losses.


def _reduced(values: jax.Array, reduction: str, out_dtype) -> jax.Array:
    return R.reduce(values, reduction).astype(out_dtype)


@register(family="rl", reference=f"rlax.policy_gradient_loss ({_RLAX})", example=_pg_example)
def policy_gradient_loss(
    logits_t, a_t, adv_t, w_t, use_stop_gradient: bool = True, *, reduction: str = "mean"
) -> jax.Array:
    """REINFORCE-style policy-gradient loss: minus the log-probability of the actions times the advantages.

    .. math:: \\ell_t = -w_t\\, A_t \\log \\mathrm{softmax}(z_t)_{a_t}

    Source: Williams, "Simple statistical gradient-following algorithms for connectionist RL", 1992;
    rlax 0.1.9 ``rlax.policy_gradient_loss`` (same arguments; its result is ``reduction='mean'``, which
    jaxloss adds).

    Args:
      logits_t: ``(T, A)`` (or ``(..., A)``) action logits.
      a_t: ``(T,)`` integer actions (in ``[0, A)``; checked when called eagerly).
      adv_t: ``(T,)`` advantages (``stop_gradient``-ed when ``use_stop_gradient``).
      w_t: ``(T,)`` per-step weights.
      use_stop_gradient: ``stop_gradient`` on ``adv_t`` (rlax's default ``True``).
      reduction: ``'mean'`` (rlax's result, default), ``'sum'`` or ``'none'`` (``(T,)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import policy_gradient_loss
      >>> round(float(policy_gradient_loss(jnp.zeros((2, 2)), jnp.array([0, 1]), jnp.array([1.0, 2.0]),
      ...                                  jnp.ones(2))), 4)
      1.0397

    Reference: rlax.policy_gradient_loss (rlax 0.1.9).
    """
    name = "policy_gradient_loss"
    R.validate_reduction(name, reduction)
    _check_flag(name, "use_stop_gradient", use_stop_gradient)
    (logits_t,), out_dtype = _floats(name, ("logits_t", logits_t))
    if logits_t.ndim < 1:
        raise ValueError(f"{name}: logits_t must be (T, A); got a scalar")
    (adv_t, w_t), aw_dtype = _floats(name, ("adv_t", adv_t), ("w_t", w_t))
    if adv_t.shape != logits_t.shape[:-1]:
        raise ValueError(
            f"{name}: adv_t has shape {tuple(adv_t.shape)}; for logits_t of shape {tuple(logits_t.shape)} "
            f"it must be {tuple(logits_t.shape[:-1])}"
        )
    a_t = _actions(name, "a_t", a_t, logits_t)
    out_dtype = jnp.promote_types(out_dtype, aw_dtype)
    cdt = V.compute_dtype(out_dtype)
    log_pi_a_t = _take(jax.nn.log_softmax(logits_t.astype(cdt), axis=-1), a_t)
    adv_t = _maybe_stop(use_stop_gradient, adv_t.astype(cdt))
    return _reduced(-log_pi_a_t * adv_t * w_t.astype(cdt), reduction, out_dtype)


@register(
    family="rl", reference=f"rlax.entropy_loss ({_RLAX})", example=_entropy_example, diff=(0, 1)
)
def entropy_loss(logits_t, w_t, *, reduction: str = "mean") -> jax.Array:
    """Entropy regularisation loss: minus the weighted entropy of the softmax policy.

    .. math:: \\ell_t = -w_t H(\\mathrm{softmax}(z_t)) = w_t \\sum_a p_a \\log p_a

    Terms with ``p_a = 0`` contribute 0 with a zero gradient (distrax's ``mul_exp``), so logits of
    ``-inf`` are allowed. Source: Williams & Peng, "Function optimization using connectionist RL
    algorithms", 1991; rlax 0.1.9 ``rlax.entropy_loss`` (its result is ``reduction='mean'``).

    Args:
      logits_t: ``(T, A)`` (or ``(..., A)``) action logits.
      w_t: ``(T,)`` per-step weights.
      reduction: ``'mean'`` (rlax's result, default), ``'sum'`` or ``'none'`` (``(T,)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import entropy_loss
      >>> round(float(entropy_loss(jnp.zeros((1, 4)), jnp.ones(1))), 4)  # -log 4
      -1.3863

    Reference: rlax.entropy_loss (rlax 0.1.9).
    """
    name = "entropy_loss"
    R.validate_reduction(name, reduction)
    (logits_t,), out_dtype = _floats(name, ("logits_t", logits_t))
    if logits_t.ndim < 1:
        raise ValueError(f"{name}: logits_t must be (T, A); got a scalar")
    (w_t,), w_dtype = _floats(name, ("w_t", w_t))
    if w_t.shape != logits_t.shape[:-1]:
        raise ValueError(
            f"{name}: w_t has shape {tuple(w_t.shape)}; for logits_t of shape {tuple(logits_t.shape)} "
            f"it must be {tuple(logits_t.shape[:-1])}"
        )
    out_dtype = jnp.promote_types(out_dtype, w_dtype)
    cdt = V.compute_dtype(out_dtype)
    log_probs = jax.nn.log_softmax(logits_t.astype(cdt), axis=-1)
    probs = jnp.exp(log_probs)
    # p log p with 0 (and zero gradient) where p == 0, even if log p = -inf (distrax mul_exp)
    entropy = -jnp.sum(jnp.where(probs == 0, 0.0, log_probs) * probs, axis=-1)
    return _reduced(-entropy * w_t.astype(cdt), reduction, out_dtype)


@register(family="rl", reference=f"rlax.clipped_surrogate_pg_loss ({_RLAX})", example=_ppo_example)
def clipped_surrogate_pg_loss(
    prob_ratios_t, adv_t, epsilon, use_stop_gradient: bool = True, *, reduction: str = "mean"
) -> jax.Array:
    """PPO's clipped surrogate policy loss.

    .. math:: \\ell_t = -\\min\\big(r_t A_t,\\ \\mathrm{clip}(r_t, 1 - \\epsilon, 1 + \\epsilon) A_t\\big),
              \\quad r_t = \\pi_\\theta(a_t|s_t) / \\pi_{old}(a_t|s_t)

    The minimum ignores a ``nan`` operand (``fmin``), as rlax. Source: Schulman et al., "Proximal Policy
    Optimization Algorithms", 2017 (arXiv:1707.06347); rlax 0.1.9 ``rlax.clipped_surrogate_pg_loss`` (same
    arguments; its result is ``reduction='mean'``).

    Args:
      prob_ratios_t: ``(T,)`` (or any shape) probability ratios ``r_t``.
      adv_t: advantages, same shape (``stop_gradient``-ed when ``use_stop_gradient``).
      epsilon: clip range ``epsilon`` (a scalar).
      use_stop_gradient: ``stop_gradient`` on ``adv_t`` (rlax's default ``True``).
      reduction: ``'mean'`` (rlax's result, default), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import clipped_surrogate_pg_loss
      >>> clipped_surrogate_pg_loss(jnp.array([0.5, 1.5]), jnp.array([1.0, 1.0]), 0.2, reduction="none")
      Array([-0.5, -1.2], dtype=float32)

    Reference: rlax.clipped_surrogate_pg_loss (rlax 0.1.9).
    """
    name = "clipped_surrogate_pg_loss"
    R.validate_reduction(name, reduction)
    _check_flag(name, "use_stop_gradient", use_stop_gradient)
    (prob_ratios_t, adv_t), out_dtype = _floats(
        name, ("prob_ratios_t", prob_ratios_t), ("adv_t", adv_t)
    )
    adv_t = _maybe_stop(use_stop_gradient, adv_t)
    clipped_ratios_t = jnp.clip(prob_ratios_t, 1.0 - epsilon, 1.0 + epsilon)
    clipped_objective = jnp.fmin(prob_ratios_t * adv_t, clipped_ratios_t * adv_t)
    return _reduced(-clipped_objective, reduction, out_dtype)


@register(
    family="rl",
    reference="PPO value clipping, OpenAI baselines ppo2 / CleanRL ppo (0.5 max of the squared errors)",
    example=_value_clip_example,
)
def clipped_value_loss(
    values,
    old_values,
    returns,
    epsilon,
    stop_target_gradients: bool = True,
    *,
    reduction: str = "mean",
) -> jax.Array:
    """PPO's clipped value loss: the new value may move at most ``epsilon`` from the old one.

    .. math:: \\ell_t = \\tfrac12 \\max\\big((v_t - R_t)^2,\\
              (v^{old}_t + \\mathrm{clip}(v_t - v^{old}_t, -\\epsilon, \\epsilon) - R_t)^2\\big)

    rlax has no value clipping; this is the formula of OpenAI baselines' ``ppo2`` (``vf_loss = 0.5 *
    mean(max(vf_losses1, vf_losses2))``) and CleanRL's ``ppo.py`` with ``clip_vloss=True``.

    Source: Schulman et al., "Proximal Policy Optimization Algorithms", 2017; Dhariwal et al., OpenAI
    Baselines (2017), ``ppo2/model.py``.

    Args:
      values: ``(T,)`` (or any shape) predicted values ``v_t``.
      old_values: the values predicted when the data were collected, same shape (usually constants;
        gradients flow to them unless they are ``stop_gradient``-ed).
      returns: the return targets ``R_t``, same shape.
      epsilon: clip range (a scalar).
      stop_target_gradients: ``stop_gradient`` on ``returns`` (default ``True``).
      reduction: ``'mean'`` (default, baselines' value), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.rl import clipped_value_loss
      >>> clipped_value_loss(jnp.array([1.5]), jnp.array([1.0]), jnp.array([2.0]), 0.2, reduction="none")
      Array([0.32], dtype=float32)

    Reference: PPO value clipping, OpenAI baselines ppo2 / CleanRL ppo (0.5 max of the squared errors).
    """
    name = "clipped_value_loss"
    R.validate_reduction(name, reduction)
    _check_flag(name, "stop_target_gradients", stop_target_gradients)
    (values, old_values, returns), out_dtype = _floats(
        name, ("values", values), ("old_values", old_values), ("returns", returns)
    )
    returns = _maybe_stop(stop_target_gradients, returns)
    clipped = old_values + jnp.clip(values - old_values, -epsilon, epsilon)
    losses = 0.5 * jnp.maximum(jnp.square(values - returns), jnp.square(clipped - returns))
    return _reduced(losses, reduction, out_dtype)


fill_docs(
    (q_learning, double_q_learning, expected_sarsa),
    q_args=_Q_ARGS,
)
