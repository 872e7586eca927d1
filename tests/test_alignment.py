"""Alignment (TRL family) losses against float64 torch transcriptions of TRL's published formulas.

TRL itself is too heavy to install here, so each reference below is TRL's loss method transcribed into
plain torch (float64, autograd for the gradients), with its provenance beside it: ``DPOTrainer.dpo_loss``
and ``get_batch_logps``, ``CPOTrainer.cpo_loss``, ``ORPOTrainer.odds_ratio_loss``, ``KTOTrainer.kto_loss``
(TRL 0.8 to 0.11, the versions that carry these four loss types in one method). A second, independent set
of numpy references writes the papers' equations directly (DPO arXiv:2305.18290 eq. 7; IPO 2310.12036
eq. 17; cDPO; robust DPO 2403.00409 eq. 8; SimPO 2405.14734 eq. 6; CPO 2401.08417 eq. 3-4; ORPO
2403.07691 eq. 6-7; KTO 2402.01306 eq. 8). Values and vector-Jacobian products are compared in float64
(1e-9) and float32 (2e-5), eagerly and under ``jit`` (``tests/torch_parity.compare``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss import losses as L
from jaxloss import nn as jnn
from tests.torch_parity import compare

# ------------------------------------------------------------------------------------- TRL transcriptions


def trl_dpo(pc, pr, rc, rr, *, beta, loss_type, label_smoothing, reference_free):
    """trl/trainer/dpo_trainer.py, DPOTrainer.dpo_loss (TRL 0.8): the per-pair losses."""
    pi_logratios = pc - pr
    if reference_free:
        ref_logratios = torch.tensor([0], dtype=pi_logratios.dtype)
    else:
        ref_logratios = rc - rr
    logits = pi_logratios - ref_logratios
    if loss_type == "sigmoid":
        return (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing
        )
    if loss_type == "robust":
        return (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            + F.logsigmoid(-beta * logits) * label_smoothing
        ) / (1 - 2 * label_smoothing)
    if loss_type == "hinge":
        return torch.relu(1 - beta * logits)
    if loss_type == "ipo":
        # eqn (17) of the paper where beta is the regularization parameter for the IPO loss
        return (logits - 1 / (2 * beta)) ** 2
    raise ValueError(loss_type)


def trl_cpo(pc, pr, *, beta, loss_type, label_smoothing, simpo_gamma=None):
    """trl/trainer/cpo_trainer.py, CPOTrainer.cpo_loss (TRL 0.9-0.11): the per-pair losses."""
    logits = pc - pr
    if loss_type == "simpo":
        gamma_logratios = simpo_gamma / beta
        logits = logits - gamma_logratios
        return (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing
        )
    if loss_type == "sigmoid":
        return (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing
        )
    if loss_type == "hinge":
        return torch.relu(1 - beta * logits)
    if loss_type == "ipo":
        return (logits - 1 / (2 * beta)) ** 2
    raise ValueError(loss_type)


def trl_orpo_ratio(pc, pr, *, beta):
    """trl/trainer/orpo_trainer.py, ORPOTrainer.odds_ratio_loss (TRL 0.8): ``losses = beta * ratio``; the
    trainer's loss is ``policy_nll_loss - losses.mean()``."""
    log_odds = (pc - pr) - (torch.log1p(-torch.exp(pc)) - torch.log1p(-torch.exp(pr)))
    sig_ratio = torch.sigmoid(log_odds)
    ratio = torch.log(sig_ratio)
    return beta * ratio


def trl_kto(pc, pr, rc, rr, kl, *, beta, desirable_weight, undesirable_weight):
    """trl/trainer/kto_trainer.py, KTOTrainer.kto_loss (TRL 0.9), with ``kl`` the gathered mean of
    ``policy_KL_logps - reference_KL_logps``."""
    kl = kl.detach().clamp(min=0)
    chosen_logratios = pc - rc
    chosen_losses = 1 - torch.sigmoid(beta * (chosen_logratios - kl))
    rejected_logratios = pr - rr
    rejected_losses = 1 - torch.sigmoid(beta * (kl - rejected_logratios))
    return torch.cat((desirable_weight * chosen_losses, undesirable_weight * rejected_losses), 0)


def trl_get_batch_logps(logits, labels, average_log_prob=False, label_pad_token_id=-100):
    """trl/trainer/dpo_trainer.py, DPOTrainer.get_batch_logps (TRL 0.8), decoder-only branch."""
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    loss_mask = labels != label_pad_token_id
    labels[labels == label_pad_token_id] = 0
    per_token_logps = torch.gather(
        logits.log_softmax(-1), dim=2, index=labels.unsqueeze(2)
    ).squeeze(2)
    if average_log_prob:
        return (per_token_logps * loss_mask).sum(-1) / loss_mask.sum(-1)
    return (per_token_logps * loss_mask).sum(-1)


def _reduce_t(x, reduction):
    return {"mean": x.mean, "sum": x.sum, "none": lambda: x}[reduction]()


RNG = np.random.default_rng(2024)
B = 6


def _sum_logps(n=B):
    return -RNG.uniform(5.0, 40.0, n)


def _avg_logps(n=B):
    return -RNG.uniform(0.05, 3.0, n)


# ---------------------------------------------------------------------------------------------- DPO

DPO_CASES = [
    ("sigmoid", 0.0, False, "mean"),
    ("sigmoid", 0.2, False, "none"),  # cDPO
    ("robust", 0.2, False, "sum"),
    ("robust", 0.0, False, "mean"),
    ("hinge", 0.0, False, "none"),
    ("ipo", 0.0, False, "mean"),
    ("sigmoid", 0.0, True, "mean"),  # reference-free
    ("ipo", 0.0, True, "none"),
]


@pytest.mark.parametrize("loss_type,ls,ref_free,reduction", DPO_CASES)
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_dpo_matches_trl(loss_type, ls, ref_free, reduction, dtype, jit):
    beta = 0.1 if loss_type != "ipo" else 0.5
    args = [_sum_logps(), _sum_logps(), _sum_logps(), _sum_logps()]
    if loss_type in ("ipo",):
        args = [_avg_logps() for _ in range(4)]
    if (
        loss_type == "hinge"
    ):  # pairs on both sides of the hinge's kink at beta * h = 1, away from it
        args[0] = args[1] + args[2] - args[3] + np.array([-30.0, 5.0, 15.0, 25.0, -4.0, 40.0])
    opts = dict(beta=beta, loss_type=loss_type, label_smoothing=ls, reference_free=ref_free)
    compare(
        lambda *a: L.dpo_loss(*a, reduction=reduction, **opts),
        lambda *a: _reduce_t(trl_dpo(*a, **opts), reduction),
        args,
        diff=(0, 1, 2, 3),
        dtype=dtype,
        jit=jit,
    )


def test_dpo_rewards_are_trls_and_carry_no_gradient():
    pc, pr, rc, rr = (_sum_logps() for _ in range(4))
    loss, chosen, rejected = L.dpo_loss(pc, pr, rc, rr, beta=0.3, return_rewards=True)
    np.testing.assert_allclose(np.asarray(chosen), 0.3 * (pc - rc), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(rejected), 0.3 * (pr - rr), rtol=1e-12)
    assert float(loss) == float(L.dpo_loss(pc, pr, rc, rr, beta=0.3))
    g = jax.grad(lambda x: jnp.sum(L.dpo_loss(x, pr, rc, rr, return_rewards=True)[1]))(pc)
    assert np.all(np.asarray(g) == 0)
    # reference-free without reference arrays: the reference term (and the rewards' one) is 0
    out = L.dpo_loss(pc, pr, reduction="none", reference_free=True)
    np.testing.assert_allclose(
        np.asarray(out),
        trl_dpo(
            *map(torch.tensor, (pc, pr, rc, rr)),
            beta=0.1,
            loss_type="sigmoid",
            label_smoothing=0.0,
            reference_free=True,
        ).numpy(),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------------------- SimPO / CPO


@pytest.mark.parametrize("ls,reduction", [(0.0, "mean"), (0.1, "none"), (0.0, "sum")])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_simpo_matches_trl_cpo_simpo(ls, reduction, dtype, jit):
    opts = dict(beta=2.0, label_smoothing=ls)
    compare(
        lambda *a: L.simpo_loss(*a, gamma=1.2, reduction=reduction, **opts),
        lambda *a: _reduce_t(trl_cpo(*a, loss_type="simpo", simpo_gamma=1.2, **opts), reduction),
        [_avg_logps(), _avg_logps()],
        diff=(0, 1),
        dtype=dtype,
        jit=jit,
    )


CPO_CASES = [
    ("sigmoid", 0.0, "scalar", "mean"),
    ("sigmoid", 0.2, "vector", "none"),
    ("hinge", 0.0, "scalar", "sum"),
    ("ipo", 0.0, None, "mean"),
]


@pytest.mark.parametrize("loss_type,ls,nll_kind,reduction", CPO_CASES)
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_cpo_matches_trl(loss_type, ls, nll_kind, reduction, dtype, jit):
    pc, pr = _sum_logps(), _sum_logps()
    if loss_type == "hinge":
        pc = pr + np.array([-30.0, 5.0, 15.0, 25.0, -4.0, 40.0])
    nll = {"scalar": np.array(1.7), "vector": RNG.uniform(0.5, 3.0, B), None: None}[nll_kind]
    beta, alpha = 0.2, 0.7
    opts = dict(beta=beta, loss_type=loss_type, label_smoothing=ls)

    def ref(pc, pr, *nll_arg):
        losses = trl_cpo(pc, pr, **opts)
        if not nll_arg:
            return _reduce_t(losses, reduction)
        if reduction == "mean":  # the trainer: losses.mean() + cpo_alpha * policy_nll_loss
            return losses.mean() + alpha * nll_arg[0].mean()
        return _reduce_t(losses + alpha * nll_arg[0], reduction)

    args = [pc, pr] + ([] if nll is None else [nll])
    compare(
        lambda *a: L.cpo_loss(*a, alpha=alpha, reduction=reduction, **opts),
        ref,
        args,
        diff=tuple(range(len(args))),
        dtype=dtype,
        jit=jit,
    )


# --------------------------------------------------------------------------------------------- ORPO


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_orpo_matches_trl(reduction, dtype, jit):
    pc, pr, nll = _avg_logps(), _avg_logps(), np.array(1.3)

    def ref(pc, pr, nll):
        losses = trl_orpo_ratio(pc, pr, beta=0.25)
        return nll - losses.mean() if reduction == "mean" else nll - losses

    compare(
        lambda *a: L.orpo_loss(*a, beta=0.25, reduction=reduction),
        ref,
        [pc, pr, nll],
        diff=(0, 1, 2),
        dtype=dtype,
        jit=jit,
    )


def test_orpo_stable_near_zero_log_prob():
    """log(1 - e^x) for x near 0: log(-expm1(x)) keeps the digits TRL's log1p(-exp(x)) loses."""
    pc, pr = np.array([-1e-9, -1e-3]), np.array([-2.0, -1e-12])
    ours = np.asarray(L.orpo_loss(pc, pr, reduction="none"))
    log_odds = (pc - pr) - (np.log(-np.expm1(pc)) - np.log(-np.expm1(pr)))
    np.testing.assert_allclose(ours, 0.1 * np.logaddexp(0, -log_odds), rtol=1e-13)
    with pytest.raises(ValueError, match="orpo_loss: policy_chosen_logps must be < 0"):
        L.orpo_loss(np.array([0.0]), np.array([-1.0]))


# ---------------------------------------------------------------------------------------------- KTO


@pytest.mark.parametrize(
    "kl,reduction,n_rej", [(0.7, "mean", 4), (-0.4, "none", 3), (2.0, "sum", 0)]
)
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_kto_matches_trl(kl, reduction, n_rej, dtype, jit):
    n_ch = 5
    pc, rc = _sum_logps(n_ch), _sum_logps(n_ch)
    pr, rr = _sum_logps(n_rej), _sum_logps(n_rej)
    opts = dict(beta=0.1, desirable_weight=1.0, undesirable_weight=1.33)
    compare(
        lambda *a: L.kto_loss(*a, reduction=reduction, **opts),
        lambda *a: _reduce_t(trl_kto(*a, **opts), reduction),
        [pc, pr, rc, rr, np.array(kl)],
        diff=(0, 1, 2, 3, 4),
        dtype=dtype,
        jit=jit,
    )


def test_kto_rewards_and_kl_without_gradient():
    pc, pr, rc, rr = _sum_logps(3), _sum_logps(2), _sum_logps(3), _sum_logps(2)
    _loss, ch, rej = L.kto_loss(pc, pr, rc, rr, 0.2, beta=0.5, return_rewards=True)
    np.testing.assert_allclose(np.asarray(ch), 0.5 * (pc - rc), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(rej), 0.5 * (pr - rr), rtol=1e-12)
    assert float(jax.grad(lambda k: L.kto_loss(pc, pr, rc, rr, k))(0.3)) == 0.0


# ------------------------------------------------------------------------------- sequence_log_probs


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_sequence_log_probs_matches_trl_get_batch_logps(average, dtype, jit):
    b, t, v = 3, 7, 11
    logits = RNG.standard_normal((b, t, v)) * 3
    labels = RNG.integers(0, v, (b, t))
    labels[0, :3] = -100  # prompt
    labels[1, 5:] = -100  # padding
    labels[2, :2] = -100

    def ours(logits, labels):
        shifted = labels[:, 1:]
        return L.sequence_log_probs(logits[:, :-1], shifted, shifted != -100, average=average)

    compare(
        ours,
        lambda lg, lb: trl_get_batch_logps(lg, lb, average),
        [logits, labels],
        diff=(0,),
        dtype=dtype,
        jit=jit,
    )


def test_sequence_log_probs_defaults_weights_and_empty_mask():
    logits = RNG.standard_normal((2, 4, 5))
    labels = RNG.integers(0, 5, (2, 4))
    logp = jax.nn.log_softmax(logits, axis=-1)
    tok = np.take_along_axis(np.asarray(logp), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(
        np.asarray(L.sequence_log_probs(logits, labels)), tok.sum(-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        np.asarray(L.sequence_log_probs(logits, labels, average=True)), tok.mean(-1), rtol=1e-12
    )
    weights = np.array([[1.0, 0.5, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    out = L.sequence_log_probs(logits, labels, weights, average=True)
    np.testing.assert_allclose(float(out[0]), (tok[0] * weights[0]).sum() / 3.5, rtol=1e-12)
    assert float(out[1]) == 0.0  # empty mask: 0 (TRL: 0 / 0 = nan), with a zero, finite gradient
    g = jax.grad(lambda z: L.sequence_log_probs(z, labels, weights, average=True)[1])(logits)
    assert np.all(np.asarray(g) == 0)
    with pytest.raises(ValueError, match=r"sequence_log_probs: labels must be in \[0, 5\)"):
        L.sequence_log_probs(logits, np.full((2, 4), 7))


# ------------------------------------------------------------------------------------ paper formulas


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_papers_equations_float64():
    """Each loss against its paper's equation, written in numpy (independent of the TRL transcriptions)."""
    pc, pr, rc, rr = (_sum_logps() for _ in range(4))
    beta, eps = 0.1, 0.15
    h = (pc - rc) - (pr - rr)  # log pi/pi_ref (y_w) - log pi/pi_ref (y_l)
    # DPO (Rafailov et al. 2023, eq. 7)
    np.testing.assert_allclose(
        np.asarray(L.dpo_loss(pc, pr, rc, rr, reduction="none")),
        -_log_sigmoid(beta * h),
        rtol=1e-12,
    )
    # cDPO (Mitchell 2023): the BCE against labels smoothed to 1 - eps
    cdpo = -(1 - eps) * _log_sigmoid(beta * h) - eps * _log_sigmoid(-beta * h)
    np.testing.assert_allclose(
        np.asarray(L.dpo_loss(pc, pr, rc, rr, label_smoothing=eps, reduction="none")),
        cdpo,
        rtol=1e-12,
    )
    # robust DPO (Chowdhury et al. 2024, eq. 8)
    rdpo = ((1 - eps) * -_log_sigmoid(beta * h) - eps * -_log_sigmoid(-beta * h)) / (1 - 2 * eps)
    np.testing.assert_allclose(
        np.asarray(
            L.dpo_loss(pc, pr, rc, rr, loss_type="robust", label_smoothing=eps, reduction="none")
        ),
        rdpo,
        rtol=1e-12,
    )
    # IPO (Azar et al. 2023, eq. 17): (h - 1 / (2 tau))^2
    tau = 0.4
    np.testing.assert_allclose(
        np.asarray(L.dpo_loss(pc, pr, rc, rr, beta=tau, loss_type="ipo", reduction="none")),
        (h - 1 / (2 * tau)) ** 2,
        rtol=1e-12,
    )
    # SimPO (Meng et al. 2024, eq. 6) with average log-probabilities
    ac, ar = _avg_logps(), _avg_logps()
    np.testing.assert_allclose(
        np.asarray(L.simpo_loss(ac, ar, beta=2.5, gamma=1.4, reduction="none")),
        -_log_sigmoid(2.5 * ac - 2.5 * ar - 1.4),
        rtol=1e-12,
    )
    # CPO (Xu et al. 2024, eq. 3-4): L_prefer + L_NLL with L_NLL = -log pi(y_w)
    np.testing.assert_allclose(
        np.asarray(L.cpo_loss(pc, pr, -pc, reduction="none")),
        -_log_sigmoid(beta * (pc - pr)) - pc,
        rtol=1e-12,
    )
    # ORPO (Hong et al. 2024, eq. 6-7): L_SFT + lambda * -log sigmoid(log odds(y_w) / odds(y_l))
    odds = lambda lp: np.exp(lp) / (1 - np.exp(lp))
    l_or = -_log_sigmoid(np.log(odds(ac) / odds(ar)))
    np.testing.assert_allclose(
        np.asarray(L.orpo_loss(ac, ar, -ac, beta=0.2, reduction="none")),
        -ac + 0.2 * l_or,
        rtol=1e-10,
    )
    # KTO (Ethayarajh et al. 2024, eq. 8): lambda_y - v(x, y), v = lambda_D sigma(beta (r - z0)) or
    # lambda_U sigma(beta (z0 - r)), z0 the (non-negative) KL estimate
    z0, lam_d, lam_u = 0.8, 1.0, 1.2
    r_d, r_u = pc - rc, pr - rr
    expected = np.concatenate(
        [lam_d - lam_d * _sigmoid(beta * (r_d - z0)), lam_u - lam_u * _sigmoid(beta * (z0 - r_u))]
    )
    out = L.kto_loss(
        pc, pr, rc, rr, z0, desirable_weight=lam_d, undesirable_weight=lam_u, reduction="none"
    )
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12)


# -------------------------------------------------------------------------------------- nn objects


def test_nn_objects_call_the_functions():
    pc, pr, rc, rr = (_sum_logps() for _ in range(4))
    ac, ar = _avg_logps(), _avg_logps()
    cases = [
        (
            jnn.DPOLoss(beta=0.2, loss_type="robust", label_smoothing=0.1),
            (pc, pr, rc, rr),
            functools.partial(L.dpo_loss, beta=0.2, loss_type="robust", label_smoothing=0.1),
        ),
        (
            jnn.SimPOLoss(beta=2.0, gamma=0.8, reduction="sum"),
            (ac, ar),
            functools.partial(L.simpo_loss, beta=2.0, gamma=0.8, reduction="sum"),
        ),
        (
            jnn.CPOLoss(alpha=0.5, loss_type="hinge"),
            (pc, pr, np.array(1.0)),
            functools.partial(L.cpo_loss, alpha=0.5, loss_type="hinge"),
        ),
        (
            jnn.ORPOLoss(beta=0.3, reduction="none"),
            (ac, ar, np.array(0.5)),
            functools.partial(L.orpo_loss, beta=0.3, reduction="none"),
        ),
        (
            jnn.KTOLoss(undesirable_weight=1.2),
            (pc, pr, rc, rr, 0.1),
            functools.partial(L.kto_loss, undesirable_weight=1.2),
        ),
    ]
    for obj, args, fn in cases:
        np.testing.assert_array_equal(np.asarray(obj(*args)), np.asarray(fn(*args)))
        assert obj == type(obj)(**{f: getattr(obj, f) for f in obj.__dataclass_fields__}) and hash(
            obj
        )
    with pytest.raises(ValueError, match="DPOLoss: reduction"):
        jnn.DPOLoss(reduction="avg")


# --------------------------------------------------------------------------------------- bad input

_P = _sum_logps(3)
BAD = [
    ("dpo_loss", lambda: L.dpo_loss(_P, _P, _P, _P, loss_type="kto"), ValueError, "loss_type"),
    ("dpo_loss", lambda: L.dpo_loss(_P, _P, _P, _P, beta=0.0), ValueError, "beta"),
    (
        "dpo_loss",
        lambda: L.dpo_loss(_P, _P, _P, _P, loss_type="robust", label_smoothing=0.5),
        ValueError,
        "label_smoothing",
    ),
    (
        "dpo_loss",
        lambda: L.dpo_loss(_P, _P, _P, _P, loss_type="hinge", label_smoothing=0.1),
        ValueError,
        "label_smoothing",
    ),
    ("dpo_loss", lambda: L.dpo_loss(_P, _P), ValueError, "reference_chosen_logps"),
    ("dpo_loss", lambda: L.dpo_loss(_P, _P[:2], _P, _P), ValueError, "policy_rejected_logps"),
    ("dpo_loss", lambda: L.dpo_loss(_P.astype(int), _P, _P, _P), TypeError, "policy_chosen_logps"),
    (
        "dpo_loss",
        lambda: L.dpo_loss(_P, _P, _P, _P, reduction="batchmean"),
        ValueError,
        "reduction",
    ),
    (
        "simpo_loss",
        lambda: L.simpo_loss(_P, _P, label_smoothing=0.7),
        ValueError,
        "label_smoothing",
    ),
    ("cpo_loss", lambda: L.cpo_loss(_P, _P, np.ones(2)), ValueError, "policy_nll_loss"),
    ("cpo_loss", lambda: L.cpo_loss(_P, _P, loss_type="robust"), ValueError, "loss_type"),
    ("orpo_loss", lambda: L.orpo_loss(_P, _P, beta=-1.0), ValueError, "beta"),
    ("kto_loss", lambda: L.kto_loss(_P, _P, _P[:2], _P, 0.1), ValueError, "reference_chosen_logps"),
    ("kto_loss", lambda: L.kto_loss(_P, _P, _P, _P, np.ones(2)), ValueError, "kl"),
    (
        "sequence_log_probs",
        lambda: L.sequence_log_probs(np.ones((2, 3, 4)), np.ones((2, 4), int)),
        ValueError,
        "labels",
    ),
    (
        "sequence_log_probs",
        lambda: L.sequence_log_probs(np.ones((2, 3, 4)), np.ones((2, 3), int), np.ones((2, 4))),
        ValueError,
        "mask",
    ),
]


@pytest.mark.parametrize(
    "loss,call,exc,argname", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input_raises_named_errors(loss, call, exc, argname):
    with pytest.raises(exc, match=argname) as info:
        call()
    assert loss in str(info.value)
