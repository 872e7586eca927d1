"""The one-pass custom-AD machinery shared by the elementwise kernels of several families.

:func:`_one_pass_kernel` wraps an elementwise kernel so that its value and its derivative each compile to one
pass over the inputs (see its docstring for why); :func:`_jvp_tangent`, :func:`_same_kind` and
:func:`_signed_sum` are the small pieces its users need. Used by the regression, binary and divergence families.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from jaxloss._src.core.compat import optimization_barrier


def _one_pass_kernel(value_fn, tangent_fn=None):
    """An elementwise kernel whose value and derivative each compile to one pass over the inputs.

    ``value_fn(*args)`` is the kernel (arrays of one shape and dtype, hyper-parameters passed as 0-d
    arrays); ``tangent_fn(args, tangents)`` returns the output tangent, a tangent being ``None`` for an
    argument that is not differentiated. Without ``tangent_fn`` the tangent is ``jax.jvp`` of
    ``value_fn`` over the differentiated arguments (so derivatives are bitwise those of plain
    autodiff).

    Performance (forward + backward under ``jit``): the derivative is computed from the arguments
    after an ``optimization_barrier``, so XLA cannot merge (CSE) the value's subexpressions with the
    derivative's ones. Shared, they are materialised in memory and read back by both the reduction
    and the gradient (CPU reductions are a separate kernel that fuses only arithmetic, no select);
    kept apart, the reduction reads the inputs once and the gradient is one elementwise pass
    (read inputs, write gradient). Forward mode, ``vmap`` and higher derivatives are unaffected.
    """
    kernel = jax.custom_jvp(value_fn)

    def jvp(primals, tangents):
        live = [None if isinstance(t, SymbolicZero) else t for t in tangents]
        fresh = optimization_barrier(tuple(primals))
        tangent = (tangent_fn or _jvp_tangent(value_fn))(fresh, live)
        return kernel(*primals), tangent

    kernel.defjvp(jvp, symbolic_zeros=True)
    return kernel


def _jvp_tangent(fn):
    """A ``tangent_fn`` for :func:`_one_pass_kernel`: ``jax.jvp`` of ``fn`` over the live arguments."""

    def tangent(args, tangents):
        idx = [i for i, t in enumerate(tangents) if t is not None]

        def of_live(*values):
            full = list(args)
            for i, v in zip(idx, values):
                full[i] = v
            return fn(*full)

        return jax.jvp(of_live, [args[i] for i in idx], [tangents[i] for i in idx])[1]

    return tangent


def _same_kind(*arrays) -> bool:
    """Whether the arrays share one shape and one floating dtype (the fast kernels' precondition)."""
    first = arrays[0]
    return jnp.issubdtype(first.dtype, jnp.floating) and all(
        a.shape == first.shape and a.dtype == first.dtype for a in arrays[1:]
    )


def _signed_sum(parts):
    """``sum(c * t for c, t in parts if t is not None)``; ``parts`` has at least one live tangent."""
    out = None
    for coef, t in parts:
        if t is not None:
            term = coef * t
            out = term if out is None else out + term
    return out
