"""Extreme inputs: the torch losses (and the optax-face logit losses) against their references on the same inputs.

Every row of the tables is run in float32 and float64 and computed by jaxloss and by the reference (torch 2.13,
or optax 0.2.8 for the optax faces) in the same test: logits of plus or minus 1e4 and 1e30, probabilities exactly
0 and 1, zero vectors, inputs exactly on a kink (``|x - y| == delta``/``beta``, margin boundaries), every target
ignored, every entry masked. The rules:

* where the reference's value is finite, jaxloss's is finite and equal to it (float64 rtol 1e-9, float32 1e-5);
  where it is inf or nan, jaxloss gives the same inf (same sign) or nan;
* where the reference's gradient (of the summed output) is finite, jaxloss's is finite and equal to it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as TF

import jaxloss.losses as L
import jaxloss.optax_losses as O

TOL = {np.float64: {"rtol": 1e-9, "atol": 1e-12}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}
BIG = [1e4, 1e30]


def A(*x):
    return np.asarray(x, np.float64)


def I(*x):
    return np.asarray(x, np.int64)


def _cast(x, dtype):
    return (
        x.astype(dtype) if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) else x
    )


def _agree(got, want, tol, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    finite = np.isfinite(want)
    assert np.all(np.isfinite(got[finite])), (
        f"{what}: not finite where the reference is: {got} vs {want}"
    )
    np.testing.assert_allclose(got[finite], want[finite], **tol, err_msg=what)
    np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=f"{what}: inf/nan differ")


def _grad_agree(got, want, tol, what):
    got, want = (
        np.asarray(got, np.float64),
        np.broadcast_to(np.asarray(want, np.float64), np.shape(got)),
    )
    finite = np.isfinite(want)
    assert np.all(np.isfinite(got[finite])), (
        f"{what}: gradient not finite where the reference's is: {got} vs {want}"
    )
    np.testing.assert_allclose(got[finite], want[finite], **tol, err_msg=what)


def _jax_value_and_grads(fn, args, kwargs, diff):
    def total(*d):
        full = list(args)
        for i, v in zip(diff, d):
            full[i] = v
        return jnp.sum(fn(*full, **kwargs))

    value = fn(*args, **kwargs)
    grads = (
        jax.grad(total, argnums=tuple(range(len(diff))))(*[jnp.asarray(args[i]) for i in diff])
        if diff
        else ()
    )
    return value, grads


def _torch_value_and_grads(fn, args, kwargs, diff):
    t_args = [
        torch.tensor(a, requires_grad=i in diff) if isinstance(a, np.ndarray) else a
        for i, a in enumerate(args)
    ]
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = fn(*t_args, **t_kwargs)
    grads = (
        torch.autograd.grad(out.sum(), [t_args[i] for i in diff], allow_unused=True) if diff else ()
    )
    grads = [np.zeros(np.shape(args[i])) if g is None else g.numpy() for i, g in zip(diff, grads)]
    return out.detach().numpy(), grads


# (id, torch name, args, kwargs, diff)
TORCH_CASES = []


def case(id_, name, args, kwargs=None, diff=(0,)):
    TORCH_CASES.append(pytest.param(name, args, kwargs or {}, diff, id=id_))


for big in BIG:
    b = f"{big:g}"
    logits = A([big, -big, 0.0], [-big, big, big], [big, big, big])
    case(f"ce-logits-{b}", "cross_entropy", [logits, I(0, 0, 2)])
    case(
        f"ce-logits-smooth-{b}",
        "cross_entropy",
        [logits, I(1, 2, 0)],
        {"label_smoothing": 0.1, "reduction": "none"},
    )
    case(
        f"ce-logits-weight-{b}",
        "cross_entropy",
        [logits, I(1, 2, 0)],
        {"weight": A(0.5, 1.0, 2.0), "reduction": "sum"},
    )
    probs = A([0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0])
    case(f"ce-probs-{b}", "cross_entropy", [logits, probs], {"reduction": "none"}, diff=(0, 1))
    case(
        f"ce-probs-smooth-{b}",
        "cross_entropy",
        [logits, probs],
        {"label_smoothing": 0.2},
        diff=(0, 1),
    )
    case(
        f"nll-logprobs-{b}",
        "nll_loss",
        [A([-big, 0.0, -big], [0.0, -big, -big]), I(0, 2)],
        {"reduction": "none"},
    )
    case(
        f"linear_ce-{b}",
        "linear_cross_entropy",
        [A([1.0, 0.0], [0.0, -1.0]), A([big, 0.0], [-big, 0.0], [0.0, big]), I(0, 2)],
        diff=(0, 1),
    )
    x = A(big, -big, big, -big, 0.0)
    t01 = A(1.0, 0.0, 0.0, 1.0, 0.5)
    case(
        f"bce_logits-{b}",
        "binary_cross_entropy_with_logits",
        [x, t01],
        {"reduction": "none"},
        diff=(0, 1),
    )
    case(
        f"bce_logits-pos_weight-{b}",
        "binary_cross_entropy_with_logits",
        [x.reshape(1, 5), t01.reshape(1, 5)],
        {"pos_weight": A(3.0, 0.5, 2.0, 1.0, 4.0), "reduction": "sum"},
        diff=(0, 1),
    )
    case(
        f"soft_margin-{b}",
        "soft_margin_loss",
        [x, A(1.0, 1.0, -1.0, -1.0, 1.0)],
        {"reduction": "none"},
    )
    case(
        f"multilabel_soft_margin-{b}",
        "multilabel_soft_margin_loss",
        [x.reshape(1, 5), t01.reshape(1, 5)],
        diff=(0, 1),
    )
    case(
        f"multi_margin-{b}",
        "multi_margin_loss",
        [logits, I(0, 1, 2)],
        {"p": 2, "reduction": "none"},
    )
    case(
        f"kl_div-log_input-{b}",
        "kl_div",
        [A(-big, 0.0, -big), A(0.0, 1.0, 0.0)],
        {"reduction": "none"},
        diff=(0, 1),
    )
    case(
        f"kl_div-log_target-{b}",
        "kl_div",
        [A(-big, 0.0, -1.0), A(-big, -big, 0.0)],
        {"log_target": True, "reduction": "sum"},
        diff=(0, 1),
    )
    case(
        f"poisson_nll-{b}",
        "poisson_nll_loss",
        [A(big, -big, 0.0), A(0.0, 2.0, 1.0)],
        {"reduction": "none"},
    )
    case(
        f"poisson_nll-full-{b}",
        "poisson_nll_loss",
        [A(big, 1.0, 0.5), A(3.0, 0.0, big)],
        {"log_input": False, "full": True, "reduction": "none"},
    )
    case(
        f"huber-{b}",
        "huber_loss",
        [A(big, -big, 0.0), A(0.0, big, -big)],
        {"reduction": "none"},
        diff=(0, 1),
    )
    case(f"smooth_l1-{b}", "smooth_l1_loss", [A(big, -big, 0.0), A(0.0, big, -big)], diff=(0, 1))
    case(
        f"mse-{b}",
        "mse_loss",
        [A(big, -big, 0.0), A(0.0, big, -big)],
        {"reduction": "none"},
        diff=(0, 1),
    )
    case(
        f"gaussian_nll-{b}",
        "gaussian_nll_loss",
        [A(big, 0.0), A(0.0, 1.0), A(1.0, big)],
        diff=(0, 1, 2),
    )
    case(
        f"cosine_sim-large-{b}",
        "cosine_similarity",
        [A([big, big]), A([big, -big])],
        {"dim": 0},
        diff=(0, 1),
    )
    case(
        f"cosine_sim-large-dim1-{b}",
        "cosine_similarity",
        [A([big, big], [big, 0.0]), A([big, -big], [big, big])],
        diff=(0, 1),
    )
    case(f"pairwise-large-{b}", "pairwise_distance", [A([big, -big]), A([-big, big])], diff=(0, 1))
    case(
        f"triplet-large-{b}",
        "triplet_margin_loss",
        [A([big, 0.0]), A([0.0, big]), A([-big, 0.0])],
        diff=(0, 1, 2),
    )
    case(
        f"margin_ranking-{b}",
        "margin_ranking_loss",
        [A(big, -big), A(-big, big), A(1.0, 1.0)],
        {"reduction": "none"},
        diff=(0, 1),
    )
    lp = np.log(np.full((4, 1, 3), 1 / 3))
    lp[1, 0, 1] = -big
    case(f"ctc-minus-{b}", "ctc_loss", [lp, I([1, 2]), I(4), I(2)], {"reduction": "sum"})

# probabilities exactly 0 and 1 (torch clamps log at -100)
case(
    "bce-0-1",
    "binary_cross_entropy",
    [A(0.0, 1.0, 0.0, 1.0, 0.5), A(0.0, 1.0, 1.0, 0.0, 0.5)],
    {"reduction": "none"},
)
case(
    "bce-0-1-mean",
    "binary_cross_entropy",
    [A(0.0, 1.0, 0.0, 1.0), A(1.0, 0.0, 0.5, 1.0)],
    diff=(0, 1),
)
case(
    "bce-0-1-weight",
    "binary_cross_entropy",
    [A(0.0, 1.0), A(1.0, 0.0)],
    {"weight": A(2.0, 0.5), "reduction": "sum"},
)
case(
    "kl_div-target-0",
    "kl_div",
    [A(-1.0, -0.5, -2.0), A(0.0, 1.0, 0.0)],
    {"reduction": "batchmean"},
    diff=(0, 1),
)
case(
    "kl_div-input-minus-inf",
    "kl_div",
    [A(-np.inf, -0.5), A(0.0, 1.0)],
    {"reduction": "none"},
    diff=(0,),
)
case(
    "poisson_nll-zero-rate",
    "poisson_nll_loss",
    [A(0.0, 0.0, 1.0), A(0.0, 2.0, 0.0)],
    {"log_input": False},
)
case(
    "gaussian_nll-zero-var",
    "gaussian_nll_loss",
    [A(1.0, 0.0), A(0.0, 0.0), A(0.0, 0.0)],
    {"reduction": "none"},
    diff=(0, 1, 2),
)
case(
    "gaussian_nll-zero-var-full",
    "gaussian_nll_loss",
    [A(1.0, 0.0), A(0.0, 0.0), A(0.0, 1e-8)],
    {"full": True},
    diff=(0, 1, 2),
)
case(
    "nll-minus-inf", "nll_loss", [A([-np.inf, 0.0], [0.0, -np.inf]), I(0, 0)], {"reduction": "none"}
)
case(
    "ctc-impossible",
    "ctc_loss",
    [np.log(np.full((2, 1, 3), 1 / 3)), I([1, 1]), I(2), I(2)],
    {"reduction": "none"},
)
case(
    "ctc-impossible-zero_inf",
    "ctc_loss",
    [np.log(np.full((2, 1, 3), 1 / 3)), I([1, 1]), I(2), I(2)],
    {"zero_infinity": True},
)

# zero vectors
Z2 = np.zeros((2, 3))
X2 = A([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
case("cosine_sim-zero", "cosine_similarity", [Z2, X2], diff=(0, 1))
case("cosine_sim-both-zero", "cosine_similarity", [Z2, Z2], diff=(0, 1))
case(
    "cosine_embedding-zero",
    "cosine_embedding_loss",
    [Z2, X2, A(1.0, -1.0)],
    {"reduction": "none"},
    diff=(0, 1),
)
case(
    "cosine_embedding-zero-sum",
    "cosine_embedding_loss",
    [X2, Z2, A(-1.0, 1.0)],
    {"margin": -0.5, "reduction": "sum"},
    diff=(0, 1),
)
case("pairwise-zero", "pairwise_distance", [Z2, Z2], diff=(0, 1))
case("pairwise-zero-eps0", "pairwise_distance", [X2, X2], {"eps": 0.0}, diff=(0, 1))
case("pairwise-zero-p1", "pairwise_distance", [Z2, Z2], {"p": 1.0, "eps": 0.0}, diff=(0, 1))
case(
    "pairwise-zero-pinf",
    "pairwise_distance",
    [X2, X2],
    {"p": float("inf"), "eps": 0.0},
    diff=(0, 1),
)
case("triplet-zero", "triplet_margin_loss", [Z2, Z2, Z2], diff=(0, 1, 2))
case(
    "triplet-zero-eps0",
    "triplet_margin_loss",
    [X2, X2, X2],
    {"eps": 0.0, "swap": True},
    diff=(0, 1, 2),
)
case("triplet-zero-p1", "triplet_margin_loss", [Z2, Z2, X2], {"p": 1, "eps": 0.0}, diff=(0, 1, 2))
case(
    "triplet_dist-zero",
    "triplet_margin_with_distance_loss",
    [Z2, Z2, Z2],
    {"swap": True},
    diff=(0, 1, 2),
)

# exact kinks
case(
    "huber-kink",
    "huber_loss",
    [A(1.0, -1.0, 3.0, 0.0), A(0.0, 0.0, 1.0, 0.0)],
    {"reduction": "none"},
    diff=(0, 1),
)
case(
    "huber-kink-delta",
    "huber_loss",
    [A(0.5, -0.5, 2.0), A(0.0, 0.0, 2.5)],
    {"delta": 0.5},
    diff=(0, 1),
)
case(
    "smooth_l1-kink",
    "smooth_l1_loss",
    [A(1.0, -1.0, 3.0, 0.0), A(0.0, 0.0, 2.0, 0.0)],
    {"reduction": "none"},
    diff=(0, 1),
)
case(
    "smooth_l1-beta0",
    "smooth_l1_loss",
    [A(1.0, 0.0, -2.0), A(1.0, 0.0, 1.0)],
    {"beta": 0.0, "reduction": "none"},
    diff=(0, 1),
)
case(
    "smooth_l1-kink-beta",
    "smooth_l1_loss",
    [A(0.25, 2.0), A(0.0, 2.25)],
    {"beta": 0.25},
    diff=(0, 1),
)
case(
    "l1-equal",
    "l1_loss",
    [A(1.0, 0.0, -2.0), A(1.0, 0.0, -2.0)],
    {"reduction": "none"},
    diff=(0, 1),
)
case(
    "margin_ranking-kink",
    "margin_ranking_loss",
    [A(1.0, 0.0), A(0.5, 0.5), A(1.0, -1.0)],
    {"margin": 0.5, "reduction": "none"},
    diff=(0, 1),
)
case(
    "hinge_embedding-kink",
    "hinge_embedding_loss",
    [A(1.0, 0.5, 2.0), A(-1.0, -1.0, 1.0)],
    {"margin": 1.0, "reduction": "none"},
)
case("soft_margin-zero", "soft_margin_loss", [A(0.0, 0.0), A(1.0, -1.0)])
case(
    "multi_margin-kink",
    "multi_margin_loss",
    [A([1.0, 0.0, 0.5]), I(0)],
    {"margin": 1.0, "reduction": "none"},
)
case(
    "multi_margin-kink-p2",
    "multi_margin_loss",
    [A([1.0, 0.0, 0.5], [0.0, 0.0, 0.0]), I(0, 2)],
    {"p": 2},
)
case(
    "multilabel_margin-kink",
    "multilabel_margin_loss",
    [A(1.0, 0.0, 0.5), I(0, -1, 1)],
    {"reduction": "none"},
)
case(
    "cosine_embedding-kink",
    "cosine_embedding_loss",
    [A([1.0, 0.0]), A([1.0, 0.0]), A(-1.0)],
    {"margin": 1.0},
    diff=(0, 1),
)
case(
    "triplet-kink",
    "triplet_margin_loss",
    [A([0.0, 0.0]), A([1.0, 0.0]), A([2.0, 0.0])],
    {"margin": 1.0, "eps": 0.0},
    diff=(0, 1, 2),
)
case("bce_logits-zero", "binary_cross_entropy_with_logits", [A(0.0, 0.0), A(0.0, 1.0)], diff=(0, 1))

# all targets ignored: torch gives nan for mean, 0 for sum
for red in ("mean", "sum", "none"):
    case(
        f"ce-all-ignored-{red}",
        "cross_entropy",
        [A([1.0, 2.0], [0.5, 0.0]), I(-100, -100)],
        {"reduction": red},
    )
    case(
        f"ce-all-ignored-smooth-weight-{red}",
        "cross_entropy",
        [A([1.0, 2.0], [0.5, 0.0]), I(1, 1)],
        {"reduction": red, "ignore_index": 1, "label_smoothing": 0.3, "weight": A(1.0, 2.0)},
    )
    case(
        f"ce-kdim-all-ignored-{red}",
        "cross_entropy",
        [np.ones((2, 3, 2)), I([-100, -100], [-100, -100])],
        {"reduction": red},
    )
    case(
        f"nll-all-ignored-{red}",
        "nll_loss",
        [A([-1.0, -2.0], [-0.5, -3.0]), I(0, 0)],
        {"reduction": red, "ignore_index": 0},
    )
    case(
        f"linear_ce-all-ignored-{red}",
        "linear_cross_entropy",
        [A([1.0, 0.0], [0.0, 1.0]), A([1.0, 0.0], [0.0, 1.0]), I(-100, -100)],
        {"reduction": red},
        diff=(0, 1),
    )
case(
    "nll-zero-weight", "nll_loss", [A([-1.0, -2.0], [-0.5, -3.0]), I(0, 0)], {"weight": A(0.0, 1.0)}
)
case("ce-unbatched-ignored", "cross_entropy", [A(1.0, 2.0, 3.0), np.asarray(-100)], {})


def _soft_margin_exact(x, y, reduction="mean"):
    out = np.logaddexp(
        0.0, -np.asarray(y, np.float64) * np.asarray(x, np.float64)
    )  # log(1 + exp(-y x)), exact
    return {"none": out, "sum": out.sum(), "mean": out.mean()}[reduction]


#: Documented deviations: where torch's formula overflows to inf, these give the exact finite value instead
#: (see the loss's docstring), which the test checks against a float64 numpy formula.
STABLER_THAN_TORCH = {"soft_margin_loss": _soft_margin_exact}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, args, kwargs, diff", TORCH_CASES)
def test_extreme_inputs_match_torch(name, args, kwargs, diff, dtype):
    args = [_cast(a, dtype) for a in args]
    kwargs = {k: _cast(v, dtype) for k, v in kwargs.items()}
    t_val, t_grads = _torch_value_and_grads(getattr(TF, name), args, kwargs, diff)
    j_val, j_grads = _jax_value_and_grads(getattr(L, name), args, kwargs, diff)
    tol = TOL[dtype]
    if name in STABLER_THAN_TORCH and not np.all(np.isfinite(t_val)):
        exact = np.asarray(STABLER_THAN_TORCH[name](*args, **kwargs))
        t_val = np.where(np.isinf(t_val), exact, t_val).astype(t_val.dtype)
    _agree(j_val, t_val, tol, f"{name} value")
    assert np.dtype(j_val.dtype) == np.dtype(t_val.dtype)
    for i, jg, tg in zip(diff, j_grads, t_grads):
        _grad_agree(jg, tg, tol, f"{name} grad of arg {i}")


# ----------------------------------------------------------------------------- optax faces (logit losses)

OPTAX_CASES = []


def ocase(id_, name, args, kwargs=None, diff=(0,)):
    OPTAX_CASES.append(pytest.param(name, args, kwargs or {}, diff, id=id_))


for big in BIG:
    b = f"{big:g}"
    logits = A([big, -big, 0.0], [-big, big, big], [big, big, big])
    labels = A([1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0])
    ocase(f"softmax_ce-{b}", "softmax_cross_entropy", [logits, labels], diff=(0, 1))
    ocase(f"softmax_ce_int-{b}", "softmax_cross_entropy_with_integer_labels", [logits, I(0, 1, 2)])
    ocase(f"safe_softmax_ce-{b}", "safe_softmax_cross_entropy", [logits, labels], diff=(0, 1))
    ocase(f"poly_ce-{b}", "poly_loss_cross_entropy", [logits, labels], diff=(0, 1))
    x = A(big, -big, big, -big, 0.0)
    y = A(1.0, 0.0, 0.0, 1.0, 0.5)
    ocase(f"sigmoid_bce-{b}", "sigmoid_binary_cross_entropy", [x, y], diff=(0, 1))
    ocase(f"sigmoid_focal-{b}", "sigmoid_focal_loss", [x, y], {"alpha": 0.25}, diff=(0,))
    ocase(f"kl-{b}", "kl_divergence", [A([-big, 0.0, -big]), A([0.0, 1.0, 0.0])], diff=(0,))
    ocase(
        f"kl_log_targets-{b}",
        "kl_divergence_with_log_targets",
        [A([-big, 0.0, -1.0]), A([-big, -big, 0.0])],
        diff=(0, 1),
    )

MASK_NONE = np.zeros((2, 3), bool)
ML = A([1.0, 2.0, 3.0], [1e30, -1e30, 0.0])
MY = A([1.0, 0.0, 0.0], [0.0, 0.5, 0.5])
ocase("softmax_ce-all-masked", "softmax_cross_entropy", [ML, MY], {"where": MASK_NONE}, diff=(0, 1))
ocase(
    "softmax_ce_int-all-masked",
    "softmax_cross_entropy_with_integer_labels",
    [ML, I(0, 1)],
    {"where": MASK_NONE},
)
ocase("poly_ce-all-masked", "poly_loss_cross_entropy", [ML, MY], {"where": MASK_NONE}, diff=(0, 1))
ocase("kl-all-masked", "kl_divergence", [np.log(MY + 1e-3), MY], {"where": MASK_NONE}, diff=(0, 1))
ocase(
    "kl_log-all-masked",
    "kl_divergence_with_log_targets",
    [np.log(MY + 1e-3), np.log(MY + 1e-3)],
    {"where": MASK_NONE},
    diff=(0, 1),
)
ocase(
    "convex_kl-all-masked",
    "convex_kl_divergence",
    [np.log(MY + 1e-3), MY],
    {"where": MASK_NONE},
    diff=(0, 1),
)
ocase("cosine_sim-all-masked", "cosine_similarity", [ML, MY], {"where": MASK_NONE}, diff=(0, 1))
ocase("cosine_dist-all-masked", "cosine_distance", [ML, MY], {"where": MASK_NONE}, diff=(0, 1))
ocase(
    "softmax_ce-row-masked",
    "softmax_cross_entropy",
    [ML, MY],
    {"where": np.array([[True] * 3, [False] * 3])},
    diff=(0, 1),
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, args, kwargs, diff", OPTAX_CASES)
def test_optax_faces_finite_and_match_optax(name, args, kwargs, diff, dtype):
    args = [_cast(a, dtype) for a in args]
    kwargs = {k: _cast(v, dtype) for k, v in kwargs.items()}
    ref = getattr(optax.losses, name)
    r_val, r_grads = _jax_value_and_grads(ref, args, kwargs, diff)
    j_val, j_grads = _jax_value_and_grads(getattr(O, name), args, kwargs, diff)
    tol = dict(TOL[dtype])
    # optax forms logsumexp(x) - x_y, whose rounding error is a few ulps of the largest logit (at 1e30 in float64
    # it returns 0 for log 2): agree within that, not closer than optax itself can be
    scale = max(
        [np.max(np.abs(a[np.isfinite(a)]), initial=0.0) for a in args if isinstance(a, np.ndarray)]
    )
    tol["atol"] = max(tol["atol"], 8 * float(np.finfo(dtype).eps) * scale)
    if (
        "where" in kwargs
    ):  # masked entries must stay finite (value and gradient), whatever optax gives
        assert np.all(np.isfinite(np.asarray(j_val))), j_val
        for g in j_grads:
            assert np.all(np.isfinite(np.asarray(g))), g
    _agree(j_val, r_val, tol, f"{name} value")
    for i, jg, rg in zip(diff, j_grads, r_grads):
        _grad_agree(jg, rg, tol, f"{name} grad of arg {i}")
