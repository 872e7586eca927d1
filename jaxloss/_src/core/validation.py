"""Argument checking shared by every loss: trace-time shape/dtype/option errors and run-time data checks.

Messages always name the loss and the argument, what was expected and what came, e.g.
``mse_loss: target has shape (3, 4); it must broadcast to input's shape (3, 5)``.

Data checks (a class index out of range, a negative variance, ...) can only look at values:

* on real values (eager calls, and eager ``jax.grad``/``jax.jvp``, whose primal values are real) they raise
  ``ValueError`` at once, as torch does (it checks under autograd too);
* inside :func:`jaxloss.checked` they become ``checkify`` checks, reported under ``jit``;
* otherwise (plain ``jit``/``vmap`` tracing, where values are abstract) they are skipped: the loss computes
  on, and the docs of each loss say what comes out (usually ``nan`` or a clamped value). A check never
  judges a stand-in value, so it cannot misfire under a transform.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

_CHECKIFY_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "jaxloss_checkify_active", default=False
)

HALF_DTYPES = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def is_concrete(*arrays: Any) -> bool:
    """True when none of ``arrays`` is a tracer, so their values can be read in Python."""
    return not any(isinstance(a, jax.core.Tracer) for a in arrays)


try:  # jax >= 0.4.36: the concrete value behind a tracer, where there is one
    from jax._src.core import to_concrete_value as _to_concrete_value
except ImportError:  # older jax: only non-tracers are concrete

    def _to_concrete_value(x: Any) -> Any:
        return None if isinstance(x, jax.core.Tracer) else x


def concrete_values(*arrays: Any) -> list[Any] | None:
    """The real values of ``arrays``, or ``None`` when any of them has none at trace time.

    Plain arrays are concrete; so are the tracers of eager ``jax.grad``/``jax.jvp``/``jax.linearize``
    (their primal is a real array). ``jit``, ``vmap`` and ``checkify`` tracers are abstract: ``None``.
    """
    values = []
    for a in arrays:
        v = a if not isinstance(a, jax.core.Tracer) else _to_concrete_value(a)
        if v is None:
            return None
        values.append(v)
    return values


def _holds(predicate: Callable[..., Any], values: list[Any]) -> bool:
    # compile-time evaluation: concrete values closed over by a jit trace would otherwise be staged out
    with jax.ensure_compile_time_eval():
        return bool(np.all(np.asarray(predicate(*values))))


def data_check(loss: str, predicate: Callable[..., Any], message: str, *arrays: Any) -> None:
    """Check a condition on array values: raise on real values, ``checkify`` under :func:`checked`, else skip.

    ``predicate(*arrays)`` must return a boolean array that is true where the data are valid; it is
    evaluated with ``jax.numpy`` so it works on tracers and concrete arrays alike. Real values are those of
    eager calls and of eager ``jax.grad``/``jax.jvp`` (the primal, as torch checks under autograd); under
    ``jit`` and ``vmap`` the values are abstract, so the check stays silent there unless
    :func:`checked` is active: it never judges a stand-in value.
    """
    values = concrete_values(*arrays)
    if values is None:
        if _CHECKIFY_ACTIVE.get():
            checkify.check(jnp.all(predicate(*arrays)), f"{loss}: {message}")
        return
    if not _holds(predicate, values):
        raise ValueError(f"{loss}: {message}")


def checked_only(loss: str, predicate: Callable[..., Any], message: str, *arrays: Any) -> None:
    """A check for data the reference accepts but that is almost surely a bug (a CTC target equal to the
    blank, a target longer than its input): reported only inside :func:`checked`, never raised eagerly,
    so eager calls keep giving the reference's numbers."""
    if _CHECKIFY_ACTIVE.get():
        values = concrete_values(*arrays)
        if values is not None:
            checkify.check(_holds(predicate, values), f"{loss}: {message}")
        else:
            checkify.check(jnp.all(predicate(*arrays)), f"{loss}: {message}")


@contextlib.contextmanager
def _checks_enabled():
    token = _CHECKIFY_ACTIVE.set(True)
    try:
        yield
    finally:
        _CHECKIFY_ACTIVE.reset(token)


def checked(fn: Callable[..., Any]) -> Callable[..., tuple[checkify.Error, Any]]:
    """Wrap a loss so its data checks are reported under ``jit``, via :mod:`jax.experimental.checkify`.

    Returns a function that gives ``(error, value)``; ``error.throw()`` raises the first failed check
    (``error.get()`` returns its message or ``None``). Pass the plain loss (not an already ``jit``-ed one):
    the checks are inserted while the loss is traced. The result can be jitted::

        >>> import jax, jax.numpy as jnp, jaxloss
        >>> f = jax.jit(jaxloss.checked(jaxloss.losses.nll_loss))
        >>> err, value = f(jnp.zeros((2, 3)), jnp.array([0, 5]))
        >>> print(err.get().splitlines()[0])
        nll_loss: target values must be in [0, 3) or equal ignore_index=-100 ...
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with _checks_enabled():
            return fn(*args, **kwargs)

    return checkify.checkify(run, errors=checkify.user_checks)


def as_array(loss: str, name: str, x: Any) -> jax.Array:
    """``jnp.asarray`` with an error that names the loss and the argument for non-array input."""
    if x is None:
        raise TypeError(f"{loss}: {name} must be an array; got None")
    try:
        return jnp.asarray(x)
    except TypeError as err:
        raise TypeError(f"{loss}: {name} must be an array; got {type(x).__name__}") from err


def as_float(loss: str, name: str, x: Any) -> jax.Array:
    """Convert to an array and require a floating (or complex-free) dtype, as torch does for inputs."""
    arr = as_array(loss, name, x)
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        raise TypeError(f"{loss}: {name} must have a floating dtype; got {arr.dtype}")
    return arr


def as_float_group(loss: str, *named: tuple[str, Any]) -> list[jax.Array]:
    """Convert several arrays of which at least one is floating; integers are promoted, as torch does.

    torch accepts ``mse_loss(int_tensor, float_tensor)`` (type promotion) but refuses two integer tensors;
    so does this: the error names every argument.
    """
    arrays = [as_array(loss, name, x) for name, x in named]
    for (name, _), arr in zip(named, arrays):
        if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)):
            raise TypeError(
                f"{loss}: {name} must have a floating or integer dtype; got {arr.dtype}"
            )
    if not any(jnp.issubdtype(a.dtype, jnp.floating) for a in arrays):
        got = ", ".join(f"{name} {arr.dtype}" for (name, _), arr in zip(named, arrays))
        raise TypeError(
            f"{loss}: {' or '.join(n for n, _ in named)} must have a floating dtype; got {got}"
        )
    dtype = jnp.result_type(*[a.dtype for a in arrays])
    return [a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(dtype) for a in arrays]


def as_int(loss: str, name: str, x: Any) -> jax.Array:
    """Convert to an array and require an integer dtype (class indices, lengths)."""
    arr = as_array(loss, name, x)
    if not jnp.issubdtype(arr.dtype, jnp.integer):
        raise TypeError(f"{loss}: {name} must have an integer dtype; got {arr.dtype}")
    return arr


def result_dtype(*arrays: jax.Array) -> jnp.dtype:
    """The floating dtype of the result (type promotion of the inputs, floats only)."""
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return jnp.dtype(dtype)


def compute_dtype(dtype: jnp.dtype) -> jnp.dtype:
    """Half precision computes and accumulates in float32; other floats in themselves."""
    return jnp.dtype(jnp.float32) if jnp.dtype(dtype) in HALF_DTYPES else jnp.dtype(dtype)


def check_same_shape(loss: str, name: str, x: jax.Array, ref_name: str, ref: jax.Array) -> None:
    """``x`` must have exactly ``ref``'s shape."""
    if x.shape != ref.shape:
        raise ValueError(
            f"{loss}: {name} has shape {tuple(x.shape)}; it must have the same shape as {ref_name} "
            f"{tuple(ref.shape)}"
        )


def broadcast_pair(
    loss: str, a_name: str, a: jax.Array, b_name: str, b: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """torch-style broadcasting of two inputs with an error naming both arguments."""
    try:
        shape = jnp.broadcast_shapes(a.shape, b.shape)
    except ValueError as err:
        raise ValueError(
            f"{loss}: {a_name} of shape {tuple(a.shape)} and {b_name} of shape {tuple(b.shape)} "
            "do not broadcast"
        ) from err
    return jnp.broadcast_to(a, shape), jnp.broadcast_to(b, shape)


def check_option(loss: str, name: str, value: Any, ok: Any, expected: str) -> None:
    """Raise ``ValueError`` for a bad option value (``p=3``, ``margin<=0``...); ``ok`` is any truth value."""
    if not ok:
        raise ValueError(f"{loss}: {name} must be {expected}; got {value!r}")


def check_real(loss: str, name: str, value: Any) -> None:
    """A Python or NumPy real number (not a bool) for a trace-time option (``ValueError`` otherwise)."""
    real = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    check_option(loss, name, value, real, "a real number")


def check_ndim(loss: str, name: str, x: jax.Array, allowed: tuple[int, ...]) -> None:
    """``x.ndim`` must be one of ``allowed``."""
    if x.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{loss}: {name} must be {want}; got {x.ndim}-D with shape {tuple(x.shape)}"
        )


def hyper(loss: str, name: str, value: Any, *, positive: bool = False, nonnegative: bool = False):
    """A hyper-parameter: a Python number (checked) or a 0-d array (may be traced, e.g. a learned scale)."""
    if isinstance(value, bool):
        raise TypeError(f"{loss}: {name} must be a number; got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            check_option(loss, name, value, False, "finite")
        if positive:
            check_option(loss, name, value, value > 0, "> 0")
        if nonnegative:
            check_option(loss, name, value, value >= 0, ">= 0")
        return value
    arr = as_array(loss, name, value)
    if arr.ndim != 0:
        raise ValueError(f"{loss}: {name} must be a scalar; got shape {tuple(arr.shape)}")
    return arr
