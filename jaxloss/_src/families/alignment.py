"""Preference-alignment losses for language models (the TRL family): DPO and its variants, SimPO, CPO, ORPO
and KTO, from per-sequence log-probabilities.

Shapes: ``B`` is the number of sequences (pairs for DPO/SimPO/CPO/ORPO); every log-probability input is
``(B,)`` (any shape works, as long as the inputs of one call share it). ``reduction`` (``'mean'`` default,
``'sum'``, ``'none'``) acts on the per-example losses. :func:`sequence_log_probs` turns token logits
``(B, T, V)`` and labels ``(B, T)`` into the per-sequence sums (DPO, CPO, KTO) or means (SimPO, ORPO, IPO in
TRL) these losses take.

The formulas and defaults are those of TRL's trainers (``DPOTrainer.dpo_loss``, ``CPOTrainer.cpo_loss``,
``ORPOTrainer.odds_ratio_loss``, ``KTOTrainer.kto_loss``), which follow the papers cited in each function.
With ``return_rewards=True`` a loss also returns TRL's implicit rewards ``(loss, chosen_rewards,
rejected_rewards)``, per example and ``stop_gradient``-ed (TRL's ``.detach()``), for logging.

Half-precision inputs are computed in float32 and the result cast back.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import register

__all__ = ["cpo_loss", "dpo_loss", "kto_loss", "orpo_loss", "sequence_log_probs", "simpo_loss"]

_TRL = "TRL"
DPO_LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo")
CPO_LOSS_TYPES = ("sigmoid", "hinge", "ipo")


# ----------------------------------------------------------------------------------------------------------
# Argument handling.


def _logps(name: str, *named: tuple[str, object]):
    """Convert log-probability arrays that must share the first one's shape; returns (arrays, out_dtype)."""
    arrays = [V.as_float(name, arg, x) for arg, x in named]
    for (arg, _), a in zip(named[1:], arrays[1:]):
        V.check_same_shape(name, arg, a, named[0][0], arrays[0])
    out_dtype = V.result_dtype(*arrays)
    cdt = V.compute_dtype(out_dtype)
    return [a.astype(cdt) for a in arrays], out_dtype


def _check_beta(name: str, beta) -> None:
    V.check_option(
        name,
        "beta",
        beta,
        isinstance(beta, (int, float, np.floating)) and not isinstance(beta, bool) and beta > 0,
        "a positive number",
    )


def _check_smoothing(name: str, label_smoothing, loss_type: str) -> None:
    V.check_real(name, "label_smoothing", label_smoothing)
    if loss_type == "robust":
        V.check_option(
            name,
            "label_smoothing",
            label_smoothing,
            0 <= label_smoothing < 0.5,
            "in [0, 0.5) for loss_type='robust' (it divides by 1 - 2 * label_smoothing)",
        )
    elif loss_type == "sigmoid":
        V.check_option(
            name, "label_smoothing", label_smoothing, 0 <= label_smoothing <= 0.5, "in [0, 0.5]"
        )
    else:
        V.check_option(
            name,
            "label_smoothing",
            label_smoothing,
            label_smoothing == 0,
            f"0 for loss_type={loss_type!r} (only 'sigmoid' and 'robust' smooth labels)",
        )


def _check_loss_type(name: str, loss_type, allowed: tuple[str, ...]) -> None:
    V.check_option(
        name,
        "loss_type",
        loss_type,
        loss_type in allowed,
        "one of " + ", ".join(map(repr, allowed)),
    )


def _policy_logps(name: str, reduction: str, beta, chosen, rejected):
    """The checks and the ``(B,)`` policy log-probabilities every preference loss starts with."""
    R.validate_reduction(name, reduction)
    _check_beta(name, beta)
    return _logps(name, ("policy_chosen_logps", chosen), ("policy_rejected_logps", rejected))


def _nll(name: str, policy_nll_loss, like: jax.Array):
    """The NLL term: ``None`` (none), a scalar, or one value per example."""
    if policy_nll_loss is None:
        return None, like.dtype
    nll = V.as_float(name, "policy_nll_loss", policy_nll_loss)
    if nll.ndim != 0 and nll.shape != like.shape:
        raise ValueError(
            f"{name}: policy_nll_loss has shape {tuple(nll.shape)}; it must be a scalar or have the shape of "
            f"policy_chosen_logps {tuple(like.shape)}"
        )
    return nll, nll.dtype


def _with_nll(name: str, policy_nll_loss, pc: jax.Array, pr: jax.Array, out_dtype):
    """``(pc, pr, nll, out_dtype)`` promoted with the NLL term's dtype (``nll`` is ``None`` or cast)."""
    nll, nll_dtype = _nll(name, policy_nll_loss, pc)
    out_dtype = jnp.promote_types(out_dtype, nll_dtype)
    cdt = V.compute_dtype(out_dtype)
    nll = None if nll is None else nll.astype(cdt)
    return pc.astype(cdt), pr.astype(cdt), nll, out_dtype


def _finish(losses, reduction, out_dtype, rewards=None):
    loss = R.reduce(losses, reduction).astype(out_dtype)
    if rewards is None:
        return loss
    chosen, rejected = (jax.lax.stop_gradient(r).astype(out_dtype) for r in rewards)
    return loss, chosen, rejected


# ----------------------------------------------------------------------------------------------------------
# Kernels.


def _preference(
    logits: jax.Array, beta: float, loss_type: str, label_smoothing: float
) -> jax.Array:
    """TRL's per-pair preference losses of the (reference-corrected) log-ratio ``logits``."""
    if loss_type == "sigmoid":  # DPO eq. 7; cDPO with label_smoothing
        return (
            -jax.nn.log_sigmoid(beta * logits) * (1 - label_smoothing)
            - jax.nn.log_sigmoid(-beta * logits) * label_smoothing
        )
    if loss_type == "robust":  # Chowdhury et al. 2024, eq. 8: unbiased under flipped labels
        return (
            -jax.nn.log_sigmoid(beta * logits) * (1 - label_smoothing)
            + jax.nn.log_sigmoid(-beta * logits) * label_smoothing
        ) / (1 - 2 * label_smoothing)
    if loss_type == "hinge":  # SLiC (Zhao et al. 2023)
        return jax.nn.relu(1 - beta * logits)
    # IPO (Azar et al. 2023, eq. 17), beta is the regulariser tau
    return (logits - 1 / (2 * beta)) ** 2


def _log1mexp(x: jax.Array) -> jax.Array:
    """``log(1 - exp(x))`` for ``x < 0``, accurate near 0 (Maechler 2012): ``log(-expm1(x))`` above ``-log 2``."""
    near_zero = x > -math.log(2.0)
    safe_near = jnp.where(
        near_zero, x, -1.0
    )  # double where: each branch sees only its own, finite, inputs
    safe_far = jnp.where(near_zero, -1.0, x)
    return jnp.where(near_zero, jnp.log(-jnp.expm1(safe_near)), jnp.log1p(-jnp.exp(safe_far)))


# ----------------------------------------------------------------------------------------------------------
# Examples for the registry.


def _pair_example(rng: np.random.Generator):
    return tuple(-rng.uniform(5.0, 30.0, 4) for _ in range(4)), {}


def _average_pair_example(rng: np.random.Generator):
    return (-rng.uniform(0.2, 3.0, 4), -rng.uniform(0.2, 3.0, 4)), {}


def _cpo_example(rng: np.random.Generator):
    return (-rng.uniform(5.0, 30.0, 4), -rng.uniform(5.0, 30.0, 4), rng.uniform(0.5, 3.0, 4)), {}


def _orpo_example(rng: np.random.Generator):
    return (-rng.uniform(0.2, 3.0, 4), -rng.uniform(0.2, 3.0, 4), rng.uniform(0.5, 3.0, 4)), {}


def _kto_example(rng: np.random.Generator):
    return (
        -rng.uniform(5, 30, 3),
        -rng.uniform(5, 30, 2),
        -rng.uniform(5, 30, 3),
        -rng.uniform(5, 30, 2),
        np.array(0.3),
    ), {"desirable_weight": 1.0, "undesirable_weight": 1.33}


def _sequence_example(rng: np.random.Generator):
    logits = rng.standard_normal((2, 4, 5))
    labels = rng.integers(0, 5, (2, 4))
    mask = np.array([[True, True, True, False], [False, True, True, True]])
    return (logits, labels, mask), {}


# ----------------------------------------------------------------------------------------------------------
# Sequence log-probabilities.


@register(
    family="alignment",
    reference="TRL DPOTrainer.get_batch_logps (per-sequence sum / mean of the label log-probabilities)",
    example=_sequence_example,
)
def sequence_log_probs(logits, labels, mask=None, *, average: bool = False) -> jax.Array:
    """Per-sequence log-probability of the labels: the sum (or mean) of token log-probabilities over a mask.

    .. math:: \\log \\pi(y|x) = \\sum_t m_t \\log \\mathrm{softmax}(z_t)_{y_t}, \\qquad
              \\text{average: } \\frac{\\sum_t m_t \\log \\mathrm{softmax}(z_t)_{y_t}}{\\sum_t m_t}

    This is TRL's ``get_batch_logps`` without its shift: for a decoder-only model pass
    ``logits[:, :-1]`` and ``labels[:, 1:]`` (the logits at ``t`` predict the token at ``t + 1``), and as
    ``mask`` TRL's ``labels != label_pad_token_id`` (prompt and padding tokens excluded). Labels at masked
    positions are ignored (they may be ``-100``). A sequence with an empty mask gives ``0`` for the mean
    with a zero gradient (TRL divides ``0 / 0``). The per-token log-softmax is ``z_y - logsumexp(z)``,
    so no ``(B, T, V)`` log-probability array is stored beside the logits.

    Args:
      logits: ``(B, T, V)`` (or ``(..., T, V)``) token logits.
      labels: ``(B, T)`` integer token ids in ``[0, V)`` where the mask is on (checked when called eagerly).
      mask: optional ``(B, T)`` boolean (or 0/1, or real weights) mask; default every token.
      average: mean over the mask instead of the sum (SimPO, ORPO, IPO use the mean).

    Returns:
      ``(B,)`` per-sequence log-probabilities, dtype of ``logits``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import sequence_log_probs
      >>> logits = jnp.log(jnp.array([[[0.5, 0.5], [0.25, 0.75]]]))
      >>> print(f"{float(sequence_log_probs(logits, jnp.array([[0, 1]]))[0]):.4f}")  # log(0.5 * 0.75)
      -0.9808

    Reference: TRL DPOTrainer.get_batch_logps (per-sequence sum / mean of the label log-probabilities).
    """
    name = "sequence_log_probs"
    logits = V.as_float(name, "logits", logits)
    labels = V.as_int(name, "labels", labels)
    if logits.ndim < 2:
        raise ValueError(f"{name}: logits must be (B, T, V); got shape {tuple(logits.shape)}")
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"{name}: labels has shape {tuple(labels.shape)}; for logits of shape {tuple(logits.shape)} it "
            f"must be {tuple(logits.shape[:-1])}"
        )
    out_dtype = jnp.dtype(logits.dtype)
    cdt = V.compute_dtype(out_dtype)
    vocab = logits.shape[-1]
    if mask is None:
        on = jnp.ones(labels.shape, bool)
        weights = None
    else:
        mask = V.as_array(name, "mask", mask)
        V.check_same_shape(name, "mask", mask, "labels", labels)
        on = mask != 0
        weights = mask.astype(cdt)
    V.data_check(
        name,
        lambda y, m: ~m | ((y >= 0) & (y < vocab)),
        f"labels must be in [0, {vocab}) where the mask is on",
        labels,
        on,
    )
    logits = logits.astype(cdt)
    safe_labels = jnp.where(on, labels, 0)  # TRL: labels[labels == label_pad_token_id] = 0
    picked = jnp.squeeze(jnp.take_along_axis(logits, safe_labels[..., None], axis=-1), axis=-1)
    token_logps = picked - jax.nn.logsumexp(logits, axis=-1)
    if weights is not None:
        token_logps = jnp.where(on, token_logps * weights, 0.0)
    total = jnp.sum(token_logps, axis=-1)
    if not average:
        return total.astype(out_dtype)
    count = (
        jnp.sum(weights, axis=-1)
        if weights is not None
        else jnp.full(total.shape, labels.shape[-1], cdt)
    )
    empty = count == 0
    return jnp.where(empty, 0.0, total / jnp.where(empty, 1.0, count)).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Paired preference losses.


@register(
    family="alignment",
    reference="TRL DPOTrainer.dpo_loss (Rafailov et al. 2023; cDPO; robust DPO 2403.00409; hinge; IPO 2310.12036)",
    example=_pair_example,
    diff=(0, 1, 2, 3),
)
def dpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    reference_chosen_logps=None,
    reference_rejected_logps=None,
    *,
    beta: float = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
    reference_free: bool = False,
    reduction: str = "mean",
    return_rewards: bool = False,
):
    """Direct Preference Optimization loss and its variants, from sequence log-probabilities.

    With the reference-corrected log-ratio
    :math:`h = (\\log\\pi(y_w) - \\log\\pi(y_l)) - (\\log\\pi_{ref}(y_w) - \\log\\pi_{ref}(y_l))`
    (the reference term is 0 when ``reference_free``) and :math:`\\epsilon` = ``label_smoothing``:

    .. math::
       \\text{sigmoid: } & -(1-\\epsilon)\\log\\sigma(\\beta h) - \\epsilon \\log\\sigma(-\\beta h) \\\\
       \\text{robust: } & \\big[-(1-\\epsilon)\\log\\sigma(\\beta h) + \\epsilon\\log\\sigma(-\\beta h)\\big]
                         / (1 - 2\\epsilon) \\\\
       \\text{hinge: } & \\max(0, 1 - \\beta h) \\\\
       \\text{ipo: } & (h - 1/(2\\beta))^2

    ``'sigmoid'`` with ``label_smoothing=0`` is DPO, with ``label_smoothing > 0`` conservative DPO (cDPO,
    labels flipped with probability :math:`\\epsilon`); ``'robust'`` is the unbiased robust DPO; ``'hinge'``
    is SLiC's hinge; ``'ipo'`` is IPO (TRL feeds it average log-probabilities: use
    ``sequence_log_probs(..., average=True)``). Gradients flow to every input; pass the reference
    log-probabilities as constants (or ``stop_gradient``-ed) as TRL computes them without gradient.

    Source: Rafailov et al., "Direct Preference Optimization", NeurIPS 2023 (arXiv:2305.18290), eq. 7;
    Mitchell, "A note on DPO with noisy preferences" (cDPO), 2023; Chowdhury et al., "Provably robust DPO",
    ICML 2024 (arXiv:2403.00409); Zhao et al., "SLiC-HF", 2023; Azar et al., "A general theoretical paradigm
    to understand learning from human preferences" (IPO), AISTATS 2024 (arXiv:2310.12036), eq. 17;
    TRL's ``DPOTrainer.dpo_loss`` (same names and defaults).

    Args:
      policy_chosen_logps: ``(B,)`` policy log-probabilities of the chosen responses.
      policy_rejected_logps: ``(B,)`` policy log-probabilities of the rejected responses.
      reference_chosen_logps: ``(B,)`` reference-model log-probabilities of the chosen responses
        (may be ``None`` when ``reference_free``).
      reference_rejected_logps: ``(B,)`` likewise for the rejected responses.
      beta: :math:`\\beta > 0`, the strength of the KL regularisation (IPO's :math:`\\tau`).
      loss_type: ``'sigmoid'`` (default), ``'robust'``, ``'hinge'`` or ``'ipo'``.
      label_smoothing: :math:`\\epsilon`: in ``[0, 0.5]`` for ``'sigmoid'``, ``[0, 0.5)`` for ``'robust'``,
        and ``0`` for the others (TRL ignores it there with a warning; jaxloss raises).
      reference_free: use a uniform reference (the reference term is 0).
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).
      return_rewards: also return TRL's rewards :math:`\\beta(\\log\\pi - \\log\\pi_{ref})` of the chosen and
        rejected responses, ``(B,)`` each, without gradient (``reference_free`` or missing references: the
        reference term is 0 there too).

    Returns:
      The loss (a scalar unless ``reduction='none'``); with ``return_rewards`` the tuple
      ``(loss, chosen_rewards, rejected_rewards)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import dpo_loss
      >>> pc, pr = jnp.array([-10.0, -12.0]), jnp.array([-14.0, -11.0])
      >>> rc, rr = jnp.array([-11.0, -12.0]), jnp.array([-13.0, -12.0])
      >>> print(f"{float(dpo_loss(pc, pr, rc, rr, beta=0.5)):.4f}")
      0.6437

    Reference: TRL DPOTrainer.dpo_loss (Rafailov et al. 2023; cDPO; robust DPO 2403.00409; hinge; IPO 2310.12036).
    """
    name = "dpo_loss"
    R.validate_reduction(name, reduction)
    _check_beta(name, beta)
    _check_loss_type(name, loss_type, DPO_LOSS_TYPES)
    _check_smoothing(name, label_smoothing, loss_type)
    named = [
        ("policy_chosen_logps", policy_chosen_logps),
        ("policy_rejected_logps", policy_rejected_logps),
    ]
    have_reference = reference_chosen_logps is not None or reference_rejected_logps is not None
    if have_reference:
        named += [
            ("reference_chosen_logps", reference_chosen_logps),
            ("reference_rejected_logps", reference_rejected_logps),
        ]
    elif not reference_free:
        raise ValueError(
            f"{name}: reference_chosen_logps and reference_rejected_logps are required unless "
            "reference_free=True"
        )
    arrays, out_dtype = _logps(name, *named)
    pc, pr = arrays[:2]
    rc, rr = arrays[2:] if have_reference else (jnp.zeros_like(pc), jnp.zeros_like(pr))
    pi_logratios = pc - pr
    logits = pi_logratios if reference_free else pi_logratios - (rc - rr)
    losses = _preference(logits, beta, loss_type, label_smoothing)
    rewards = (beta * (pc - rc), beta * (pr - rr)) if return_rewards else None
    return _finish(losses, reduction, out_dtype, rewards)


@register(
    family="alignment",
    reference="TRL CPOTrainer.cpo_loss with loss_type='simpo' (Meng et al. 2024, SimPO)",
    example=_average_pair_example,
    diff=(0, 1),
)
def simpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    *,
    beta: float = 0.1,
    gamma: float = 0.5,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    return_rewards: bool = False,
):
    """SimPO: a reference-free margin loss on length-normalised (average) log-probabilities.

    .. math:: \\ell = -(1-\\epsilon)\\log\\sigma(\\beta h - \\gamma) - \\epsilon\\log\\sigma(-(\\beta h - \\gamma)),
              \\quad h = \\tfrac{1}{|y_w|}\\log\\pi(y_w) - \\tfrac{1}{|y_l|}\\log\\pi(y_l)

    computed as TRL does, :math:`\\beta (h - \\gamma / \\beta)`. Pass average log-probabilities
    (``sequence_log_probs(..., average=True)``, TRL's ``average_log_prob`` for SimPO). TRL's CPOTrainer
    adds ``cpo_alpha`` times an NLL term (set ``cpo_alpha=0`` for pure SimPO); use :func:`cpo_loss` for that.

    Source: Meng, Xia & Chen, "SimPO: Simple preference optimization with a reference-free reward",
    NeurIPS 2024 (arXiv:2405.14734), eq. 6; TRL's ``CPOTrainer.cpo_loss`` with ``loss_type='simpo'``
    (defaults ``beta=0.1``, ``simpo_gamma=0.5``; the paper tunes ``beta`` in 2 to 10).

    Args:
      policy_chosen_logps: ``(B,)`` average log-probabilities of the chosen responses.
      policy_rejected_logps: ``(B,)`` average log-probabilities of the rejected responses.
      beta: :math:`\\beta > 0`, the reward scale.
      gamma: :math:`\\gamma`, the target reward margin (TRL's ``simpo_gamma``).
      label_smoothing: :math:`\\epsilon` in ``[0, 0.5]`` (conservative labels, as TRL).
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).
      return_rewards: also return TRL's rewards :math:`\\beta \\log\\pi` (chosen, rejected), ``(B,)`` each,
        without gradient.

    Returns:
      The loss (a scalar unless ``reduction='none'``); with ``return_rewards``
      ``(loss, chosen_rewards, rejected_rewards)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import simpo_loss
      >>> print(f"{float(simpo_loss(jnp.array([-0.5]), jnp.array([-1.5]), beta=2.0, gamma=1.0)):.4f}")
      0.3133

    Reference: TRL CPOTrainer.cpo_loss with loss_type='simpo' (Meng et al. 2024, SimPO).
    """
    name = "simpo_loss"
    V.check_real(name, "gamma", gamma)
    _check_smoothing(name, label_smoothing, "sigmoid")
    (pc, pr), out_dtype = _policy_logps(
        name, reduction, beta, policy_chosen_logps, policy_rejected_logps
    )
    logits = (pc - pr) - gamma / beta
    losses = _preference(logits, beta, "sigmoid", label_smoothing)
    rewards = (beta * pc, beta * pr) if return_rewards else None
    return _finish(losses, reduction, out_dtype, rewards)


@register(
    family="alignment",
    reference="TRL CPOTrainer.cpo_loss + cpo_alpha * NLL (Xu et al. 2024, CPO)",
    example=_cpo_example,
    diff=(0, 1, 2),
)
def cpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    policy_nll_loss=None,
    *,
    beta: float = 0.1,
    alpha: float = 1.0,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    return_rewards: bool = False,
):
    """Contrastive Preference Optimization: a reference-free preference term plus a behaviour-cloning NLL.

    .. math:: \\ell = \\ell_{pref}(\\log\\pi(y_w) - \\log\\pi(y_l)) + \\alpha\\, \\mathrm{NLL}(y_w)

    with :math:`\\ell_{pref}` as in :func:`dpo_loss` without a reference (``'sigmoid'``, ``'hinge'``,
    ``'ipo'``). The NLL term is an input (``policy_nll_loss``): TRL's is the token-mean cross-entropy of
    the chosen responses over the batch, a scalar, which this adds to every example (so ``'mean'`` equals
    TRL's ``losses.mean() + cpo_alpha * policy_nll_loss``); a ``(B,)`` array gives one NLL per example
    (e.g. ``-policy_chosen_logps``, the paper's sum form). ``None`` leaves the NLL out.

    Source: Xu et al., "Contrastive preference optimization: pushing the boundaries of LLM performance in
    machine translation", ICML 2024 (arXiv:2401.08417), eq. 3 and 4; TRL's ``CPOTrainer`` (``beta=0.1``,
    ``cpo_alpha=1.0``).

    Args:
      policy_chosen_logps: ``(B,)`` log-probabilities of the chosen responses.
      policy_rejected_logps: ``(B,)`` log-probabilities of the rejected responses.
      policy_nll_loss: the NLL term: ``None``, a scalar, or ``(B,)``.
      beta: :math:`\\beta > 0`.
      alpha: weight of the NLL term (TRL's ``cpo_alpha``).
      loss_type: ``'sigmoid'`` (default), ``'hinge'`` or ``'ipo'``.
      label_smoothing: in ``[0, 0.5]`` for ``'sigmoid'``; ``0`` otherwise.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).
      return_rewards: also return TRL's rewards :math:`\\beta \\log\\pi` (chosen, rejected), without gradient.

    Returns:
      The loss (a scalar unless ``reduction='none'``); with ``return_rewards``
      ``(loss, chosen_rewards, rejected_rewards)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import cpo_loss
      >>> print(f"{float(cpo_loss(jnp.array([-10.0]), jnp.array([-14.0]), jnp.array(1.5))):.4f}")
      2.0130

    Reference: TRL CPOTrainer.cpo_loss + cpo_alpha * NLL (Xu et al. 2024, CPO).
    """
    name = "cpo_loss"
    V.check_real(name, "alpha", alpha)
    _check_loss_type(name, loss_type, CPO_LOSS_TYPES)
    _check_smoothing(name, label_smoothing, loss_type)
    (pc, pr), out_dtype = _policy_logps(
        name, reduction, beta, policy_chosen_logps, policy_rejected_logps
    )
    pc, pr, nll, out_dtype = _with_nll(name, policy_nll_loss, pc, pr, out_dtype)
    losses = _preference(pc - pr, beta, loss_type, label_smoothing)
    if nll is not None:
        losses = losses + alpha * nll
    rewards = (beta * pc, beta * pr) if return_rewards else None
    return _finish(losses, reduction, out_dtype, rewards)


@register(
    family="alignment",
    reference="TRL ORPOTrainer.odds_ratio_loss (Hong et al. 2024, ORPO)",
    example=_orpo_example,
    diff=(0, 1, 2),
)
def orpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    policy_nll_loss=None,
    *,
    beta: float = 0.1,
    reduction: str = "mean",
    return_rewards: bool = False,
):
    """ORPO: supervised NLL plus an odds-ratio preference term on average log-probabilities.

    .. math:: \\ell = \\mathrm{NLL}(y_w) - \\beta \\log\\sigma\\Big(\\log\\frac{\\mathrm{odds}(y_w)}
              {\\mathrm{odds}(y_l)}\\Big), \\quad
              \\log\\mathrm{odds}(y) = \\log p(y) - \\log(1 - p(y))

    with :math:`\\log p` the average log-probability of a response (``sequence_log_probs(...,
    average=True)``, as TRL). TRL's ``ORPOTrainer`` reports ``policy_nll_loss - mean(beta * log sigmoid(log
    odds ratio))``; ``policy_nll_loss`` (``None``, a scalar added to each example, or ``(B,)``) is the
    input here. :math:`\\log(1 - e^x)` is computed as ``log(-expm1(x))`` near 0 (TRL writes
    ``log1p(-exp(x))``, which loses digits there). Average log-probabilities must be ``< 0`` (checked when
    called eagerly).

    Source: Hong, Lee & Thorne, "ORPO: Monolithic preference optimization without reference model", EMNLP
    2024 (arXiv:2403.07691), eq. 6 and 7; TRL's ``ORPOTrainer`` (``beta=0.1``, the paper's :math:`\\lambda`).

    Args:
      policy_chosen_logps: ``(B,)`` average log-probabilities of the chosen responses (``< 0``).
      policy_rejected_logps: ``(B,)`` average log-probabilities of the rejected responses (``< 0``).
      policy_nll_loss: the NLL term: ``None``, a scalar, or ``(B,)``.
      beta: :math:`\\beta > 0`, the weight of the odds-ratio term.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).
      return_rewards: also return TRL's rewards :math:`\\beta \\log p` (chosen, rejected), without gradient.

    Returns:
      The loss (a scalar unless ``reduction='none'``); with ``return_rewards``
      ``(loss, chosen_rewards, rejected_rewards)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import orpo_loss
      >>> print(f"{float(orpo_loss(jnp.array([-0.5]), jnp.array([-1.5]), jnp.array(0.8))):.4f}")
      0.8171

    Reference: TRL ORPOTrainer.odds_ratio_loss (Hong et al. 2024, ORPO).
    """
    name = "orpo_loss"
    (pc, pr), out_dtype = _policy_logps(
        name, reduction, beta, policy_chosen_logps, policy_rejected_logps
    )
    for arg, x in (("policy_chosen_logps", pc), ("policy_rejected_logps", pr)):
        V.data_check(
            name,
            lambda v: v < 0,
            f"{arg} must be < 0 (average log-probabilities; odds need p < 1)",
            x,
        )
    pc, pr, nll, out_dtype = _with_nll(name, policy_nll_loss, pc, pr, out_dtype)
    log_odds = (pc - pr) - (_log1mexp(pc) - _log1mexp(pr))
    losses = -beta * jax.nn.log_sigmoid(log_odds)
    if nll is not None:
        losses = losses + nll
    rewards = (beta * pc, beta * pr) if return_rewards else None
    return _finish(losses, reduction, out_dtype, rewards)


@register(
    family="alignment",
    reference="TRL KTOTrainer.kto_loss (Ethayarajh et al. 2024, KTO)",
    example=_kto_example,
    diff=(0, 1, 2, 3),
)
def kto_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    reference_chosen_logps,
    reference_rejected_logps,
    kl,
    *,
    beta: float = 0.1,
    desirable_weight: float = 1.0,
    undesirable_weight: float = 1.0,
    reduction: str = "mean",
    return_rewards: bool = False,
):
    """Kahneman-Tversky Optimization: unpaired desirable / undesirable examples against a KL reference point.

    With :math:`r = \\log\\pi(y) - \\log\\pi_{ref}(y)` and the reference point
    :math:`z_0 = \\max(0, \\mathrm{kl})` (no gradient):

    .. math:: \\ell_{desirable} = \\lambda_D \\big(1 - \\sigma(\\beta (r - z_0))\\big), \\qquad
              \\ell_{undesirable} = \\lambda_U \\big(1 - \\sigma(\\beta (z_0 - r))\\big)

    The per-example losses are the desirable ones followed by the undesirable ones,
    ``(N_d + N_u,)``, and ``'mean'`` averages them all (TRL's ``torch.cat`` then mean). Either group may be
    empty. ``kl`` is TRL's estimate ``mean(policy_KL_logps - reference_KL_logps)`` over mismatched
    prompt/completion pairs (gathered over devices); it is clamped at 0 and ``stop_gradient``-ed here, as TRL.

    Source: Ethayarajh et al., "KTO: Model alignment as prospect theoretic optimization", ICML 2024
    (arXiv:2402.01306), eq. 8; TRL's ``KTOTrainer.kto_loss`` (``beta=0.1``, weights 1).

    Args:
      policy_chosen_logps: ``(N_d,)`` policy log-probabilities of the desirable examples.
      policy_rejected_logps: ``(N_u,)`` policy log-probabilities of the undesirable examples.
      reference_chosen_logps: ``(N_d,)`` reference log-probabilities of the desirable examples.
      reference_rejected_logps: ``(N_u,)`` reference log-probabilities of the undesirable examples.
      kl: the KL estimate: a scalar (array or number).
      beta: :math:`\\beta > 0`.
      desirable_weight: :math:`\\lambda_D`.
      undesirable_weight: :math:`\\lambda_U` (the paper suggests
        :math:`\\lambda_D N_d / (\\lambda_U N_u) \\in [1, 4/3]`).
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(N_d + N_u,)``).
      return_rewards: also return TRL's rewards :math:`\\beta r` of the desirable ``(N_d,)`` and undesirable
        ``(N_u,)`` examples, without gradient.

    Returns:
      The loss (a scalar unless ``reduction='none'``); with ``return_rewards``
      ``(loss, chosen_rewards, rejected_rewards)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.alignment import kto_loss
      >>> loss = kto_loss(jnp.array([-10.0]), jnp.array([-14.0]), jnp.array([-11.0]), jnp.array([-13.0]), 0.5)
      >>> print(f"{float(loss):.4f}")
      0.4750

    Reference: TRL KTOTrainer.kto_loss (Ethayarajh et al. 2024, KTO).
    """
    name = "kto_loss"
    R.validate_reduction(name, reduction)
    _check_beta(name, beta)
    V.check_real(name, "desirable_weight", desirable_weight)
    V.check_real(name, "undesirable_weight", undesirable_weight)
    (pc, rc), c_dtype = _logps(
        name,
        ("policy_chosen_logps", policy_chosen_logps),
        ("reference_chosen_logps", reference_chosen_logps),
    )
    (pr, rr), r_dtype = _logps(
        name,
        ("policy_rejected_logps", policy_rejected_logps),
        ("reference_rejected_logps", reference_rejected_logps),
    )
    for arg, x in (("policy_chosen_logps", pc), ("policy_rejected_logps", pr)):
        if x.ndim != 1:
            raise ValueError(
                f"{name}: {arg} must be 1-D (one value per example); got shape {tuple(x.shape)}"
            )
    kl = V.as_float(name, "kl", kl)
    if kl.ndim != 0:
        raise ValueError(f"{name}: kl must be a scalar; got shape {tuple(kl.shape)}")
    out_dtype = jnp.promote_types(c_dtype, r_dtype)
    cdt = V.compute_dtype(out_dtype)
    pc, rc, pr, rr = (x.astype(cdt) for x in (pc, rc, pr, rr))
    z0 = jnp.maximum(jax.lax.stop_gradient(kl.astype(cdt)), 0)
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    chosen_losses = 1 - jax.nn.sigmoid(beta * (chosen_logratios - z0))
    rejected_losses = 1 - jax.nn.sigmoid(beta * (z0 - rejected_logratios))
    losses = jnp.concatenate(
        [desirable_weight * chosen_losses, undesirable_weight * rejected_losses]
    )
    rewards = (beta * chosen_logratios, beta * rejected_logratios) if return_rewards else None
    return _finish(losses, reduction, out_dtype, rewards)
