"""torch's ``linear_cross_entropy``: cross entropy of a linear layer's output, materialised or chunked.

Shape letters as in :mod:`jaxloss._src.families.classification.cross_entropy`: ``N`` rows, ``H`` features, ``V`` (or ``C``) classes.
The materialised path forms the ``(N, V)`` logits and calls the cross-entropy kernel of
:mod:`jaxloss._src.families.classification.cross_entropy`; with :class:`LinearCrossEntropyOptions` the chunked engine below never
forms them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.compat import optimization_barrier
from jaxloss._src.core.registry import register
from jaxloss._src.families.classification import linear_cross_entropy_pallas as P
from jaxloss._src.families.classification.cross_entropy import (
    _check_indices,
    _check_smoothing,
    _cross_entropy,
    _shape,
)

__all__ = [
    "LinearCrossEntropyOptions",
    "linear_cross_entropy",
]


# --------------------------------------------------------------------------------------------------------------
# linear_cross_entropy: options
# --------------------------------------------------------------------------------------------------------------

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")
_KERNELS = ("auto", "xla", "pallas")
_ACC_DTYPES = tuple(jnp.dtype(d) for d in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64))

# Rows per batch chunk under chunking_method='auto'. The (classes, rows) float32 logits block is at most
# _AUTO_BLOCK_BYTES and _AUTO_ROWS rows, and at most 3/32 of the rows (so that the temporaries stay under 1/16
# of the materialised path's two (N, V) arrays) unless that would leave fewer than _AUTO_MIN_ROWS rows. The
# rows are a multiple of 64 (XLA:CPU's products ran 20-40 % slower per row at 120 or 456-496 rows than at 128
# or 384-512), and among those 'auto' takes the fewest row-equivalents of work,
# ceil(N / rows) * (rows + _BLOCK_COST_ROWS): rows that do not divide N are computed twice in the last,
# overlapping block (_row_loop), and every block pays for reading linear_weight and updating its gradient,
# about 60 rows' worth at H=512, V=32768 (more at larger V, where the cap decides). Measurements are in
# docs/performance.md: 384 rows at N=4096, V=32768 (57 MB, 1/19 of 1,074 MB), 128 at V=131072.
_AUTO_ROWS = 512
_AUTO_BLOCK_BYTES = 64 * 2**20
_AUTO_MIN_ROWS = 256
_BLOCK_COST_ROWS = 64
# The gradient of a row block is formed and applied in class slices of about this many bytes (_grad_sweep).
_SLICE_BYTES = 2**20


@dataclasses.dataclass(frozen=True, slots=True)
class LinearCrossEntropyOptions:
    """How :func:`linear_cross_entropy` chunks its work; passing any instance selects the chunked path.

    The chunked path never forms the ``(N, V)`` logits or their gradient: it walks over blocks of
    ``batch_chunk_size`` rows (and, optionally, ``vocab_chunk_size`` classes), keeping one
    ``(rows, classes)`` block alive at a time. For ``'mean'``/``'sum'`` the gradients are computed in the same
    sweep as the loss (three matrix products in all, as many as the materialised version); ``'none'``
    recomputes each block in the backward pass (four). Unlike torch's chunked path it also handles label
    smoothing, probability targets and K-dimensional weights, and it supports ``jax.grad``, ``jax.vmap``,
    ``jax.jvp`` and Hessian-vector products (see :func:`linear_cross_entropy`).

    Fields with torch 2.13's names keep torch's meaning where it applies to JAX:

    Attributes:
      allow_retain_graph: accepted for compatibility; no effect (JAX keeps no autograd graph).
      batch_chunk_size: rows per block; ``None`` lets ``chunking_method`` decide (one block when that is
        ``None`` too). Setting both to different sizes is a ``ValueError``, as in torch.
      chunking_method: ``'auto'`` (jaxloss: a multiple of 64 rows, at most 512, a float32 logits block of at
        most 64 MiB, and at most 3/32 of the rows unless that is under 256; at least 8; see ``_batch_chunk``),
        ``'aspect_ratio'`` or ``'aspect_ratio:k'`` (torch's rule: a logits block the size of ``input``,
        divided by ``k``), or ``None`` (use ``batch_chunk_size``).
      acc_policy: ``'auto'`` | ``'accurate'`` | ``'balanced'`` | ``'compact'``; accepted for compatibility.
        jaxloss always accumulates in ``acc_dtype`` (XLA picks the buffers), which is torch's
        ``'accurate'`` numerics.
      acc_dtype: accumulation dtype; ``None`` means float32 for float16/bfloat16 inputs, else the input dtype.
        Must be a floating dtype at least as wide as the input.
      vocab_chunk_size: jaxloss extension: classes per block inside each row block. ``None`` (default) takes
        all classes at once (fastest; block memory ``rows * V``). A smaller value bounds block memory by
        ``rows * vocab_chunk_size`` with an online log-sum-exp, at the cost of recomputing each block once
        more (four matrix products for ``'mean'``/``'sum'``).
      vocab_axis_name: jaxloss extension, vocab parallelism: the name of a ``shard_map`` mesh axis over
        which ``linear_weight`` (and ``linear_bias`` and ``weight``, if given) are split by class into
        equal contiguous blocks, in axis-index order. Call :func:`linear_cross_entropy` inside that
        ``shard_map`` with the local blocks; ``input`` and ``target`` (global class indices, or the full
        ``(N, V)`` probabilities) are the same on every device. The log-sum-exp pieces are combined with
        ``pmax``/``psum``, and the result (replicated) equals the single-device loss; gradients of the
        local blocks are the local slices of the full gradients.
      kernel: jaxloss extension: ``'xla'`` (the XLA engine above), ``'pallas'`` (a fused Pallas kernel for
        class-index targets with a 2-D ``linear_weight``, float32/bfloat16, no ``vocab_axis_name``, not
        class ``weight`` together with ``label_smoothing``; reverse mode only; interpret mode on CPU; a
        ``ValueError`` for calls it does not serve) or ``'auto'`` (default: the Pallas kernel on the
        backends it has been measured on, none yet, else the XLA engine).
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: Any = None
    vocab_chunk_size: int | None = None
    vocab_axis_name: Any = None
    kernel: Literal["auto", "xla", "pallas"] = "auto"

    def __post_init__(self):
        name = "LinearCrossEntropyOptions"
        V.check_option(
            name,
            "acc_policy",
            self.acc_policy,
            self.acc_policy in _ACC_POLICIES,
            "one of " + ", ".join(repr(p) for p in _ACC_POLICIES),
        )
        V.check_option(
            name,
            "kernel",
            self.kernel,
            self.kernel in _KERNELS,
            "one of " + ", ".join(repr(k) for k in _KERNELS),
        )
        method = self.chunking_method
        if method is not None and method != "auto":
            base, sep, factor = str(method).partition(":")
            ok = base == "aspect_ratio" and (not sep or (factor.isdigit() and int(factor) > 0))
            V.check_option(
                name,
                "chunking_method",
                method,
                ok,
                "'auto', 'aspect_ratio', 'aspect_ratio:k' (k >= 1) or None",
            )
        for field in ("batch_chunk_size", "vocab_chunk_size"):
            value = getattr(self, field)
            ok = value is None or (
                isinstance(value, int) and not isinstance(value, bool) and value > 0
            )
            V.check_option(name, field, value, ok, "a positive int or None")
        if self.acc_dtype is not None:
            try:
                ok = jnp.dtype(self.acc_dtype) in _ACC_DTYPES
            except TypeError:
                ok = False
            V.check_option(
                name,
                "acc_dtype",
                self.acc_dtype,
                ok,
                "None or one of float16, bfloat16, float32, float64",
            )

    def _batch_chunk(self, num_rows: int, in_features: int, num_classes: int) -> int:
        """Rows per block for this call (torch's ``_adjust`` rules, with jaxloss's ``'auto'``)."""
        method = self.chunking_method
        if method == "auto":
            if self.batch_chunk_size is not None:
                return max(1, min(self.batch_chunk_size, num_rows))
            cap = min(_AUTO_ROWS, _AUTO_BLOCK_BYTES // (4 * max(num_classes, 1)))
            cap = max(8, min(cap, max(_AUTO_MIN_ROWS, 3 * num_rows // 32)))
            if num_rows <= cap:
                return max(1, num_rows)
            align = 64 if cap >= 64 else 8
            return min(
                range(align, cap // align * align + 1, align),
                key=lambda r: (-(-num_rows // r) * (r + _BLOCK_COST_ROWS), -r),
            )
        if method is None:
            size = (
                num_rows if self.batch_chunk_size is None else min(self.batch_chunk_size, num_rows)
            )
            return max(1, size)
        _, _, factor_text = method.partition(":")
        factor = int(factor_text) if factor_text else 1
        ratio = -(-num_classes // in_features)
        target = -(-num_rows // ratio)
        size = max(1, min((1 << max(target - 1, 0).bit_length()) // factor, num_rows))
        if self.batch_chunk_size is not None and self.batch_chunk_size != size:
            raise ValueError(
                f"LinearCrossEntropyOptions: batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                f"({method!r}) give different chunk sizes ({self.batch_chunk_size} vs {size}); pass only one"
            )
        return size

    def _acc_dtype(self, dtype) -> jnp.dtype:
        if self.acc_dtype is None:
            return V.compute_dtype(dtype)
        acc = jnp.dtype(self.acc_dtype)
        if jnp.finfo(acc).bits < jnp.finfo(dtype).bits:
            raise ValueError(
                f"linear_cross_entropy: options.acc_dtype {acc} is narrower than the input dtype {jnp.dtype(dtype)}"
            )
        return acc


# --------------------------------------------------------------------------------------------------------------
# linear_cross_entropy: the chunked engine
#
# Every row n of the problem has logits l_n = W x_n + b over the local classes and a loss of the form
#   class indices:  a_n (lse_n - l_{n,t_n}) + beta_n (S lse_n - <w, l_n>)       (smoothing over weights w)
#   probabilities:  k_n lse_n - <r_n, l_n>,  r_n = c_n w y'_n,  k_n = sum(r_n)
# whose gradient with respect to l_n is G_n = k_n softmax(l_n) - r_n (k_n = a_n + beta_n S for indices).
# The coefficients (a, beta, c, k; they hold class weights, ignore masks and the 'mean' normaliser) are computed
# by the face; k and S = sum(w) are functions of the others, and the JVP rules differentiate them through r.
# The engine walks over row blocks (and optionally class blocks), so at most one block of logits is alive at
# a time.
#
# Blocks are held classes-first, (classes, rows) = W_j x_i^T (G likewise): the linear_weight gradient of a
# class slice, G[slice] x_i, reads a contiguous slice of G and is a plain (classes, rows) x (rows, H) product.
# In the (rows, classes) layout each class slice of G is a strided copy and the product needs a transposed
# operand; on XLA:CPU (N=4096, H=512, V=32768) that layout was about 1.2-1.6x slower than the materialised
# gradient, this one about as fast (docs/performance.md).
# --------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Plan:
    rows: int  # rows per block
    cols: int  # classes per block (== local classes: no class blocking)
    probs: bool  # probability targets (else class indices)
    smoothing: float  # label smoothing (probability targets build y' block by block)
    num_classes: int  # global number of classes
    acc: Any  # accumulation dtype
    axis: Any  # shard_map axis name for vocab parallelism, or None


def _loop(total: int, size: int, body, carry):
    """Run ``body(carry, start, size)`` over ``[0, total)`` in blocks; ``start`` is static for a single block."""
    full, tail = divmod(total, size)
    if full == 1 and tail == 0:
        return body(carry, 0, size)
    if full:
        carry = lax.fori_loop(0, full, lambda i, c: body(c, i * size, size), carry)
    if tail:
        carry = body(carry, full * size, tail)
    return carry


def _row_loop(total: int, size: int, body, carry):
    """Run ``body(carry, start, size, fresh)`` over row blocks of exactly ``size`` rows.

    When ``size`` does not divide ``total`` the last block starts at ``total - size`` and overlaps its
    predecessor; ``fresh`` is then a ``(size,)`` mask of the rows not yet handled (``None`` for every block
    when ``size`` divides ``total``), and the body must leave the other rows' results unchanged
    (``_put_rows``) and keep them out of sums (``_aux_rows``). One loop body instead of a loop plus a
    separately compiled tail block: XLA gives the two bodies separate block-sized buffers.
    """
    full, tail = divmod(total, size)
    if tail == 0:
        return _loop(total, size, lambda c, i0, s: body(c, i0, s, None), carry)

    def step(i, c):
        start = jnp.minimum(i * size, total - size)
        return body(c, start, size, jnp.arange(size) >= i * size - start)

    return lax.fori_loop(0, full + 1, step, carry)


def _put_rows(buf, value, start, fresh):
    """``_put`` of a row block that keeps ``buf``'s rows where ``fresh`` (see ``_row_loop``) is false."""
    if fresh is None:
        return _put(buf, value, start)
    old = _slice(buf, start, value.shape[0])
    return _put(buf, jnp.where(fresh.reshape((-1,) + (1,) * (value.ndim - 1)), value, old), start)


def _slice(a, start, size: int, axis: int = 0):
    if a is None:
        return None
    if isinstance(start, int) and start == 0 and size == a.shape[axis]:
        return a
    return lax.dynamic_slice_in_dim(a, start, size, axis=axis)


def _put(buf, value, start, axis: int = 0):
    if isinstance(start, int) and start == 0 and value.shape == buf.shape:
        return value
    return lax.dynamic_update_slice_in_dim(buf, value, start, axis=axis)


def _mm(a, b, contract, acc):
    """``a`` times ``b`` contracting the given axes, accumulated (and returned) in ``acc``."""
    dtype = jnp.promote_types(a.dtype, b.dtype)
    return lax.dot_general(
        a.astype(dtype),
        b.astype(dtype),
        ((contract[0], contract[1]), ((), ())),
        preferred_element_type=acc,
    ).astype(acc)


def _tie(W, b, x_c):
    """Return ``W`` and ``b`` tied to the row block ``x_c`` by an optimisation barrier (free at run time).

    When JAX partially evaluates a loop (``jax.grad``, ``jax.linearize``) it hoists the parts of inner loops
    that depend only on loop constants, stacking them per iteration: the class blocks of ``W`` would be
    copied into a ``W``-sized buffer. Tying ``W`` to the row block makes those parts depend on the row.
    """
    W, b, _ = optimization_barrier((W, b, x_c))
    return W, b


def _varying_axes(*trees) -> frozenset:
    """The ``shard_map`` axes along which any leaf of ``trees`` varies (empty outside ``shard_map``)."""
    axes: set = set()
    for leaf in jax.tree_util.tree_leaves(trees):
        mat = getattr(jax.typeof(leaf), "manual_axis_type", None)
        if mat is not None:
            axes |= set(mat.varying)
    return frozenset(axes)


def _zeros(shape, dtype, axes: frozenset, fill=0):
    """A loop-carry initial value typed as varying along ``axes`` (``shard_map`` requires carry types to
    match the body's output types)."""
    z = jnp.full(shape, fill, dtype)
    return lax.pcast(z, tuple(sorted(axes)), to="varying") if axes else z


def _vocab_offset(plan: _Plan, local_classes: int):
    if plan.axis is None:
        return 0
    return lax.axis_index(plan.axis) * local_classes


def _aux_rows(plan: _Plan, aux, i0, size: int, fresh=None):
    """The row block's coefficients; with a ``fresh`` mask (``_row_loop``) the other rows' coefficients are
    zero, so those rows add nothing to gradients summed over rows."""

    def rows(v):
        v = _slice(v, i0, size)
        return v if fresh is None else jnp.where(fresh, v, jnp.zeros((), v.dtype))

    if plan.probs:
        y, c, k, w = aux
        return (_slice(y, i0, size), rows(c), rows(k), w)
    t, a, beta, w, total = aux
    return (_slice(t, i0, size), rows(a), rows(beta), w, total)


def _block_logits(plan: _Plan, x_c, W, b, j0, size: int):
    """The ``(size, rows)`` logits block ``W[j0:j0+size] x_c^T + b`` (classes first: see above)."""
    l = _mm(_slice(W, j0, size), x_c, ((1,), (1,)), plan.acc)
    if b is not None:
        l = l + _slice(b, j0, size).astype(plan.acc)[:, None]
    return l


def _block_target(plan: _Plan, aux_c, j0, g0, size: int, rows: int):
    """``r`` of the block (``(size, rows)``) for classes ``[j0, j0 + size)`` (global ``g0``)."""
    if plan.probs:
        y_b, cw = _prob_coef_block(plan, aux_c, j0, g0, size)
        return cw * y_b
    t_c, a_c, beta_c, w, _ = aux_c
    # a product, not jnp.where(hit, a, 0): the zeros of a select are a loop-invariant broadcast that XLA hoists
    # into a block-sized buffer
    r = _hit(t_c, g0, size).astype(plan.acc) * a_c[None, :]
    if plan.smoothing == 0.0:
        return r
    w_b = jnp.ones((size,), plan.acc) if w is None else _slice(w, j0, size).astype(plan.acc)
    return r + w_b[:, None] * beta_c[None, :]


def _hit(t_c, g0, size: int):
    """``(size, rows)`` mask of each row's target class. Built from a 1-D iota: a ``(size, rows)`` iota is
    loop-invariant, and XLA would hoist it out of the row loop into a block-sized loop-carried buffer."""
    return jnp.arange(size, dtype=t_c.dtype)[:, None] == (t_c - g0)[None, :]


def _nparts(plan: _Plan) -> int:
    """Per-row dot-products: ``<r, l>`` (probabilities), ``l_t`` and ``<w, l>`` (indices; the second only with
    label smoothing, which is the only user of it)."""
    return 1 if plan.probs or plan.smoothing == 0.0 else 2


def _block_parts(plan: _Plan, l, aux_c, j0, g0, size: int):
    """Per-row target dot-products of one block: ``(l_t, <w, l>)`` for indices, ``(<r, l>,)`` for probs."""
    rows = l.shape[1]
    if plan.probs:
        return (jnp.sum(_block_target(plan, aux_c, j0, g0, size, rows) * l, axis=0),)
    t_c, _, _, w, _ = aux_c
    # the target's logit by a gather (rows reads), not a masked pass over the block; zero outside the block
    col = t_c - g0
    inside = (col >= 0) & (col < size)
    l_t = jnp.where(
        inside, jnp.take_along_axis(l, jnp.clip(col, 0, size - 1)[None, :], axis=0)[0], 0
    )
    if plan.smoothing == 0.0:
        return (l_t,)
    w_l = jnp.sum(l, axis=0) if w is None else _mm(_slice(w, j0, size), l, ((0,), (0,)), plan.acc)
    return (l_t, w_l)


def _online_lse(m, s, l):
    """One step of the online log-sum-exp over class blocks (``m`` carries no gradient: it cancels)."""
    m_new = jnp.maximum(m, lax.stop_gradient(jnp.max(l, axis=0)))
    s = s * jnp.exp(m - m_new) + jnp.sum(jnp.exp(l - m_new[None, :]), axis=0)
    return m_new, s


def _combine(plan: _Plan, m, s, parts):
    """Local (max, sum, dot-products) -> global log-sum-exp and dot-products (collectives when sharded)."""
    if plan.axis is not None:
        m_all = lax.stop_gradient(lax.pmax(lax.stop_gradient(m), plan.axis))
        s = lax.psum(s * jnp.exp(m - m_all), plan.axis)
        parts = tuple(lax.psum(p, plan.axis) for p in parts)
        m = m_all
    return m + jnp.log(s), parts


def _block_stats(plan: _Plan, x_c, W, b, aux_c, off):
    """Log-sum-exp and target dot-products of a row block, walking over class blocks."""
    rows = x_c.shape[0]
    nparts = _nparts(plan)
    if plan.cols < W.shape[0]:
        W, b = _tie(W, b, x_c)

    def col(carry, j0, size):
        m, s, parts = carry
        l = _block_logits(plan, x_c, W, b, j0, size)
        m, s = _online_lse(m, s, l)
        new = _block_parts(plan, l, aux_c, j0, off + j0, size)
        return m, s, tuple(p + q for p, q in zip(parts, new))

    axes = _varying_axes(x_c, W, b, aux_c)
    zeros = _zeros((rows,), plan.acc, axes)
    init = (_zeros((rows,), plan.acc, axes, -jnp.inf), zeros, (zeros,) * nparts)
    m, s, parts = _loop(W.shape[0], plan.cols, col, init)
    return _combine(plan, m, s, parts)


def _row_coef(plan: _Plan, aux_c):
    """``k`` per row: the softmax coefficient of ``G``."""
    if plan.probs:
        return aux_c[2]
    _, a_c, beta_c, _, total = aux_c
    return a_c if plan.smoothing == 0.0 else a_c + beta_c * total


def _block_grad_logits(plan: _Plan, l, lse_c, aux_c, j0, g0, size: int):
    """``G = k softmax(l) - r`` for one block, given the row log-sum-exp."""
    p = jnp.exp(l - lse_c[None, :])
    return _row_coef(plan, aux_c)[None, :] * p - _block_target(
        plan, aux_c, j0, g0, size, l.shape[1]
    )


def _losses_from_stats(plan: _Plan, lse, parts, aux):
    if plan.probs:
        return aux[2] * lse - parts[0]
    _, a, beta, _, total = aux
    if plan.smoothing == 0.0:
        return a * (lse - parts[0])
    return a * (lse - parts[0]) + beta * (total * lse - parts[1])


def _row_axes(plan: _Plan, *trees) -> frozenset:
    """Axes along which per-row results vary: the inputs' axes except the vocab axis (reduced over)."""
    return _varying_axes(*trees) - {plan.axis}


def _forward_stats(plan: _Plan, x, W, b, aux):
    """Per-row log-sum-exp and target dot-products (one matrix product per block)."""
    n = x.shape[0]
    off = _vocab_offset(plan, W.shape[0])
    nparts = _nparts(plan)

    def row(carry, i0, size, fresh):
        lse_buf, parts_buf = carry
        lse, parts = _block_stats(
            plan, _slice(x, i0, size), W, b, _aux_rows(plan, aux, i0, size), off
        )
        return _put_rows(lse_buf, lse, i0, fresh), tuple(
            _put_rows(pb, p, i0, fresh) for pb, p in zip(parts_buf, parts)
        )

    zeros = _zeros((n,), plan.acc, _row_axes(plan, x, W, b, aux))
    return _row_loop(n, plan.rows, row, (zeros, (zeros,) * nparts))


def _prob_coef_block(plan: _Plan, aux_c, j0, g0, size: int):
    """For probability targets, the block's ``y'`` and ``c w`` with ``r = (c w) * y'`` (``(size, rows)`` and
    ``(size, rows)``-broadcastable)."""
    y_c, c_c, _, w = aux_c
    y_b = _slice(y_c, g0, size, axis=1).astype(plan.acc).T
    if plan.smoothing > 0.0:
        y_b = y_b * (1.0 - plan.smoothing) + plan.smoothing / plan.num_classes
    cw = c_c[None, :]
    if w is not None:
        cw = _slice(w, j0, size).astype(plan.acc)[:, None] * cw
    return y_b, cw


def _grad_sweep(
    plan: _Plan,
    x,
    W,
    b,
    aux,
    need_x: bool,
    need_w: bool,
    need_b: bool,
    need_y: bool = False,
    need_cw: bool = False,
):
    """Per-row statistics and the gradients of ``sum(losses)`` with respect to ``x``, ``W`` and ``b`` and, for
    probability targets, to the target ``y`` (this device's columns) and the class weights.

    Without class blocking each row block's logits are formed once and reused for its gradient: three
    matrix products in all (logits, ``G W``, ``G^T x``), as the materialised computation.

    With ``r = c w y'`` (``y' = (1 - e) y + e / C``) and ``k = sum(r)`` the loss of row ``n`` is
    ``sum_j r_nj (lse_n - l_nj)``, so ``d/dy_nj = c_n (1 - e) w_j (lse_n - l_nj)`` and
    ``d/dw_j = sum_n c_n y'_nj (lse_n - l_nj)``: one more elementwise pass over the block when requested.
    """
    n, h = x.shape
    vl = W.shape[0]
    off = _vocab_offset(plan, vl)
    nparts = _nparts(plan)
    acc = plan.acc
    local_axes = _varying_axes(x, W, b, aux)

    # The gradient is formed and applied in class slices of about _SLICE_BYTES (G's (slice, rows) and gW's
    # (slice, H) pieces): a full-size G^T x product per row block would be a (classes, H) temporary as large
    # as linear_weight itself, and a whole-block G a second logits-sized buffer.
    sub = max(16, _SLICE_BYTES // (max(h, plan.rows) * jnp.dtype(acc).itemsize))
    sub = min(vl, sub)

    def accumulate(G, x_c, W_c, j0, size, gx_c, gW, gb):
        if need_x:
            gx_c = gx_c + _mm(G, W_c, ((0,), (0,)), acc)
        if need_w:

            def update(gW, k0, ksize):
                part = _mm(_slice(G, k0, ksize), x_c, ((1,), (0,)), acc)
                start = j0 + k0
                return _put(gW, _slice(gW, start, ksize) + part, start)

            gW = _loop(size, min(sub, size), update, gW)
        if need_b:
            gb = _put(gb, _slice(gb, j0, size) + jnp.sum(G, axis=1), j0)
        return gx_c, gW, gb

    def accumulate_target(l, lse_c, aux_c, i0, j0, size, gy, gcw, fresh):
        y_b, cw = _prob_coef_block(plan, aux_c, j0, off + j0, size)
        E = lse_c[None, :] - l  # -log_softmax of the block: d loss_n / d r_nj
        if need_y:
            gy_b = ((1.0 - plan.smoothing) * jnp.broadcast_to(cw, E.shape) * E).T
            if fresh is not None:
                gy_b = jnp.where(fresh[:, None], gy_b, lax.dynamic_slice(gy, (i0, j0), gy_b.shape))
            gy = lax.dynamic_update_slice(gy, gy_b, (i0, j0)) if (gy.shape != gy_b.shape) else gy_b
        if need_cw:
            gcw = _put(
                gcw, _slice(gcw, j0, size) + jnp.sum(aux_c[1][None, :] * y_b * E, axis=1), j0
            )
        return gy, gcw

    def row(carry, i0, size, fresh):
        lse_buf, parts_buf, gx, gW, gb, gy, gcw = carry
        x_c = _slice(x, i0, size)
        aux_c = _aux_rows(plan, aux, i0, size, fresh)
        gx_c = _zeros((size, h), acc, local_axes) if need_x else None
        W_t, b_t = _tie(W, b, x_c)
        if plan.cols >= vl:
            # one class block: its logits are formed once (three matrix products in all), and the gradient
            # walks over class slices of them, so G is formed slice by slice and never as a whole block
            l_all = _block_logits(plan, x_c, W, b, 0, vl)
            m, s = _online_lse(jnp.full((size,), -jnp.inf, acc), jnp.zeros((size,), acc), l_all)
            lse, parts = _combine(plan, m, s, _block_parts(plan, l_all, aux_c, 0, off, vl))
            step = min(sub, vl)

            def logits(j0, csize):
                return _slice(l_all, j0, csize)
        else:
            lse, parts = _block_stats(plan, x_c, W, b, aux_c, off)
            step = plan.cols

            def logits(j0, csize):
                return _block_logits(plan, x_c, W_t, b_t, j0, csize)

        def col(c, j0, csize):
            l = logits(j0, csize)
            G = _block_grad_logits(plan, l, lse, aux_c, j0, off + j0, csize)
            gx_c, gW, gb, gy, gcw = c
            gx_c, gW, gb = accumulate(G, x_c, _slice(W_t, j0, csize), j0, csize, gx_c, gW, gb)
            if need_y or need_cw:
                gy, gcw = accumulate_target(l, lse, aux_c, i0, j0, csize, gy, gcw, fresh)
            return gx_c, gW, gb, gy, gcw

        gx_c, gW, gb, gy, gcw = _loop(vl, step, col, (gx_c, gW, gb, gy, gcw))
        if need_x:
            gx = _put_rows(gx, gx_c, i0, fresh)
        lse_buf = _put_rows(lse_buf, lse, i0, fresh)
        parts_buf = tuple(_put_rows(pb, p, i0, fresh) for pb, p in zip(parts_buf, parts))
        return lse_buf, parts_buf, gx, gW, gb, gy, gcw

    zeros = _zeros((n,), acc, _row_axes(plan, x, W, b, aux))
    init = (
        zeros,
        (zeros,) * nparts,
        _zeros((n, h), acc, local_axes) if need_x else None,
        _zeros((vl, h), acc, local_axes) if need_w else None,
        _zeros((vl,), acc, local_axes) if need_b else None,
        _zeros((n, vl), acc, local_axes) if need_y else None,
        _zeros((vl,), acc, local_axes) if need_cw else None,
    )
    lse, parts, gx, gW, gb, gy, gcw = _row_loop(n, plan.rows, row, init)
    if need_x and plan.axis is not None:
        gx = lax.psum(gx, plan.axis)
    return lse, parts, gx, gW, gb, gy, gcw


def _tangent_sweep(plan: _Plan, x, W, b, aux, lse, dx, dW, db, dy=None, dcw=None):
    """Per-row ``<G_n, dl_n>`` with ``dl = dx W^T + x dW^T + db``, recomputing each block; for probability
    targets plus ``<dr_n, lse_n - l_n>`` with ``dr = c ((1 - e) w dy + dw y')`` (the target's and the class
    weights' tangents).

    Each block is a ``jax.checkpoint``: differentiating (transposing) this linear map recomputes the block
    instead of storing it, so reverse mode keeps one block alive at a time.
    """
    n = x.shape[0]
    vl = W.shape[0]
    off = _vocab_offset(plan, vl)
    acc = plan.acc

    def row(out, i0, size, fresh):
        @jax.checkpoint
        def block(x_c, dx_c, aux_c, lse_c, W, b, dW, db, dy_c, dcw):
            if plan.cols < vl:
                W, b = _tie(W, b, x_c)

            def col(total, j0, csize):
                l = _block_logits(plan, x_c, W, b, j0, csize)
                G = _block_grad_logits(plan, l, lse_c, aux_c, j0, off + j0, csize)
                dl = jnp.zeros((csize, size), acc)
                if dx_c is not None:
                    dl = dl + _mm(_slice(W, j0, csize), dx_c, ((1,), (1,)), acc)
                if dW is not None:
                    dl = dl + _mm(_slice(dW, j0, csize), x_c, ((1,), (1,)), acc)
                if db is not None:
                    dl = dl + _slice(db, j0, csize).astype(acc)[:, None]
                out = G * dl
                if dy_c is not None or dcw is not None:
                    y_b, cw = _prob_coef_block(plan, aux_c, j0, off + j0, csize)
                    dr = jnp.zeros((csize, size), acc)
                    if dy_c is not None:
                        dy_b = _slice(dy_c, off + j0, csize, axis=1).astype(acc).T
                        dr = dr + (1.0 - plan.smoothing) * cw * dy_b
                    if dcw is not None:
                        dr = (
                            dr
                            + _slice(dcw, j0, csize).astype(acc)[:, None] * aux_c[1][None, :] * y_b
                        )
                    out = out + dr * (lse_c[None, :] - l)
                return total + jnp.sum(out, axis=0)

            axes = _varying_axes(x_c, dx_c, aux_c, lse_c, W, b, dW, db, dy_c, dcw)
            total = _loop(vl, plan.cols, col, _zeros((size,), acc, axes))
            return lax.psum(total, plan.axis) if plan.axis is not None else total

        value = block(
            _slice(x, i0, size),
            _slice(dx, i0, size),
            _aux_rows(plan, aux, i0, size),
            _slice(lse, i0, size),
            W,
            b,
            dW,
            db,
            _slice(dy, i0, size),
            dcw,
        )
        return _put_rows(out, value, i0, fresh)

    axes = _row_axes(plan, x, W, b, aux, lse, dx, dW, db, dy, dcw)
    return _row_loop(n, plan.rows, row, _zeros((n,), acc, axes))


def _tangent(t):
    """``None`` for a symbolic-zero tangent, else the tangent."""
    return None if t is None or isinstance(t, jax.custom_derivatives.SymbolicZero) else t


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _chunked_sum(plan: _Plan, x, W, b, aux):
    """``sum_n loss_n`` of the chunked problem (its JVP uses gradients computed in one sweep)."""
    lse, parts = _forward_stats(plan, x, W, b, aux)
    return jnp.sum(_losses_from_stats(plan, lse, parts, aux))


def _aux_tangents(plan: _Plan, aux, daux):
    """The tangents of the differentiable coefficients: ``(dy, dw)`` for probability targets (the target and
    the class weights), ``(da, dbeta, dw)`` for class indices; ``None`` where zero. ``k`` and ``S`` are
    functions of these (``k = sum_j r_j``, ``S = sum_j w_j``) whose tangents the rules derive themselves."""
    w = aux[3]
    dw = _tangent(daux[3]) if w is not None else None
    if plan.probs:
        return _tangent(daux[0]), dw
    da, dbeta = _tangent(daux[1]), _tangent(daux[2])
    if plan.smoothing == 0.0:
        dbeta = None  # beta is identically zero
        dw = None  # the weights enter through a (the face differentiates a = w[t] * norm)
    return da, dbeta, dw


def _index_aux_tangent(plan: _Plan, x, W, b, aux, lse, parts, da, dbeta, dw):
    """Per-row tangent of the class-index loss ``a (lse - l_t) + beta (S lse - <w, l>)`` through ``a``,
    ``beta`` and the smoothing term's class weights ``w`` (``S = sum(w)``), in closed form from the row
    statistics: ``<dw, l_n> = x_n . (W^T dw) + <b, dw>`` needs no pass over the logits."""
    _, _a, beta, _, total = aux
    out = jnp.zeros(lse.shape, plan.acc)
    if da is not None:
        out = out + da.astype(plan.acc) * (lse - parts[0])
    if dbeta is not None:
        out = out + dbeta.astype(plan.acc) * (total * lse - parts[1])
    if dw is not None:
        dw = dw.astype(plan.acc)
        lw = _mm(x, _mm(dw, W, ((0,), (0,)), plan.acc), ((1,), (0,)), plan.acc)
        if b is not None:
            lw = lw + jnp.vdot(b.astype(plan.acc), dw)
        ds = jnp.sum(dw)
        if plan.axis is not None:
            lw, ds = lax.psum(lw, plan.axis), lax.psum(ds, plan.axis)
        out = out + beta * (ds * lse - lw)
    return out


def _chunked_sum_jvp(plan: _Plan, primals, tangents):
    x, W, b, aux = primals
    dx, dW, db = (_tangent(t) for t in tangents[:3])
    need_b = db is not None and b is not None
    daux = _aux_tangents(plan, aux, tangents[3])
    dy, dcw = daux if plan.probs else (None, None)
    lse, parts, gx, gW, gb, gy, gcw = _grad_sweep(
        plan, x, W, b, aux, dx is not None, dW is not None, need_b, dy is not None, dcw is not None
    )
    value = jnp.sum(_losses_from_stats(plan, lse, parts, aux))
    out = jnp.zeros((), plan.acc)
    if dx is not None:
        out = out + jnp.vdot(gx, dx.astype(plan.acc))
    if not plan.probs and any(t is not None for t in daux):
        out = out + jnp.sum(_index_aux_tangent(plan, x, W, b, aux, lse, parts, *daux))
    local = jnp.zeros((), plan.acc)
    if dW is not None:
        local = local + jnp.vdot(gW, dW.astype(plan.acc))
    if need_b:
        local = local + jnp.vdot(gb, db.astype(plan.acc))
    if dy is not None:
        vl = W.shape[0]
        dy_local = dy if plan.axis is None else _slice(dy, _vocab_offset(plan, vl), vl, axis=1)
        local = local + jnp.vdot(gy, dy_local.astype(plan.acc))
    if dcw is not None:
        local = local + jnp.vdot(gcw, dcw.astype(plan.acc))
    if plan.axis is not None:
        local = lax.psum(local, plan.axis)
    return value, out + local


_chunked_sum.defjvp(_chunked_sum_jvp, symbolic_zeros=True)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _chunked_rows(plan: _Plan, x, W, b, aux):
    """Per-row losses of the chunked problem (its JVP recomputes blocks)."""
    lse, parts = _forward_stats(plan, x, W, b, aux)
    return _losses_from_stats(plan, lse, parts, aux)


def _chunked_rows_jvp(plan: _Plan, primals, tangents):
    x, W, b, aux = primals
    dx, dW, db = (_tangent(t) for t in tangents[:3])
    if b is None:
        db = None
    daux = _aux_tangents(plan, aux, tangents[3])
    dy, dcw = daux if plan.probs else (None, None)
    lse, parts = _forward_stats(plan, x, W, b, aux)
    value = _losses_from_stats(plan, lse, parts, aux)
    out = jnp.zeros_like(value)
    if any(t is not None for t in (dx, dW, db, dy, dcw)):
        out = out + _tangent_sweep(plan, x, W, b, aux, lse, dx, dW, db, dy, dcw)
    if not plan.probs and any(t is not None for t in daux):
        out = out + _index_aux_tangent(plan, x, W, b, aux, lse, parts, *daux)
    return value, out


_chunked_rows.defjvp(_chunked_rows_jvp, symbolic_zeros=True)


# --------------------------------------------------------------------------------------------------------------
# linear_cross_entropy: the face
# --------------------------------------------------------------------------------------------------------------


def _lce_example(rng: np.random.Generator):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((5, 3))
    target = np.array([0, 3, -100, 4])
    return (x, w, target), {"linear_bias": rng.standard_normal(5), "label_smoothing": 0.1}


def _global_take(plan_axis, local, index, offset):
    """``full[index]`` for ``full`` split by blocks over ``plan_axis`` (``local`` is this device's block)."""
    if plan_axis is None:
        return local[index]
    n = local.shape[0]
    mine = (index >= offset) & (index < offset + n)
    return lax.psum(jnp.where(mine, local[jnp.clip(index - offset, 0, n - 1)], 0), plan_axis)


def _use_pallas(name, options, is_probs, d, weight, label_smoothing, arrays, acc):
    """The Pallas kernel's settings (``rows``, ``cols``, ``interpret``) when it serves this call, else None:
    ``options.kernel='pallas'``, or ``'auto'`` on a GPU backend for a call the kernel supports."""
    if options.kernel == "xla":
        return None
    ok = P.supported(
        is_probs=is_probs,
        d=d,
        axis=options.vocab_axis_name,
        weight=weight,
        label_smoothing=label_smoothing,
        dtypes=[a.dtype for a in arrays if a is not None],
        acc=acc,
    )
    backend = jax.default_backend()
    if options.kernel == "auto" and not (ok and backend in P.AUTO_BACKENDS):
        return None
    if not ok:
        raise ValueError(
            f"{name}: options.kernel='pallas' supports class-index targets, a 2-D linear_weight, float32 or "
            "bfloat16 inputs of one dtype with float32 accumulation, no vocab_axis_name, and no class weight "
            "together with label_smoothing; use kernel='xla' or 'auto' for this call"
        )
    return {
        "rows": options.batch_chunk_size or P._ROWS,
        "cols": options.vocab_chunk_size or P._COLS,
        "interpret": backend == "cpu",
    }


def _chunked_linear_cross_entropy(
    name,
    x,
    W,
    b,
    target,
    is_probs,
    weight,
    ignore_index,
    reduction,
    label_smoothing,
    options,
    out_dtype,
):
    """The chunked path on validated, batched arrays: ``x (N, H)``, ``W (C, D, H)``, ``b (C, D)``, targets
    ``(N, D)`` (indices) or ``(N, C, D)`` (probabilities)."""
    n, h = x.shape
    c_local, d, _ = W.shape
    axis = options.vocab_axis_name
    n_dev = 1 if axis is None else lax.axis_size(axis)
    num_classes = c_local * n_dev
    acc = options._acc_dtype(V.result_dtype(x, W))
    offset = 0 if axis is None else lax.axis_index(axis) * c_local
    if weight is not None:
        weight = V.as_float(name, "weight", weight)
        if weight.shape != (c_local,):
            raise ValueError(
                f"{name}: weight has shape {_shape(weight)}; it must be ({c_local},) (one weight per class"
                + (" of this device's block)" if axis is not None else ")")
            )
        weight = weight.astype(acc)
    pallas = _use_pallas(name, options, is_probs, d, weight, label_smoothing, (x, W, b), acc)
    if pallas is not None:
        _check_indices(name, target, num_classes, ignore_index)
        out = P.pallas_linear_cross_entropy(
            x,
            W[:, 0],
            None if b is None else b[:, 0],
            target[:, 0],
            weight,
            ignore_index,
            reduction,
            label_smoothing,
            out_dtype,
            **pallas,
        )
        return out[:, None] if reduction == "none" else out
    total_weight = (
        jnp.asarray(num_classes, acc)
        if weight is None
        else (jnp.sum(weight) if axis is None else lax.psum(jnp.sum(weight), axis))
    )
    examples = n * d
    nothing = None  # set when 'mean' may have no target to average over
    if is_probs:
        y = target.astype(acc)
        norm = 1.0 / examples if reduction == "mean" else 1.0
        yw = jnp.sum(y, axis=1) if weight is None and axis is None else None
        if yw is None:
            w_full = jnp.ones((c_local,), acc) if weight is None else weight
            y_local = y if axis is None else lax.dynamic_slice_in_dim(y, offset, c_local, axis=1)
            yw = jnp.einsum("ncd,c->nd", y_local, w_full)
            yw = yw if axis is None else lax.psum(yw, axis)
        k = norm * ((1.0 - label_smoothing) * yw + label_smoothing / num_classes * total_weight)
        coef = jnp.full((n, d), norm, acc)
        # k = sum_j r_j is a function of y and the weights; the engine's rules differentiate it through r
        aux, aux_axes = (y, coef, lax.stop_gradient(k), weight), (2, 1, 1, None)
    else:
        _check_indices(name, target, num_classes, ignore_index)
        keep = target != ignore_index
        safe = jnp.where(keep, target, 0)
        if weight is None:
            w_t = keep.astype(acc)
        else:
            w_t = jnp.where(keep, _global_take(axis, weight, safe, offset), 0)
        total = jnp.sum(w_t)
        if reduction == "mean":
            nothing = (
                total == 0
            )  # every target ignored: nan, with zero gradients (torch's reference path)
            norm = jnp.where(nothing, 0, 1 / jnp.where(nothing, 1, total))
        else:
            norm = jnp.ones((), acc)
        a = (1.0 - label_smoothing) * w_t * norm
        beta = (label_smoothing / num_classes) * keep.astype(acc) * norm
        # a and beta carry the weights' (and 'mean' normaliser's) gradient; S = sum(w) is differentiated by
        # the engine's rules through w
        aux = (safe, a, beta, weight, lax.stop_gradient(total_weight))
        aux_axes = (1, 1, 1, None, None)
    rows = options._batch_chunk(n, h, num_classes)
    cols = c_local if options.vocab_chunk_size is None else min(options.vocab_chunk_size, c_local)
    plan = _Plan(rows, cols, is_probs, label_smoothing, num_classes, jnp.dtype(acc), axis)
    kernel = _chunked_rows if reduction == "none" else _chunked_sum
    if d == 1:
        aux1 = tuple(
            None if u is None else (u if ax is None else jnp.take(u, 0, axis=ax))
            for u, ax in zip(aux, aux_axes)
        )
        out = kernel(plan, x, W[:, 0], None if b is None else b[:, 0], aux1)
        out = out[:, None] if reduction == "none" else out
    else:
        per_d = jax.vmap(
            functools.partial(kernel, plan),
            in_axes=(None, 1, None if b is None else 1, aux_axes),
            out_axes=-1,
        )(x, W, b, aux)
        out = per_d if reduction == "none" else jnp.sum(per_d)
    if nothing is not None:
        out = jnp.where(nothing, jnp.nan, out)
    return out.astype(out_dtype)


@register(
    family="classification",
    reference="torch.nn.functional.linear_cross_entropy (torch 2.13)",
    torch="linear_cross_entropy",
    example=_lce_example,
    diff=(0, 1),
)
def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
):
    """Cross entropy of a linear layer's output, torch's ``linear_cross_entropy``.

    Equal to ``cross_entropy(input @ linear_weight.T + linear_bias, target, ...)`` (for K-dimensional weights
    ``(C, d1, ..., dK, H)`` the logits are ``(N, C, d1, ..., dK)``); see :func:`cross_entropy` for the loss,
    ``weight``, ``label_smoothing`` and ``reduction``.

    With ``options`` (a :class:`LinearCrossEntropyOptions`) the loss is computed in blocks of rows (and
    optionally of classes) and the ``(N, C)`` logits and their gradient are never materialised: for
    ``N=4096, H=512, C=32768`` float32, XLA's temporaries for value and gradient drop from about 1 GB to
    about 27 MB at the materialised speed (see ``docs/performance.md``). The chunked path supports everything the reference path
    does, and it is differentiable by ``jax.grad``/``jax.vjp`` (gradients computed block by block), by
    ``jax.jvp``/``jax.jacfwd``, twice (Hessian-vector products as ``jax.jvp`` of ``jax.grad``), and it
    batches under ``jax.vmap``. On both paths probability targets and class weights are differentiated
    too, block by block on the chunked path (torch 2.13 differentiates both for probability targets; for
    class indices it differentiates ``weight`` on neither path, jaxloss on both).
    ``options.vocab_axis_name`` shards the classes over a ``shard_map`` axis (see
    :class:`LinearCrossEntropyOptions`). ``options.kernel='pallas'`` runs a Pallas kernel for the
    calls it serves (differentiable in reverse mode only; interpret mode on CPU); ``'auto'`` uses the XLA
    engine until the kernel has been measured on a GPU (see ``docs/performance.md``).

    Args:
      input: ``(H,)`` or ``(N, H)`` features.
      linear_weight: ``(C, H)`` or ``(C, d1, ..., dK, H)`` (K-dimensional loss; needs batched input).
      target: class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, or floating probabilities with the
        logits' shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
      linear_bias: optional ``(C,)`` or ``(C, d1, ..., dK)`` bias.
      weight: optional ``(C,)`` class weights (differentiable).
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
      ignore_index: ignored class index; ``None`` (default) means ``-100`` for index targets. It must stay
        ``None`` for probability targets (torch's rule).
      label_smoothing: a float in ``[0, 1]``.
      options: ``None`` (materialise the logits, torch's reference path) or
        :class:`LinearCrossEntropyOptions` (chunked).

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then the target's shape without the class axis).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import linear_cross_entropy, LinearCrossEntropyOptions
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
      >>> w = jnp.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
      >>> t = jnp.array([0, 1, 2])
      >>> round(float(linear_cross_entropy(x, w, t)), 6)  # torch 2.13.0: 1.066198
      1.066198
      >>> round(float(linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions(batch_chunk_size=2))), 6)
      1.066198

    Reference: torch.nn.functional.linear_cross_entropy (torch 2.13).
    """
    name = "linear_cross_entropy"
    R.validate_reduction(name, reduction)
    label_smoothing = _check_smoothing(name, label_smoothing)
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(
            f"{name}: options must be None or a LinearCrossEntropyOptions; got {type(options).__name__}"
        )
    input = V.as_float(name, "input", input)
    linear_weight = V.as_float(name, "linear_weight", linear_weight)
    V.check_ndim(name, "input", input, (1, 2))
    if linear_weight.ndim < 2:
        raise ValueError(
            f"{name}: linear_weight must be (C, H) or (C, d1, ..., dK, H); got shape {_shape(linear_weight)}"
        )
    in_features = input.shape[-1]
    if linear_weight.shape[-1] != in_features:
        raise ValueError(
            f"{name}: linear_weight has shape {_shape(linear_weight)}; its last axis must be input's "
            f"in_features {in_features}"
        )
    num_classes = linear_weight.shape[0]
    out_features = _shape(linear_weight)[1:-1]
    arrays = [input, linear_weight]
    if linear_bias is not None:
        linear_bias = V.as_float(name, "linear_bias", linear_bias)
        if _shape(linear_bias) != (num_classes, *out_features):
            raise ValueError(
                f"{name}: linear_bias has shape {_shape(linear_bias)}; it must be {(num_classes, *out_features)}"
            )
        arrays.append(linear_bias)
    unbatched = input.ndim == 1
    if out_features and unbatched:
        raise ValueError(
            f"{name}: K-dimensional linear_weight of shape {_shape(linear_weight)} needs batched input "
            f"(N, {in_features}); got input of shape {_shape(input)}"
        )
    batch = _shape(input)[:-1]
    axis = None if options is None else options.vocab_axis_name
    # With vocab parallelism linear_weight holds this device's classes; targets refer to all of them.
    global_classes = num_classes if axis is None else num_classes * lax.axis_size(axis)
    logits_shape = (*batch, global_classes, *out_features)
    target = V.as_array(name, "target", target)
    is_probs = _shape(target) == logits_shape
    if is_probs:
        if not jnp.issubdtype(target.dtype, jnp.floating):
            raise TypeError(
                f"{name}: target of shape {_shape(target)} holds class probabilities and must have a floating "
                f"dtype; got {target.dtype}"
            )
        if ignore_index is not None:
            raise ValueError(
                f"{name}: ignore_index must be None for probability targets; got {ignore_index}"
            )
    else:
        index_shape = (*batch, *out_features)
        if _shape(target) != index_shape:
            raise ValueError(
                f"{name}: target has shape {_shape(target)}; for logits {logits_shape} it must be "
                f"{index_shape} (class indices) or {logits_shape} (probabilities)"
            )
        if not jnp.issubdtype(target.dtype, jnp.integer):
            raise TypeError(
                f"{name}: target holds class indices and must have an integer dtype; got {target.dtype}"
            )
    ignore_index = -100 if ignore_index is None else ignore_index
    out_dtype = V.result_dtype(*arrays)
    cdt = V.compute_dtype(out_dtype)
    empty = math.prod(batch) * math.prod(out_features) == 0

    if options is None or empty or (axis is None and 0 in _shape(linear_weight)):
        if axis is not None:
            raise ValueError(f"{name}: options.vocab_axis_name needs a non-empty batch")
        w2 = linear_weight.reshape(num_classes * math.prod(out_features), in_features)
        logits = _mm(input.reshape(-1, in_features), w2, ((1,), (1,)), cdt)
        if linear_bias is not None:
            logits = logits + linear_bias.reshape(-1).astype(cdt)[None, :]
        logits = logits.reshape(logits_shape)
        return _cross_entropy(
            name,
            logits,
            target,
            is_probs,
            weight,
            ignore_index,
            reduction,
            label_smoothing,
            out_dtype,
        )

    x = input[None] if unbatched else input
    d = math.prod(out_features)
    W = linear_weight.reshape(num_classes, d, in_features)
    b = None if linear_bias is None else linear_bias.reshape(num_classes, d)
    n = x.shape[0]
    t = target[None] if unbatched else target
    t = t.reshape(n, global_classes, d) if is_probs else t.reshape(n, d)
    out = _chunked_linear_cross_entropy(
        name,
        x,
        W,
        b,
        t,
        is_probs,
        weight,
        ignore_index,
        reduction,
        label_smoothing,
        options,
        out_dtype,
    )
    if reduction == "none":
        out = out.reshape((*batch, *out_features))
    return out
