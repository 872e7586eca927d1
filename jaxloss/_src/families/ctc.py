"""Connectionist temporal classification (CTC): torch's ``ctc_loss`` and optax's ``ctc_loss`` /
``ctc_loss_with_forward_probs``, on one log-space forward recursion.

Shape letters: ``T`` time frames, ``B`` batch, ``C`` classes (blank included), ``S`` (padded) target length.

The kernel keeps two arrays of log forward variables per frame (Graves et al., 2006): ``blank[b, n]``, the
alignments that have emitted the first ``n`` targets and now sit on a blank (``n = 0..S``), and
``label[b, n]``, those that sit on target ``n`` (``n = 0..S-1``). Emissions are gathered per target position
with ``take_along_axis`` (no ``(B, S, C)`` one-hot), and :func:`jax.lax.scan` runs over time, so memory is
``O(T * B * S)`` at most and ``O(B * S)`` for a forward-only call.

Gradients of torch's face come from a ``custom_jvp`` (so ``grad``, ``vjp``, ``jvp``, ``vmap`` and
``hessian`` all work): the forward scan records, for each log-sum-exp, the share of its first term, and a
reverse scan of multiply-adds turns those shares into the posterior occupancy of every state (no
transcendental functions in the reverse scan). This is about 2x faster than differentiating the scan.
optax's ``ctc_loss`` does the same for optax's recursion (``log_epsilon`` transitions, blended paddings),
in a ``custom_jvp`` w.r.t. the logits whose gradient, ``softmax * total - occupancy``, is formed in one pass
(the derivative that autodiff through optax's ``log_softmax`` gives). ``ctc_loss_with_forward_probs``
differentiates the scan itself, as optax does, because its outputs include every forward variable.
The recording scans write into their own buffers (:func:`_scan_into`); the reverse scans sum the blank
states' occupancy per frame and write the label states' into the emissions' buffer (few ``(T, B, S)``
temporaries: on XLA:CPU each is page-faulted anew on every call). The loops are bound by the
log-sum-exps (an ``exp`` and a ``log`` per state and frame) and by a kernel launch per fused operation
per frame.

Reference: A. Graves, S. Fernandez, F. Gomez, J. Schmidhuber, "Connectionist temporal classification:
labelling unsegmented sequence data with recurrent neural networks", ICML 2006.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.numerics import select
from jaxloss._src.core.registry import register

_NEG_INF = -np.inf


# --------------------------------------------------------------------------------------------- kernel


def _lse2(x, y):
    """``log(exp(x) + exp(y))`` with ``-inf`` inputs allowed; autodiff-safe (no ``nan`` gradients)."""
    hi = jnp.maximum(x, y)
    # both -inf: the difference would be nan, the sum is -inf
    gap = select(hi == _NEG_INF, _NEG_INF, jnp.minimum(x, y) - hi)
    return hi + jnp.log(
        1.0 + jnp.exp(gap)
    )  # log(1 + r) for r in [0, 1]: faster than log1p, same result


def _lse2_share(x, y):
    """:func:`_lse2` and the share ``exp(x) / (exp(x) + exp(y))`` of its first term (1 when both are -inf)."""
    hi = jnp.maximum(x, y)
    gap = select(hi == _NEG_INF, _NEG_INF, jnp.minimum(x, y) - hi)
    r = jnp.exp(gap)
    share = select(x >= y, 1.0, r) / (1.0 + r)
    return hi + jnp.log(1.0 + r), share


def _shift_in(x, fill):
    """``out[:, n] = x[:, n - 1]`` with ``out[:, 0] = fill``, one column longer than ``x``."""
    return jnp.concatenate([jnp.full((x.shape[0], 1), fill, x.dtype), x], axis=1)


def _scan_into(step, init, xs, buffers, *, reverse=False):
    """``lax.scan(step, init, xs, reverse=reverse)`` whose per-frame outputs are written in place into
    ``buffers`` (from :func:`_frames_buffer`, one per output, of the stacked outputs' shapes).

    ``lax.scan`` starts every output from a zero-filled array; XLA merges those of one shape into one
    array and then copies it for each output and each loop, a pass over ``(T, B, S)`` per copy.
    """
    T = jax.tree.leaves(buffers)[0].shape[0]

    def body(carry, frame):
        state, bufs, t = carry
        state, out = step(state, frame)
        bufs = jax.tree.map(lambda b, o: lax.dynamic_update_index_in_dim(b, o, t, 0), bufs, out)
        return (state, bufs, t - 1 if reverse else t + 1), None

    start = jnp.asarray(T - 1 if reverse else 0, jnp.int32)
    (state, bufs, _), _ = lax.scan(body, (init, buffers, start), xs, reverse=reverse)
    return state, bufs


def _frames_buffer(shape, dtype, tag):
    """An array for :func:`_scan_into` to write frames into. Its values are never read; each buffer of
    one program gets its own ``tag`` (fill value), so that XLA cannot merge two buffers into one."""
    return jnp.full(shape, tag, dtype)


def _ctc_scan(emit_blank, emit_label, repeat, keep, init, *, log_eps=None, record="none"):
    """The CTC forward recursion over time.

    Args:
      emit_blank: ``(T, B)`` log-probability of the blank at each frame.
      emit_label: ``(T, B, S)`` log-probability of target ``n`` at each frame.
      repeat: ``(B, S)`` bool, target ``n`` equals target ``n - 1`` (entry 0 is ignored).
      keep: ``(T, B)``; a bool "frame is used" mask (frozen states elsewhere), or optax's float padding
        indicators (``1`` = padded frame), blended as optax blends them.
      init: ``(blank (B, S + 1), label (B, S))`` log forward variables before the first frame.
      log_eps: ``None`` for exact CTC (torch: a repeated target needs a blank between its copies); optax's
        ``log_epsilon`` otherwise, which optax uses as the log-weight of the forbidden skip between repeated
        targets (and, through ``log(1 + exp(log_eps))``, on every target-to-blank step).
      record: ``'none'``, ``'shares'`` (the per-frame shares of each log-sum-exp's first term, used by
        :func:`_ctc_adjoint` and :func:`_optax_ctc_adjoint`) or ``'states'`` (the forward variables after
        every frame).

    Returns:
      ``(blank, label)`` after the last frame, and the record: ``None``; the shares
      ``(share_q, share_u)`` of shapes ``(T, B, S + 1)`` and ``(T, B, S)`` in exact mode,
      ``(share_q, share_e, share_u)`` (``share_e`` of the entry into each label, ``(T, B, S)``)
      otherwise; or the states, ``(T, B, S + 1)`` and ``(T, B, S)``.
    """
    S = emit_label.shape[2]
    exact = log_eps is None
    if exact:
        from_label = None
    else:
        from_label = jnp.log1p(
            jnp.exp(log_eps)
        )  # optax adds log(e^l + e^(l + eps)) on label -> blank
        skip = select(repeat, log_eps, 0.0).astype(emit_label.dtype)
    padding_weights = keep.dtype != jnp.bool_

    def step(carry, frame):
        blank, label = carry
        e_blank, e_label, k = frame
        prev_label = _shift_in(label, _NEG_INF)  # label n - 1 beside blank n
        into_blank = prev_label if exact else prev_label + from_label
        if record == "shares":
            q, share_q = _lse2_share(blank, into_blank)
        else:
            q = _lse2(blank, into_blank)
        if exact:
            # label n is entered from blank n, or from label n - 1 unless the targets repeat: that sum is q
            entry = select(repeat, blank[:, :S], q[:, :S])
        elif record == "shares":
            entry, share_e = _lse2_share(blank[:, :S], prev_label[:, :S] + skip)
        else:
            entry = _lse2(blank[:, :S], prev_label[:, :S] + skip)
        if record == "shares":
            u, share_u = _lse2_share(entry, label)
        else:
            u = _lse2(entry, label)
        new_blank = e_blank[:, None] + q
        new_label = e_label + u
        if padding_weights:  # optax: pad * previous + (1 - pad) * next
            p = k[:, None]
            new_blank = p * blank + (1.0 - p) * new_blank
            new_label = p * label + (1.0 - p) * new_label
        else:
            new_blank = select(k[:, None], new_blank, blank)
            new_label = select(k[:, None], new_label, label)
        out = None
        if record == "shares":
            out = (share_q, share_u) if exact else (share_q, share_e, share_u)
        elif record == "states":
            out = (new_blank, new_label)
        return (new_blank, new_label), out

    frames = (emit_blank, emit_label, keep)
    if record != "shares":
        (blank, label), out = lax.scan(step, init, frames)
        return blank, label, out
    T, B = emit_blank.shape
    dtype = emit_label.dtype
    buffers = (_frames_buffer((T, B, S + 1), dtype, 1.0),) + tuple(
        _frames_buffer((T, B, S), dtype, tag) for tag in ((2.0,) if exact else (2.0, 3.0))
    )
    (blank, label), out = _scan_into(step, init, frames, buffers)
    return blank, label, out


def _ctc_adjoint(shares, repeat, keep, seed_blank, seed_label, spare):
    """Reverse scan of the exact recursion: posterior occupancy of every state at every frame.

    ``seed_*`` is the derivative of ``log Z`` w.r.t. the final forward variables. Returns ``(T, B)`` (blank
    states summed) and ``(T, B, S)``; both are zero on unused frames. Only multiply-adds: the shares from
    the forward scan are the local derivatives of each log-sum-exp. ``spare`` is a ``(T, B, S)`` array no
    longer needed (the emissions), which the label occupancies overwrite (see :func:`_record_occupancy`).
    """
    share_q, share_u = shares
    dtype = seed_blank.dtype

    def step(carry, frame):
        c_blank, c_label = carry  # d log Z / d forward variables after this frame
        s_q, s_u, k = frame
        c_entry = c_label * s_u
        c_q = c_blank + _shift_out(select(repeat, 0.0, c_entry))
        c_q_blank = c_q * s_q
        prev_blank = c_q_blank + _shift_out(select(repeat, c_entry, 0.0))
        prev_label = c_label - c_entry + (c_q - c_q_blank)[:, 1:]
        prev_blank = select(k[:, None], prev_blank, c_blank)
        prev_label = select(k[:, None], prev_label, c_label)
        return (prev_blank, prev_label), _record_occupancy(c_blank, c_label)

    _, (occ_blank, occ_label) = _scan_into(
        step,
        (seed_blank, seed_label),
        (share_q, share_u, keep),
        (_frames_buffer(keep.shape, dtype, 4.0), spare),
        reverse=True,
    )
    occ_blank = select(keep, occ_blank, 0.0).astype(dtype)
    occ_label = select(keep[:, :, None], occ_label, 0.0).astype(dtype)
    return occ_blank, occ_label


def _record_occupancy(c_blank, c_label):
    """What the reverse scans record per frame: the blank states' occupancy summed, ``(B,)``, and the label
    states', ``(B, S)``.

    The sum inside the loop costs a kernel per frame but saves a ``(T, B, S + 1)`` buffer (its fill, a
    copy per frame and a pass after the loop); the label occupancies go into the emissions' buffer, dead
    by then, instead of a new one. At T=1000, S=200 that is two fewer 13 MB temporaries (page-faulted on
    every call) and 10-20% of the time of value and gradient.
    """
    return jnp.sum(c_blank, axis=1), c_label


def _shift_out(x):
    """``(B, S) -> (B, S + 1)``: append a zero column (label ``n`` feeds blank ``n``)."""
    return jnp.concatenate([x, jnp.zeros((x.shape[0], 1), x.dtype)], axis=1)


def _final_pair(blank, label, target_lengths):
    """Forward variables of the two end states: blank ``L`` and label ``L - 1`` (``-inf`` when ``L = 0``)."""
    idx = target_lengths[:, None]
    end_blank = jnp.take_along_axis(blank, idx, axis=1)[:, 0]
    end_label = jnp.take_along_axis(_shift_in(label, _NEG_INF), idx, axis=1)[:, 0]
    return end_blank, end_label


def _gather_targets(log_probs, targets, batch_axis=1):
    """``(T, B, C)`` (or ``(B, T, C)`` with ``batch_axis=0``) and ``(B, S)`` -> ``(T, B, S)``: the
    log-probability of each target position at each frame (indices clipped to ``[0, C)``).

    One gather along the class axis of time-major log-probabilities (``(B, T, C)`` is transposed first):
    XLA:CPU writes its result in place, where the per-sequence ``take`` under ``vmap`` came out in a
    transposed layout plus a copy (about 10% of the CTC time at T=1000, S=200).
    """
    if batch_axis == 0:
        log_probs = jnp.transpose(log_probs, (1, 0, 2))
    idx = jnp.clip(targets, 0, log_probs.shape[2] - 1)
    return jnp.take_along_axis(
        log_probs, jnp.broadcast_to(idx[None], (log_probs.shape[0],) + idx.shape), axis=2
    )


def _scatter_targets(values, targets, num_classes, base=None):
    """The transpose of :func:`_gather_targets`, class-major: ``(T, B, S)`` -> ``(B, C, T)``, each
    position's value added to its class, in zeros or in ``base`` (``(B, C, T)``; one pass fewer than
    adding the result to it). XLA:CPU scatters into these rows faster than into ``(T, B, C)``."""
    T = values.shape[0]
    rows = jnp.transpose(values, (1, 2, 0))  # (B, S, T)
    if base is None:
        base = jnp.zeros((values.shape[1], num_classes, T), values.dtype)
    return jax.vmap(lambda b0, v, idx: b0.at[idx].add(v, mode="clip"))(base, rows, targets)


def _repeats(targets):
    """``(B, S)`` bool: target ``n`` equals target ``n - 1`` (``True`` at ``n = 0``, where it is unused)."""
    first = jnp.ones((targets.shape[0], 1), bool)
    return jnp.concatenate([first, targets[:, 1:] == targets[:, :-1]], axis=1)


def _exact_inputs(log_probs, targets, input_lengths, blank):
    T, B, _ = log_probs.shape
    S = targets.shape[1]
    emit_blank = log_probs[:, :, blank]
    emit_label = _gather_targets(log_probs, targets)
    used = jnp.arange(T)[:, None] < input_lengths[None, :]
    init = (
        select(jnp.arange(S + 1) == 0, 0.0, _NEG_INF).astype(log_probs.dtype)[None].repeat(B, 0),
        jnp.full((B, S), _NEG_INF, log_probs.dtype),
    )
    return emit_blank, emit_label, _repeats(targets), used, init


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5))
def _torch_ctc_nll(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """Per-sequence ``-log p(target | log_probs)`` (``(B,)``), torch's values and torch's gradient.

    ``target_lengths`` greater than ``S`` mark sequences that cannot be aligned (``inf``). With
    ``zero_infinity`` infinite losses are 0. See :func:`_torch_ctc_nll_jvp` for the gradient.
    """
    emit_blank, emit_label, repeat, used, init = _exact_inputs(
        log_probs, targets, input_lengths, blank
    )
    end_blank, end_label, _ = _ctc_scan(emit_blank, emit_label, repeat, used, init)
    nll, _ = _finish(
        end_blank, end_label, target_lengths, targets.shape[1], zero_infinity, want_share=False
    )
    return nll


def _finish(blank, label, target_lengths, S, zero_infinity, *, want_share):
    end_blank, end_label = _final_pair(blank, label, jnp.minimum(target_lengths, S))
    if want_share:
        log_z, share = _lse2_share(end_blank, end_label)
    else:
        log_z, share = _lse2(end_blank, end_label), None
    nll = select(target_lengths > S, jnp.inf, -log_z)
    infinite = nll == jnp.inf
    if zero_infinity:
        nll = select(infinite, 0.0, nll)
    return nll, (infinite, share)


@_torch_ctc_nll.defjvp
def _torch_ctc_nll_jvp(blank, zero_infinity, primals, tangents):
    """torch's CTC gradient: ``exp(log_probs) - posterior`` on used frames, 0 on the others.

    That is the gradient w.r.t. the *logits* when ``log_probs = log_softmax(logits)`` (torch's
    ``ctc_loss_backward`` returns it as the gradient w.r.t. ``log_probs``); the derivative of the loss value
    w.r.t. ``log_probs`` is ``-posterior``. The two give the same gradient through a ``log_softmax``.
    As in torch: an infinite loss has a ``nan`` gradient on its used frames (0 with ``zero_infinity``), and
    an entry ``log_probs = -inf`` on a used frame has a ``nan`` gradient.
    """
    log_probs, targets, input_lengths, target_lengths = primals
    d_log_probs = tangents[0]
    S = targets.shape[1]
    emit_blank, emit_label, repeat, used, init = _exact_inputs(
        log_probs, targets, input_lengths, blank
    )
    end_blank, end_label, shares = _ctc_scan(
        emit_blank, emit_label, repeat, used, init, record="shares"
    )
    nll, (infinite, share) = _finish(
        end_blank, end_label, target_lengths, S, zero_infinity, want_share=True
    )
    lengths = jnp.minimum(target_lengths, S)
    dtype = log_probs.dtype
    seed_blank = select(jnp.arange(S + 1)[None, :] == lengths[:, None], share[:, None], 0.0).astype(
        dtype
    )
    seed_label = select(
        jnp.arange(S)[None, :] == lengths[:, None] - 1, 1.0 - share[:, None], 0.0
    ).astype(dtype)
    occ_blank, occ_label = _ctc_adjoint(shares, repeat, used, seed_blank, seed_label, emit_label)

    used3 = used[:, :, None]
    # exp(log_probs) - occupancy: the occupancies are scattered (negated) straight into exp(log_probs)
    base = jnp.transpose(select(used3, jnp.exp(log_probs), 0.0), (1, 2, 0))  # (B, C, T)
    grad = jnp.transpose(_scatter_targets(-occ_label, targets, log_probs.shape[2], base), (2, 0, 1))
    # torch's backward assumes the last target differs from the blank: on the last used frame it *sets*
    # the blank's posterior to that of the last-target state instead of adding the end-blank state's.
    last = jnp.take_along_axis(targets, jnp.maximum(lengths - 1, 0)[:, None], axis=1)[:, 0]
    quirk = (lengths > 0) & (last == blank) & (input_lengths > 0)
    last_frame = jnp.arange(log_probs.shape[0])[:, None] == (input_lengths - 1)[None, :]
    kept_end_blank = select(last_frame & quirk[None, :], share[None, :], 0.0).astype(dtype)
    grad = grad.at[:, :, blank].add(kept_end_blank - occ_blank)
    grad = select(used3 & (log_probs == _NEG_INF), jnp.nan, grad)  # torch: exp(-inf - -inf)
    bad = infinite[None, :, None]
    grad = select(bad, 0.0, grad) if zero_infinity else select(bad & used3, jnp.nan, grad)
    return nll, jnp.sum(grad * d_log_probs, axis=(0, 2))


# ----------------------------------------------------------------------------------------- torch face


def _ctc_example(rng: np.random.Generator):
    logits = rng.standard_normal((6, 2, 4))
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=2, keepdims=True))
    targets = rng.integers(1, 4, (2, 3))
    return (log_probs, targets, np.array([6, 5]), np.array([3, 2])), {}


def _lengths(loss: str, name: str, value, batch: int):
    """Lengths as an int32 ``(B,)`` array, plus their numpy values when given as a list or tuple (static)."""
    if isinstance(value, (list, tuple)):
        static = np.asarray(value)
        if static.size and not np.issubdtype(static.dtype, np.integer):
            raise TypeError(f"{loss}: {name} must hold integers; got {value!r}")
        static = static.reshape(-1).astype(np.int64)
        array = jnp.asarray(static, jnp.int32)
    else:
        array = V.as_int(loss, name, value)
        static = None
    if array.size != batch:
        raise ValueError(
            f"{loss}: {name} has shape {tuple(np.shape(value))}; it must hold one length per batch "
            f"element ({batch})"
        )
    return array.reshape(-1).astype(jnp.int32), static


def _padded_targets(loss, targets, target_lengths, tl_static, batch, frames):
    """torch's two target layouts -> ``(B, S)`` int32, ``S >= 1``, with the data checks torch makes."""
    if not (
        jnp.issubdtype(targets.dtype, jnp.integer)
        or jnp.issubdtype(targets.dtype, jnp.floating)
        or targets.dtype == jnp.bool_
    ):
        raise TypeError(f"{loss}: targets must have an integer dtype; got {targets.dtype}")
    targets = targets.astype(jnp.int32)  # torch casts to int64 the same way (floats truncate)
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise ValueError(
                f"{loss}: targets has shape {tuple(targets.shape)}; padded targets must be (N, S) with "
                f"N = {batch} (the batch size of log_probs)"
            )
        S = targets.shape[1]
        V.data_check(
            loss,
            lambda tl: tl <= S,
            f"target_lengths must be at most {S} (the padded length of targets)",
            target_lengths,
        )
        if tl_static is not None:  # static lengths: drop the padding no sequence reaches
            targets = targets[:, : int(tl_static.max(initial=0))]
    elif targets.ndim == 1:
        total = targets.shape[0]
        if tl_static is not None:
            if int(tl_static.sum()) != total:
                raise ValueError(
                    f"{loss}: targets has {total} entries; concatenated targets must have "
                    f"sum(target_lengths) = {int(tl_static.sum())}"
                )
            S = int(tl_static.max(initial=0))
        else:
            V.data_check(
                loss,
                lambda tl: jnp.sum(tl) == total,
                f"concatenated targets must have sum(target_lengths) entries; targets has {total}",
                target_lengths,
            )
            S = min(
                total, frames
            )  # a longer target cannot be aligned: it is inf whatever its labels
        starts = jnp.cumsum(target_lengths) - target_lengths
        index = jnp.clip(starts[:, None] + jnp.arange(S)[None, :], 0, max(total - 1, 0))
        targets = (
            jnp.take(targets, index, mode="clip") if total else jnp.zeros((batch, S), jnp.int32)
        )
    else:
        raise ValueError(
            f"{loss}: targets must be 1-D (concatenated) or 2-D (N, S) (padded); got {targets.ndim}-D "
            f"with shape {tuple(targets.shape)}"
        )
    if (
        targets.shape[1] == 0
    ):  # every target is empty: one unused position keeps the kernel's shapes
        targets = jnp.zeros((batch, 1), jnp.int32)
    return targets


@register(
    family="sequence",
    reference="torch.nn.functional.ctc_loss (torch 2.13)",
    torch="ctc_loss",
    example=_ctc_example,
    diff=(0,),
    smooth=False,  # the gradient is torch's (exp(log_probs) - posterior), not the derivative of the value
)
def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    """Connectionist temporal classification loss, torch's ``ctc_loss``.

    For each sequence, the negative log-probability of its target summed over every alignment
    :math:`\\pi` (a frame-wise path of classes that collapses to the target once repeats are merged and
    blanks removed):

    .. math:: \\ell_b = -\\log \\sum_{\\pi \\in \\mathcal{B}^{-1}(y_b)} \\prod_{t < T_b}
        \\exp(\\mathrm{log\\_probs}[t, b, \\pi_t])

    computed with the log-space forward recursion of Graves et al. (2006). ``'mean'`` divides each
    :math:`\\ell_b` by its target length (clamped to at least 1) and then averages over the batch.

    Args:
      log_probs: ``(T, N, C)`` or unbatched ``(T, C)`` log-probabilities (e.g. from ``log_softmax``;
        used as given, not normalised). Half precision is computed in float32.
      targets: padded ``(N, S)`` class indices (``(1, S)`` when unbatched), or the targets concatenated
        into one 1-D array of ``sum(target_lengths)`` entries. Integers (floats are truncated, as in torch).
      input_lengths: ``(N,)`` frames used per sequence (``()`` or ``(1,)`` when unbatched), each in
        ``[0, T]``; an array, or a Python list/tuple, which is static: then the frames and target positions
        that no sequence uses are dropped at trace time (faster).
      target_lengths: ``(N,)`` target length per sequence, as ``input_lengths``.
      blank: index of the blank class, in ``[0, C)``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
      zero_infinity: replace infinite losses (targets that cannot be aligned within their frames) and
        their gradients by 0.

    Returns:
      The loss: ``(N,)`` for ``reduction='none'`` (``()`` unbatched), else a scalar. A target that cannot be
      aligned (e.g. longer than its input) gives ``inf``, as in torch.

    Gradient: torch's. torch's backward returns ``exp(log_probs) - posterior`` on used frames (0 on the
    others), which is the gradient w.r.t. the logits of a ``log_softmax``, not the derivative of the value
    w.r.t. ``log_probs`` (``-posterior``); through a ``log_softmax`` both give the same result, and jaxloss
    returns torch's so ported code gets torch's numbers either way. As in torch, an infinite loss has a
    ``nan`` gradient on its used frames (0 with ``zero_infinity``), and so does an entry
    ``log_probs = -inf`` on a used frame. It is implemented as a ``custom_jvp``: ``grad``, ``vjp``, ``jvp``,
    ``vmap`` and ``hessian`` all work. In float32 it is closer to the float64 gradient than torch's own:
    on torch's CTC test inputs the largest absolute error against float64 is ``8.7e-6`` for jaxloss and
    ``9.7e-5`` for torch (gradients up to 2.3), so the two float32 gradients differ by about ``1e-4``
    (see *CTC gradients in float32* in ``docs/numerics.md``).

    Data errors torch raises (``input_lengths`` outside ``[0, T]``, negative ``target_lengths``, a padded
    target length above ``S``, concatenated targets of the wrong size) raise ``ValueError`` on concrete
    values; so does a target outside ``[0, C)``, which torch does not check (it reads out of bounds).
    Under ``jit`` use :func:`jaxloss.checked`; unchecked, lengths are clamped and class indices clipped.
    A target equal to ``blank`` is allowed, as in torch (it is scored with the blank's probability); when
    the *last* target equals the blank, torch's gradient for the blank on the last used frame omits the
    end-blank state's posterior (its backward assumes they differ), and so does jaxloss's.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import ctc_loss
      >>> log_probs = jnp.log(jnp.full((3, 1, 2), 0.5))  # 3 frames, 1 sequence, classes {blank, 1}
      >>> round(float(ctc_loss(log_probs, jnp.array([[1]]), [3], [1])), 4)  # -log(6 / 8)
      0.2877

    Reference: Graves et al., "Connectionist temporal classification", ICML 2006; torch's
    ``aten/src/ATen/native/LossCTC.cpp``.
    """
    name = "ctc_loss"
    R.validate_reduction(name, reduction)
    log_probs = V.as_float(name, "log_probs", log_probs)
    V.check_ndim(name, "log_probs", log_probs, (2, 3))
    batched = log_probs.ndim == 3
    if not batched:
        log_probs = log_probs[:, None, :]
    T, B, C = log_probs.shape
    if T == 0 or B == 0 or C == 0:
        raise ValueError(f"{name}: log_probs must not be empty; got shape {tuple(log_probs.shape)}")
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < C:
        raise ValueError(
            f"{name}: blank must be an int in [0, {C}) (the classes of log_probs); got {blank!r}"
        )
    if not isinstance(zero_infinity, (bool, np.bool_)):
        raise TypeError(f"{name}: zero_infinity must be a bool; got {zero_infinity!r}")
    targets = V.as_array(name, "targets", targets)
    input_lengths, il_static = _lengths(name, "input_lengths", input_lengths, B)
    target_lengths, tl_static = _lengths(name, "target_lengths", target_lengths, B)
    V.data_check(
        name,
        lambda il: (il >= 0) & (il <= T),
        f"input_lengths must be in [0, {T}] (the frames of log_probs)",
        input_lengths,
    )
    V.data_check(name, lambda tl: tl >= 0, "target_lengths must be >= 0", target_lengths)
    targets = _padded_targets(name, targets, target_lengths, tl_static, B, T)
    S = targets.shape[1]
    V.data_check(
        name,
        lambda tg, tl: (jnp.arange(S)[None, :] >= tl[:, None]) | ((tg >= 0) & (tg < C)),
        f"targets must be class indices in [0, {C})",
        targets,
        target_lengths,
    )
    # torch accepts these (a blank target is scored as the blank; too long a target gives inf), so they
    # are only reported under jaxloss.checked.
    V.checked_only(
        name,
        lambda tg, tl: (jnp.arange(S)[None, :] >= tl[:, None]) | (tg != blank),
        f"targets contain the blank index {blank}",
        targets,
        target_lengths,
    )
    V.checked_only(
        name,
        lambda il, tl: tl <= il,
        "a target is longer than its input (target_lengths > input_lengths): the loss is inf",
        input_lengths,
        target_lengths,
    )
    out_dtype = V.result_dtype(log_probs)
    log_probs = log_probs.astype(V.compute_dtype(out_dtype))
    if il_static is not None:  # static lengths: frames no sequence uses are dropped
        log_probs = log_probs[: max(int(il_static.max()), 1)]
    input_lengths = jnp.clip(input_lengths, 0, log_probs.shape[0])
    target_lengths = jnp.maximum(target_lengths, 0)
    nll = _torch_ctc_nll(
        log_probs, targets, input_lengths, target_lengths, int(blank), bool(zero_infinity)
    )
    if reduction == "mean":
        out = R.per_sample_mean(nll, target_lengths)
    else:
        out = R.reduce(nll, reduction)
        if reduction == "none" and not batched:
            out = out[0]
    return out.astype(out_dtype)


# ----------------------------------------------------------------------------------------- optax faces


def _optax_example(rng: np.random.Generator):
    logits = rng.standard_normal((2, 6, 4))
    logit_paddings = np.array([[0.0] * 6, [0.0] * 5 + [1.0]])
    labels = rng.integers(1, 4, (2, 3))
    label_paddings = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return (logits, logit_paddings, labels, label_paddings), {}


def _optax_init(log_eps, B, N, dtype):
    """optax's forward variables before the first frame: 0 for blank 0, ``log_epsilon`` for every other."""
    return (
        select(jnp.arange(N + 1) == 0, 0.0, log_eps)[None].repeat(B, 0).astype(dtype),
        jnp.broadcast_to(log_eps, (B, N)).astype(dtype),
    )


def _optax_end(end_blank, end_label, label_lengths, *, want_share):
    """``log Z`` of optax's recursion: ``lse(blank L, label L - 1)`` after the last frame (blank 0 when
    ``L = 0``), the share of its blank term (or ``None``), and whether ``L`` is in ``[0, N]``."""
    N = end_label.shape[1]
    valid = (label_lengths >= 0) & (label_lengths <= N)
    end_b, end_l = _final_pair(end_blank, end_label, jnp.clip(label_lengths, 0, N))
    if want_share:
        log_z, share = _lse2_share(end_b, end_l)
    else:
        log_z, share = _lse2(end_b, end_l), None
    return log_z, share, valid


def _optax_ctc_nll(emit_blank, emit_label, repeat, keep, log_eps, label_lengths):
    """optax's per-sequence CTC loss (``(B,)``, 0 where the label length is outside ``[0, N]``) from the
    emissions: ``emit_blank (T, B)``, ``emit_label (T, B, N)`` (log-probabilities), ``repeat (B, N)`` (see
    :func:`_repeats`), ``keep (T, B)`` (optax's float padding indicators), the scalar ``log_eps`` and
    ``label_lengths (B,)``. The value only; :func:`_optax_occupancies` gives its derivative.
    """
    B, N = repeat.shape
    init = _optax_init(log_eps, B, N, emit_label.dtype)
    end_blank, end_label, _ = _ctc_scan(emit_blank, emit_label, repeat, keep, init, log_eps=log_eps)
    log_z, _, valid = _optax_end(end_blank, end_label, label_lengths, want_share=False)
    return select(valid, -log_z, 0.0)


def _optax_occupancies(emit_blank, emit_label, repeat, keep, log_eps, label_lengths):
    """:func:`_optax_ctc_nll` and its derivative w.r.t. the emissions: minus the posterior occupancy of the
    blank states (summed, ``(T, B)``) and of each label state (``(T, B, N)``).

    The forward scan records the share of each log-sum-exp's first term; :func:`_optax_ctc_adjoint` turns
    them into the occupancies with multiply-adds. This is the derivative of the value (the one autodiff
    of optax's scan gives).
    """
    B, N = repeat.shape
    dtype = emit_label.dtype
    init = _optax_init(log_eps, B, N, dtype)
    end_blank, end_label, shares = _ctc_scan(
        emit_blank, emit_label, repeat, keep, init, log_eps=log_eps, record="shares"
    )
    log_z, share, valid = _optax_end(end_blank, end_label, label_lengths, want_share=True)
    nll = select(valid, -log_z, 0.0)
    share = select(valid, share, 0.0)
    at_end = jnp.arange(N + 1)[None, :] == label_lengths[:, None]
    seed_blank = select(at_end, share[:, None], 0.0).astype(dtype)
    # label L - 1 (column L - 1 of the labels) takes the rest; nothing when L = 0 or L is invalid
    seed_label = select(at_end[:, 1:] & valid[:, None], (1.0 - share)[:, None], 0.0).astype(dtype)
    occ_blank, occ_label = _optax_ctc_adjoint(shares, keep, seed_blank, seed_label, emit_label)
    return nll, occ_blank, occ_label


def _optax_emissions(log_probs, labels, blank_id, dtype):
    """``emit_blank (T, B)`` and ``emit_label (T, B, N)`` in ``dtype`` from ``log_probs (B, T, K)``; a
    label outside ``[0, K)`` emits 0 (optax's one-hot of it is all zeros)."""
    K = log_probs.shape[2]
    in_range = (labels >= 0) & (labels < K)
    emit_label = select(in_range, _gather_targets(log_probs, labels, 0), 0.0).astype(dtype)
    return jnp.transpose(log_probs[:, :, blank_id]).astype(dtype), emit_label, in_range


@functools.partial(jax.custom_jvp, nondiff_argnums=(5, 6))
def _optax_ctc_logits_nll(logits, keep, labels, log_eps, label_lengths, blank_id, dtype):
    """optax's ``ctc_loss`` (``(B,)``, in ``dtype``) from ``logits (B, T, K)`` (float32 or wider),
    ``keep (T, B)`` (float padding indicators), ``labels (B, N)`` int32, the scalar ``log_eps`` and
    ``label_lengths (B,)``. Differentiable in ``logits`` (see :func:`_optax_ctc_logits_nll_jvp`);
    ``keep`` and ``log_eps`` get no tangent.
    """
    emit_blank, emit_label, _ = _optax_emissions(
        jax.nn.log_softmax(logits, axis=-1), labels, blank_id, dtype
    )
    return _optax_ctc_nll(emit_blank, emit_label, _repeats(labels), keep, log_eps, label_lengths)


@_optax_ctc_logits_nll.defjvp
def _optax_ctc_logits_nll_jvp(blank_id, dtype, primals, tangents):
    """The derivative w.r.t. the logits, in one pass: ``softmax * total - occupancy`` per class, where
    ``occupancy`` is the posterior occupancy of the class (its label states and, for the blank, the blank
    states) and ``total`` its sum over the classes, at each frame.

    That is what autodiff gives through optax's ``log_softmax`` (``g - softmax * sum(g)`` with ``g`` minus
    the occupancy), without its separate passes over ``(B, T, K)`` (scatter, transpose, reduction,
    product). The tangent is linear in the logits' tangent, so reverse mode transposes it; its own
    derivative (a Hessian-vector product) is taken by autodiff.
    """
    logits, keep, labels, log_eps, label_lengths = primals
    d_logits = tangents[0]
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    emit_blank, emit_label, in_range = _optax_emissions(log_probs, labels, blank_id, dtype)
    nll, occ_blank, occ_label = _optax_occupancies(
        emit_blank, emit_label, _repeats(labels), keep, log_eps, label_lengths
    )
    occ_label = select(in_range, occ_label, 0.0)  # optax's one-hot: no gradient out of range
    total = jnp.transpose(occ_blank + jnp.sum(occ_label, axis=2))  # (B, T)
    log_probs = log_probs.astype(dtype)
    occupancy = jnp.transpose(_scatter_targets(occ_label, labels, log_probs.shape[2]), (0, 2, 1))
    occupancy = occupancy.at[:, :, blank_id].add(jnp.transpose(occ_blank))
    grad = jnp.exp(log_probs) * total[:, :, None] - occupancy
    return nll, jnp.sum(grad * d_logits.astype(dtype), axis=(1, 2))


def _optax_ctc_adjoint(shares, keep, seed_blank, seed_label, spare):
    """Reverse scan of optax's recursion (``log_epsilon`` transitions, blended paddings).

    ``seed_*`` is the derivative of ``log Z`` w.r.t. the forward variables after the last frame. Returns
    the derivative of ``log Z`` w.r.t. ``emit_blank`` ``(T, B)`` and ``emit_label`` ``(T, B, N)``: the
    posterior occupancy of the blank states (summed) and of each label state, scaled by ``1 - pad`` on
    each frame. Only multiply-adds. ``spare``: as in :func:`_ctc_adjoint`.
    """
    share_q, share_e, share_u = shares

    def step(carry, frame):
        c_blank, c_label = carry  # d log Z / d forward variables after this frame (after the blend)
        s_q, s_e, s_u, pad = frame
        p = pad[:, None]
        g_q = (1.0 - p) * c_blank  # d / d q = d / d emit_blank (per blank state)
        g_u = (1.0 - p) * c_label  # d / d u = d / d emit_label
        g_entry = g_u * s_u
        g_q_blank = g_q * s_q
        g_e_blank = g_entry * s_e
        prev_blank = p * c_blank + g_q_blank + _shift_out(g_e_blank)
        # label n feeds blank n + 1 (q) and label n + 1 (entry, the skip); the entry's column 0 has none
        prev_label = (
            p * c_label
            + (g_u - g_entry)
            + (g_q - g_q_blank)[:, 1:]
            + _shift_out((g_entry - g_e_blank)[:, 1:])
        )
        return (prev_blank, prev_label), _record_occupancy(*carry)

    dtype = seed_blank.dtype
    _, (c_blank, c_label) = _scan_into(
        step,
        (seed_blank, seed_label),
        (share_q, share_e, share_u, keep),
        (_frames_buffer(keep.shape, dtype, 4.0), spare),
        reverse=True,
    )
    unpadded = 1.0 - keep
    return unpadded * c_blank, unpadded[:, :, None] * c_label


def _optax_ctc(
    loss, logits, logit_paddings, labels, label_paddings, blank_id, log_epsilon, history
):
    """Shared body of the optax faces: ``(loss (B,), logalpha_blank (T, B, N+1), logalpha_label (T, B, N))``."""
    logits = V.as_float(loss, "logits", logits)
    V.check_ndim(loss, "logits", logits, (3,))
    labels = V.as_array(loss, "labels", labels)
    V.check_ndim(loss, "labels", labels, (2,))
    label_paddings = V.as_array(loss, "label_paddings", label_paddings)
    logit_paddings = V.as_array(loss, "logit_paddings", logit_paddings)
    V.check_same_shape(loss, "label_paddings", label_paddings, "labels", labels)
    B, T, K = logits.shape
    if logit_paddings.shape != (B, T):
        raise ValueError(
            f"{loss}: logit_paddings has shape {tuple(logit_paddings.shape)}; for logits of shape "
            f"{tuple(logits.shape)} it must be {(B, T)}"
        )
    if labels.shape[0] != B:
        raise ValueError(
            f"{loss}: labels has shape {tuple(labels.shape)}; its batch size must be {B} (that of logits)"
        )
    if (
        isinstance(blank_id, bool)
        or not isinstance(blank_id, (int, np.integer))
        or not 0 <= blank_id < K
    ):
        raise ValueError(
            f"{loss}: blank_id must be an int in [0, {K}) (the classes of logits); got {blank_id!r}"
        )
    N = labels.shape[1]
    labels = labels.astype(jnp.int32)
    # optax's forward variables start from arrays of the default float dtype, so the recursion runs in
    # float64 under jax_enable_x64 whatever the logits' dtype: the same here.
    dtype = jnp.promote_types(logits.dtype, jax.dtypes.canonicalize_dtype(jnp.float64))
    if logits.dtype in V.HALF_DTYPES:
        logits = logits.astype(
            jnp.float32
        )  # optax takes log_softmax in half precision; float32 here
    log_eps = jnp.asarray(log_epsilon, dtype)
    keep = jnp.transpose(logit_paddings).astype(dtype)
    label_lengths = N - jnp.sum(label_paddings, axis=1).astype(jnp.int32)
    if history:  # every forward variable is an output: differentiate the scan
        emit_blank, emit_label, _ = _optax_emissions(
            jax.nn.log_softmax(logits, axis=-1), labels, blank_id, dtype
        )
        end_blank, end_label, (blank_states, label_states) = _ctc_scan(
            emit_blank,
            emit_label,
            _repeats(labels),
            keep,
            _optax_init(log_eps, B, N, dtype),
            log_eps=log_eps,
            record="states",
        )
        # the last frame's blank variables also take the label before them, with weight 1
        last_blank = jnp.concatenate([end_blank[:, :1], _lse2(end_blank[:, 1:], end_label)], axis=1)
        log_z, _, valid = _optax_end(end_blank, end_label, label_lengths, want_share=False)
        nll = select(valid, -log_z, 0.0)  # optax reads it through a one-hot, 0 out of range
    else:  # the loss alone: a hand-written derivative (custom_jvp)
        nll = _optax_ctc_logits_nll(
            logits, keep, labels, log_eps, label_lengths, int(blank_id), dtype
        )
    # float32 rounding can leave optax's loss slightly below 0 for a near-certain target: clamp the value
    # (not the gradient) at 0, where the exact loss is.
    nll = nll + lax.stop_gradient(jnp.maximum(nll, 0.0) - nll)
    if not history:
        return nll, None, None
    return nll, blank_states.at[-1].set(last_blank), label_states


@register(
    family="sequence",
    reference="optax.losses.ctc_loss_with_forward_probs (optax 0.2.8)",
    optax="ctc_loss_with_forward_probs",
    example=_optax_example,
    namespace="optax_losses",
    name="ctc_loss_with_forward_probs",
)
def optax_ctc_loss_with_forward_probs(
    logits, logit_paddings, labels, label_paddings, *, blank_id=0, log_epsilon=-1e5
):
    """CTC loss and forward probabilities, optax's ``ctc_loss_with_forward_probs``.

    optax's CTC: ``log_softmax`` of ``logits``, then the CTC forward recursion (Graves et al., 2006) in
    which ``log_epsilon`` stands for ``log(0)``: the start of every state but the first, and the skip
    between two equal consecutive labels (which exact CTC forbids), get log-weight ``log_epsilon``.

    .. math:: \\ell_b = -\\log \\alpha_{\\mathrm{BLANK}}(T_b, L_b)

    where :math:`\\alpha_{\\mathrm{BLANK}}(t, n)` sums the alignments of the first :math:`t` frames that
    have emitted :math:`n` labels and end on a blank or, at the last frame, on label :math:`n`.

    Args:
      logits: ``(B, T, K)`` logits, blank included.
      logit_paddings: ``(B, T)``, 1.0 on padded frames and 0.0 elsewhere (padded frames are skipped;
        other values are blended as optax blends them).
      labels: ``(B, N)`` integer labels.
      label_paddings: ``(B, N)``, 1.0 on padded labels; right-padded (optax reads the label length as
        ``N - sum(label_paddings)``).
      blank_id: the blank's class index, in ``[0, K)``.
      log_epsilon: the stand-in for ``log(0)``.

    Returns:
      ``(loss, logalpha_blank, logalpha_label)``: ``(B,)`` losses and the ``(T, B, N + 1)`` and
      ``(T, B, N)`` log forward variables, exactly as optax returns them.

    Differences from optax (documented, deliberate): a loss that float32 rounding would leave slightly
    below 0 is 0 (value only; the gradient is optax's). Half-precision ``logits`` take their
    ``log_softmax`` in float32. Labels outside ``[0, K)`` score 0, as optax's one-hot gives them.
    The output dtype is optax's: the recursion runs in the default float dtype (float64 under
    ``jax_enable_x64``) or in ``logits``' dtype if wider.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ctc_loss_with_forward_probs
      >>> logits = jnp.zeros((1, 3, 2))  # uniform over {blank, 1}
      >>> loss, alpha_blank, alpha_label = ctc_loss_with_forward_probs(
      ...     logits, jnp.zeros((1, 3)), jnp.array([[1]]), jnp.zeros((1, 1)))
      >>> round(float(loss[0]), 4), alpha_blank.shape, alpha_label.shape  # -log(6 / 8)
      (0.2877, (3, 1, 2), (3, 1, 1))

    Reference: optax ``optax/losses/_classification.py`` (0.2.8); Graves et al., ICML 2006.
    """
    return _optax_ctc(
        "ctc_loss_with_forward_probs",
        logits,
        logit_paddings,
        labels,
        label_paddings,
        blank_id,
        log_epsilon,
        True,
    )


@register(
    family="sequence",
    reference="optax.losses.ctc_loss (optax 0.2.8)",
    optax="ctc_loss",
    example=_optax_example,
    namespace="optax_losses",
    name="ctc_loss",
)
def optax_ctc_loss(logits, logit_paddings, labels, label_paddings, *, blank_id=0, log_epsilon=-1e5):
    """CTC loss per sequence, optax's ``ctc_loss``; see :func:`optax_ctc_loss_with_forward_probs`.

    .. math::

        \\ell = -\\log \\sum_{\\pi \\in \\mathcal{B}^{-1}(y)}
        \\prod_t \\operatorname{softmax}(x_t)_{\\pi_t}

    Args:
      logits: ``(B, T, K)`` logits, blank included.
      logit_paddings: ``(B, T)``, 1.0 on padded frames.
      labels: ``(B, N)`` integer labels.
      label_paddings: ``(B, N)``, 1.0 on (right-)padded labels.
      blank_id: the blank's class index.
      log_epsilon: the stand-in for ``log(0)``.

    Returns:
      ``(B,)`` losses (clamped at 0 where float32 rounding would make optax's slightly negative).

    Gradient: optax's, w.r.t. ``logits`` (through the ``log_softmax``), from a hand-written reverse pass
    and one fused pass for the ``log_softmax`` (a ``custom_jvp``, so ``grad``, ``jvp``, ``vmap`` and
    ``hessian`` work) instead of autodiff through the scan: about 0.6x optax's time for forward plus
    backward on CPU at T=200 and 0.45x at T=1000 (``benchmarks/ctc_timing.py``). ``logit_paddings`` and
    ``log_epsilon`` get no gradient (optax's autodiff would give one if they were traced).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ctc_loss
      >>> loss = ctc_loss(jnp.zeros((1, 3, 2)), jnp.zeros((1, 3)), jnp.array([[1]]), jnp.zeros((1, 1)))
      >>> round(float(loss[0]), 4)  # -log(6 / 8)
      0.2877

    Reference: optax.losses.ctc_loss (optax 0.2.8).
    """
    return _optax_ctc(
        "ctc_loss", logits, logit_paddings, labels, label_paddings, blank_id, log_epsilon, False
    )[0]
