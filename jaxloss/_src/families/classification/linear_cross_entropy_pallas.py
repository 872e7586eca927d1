"""A Pallas kernel for the chunked path of ``linear_cross_entropy`` (class-index targets).

Shape letters as in :mod:`jaxloss._src.families.classification.linear_cross_entropy`: ``N`` rows, ``H`` features, ``V`` classes. For a
block of rows of ``x (N, H)`` the forward kernel walks over class tiles of ``W (V, H)`` with an online
log-sum-exp and returns three float32 statistics per row, never forming the ``(N, V)`` logits:

    lse_n = log sum_c exp(l_nc),   lt_n = l_{n, t_n},   sl_n = sum_c l_nc        (l = x W^T + b)

Every loss the kernel serves is a function of these (``a_n (lse_n - lt_n) + beta_n (V lse_n - sl_n)``, with
``a``/``beta`` holding ignore masks, class weights of the target, label smoothing and the 'mean'
normaliser), written in plain JAX by :func:`pallas_linear_cross_entropy`, so JAX differentiates that part.
The statistics are a ``jax.custom_vjp``: given their cotangents ``(g_lse, g_lt, g_sl)`` the logits gradient
of a tile is ``G = g_lse * softmax + g_lt * onehot(t) + g_sl`` (recomputed from ``lse``), and two backward
kernels produce ``dx = G W`` (grid over row blocks, loop over class tiles) and ``dW = G^T x``, ``db = sum G``
(grid over class tiles, loop over row blocks). Reverse mode only: ``jax.jvp``/``jax.jacfwd`` raise (use
``kernel='xla'``).

Layout: the grid runs over independent blocks (rows forward and for ``dx``, classes for ``dW``), and the
reduction walks inside the kernel with ``lax.fori_loop`` over dynamic slices of the full operands: the
shape of a Triton (GPU) kernel, where grid programs run in parallel. Tiles must then be powers of two and
``H`` must fit one block (``H`` up to a few thousand). ``N`` and ``V`` are padded to whole tiles (padded
classes are masked to ``-inf``, padded rows carry zero cotangents). Matrix products accumulate in float32;
for bfloat16 inputs the backward products take ``G`` in bfloat16 (the tensor-core path).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

# Default tiles (rows per program, classes per inner step) when the options do not name them.
_ROWS = 64
_COLS = 128

# Backends on which options.kernel='auto' picks the kernel (for supported calls). Empty until a GPU run shows
# that Triton compiles it at real sizes and that it beats the XLA engine (docs/performance.md): until then
# 'auto' is the XLA engine everywhere and kernel='pallas' opts in. Add "gpu" here once measured.
AUTO_BACKENDS: tuple[str, ...] = ()

_F32 = jnp.float32


def _dot_t(a, b):
    """``a @ b.T`` accumulated in float32."""
    return lax.dot_general(a, b, (((1,), (1,)), ((), ())), preferred_element_type=_F32)


def _logits(x, w, bias, j, cols: int, num_classes: int):
    """The ``(rows, cols)`` float32 logits of class tile ``j``, padded classes at ``-inf``; and the class ids."""
    cls = j * cols + lax.broadcasted_iota(jnp.int32, (1, cols), 1)
    l = _dot_t(x, w) + bias.astype(_F32)[None, :]
    return jnp.where(cls < num_classes, l, -jnp.inf), cls


def _fwd_kernel(x_ref, w_ref, b_ref, t_ref, lse_ref, lt_ref, sl_ref, *, cols, tiles, num_classes):
    x = x_ref[...]
    t = t_ref[...][:, None]
    rows = x.shape[0]

    def body(j, carry):
        m, s, lt, sl = carry
        w = w_ref[pl.ds(j * cols, cols), :]
        bias = b_ref[pl.ds(j * cols, cols)]
        l, cls = _logits(x, w, bias, j, cols, num_classes)
        m_new = jnp.maximum(m, jnp.max(l, axis=1))
        # online log-sum-exp: rescale the running sum to the new maximum (exp(-inf) = 0 on the first tile)
        s = s * jnp.exp(m - m_new) + jnp.sum(jnp.exp(l - m_new[:, None]), axis=1)
        lt = lt + jnp.sum(jnp.where(cls == t, l, 0.0), axis=1)
        sl = sl + jnp.sum(jnp.where(cls < num_classes, l, 0.0), axis=1)
        return m_new, s, lt, sl

    zero = jnp.zeros((rows,), _F32)
    init = (jnp.full((rows,), -jnp.inf, _F32), zero, zero, zero)
    m, s, lt, sl = lax.fori_loop(0, tiles, body, init)
    lse_ref[...] = m + jnp.log(s)
    lt_ref[...] = lt
    sl_ref[...] = sl


def _grad_tile(l, cls, t, lse, g_lse, g_lt, g_sl, num_classes):
    """``G`` of one tile: ``g_lse softmax + g_lt onehot(t) + g_sl`` (zero on padded classes)."""
    p = jnp.exp(l - lse[:, None])  # padded classes: exp(-inf) = 0
    hit = (cls == t[:, None]).astype(_F32)
    valid = (cls < num_classes).astype(_F32)
    return g_lse[:, None] * p + g_lt[:, None] * hit + g_sl[:, None] * valid


def _dx_kernel(
    x_ref,
    w_ref,
    b_ref,
    t_ref,
    lse_ref,
    glse_ref,
    glt_ref,
    gsl_ref,
    dx_ref,
    *,
    cols,
    tiles,
    num_classes,
):
    x = x_ref[...]
    t, lse = t_ref[...], lse_ref[...]
    g = (glse_ref[...], glt_ref[...], gsl_ref[...])

    def body(j, dx):
        w = w_ref[pl.ds(j * cols, cols), :]
        l, cls = _logits(x, w, b_ref[pl.ds(j * cols, cols)], j, cols, num_classes)
        G = _grad_tile(l, cls, t, lse, *g, num_classes)
        return dx + jnp.dot(G.astype(w.dtype), w, preferred_element_type=_F32)

    dx = lax.fori_loop(0, tiles, body, jnp.zeros(x.shape, _F32))
    dx_ref[...] = dx.astype(dx_ref.dtype)


def _dw_kernel(
    x_ref,
    w_ref,
    b_ref,
    t_ref,
    lse_ref,
    glse_ref,
    glt_ref,
    gsl_ref,
    dw_ref,
    db_ref,
    *,
    rows,
    cols,
    blocks,
    num_classes,
):
    j = pl.program_id(0)
    w = w_ref[...]
    bias = b_ref[...]

    def body(i, carry):
        dw, db = carry
        r = pl.ds(i * rows, rows)
        x = x_ref[r, :]
        l, cls = _logits(x, w, bias, j, cols, num_classes)
        G = _grad_tile(
            l, cls, t_ref[r], lse_ref[r], glse_ref[r], glt_ref[r], gsl_ref[r], num_classes
        )
        dw = dw + lax.dot_general(
            G.astype(x.dtype), x, (((0,), (0,)), ((), ())), preferred_element_type=_F32
        )
        return dw, db + jnp.sum(G, axis=0)

    init = (jnp.zeros(w.shape, _F32), jnp.zeros((cols,), _F32))
    dw, db = lax.fori_loop(0, blocks, body, init)
    dw_ref[...] = dw.astype(dw_ref.dtype)
    db_ref[...] = db.astype(db_ref.dtype)


def _pad_to(a, size: int, fill=0):
    extra = size - a.shape[0]
    if extra == 0:
        return a
    return jnp.pad(a, [(0, extra)] + [(0, 0)] * (a.ndim - 1), constant_values=fill)


def _padded(x, W, b, t, rows: int, cols: int):
    n, v = x.shape[0], W.shape[0]
    n_p, v_p = pl.cdiv(n, rows) * rows, pl.cdiv(v, cols) * cols
    return _pad_to(x, n_p), _pad_to(W, v_p), _pad_to(b, v_p), _pad_to(t, n_p)


def _row_spec(rows):
    return pl.BlockSpec((rows,), lambda i: (i,))


def _full(shape):
    return pl.BlockSpec(shape, lambda i: (0,) * len(shape))


def _forward(x, W, b, t, cfg):
    rows, cols, interpret = cfg
    n, h = x.shape
    v = W.shape[0]
    xp, Wp, bp, tp = _padded(x, W, b, t, rows, cols)
    n_p, v_p = xp.shape[0], Wp.shape[0]
    kernel = functools.partial(_fwd_kernel, cols=cols, tiles=v_p // cols, num_classes=v)
    stat = jax.ShapeDtypeStruct((n_p,), _F32)
    lse, lt, sl = pl.pallas_call(
        kernel,
        grid=(n_p // rows,),
        in_specs=[
            pl.BlockSpec((rows, h), lambda i: (i, 0)),
            _full((v_p, h)),
            _full((v_p,)),
            _row_spec(rows),
        ],
        out_specs=[_row_spec(rows)] * 3,
        out_shape=[stat, stat, stat],
        interpret=interpret,
        name="linear_ce_forward",
    )(xp, Wp, bp, tp)
    return (lse[:n], lt[:n], sl[:n]), (xp, Wp, bp, tp, lse)


@functools.partial(jax.custom_vjp, nondiff_argnums=(4,))
def linear_ce_stats(x, W, b, t, cfg):
    """Per-row ``(lse, l_t, sum_c l)`` in float32 for ``x (N, H)``, ``W (V, H)``, ``b (V,)``, ``t (N,)``
    (class indices in ``[0, V)``); ``cfg = (rows, cols, interpret)``."""
    return _forward(x, W, b, t, cfg)[0]


def _stats_fwd(x, W, b, t, cfg):
    out, res = _forward(x, W, b, t, cfg)
    return out, (res, b)  # b (V,) is small: it gives V and db's dtype


def _stats_bwd(cfg, res, cts):
    rows, cols, interpret = cfg
    (xp, Wp, bp, tp, lse), b = res
    n, v, b_dtype = cts[0].shape[0], b.shape[0], b.dtype
    n_p, h = xp.shape
    v_p = Wp.shape[0]
    g = [_pad_to(c.astype(_F32), n_p) for c in cts]  # padded rows: zero cotangents, so G = 0 there
    operands = (xp, Wp, bp, tp, lse, *g)
    dx = pl.pallas_call(
        functools.partial(_dx_kernel, cols=cols, tiles=v_p // cols, num_classes=v),
        grid=(n_p // rows,),
        in_specs=[
            pl.BlockSpec((rows, h), lambda i: (i, 0)),
            _full((v_p, h)),
            _full((v_p,)),
        ]
        + [_row_spec(rows)] * 5,
        out_specs=pl.BlockSpec((rows, h), lambda i: (i, 0)),
        out_shape=jax.ShapeDtypeStruct((n_p, h), xp.dtype),
        interpret=interpret,
        name="linear_ce_dx",
    )(*operands)
    dW, db = pl.pallas_call(
        functools.partial(_dw_kernel, rows=rows, cols=cols, blocks=n_p // rows, num_classes=v),
        grid=(v_p // cols,),
        in_specs=[
            _full((n_p, h)),
            pl.BlockSpec((cols, h), lambda j: (j, 0)),
            pl.BlockSpec((cols,), lambda j: (j,)),
        ]
        + [_full((n_p,))] * 5,
        out_specs=[
            pl.BlockSpec((cols, h), lambda j: (j, 0)),
            pl.BlockSpec((cols,), lambda j: (j,)),
        ],
        out_shape=[jax.ShapeDtypeStruct((v_p, h), Wp.dtype), jax.ShapeDtypeStruct((v_p,), b_dtype)],
        interpret=interpret,
        name="linear_ce_dw",
    )(*operands)
    return dx[:n], dW[:v], db[:v], None


linear_ce_stats.defvjp(_stats_fwd, _stats_bwd)


def supported(*, is_probs, d, axis, weight, label_smoothing, dtypes, acc) -> bool:
    """Whether the kernel serves this call (else the XLA chunked engine does)."""
    return (
        not is_probs
        and d == 1
        and axis is None
        and (weight is None or label_smoothing == 0.0)
        and len({jnp.dtype(dt) for dt in dtypes}) == 1
        and all(jnp.dtype(dt) in (jnp.dtype(jnp.float32), jnp.dtype(jnp.bfloat16)) for dt in dtypes)
        and jnp.dtype(acc) == jnp.dtype(jnp.float32)
    )


def pallas_linear_cross_entropy(
    x,
    W,
    b,
    target,
    weight,
    ignore_index,
    reduction,
    label_smoothing,
    out_dtype,
    *,
    rows,
    cols,
    interpret,
):
    """``linear_cross_entropy`` from the kernel's statistics: ``x (N, H)``, ``W (V, H)``, ``b (V,)`` or None,
    ``target (N,)`` class indices; returns the reduced loss (``(N,)`` for 'none') in ``out_dtype``."""
    v = W.shape[0]
    keep = target != ignore_index
    safe = jnp.where(keep, target, 0).astype(jnp.int32)
    bias = jnp.zeros((v,), W.dtype) if b is None else b
    lse, lt, sl = linear_ce_stats(x, W, bias, safe, (rows, cols, interpret))
    keep_f = keep.astype(_F32)
    w_t = keep_f if weight is None else jnp.where(keep, weight.astype(_F32)[safe], 0.0)
    # torch's smoothing: (1 - eps) w_t (lse - l_t) + eps / V * sum_c (lse - l_c), zero on ignored rows
    loss = (1.0 - label_smoothing) * w_t * (lse - lt)
    if label_smoothing:
        loss = loss + (label_smoothing / v) * keep_f * (v * lse - sl)
    if reduction == "none":
        return loss.astype(out_dtype)
    total = jnp.sum(loss)
    if reduction == "sum":
        return total.astype(out_dtype)
    denom = jnp.sum(w_t)
    nothing = denom == 0  # every target ignored: nan with zero gradients, as the reference path
    out = total * jnp.where(nothing, 0.0, 1.0 / jnp.where(nothing, 1.0, denom))
    return jnp.where(nothing, jnp.nan, out).astype(out_dtype)
