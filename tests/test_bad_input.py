"""Bad input to the torch losses: the error is raised at once, names the loss and the argument, and mirrors torch.

* Invalid options, mismatched shapes, wrong ranks and wrong dtypes raise ``ValueError``/``TypeError`` whose
  message contains the loss name and the argument name. Where torch 2.13 also rejects the input, the test asserts
  that torch raises too; where torch accepts it (broadcasting ``mse_loss``, an unchecked ``eps``, a CTC target equal
  to the blank, ...) jaxloss must accept it and give torch's value. The few inputs that torch does not check and
  jaxloss rejects are marked ``TORCH_UNCHECKED`` with torch's behaviour written beside them.
* Data errors (class index out of range, negative variance, probabilities outside [0, 1], CTC lengths beyond the
  input) raise ``ValueError`` eagerly, and under ``jax.jit(jaxloss.checked(loss))`` the returned error names the
  loss, while valid data give ``err.get() is None``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import jax
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import jaxloss
import jaxloss.losses as L
from jaxloss._src.catalogue import entries

TORCH_SPECS = [s for s in entries("losses") if s.torch]
TORCH_IDS = [s.name for s in TORCH_SPECS]

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
P = RNG.uniform(0.1, 0.9, (3, 4))
T = np.array([0, 1, 3])
S = np.array([1.0, -1.0, 1.0])
LP = np.log(np.full((5, 2, 4), 0.25))
TG = np.array([[1, 2], [3, 1]])
IL, TL = np.array([5, 5]), np.array([2, 2])

RAISES, ACCEPTS, TORCH_UNCHECKED = "raises", "accepts", "torch-unchecked"


def _t(x):
    return torch.tensor(x) if isinstance(x, np.ndarray) else x


def _torch_call(name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns for broadcasting mse/l1 targets
        return getattr(TF, name)(*[_t(a) for a in args], **{k: _t(v) for k, v in kwargs.items()})


# -------------------------------------------------------------------------------- options, shapes, dtypes

# (id, loss, args, kwargs, torch behaviour, jaxloss exception, argument named in the message)
CASES = [
    # invalid options
    ("huber-delta-0", "huber_loss", (X, Y), {"delta": 0.0}, RAISES, ValueError, "delta"),
    ("huber-delta-negative", "huber_loss", (X, Y), {"delta": -1.0}, RAISES, ValueError, "delta"),
    (
        "smooth_l1-beta-negative",
        "smooth_l1_loss",
        (X, Y),
        {"beta": -0.5},
        RAISES,
        ValueError,
        "beta",
    ),
    ("smooth_l1-beta-0-ok", "smooth_l1_loss", (X, Y), {"beta": 0.0}, ACCEPTS, None, None),
    (
        "cross_entropy-label_smoothing-1.5",
        "cross_entropy",
        (X, T),
        {"label_smoothing": 1.5},
        RAISES,
        ValueError,
        "label_smoothing",
    ),
    # torch 2.13 silently treats a negative label_smoothing as 0 (no error, unsmoothed value); jaxloss rejects it
    (
        "cross_entropy-label_smoothing-negative",
        "cross_entropy",
        (X, T),
        {"label_smoothing": -0.1},
        TORCH_UNCHECKED,
        ValueError,
        "label_smoothing",
    ),
    (
        "linear_cross_entropy-label_smoothing",
        "linear_cross_entropy",
        (X, Y.T.copy(), T),
        {"label_smoothing": 2.0},
        RAISES,
        ValueError,
        "label_smoothing",
    ),
    ("multi_margin-p-3", "multi_margin_loss", (X, T), {"p": 3}, RAISES, ValueError, "p"),
    ("multi_margin-p-0", "multi_margin_loss", (X, T), {"p": 0}, RAISES, ValueError, "p"),
    (
        "triplet-margin-0",
        "triplet_margin_loss",
        (X, Y, P),
        {"margin": 0.0},
        RAISES,
        ValueError,
        "margin",
    ),
    (
        "triplet-margin-negative",
        "triplet_margin_loss",
        (X, Y, P),
        {"margin": -1.0},
        RAISES,
        ValueError,
        "margin",
    ),
    (
        "triplet_distance-margin-0",
        "triplet_margin_with_distance_loss",
        (X, Y, P),
        {"margin": 0.0},
        RAISES,
        ValueError,
        "margin",
    ),
    (
        "triplet_distance-margin-negative",
        "triplet_margin_with_distance_loss",
        (X, Y, P),
        {"margin": -2.0},
        RAISES,
        ValueError,
        "margin",
    ),
    (
        "kl_div-reduction",
        "kl_div",
        (X, P),
        {"reduction": "batchsum"},
        RAISES,
        ValueError,
        "reduction",
    ),
    (
        "cross_entropy-probabilities-ignore_index",
        "cross_entropy",
        (X, P),
        {"ignore_index": 1},
        RAISES,
        ValueError,
        "ignore_index",
    ),
    (
        "ctc-blank-out-of-range",
        "ctc_loss",
        (LP, TG, IL, TL),
        {"blank": 4},
        RAISES,
        ValueError,
        "blank",
    ),
    (
        "ctc-blank-negative",
        "ctc_loss",
        (LP, TG, IL, TL),
        {"blank": -1},
        RAISES,
        ValueError,
        "blank",
    ),
    ("cosine_similarity-dim", "cosine_similarity", (X, Y), {"dim": 3}, RAISES, ValueError, "dim"),
    # options torch does not check: jaxloss must accept them and give torch's value
    (
        "gaussian_nll-eps-negative",
        "gaussian_nll_loss",
        (X, Y, P),
        {"eps": -1e-3},
        ACCEPTS,
        None,
        None,
    ),
    ("poisson_nll-eps-negative", "poisson_nll_loss", (X, P), {"eps": -1e-3}, ACCEPTS, None, None),
    (
        "pairwise_distance-eps-negative",
        "pairwise_distance",
        (X, Y),
        {"eps": -1e-3},
        ACCEPTS,
        None,
        None,
    ),
    (
        "hinge_embedding-margin-negative",
        "hinge_embedding_loss",
        (X, np.sign(Y)),
        {"margin": -1.0},
        ACCEPTS,
        None,
        None,
    ),
    (
        "multi_margin-margin-negative",
        "multi_margin_loss",
        (X, T),
        {"margin": -1.0},
        ACCEPTS,
        None,
        None,
    ),
    # shapes
    ("mse-shape", "mse_loss", (X, Y[:, :3]), {}, RAISES, ValueError, "target"),
    ("mse-broadcast-ok", "mse_loss", (X, Y[:1]), {}, ACCEPTS, None, None),
    ("l1-broadcast-ok", "l1_loss", (X[:, :1], Y), {}, ACCEPTS, None, None),
    ("smooth_l1-broadcast-ok", "smooth_l1_loss", (X, Y[0]), {}, ACCEPTS, None, None),
    ("mse-weight-shape", "mse_loss", (X, Y), {"weight": np.ones(4)}, RAISES, ValueError, "weight"),
    (
        "huber-weight-shape",
        "huber_loss",
        (X, Y),
        {"weight": np.ones(4)},
        RAISES,
        ValueError,
        "weight",
    ),
    ("bce-shape", "binary_cross_entropy", (P, P[:, :2]), {}, RAISES, ValueError, "target"),
    (
        "bce_logits-shape",
        "binary_cross_entropy_with_logits",
        (X, P[:, :2]),
        {},
        RAISES,
        ValueError,
        "target",
    ),
    (
        "bce_logits-pos_weight-shape",
        "binary_cross_entropy_with_logits",
        (X, P),
        {"pos_weight": np.ones(3)},
        RAISES,
        ValueError,
        "pos_weight",
    ),
    ("cross_entropy-target-batch", "cross_entropy", (X, T[:2]), {}, RAISES, ValueError, "target"),
    (
        "cross_entropy-weight-shape",
        "cross_entropy",
        (X, T),
        {"weight": np.ones(3)},
        RAISES,
        ValueError,
        "weight",
    ),
    ("nll-weight-shape", "nll_loss", (X, T), {"weight": np.ones(5)}, RAISES, ValueError, "weight"),
    (
        "multi_margin-weight-shape",
        "multi_margin_loss",
        (X, T),
        {"weight": np.ones(3)},
        RAISES,
        ValueError,
        "weight",
    ),
    (
        "multilabel_margin-target-shape",
        "multilabel_margin_loss",
        (X, np.zeros((3, 3), np.int64)),
        {},
        RAISES,
        ValueError,
        "target",
    ),
    (
        "multilabel_soft_margin-target-shape",
        "multilabel_soft_margin_loss",
        (X, Y[:, :3]),
        {},
        RAISES,
        ValueError,
        "target",
    ),
    (
        "multilabel_soft_margin-weight-shape",
        "multilabel_soft_margin_loss",
        (X, P),
        {"weight": np.ones(3)},
        RAISES,
        ValueError,
        "weight",
    ),
    (
        "gaussian_nll-var-shape",
        "gaussian_nll_loss",
        (X, Y, np.ones((3, 2))),
        {},
        RAISES,
        ValueError,
        "var",
    ),
    ("kl_div-shape", "kl_div", (X, P[:, :2]), {}, RAISES, ValueError, "target"),
    ("hinge_embedding-shape", "hinge_embedding_loss", (X, S), {}, RAISES, ValueError, "target"),
    (
        "margin_ranking-shape",
        "margin_ranking_loss",
        (S, S[:2], S),
        {},
        RAISES,
        ValueError,
        "input2",
    ),
    (
        "cosine_embedding-target-shape",
        "cosine_embedding_loss",
        (X, Y, S[:2]),
        {},
        RAISES,
        ValueError,
        "target",
    ),
    (
        "cosine_embedding-input-shape",
        "cosine_embedding_loss",
        (X, Y[:, :3], S),
        {},
        RAISES,
        ValueError,
        "input2",
    ),
    ("cosine_similarity-shape", "cosine_similarity", (X, Y[:, :3]), {}, RAISES, ValueError, "x2"),
    ("pairwise_distance-shape", "pairwise_distance", (X, Y[:, :3]), {}, RAISES, ValueError, "x2"),
    ("triplet-shape", "triplet_margin_loss", (X, Y[:, :3], P), {}, RAISES, ValueError, "positive"),
    (
        "linear_cross_entropy-in_features",
        "linear_cross_entropy",
        (X, np.ones((5, 3)), T),
        {},
        RAISES,
        ValueError,
        "linear_weight",
    ),
    (
        "linear_cross_entropy-bias-shape",
        "linear_cross_entropy",
        (X, np.ones((5, 4)), T),
        {"linear_bias": np.ones(4)},
        RAISES,
        ValueError,
        "linear_bias",
    ),
    (
        "ctc-target_lengths-beyond-padding",
        "ctc_loss",
        (LP, TG, IL, np.array([3, 2])),
        {},
        RAISES,
        ValueError,
        "target_lengths",
    ),
    (
        "ctc-concatenated-length",
        "ctc_loss",
        (LP, np.array([1, 2, 3]), IL, TL),
        {},
        RAISES,
        ValueError,
        "targets",
    ),
    (
        "ctc-lengths-batch",
        "ctc_loss",
        (LP, TG, np.array([5, 5, 5]), TL),
        {},
        RAISES,
        ValueError,
        "input_lengths",
    ),
    # ranks
    (
        "cross_entropy-rank-0",
        "cross_entropy",
        (np.asarray(1.0), np.asarray(0)),
        {},
        RAISES,
        ValueError,
        "input",
    ),
    ("nll-rank-0", "nll_loss", (np.asarray(-1.0), np.asarray(0)), {}, RAISES, ValueError, "input"),
    ("multi_margin-rank-3", "multi_margin_loss", (X[None], T), {}, RAISES, ValueError, "input"),
    (
        "multilabel_margin-rank-3",
        "multilabel_margin_loss",
        (X[None], np.zeros((1, 3, 4), np.int64)),
        {},
        RAISES,
        ValueError,
        "input",
    ),
    (
        "cosine_embedding-rank-3",
        "cosine_embedding_loss",
        (X[None], Y[None], S),
        {},
        RAISES,
        ValueError,
        "input1",
    ),
    (
        "triplet-rank-3-ok",
        "triplet_margin_loss",
        (X[None], Y[None], P[None]),
        {},
        ACCEPTS,
        None,
        None,
    ),
    (
        "triplet-rank-mismatch",
        "triplet_margin_loss",
        (X[None], Y, P),
        {},
        RAISES,
        ValueError,
        "anchor",
    ),
    (
        "ctc-log_probs-rank-4",
        "ctc_loss",
        (LP[None], TG, IL, TL),
        {},
        RAISES,
        ValueError,
        "log_probs",
    ),
    (
        "linear_cross_entropy-input-rank-3",
        "linear_cross_entropy",
        (X[None], np.ones((5, 4)), T[None]),
        {},
        RAISES,
        ValueError,
        "input",
    ),
    # dtypes
    (
        "cross_entropy-float-indices",
        "cross_entropy",
        (X, T.astype(float)),
        {},
        RAISES,
        TypeError,
        "target",
    ),
    ("nll-float-target", "nll_loss", (X, T.astype(float)), {}, RAISES, TypeError, "target"),
    (
        "multi_margin-float-target",
        "multi_margin_loss",
        (X, T.astype(float)),
        {},
        RAISES,
        TypeError,
        "target",
    ),
    (
        "multilabel_margin-float-target",
        "multilabel_margin_loss",
        (X, np.zeros((3, 4))),
        {},
        RAISES,
        TypeError,
        "target",
    ),
    (
        "linear_cross_entropy-float-indices",
        "linear_cross_entropy",
        (X, np.ones((5, 4)), T.astype(float)),
        {},
        RAISES,
        TypeError,
        "target",
    ),
    (
        "cross_entropy-int-input",
        "cross_entropy",
        (X.astype(np.int64), T),
        {},
        RAISES,
        TypeError,
        "input",
    ),
    (
        "bce_logits-int-input",
        "binary_cross_entropy_with_logits",
        (np.arange(4), np.ones(4)),
        {},
        RAISES,
        TypeError,
        "input",
    ),
    ("mse-int-both", "mse_loss", (np.arange(4), np.arange(4)), {}, RAISES, TypeError, "input"),
    ("l1-int-both", "l1_loss", (np.arange(4), np.arange(4)), {}, RAISES, TypeError, "input"),
    (
        "ctc-int-log_probs",
        "ctc_loss",
        (LP.astype(np.int64), TG, IL, TL),
        {},
        RAISES,
        TypeError,
        "log_probs",
    ),
    # torch accepts floating CTC targets and a target equal to the blank (it just computes)
    ("ctc-float-targets", "ctc_loss", (LP, TG.astype(float), IL, TL), {}, ACCEPTS, None, None),
    (
        "ctc-target-equals-blank",
        "ctc_loss",
        (LP, np.array([[0, 1], [1, 2]]), IL, TL),
        {"reduction": "none"},
        ACCEPTS,
        None,
        None,
    ),
    # a target longer than the input: torch gives inf (or 0 with zero_infinity), no error
    (
        "ctc-target-longer-than-input",
        "ctc_loss",
        (LP, np.array([[1, 2, 3], [1, 2, 3]]), np.array([2, 5]), np.array([3, 3])),
        {"reduction": "none"},
        ACCEPTS,
        None,
        None,
    ),
    (
        "ctc-target-longer-zero_infinity",
        "ctc_loss",
        (LP, np.array([[1, 2, 3], [1, 2, 3]]), np.array([2, 5]), np.array([3, 3])),
        {"zero_infinity": True},
        ACCEPTS,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    "name, args, kwargs, torch_behaviour, exc, argname",
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_bad_option_shape_rank_dtype(name, args, kwargs, torch_behaviour, exc, argname):
    fn = getattr(L, name)
    if torch_behaviour == ACCEPTS:
        want = _torch_call(name, args, kwargs).numpy()
        got = np.asarray(fn(*args, **kwargs))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        return
    with pytest.raises(exc, match=rf"^{name}: .*\b{argname}\b"):
        fn(*args, **kwargs)
    if torch_behaviour == RAISES:
        with pytest.raises(Exception):  # noqa: B017 - torch's error types vary (RuntimeError, IndexError, ...)
            _torch_call(name, args, kwargs)
    else:  # TORCH_UNCHECKED: torch computes a value; jaxloss refuses the input instead
        assert np.all(np.isfinite(_torch_call(name, args, kwargs).numpy()))


@pytest.mark.parametrize(
    "spec",
    [s for s in TORCH_SPECS if "reduction" in inspect.signature(s.fn).parameters],
    ids=lambda s: s.name,
)
def test_invalid_reduction_every_torch_loss(spec):
    args, kwargs = spec.example(np.random.default_rng(0))
    kwargs = dict(kwargs, reduction="abc")
    with pytest.raises(ValueError, match=rf"^{spec.name}: reduction\b.*'abc'"):
        spec.fn(*args, **kwargs)
    with pytest.raises(ValueError):
        _torch_call(spec.torch, args, kwargs)


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=TORCH_IDS)
def test_integer_first_input_every_torch_loss(spec):
    """An integer first input: rejected naming the loss and the argument where torch rejects it, else torch's value."""
    args, kwargs = spec.example(np.random.default_rng(0))
    args = list(args)
    args[0] = np.round(args[0] * 3).astype(np.int64)
    argname = next(iter(inspect.signature(spec.fn).parameters))
    try:
        want = _torch_call(spec.torch, args, kwargs)
    except Exception:
        with pytest.raises((TypeError, ValueError), match=rf"^{spec.name}: .*\b{argname}\b"):
            spec.fn(*args, **kwargs)
        return
    got = spec.fn(*args, **kwargs)
    np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_non_array_argument_names_loss_and_argument():
    with pytest.raises(TypeError, match=r"^mse_loss: input\b"):
        L.mse_loss(None, Y)
    with pytest.raises(TypeError, match=r"^cross_entropy: target\b"):
        L.cross_entropy(X, "abc")


# ------------------------------------------------------------------------------------------ data errors

LOGP = np.log(np.full((3, 4), 0.25))
# (id, loss, options, bad args, good args, argument named in the message)
DATA_CASES = [
    ("nll-index-high", "nll_loss", {}, (LOGP, np.array([0, 4, 1])), (LOGP, T), "target"),
    (
        "nll-index-negative",
        "nll_loss",
        {},
        (LOGP, np.array([0, -1, 1])),
        (LOGP, np.array([0, -100, 1])),
        "target",
    ),
    (
        "nll-kdim-index",
        "nll_loss",
        {},
        (np.zeros((2, 3, 2)), np.array([[0, 3], [1, 2]])),
        (np.zeros((2, 3, 2)), np.array([[0, 2], [1, 2]])),
        "target",
    ),
    ("cross_entropy-index-high", "cross_entropy", {}, (X, np.array([0, 4, 1])), (X, T), "target"),
    (
        "cross_entropy-index-vs-ignore",
        "cross_entropy",
        {"ignore_index": 2},
        (X, np.array([0, -100, 1])),
        (X, np.array([0, 2, 1])),
        "target",
    ),
    (
        "linear_cross_entropy-index",
        "linear_cross_entropy",
        {},
        (X, np.ones((5, 4)), np.array([0, 5, 1])),
        (X, np.ones((5, 4)), T),
        "target",
    ),
    ("multi_margin-index", "multi_margin_loss", {}, (X, np.array([0, 4, 1])), (X, T), "target"),
    (
        "multi_margin-index-negative",
        "multi_margin_loss",
        {},
        (X, np.array([0, -1, 1])),
        (X, T),
        "target",
    ),
    (
        "multilabel_margin-index",
        "multilabel_margin_loss",
        {},
        (X, np.array([[0, 4, -1, 0]] * 3)),
        (X, np.array([[0, 3, -1, 1]] * 3)),
        "target",
    ),
    # torch checks the entries after the ending -1 too
    (
        "multilabel_margin-index-after-end",
        "multilabel_margin_loss",
        {},
        (X, np.array([[0, -1, 7, 0]] * 3)),
        (X, np.array([[0, -1, 3, 0]] * 3)),
        "target",
    ),
    (
        "multilabel_margin-index-negative",
        "multilabel_margin_loss",
        {},
        (X, np.array([[0, -2, -1, 0]] * 3)),
        (X, np.array([[-1, 3, 2, 1]] * 3)),
        "target",
    ),
    ("gaussian_nll-negative-var", "gaussian_nll_loss", {}, (X, Y, -P), (X, Y, P), "var"),
    ("bce-input-above-1", "binary_cross_entropy", {}, (P + 1.0, P), (P, P), "input"),
    (
        "bce-input-negative",
        "binary_cross_entropy",
        {},
        (P - 1.0, P),
        (np.zeros_like(P), P),
        "input",
    ),
    (
        "bce-target-above-1",
        "binary_cross_entropy",
        {},
        (P, P + 1.0),
        (P, np.ones_like(P)),
        "target",
    ),
    (
        "ctc-input_lengths-beyond-T",
        "ctc_loss",
        {},
        (LP, TG, np.array([6, 5]), TL),
        (LP, TG, IL, TL),
        "input_lengths",
    ),
    (
        "ctc-input_lengths-negative",
        "ctc_loss",
        {},
        (LP, TG, np.array([-1, 5]), TL),
        (LP, TG, IL, TL),
        "input_lengths",
    ),
    (
        "ctc-target_lengths-negative",
        "ctc_loss",
        {},
        (LP, TG, IL, np.array([-1, 2])),
        (LP, TG, IL, TL),
        "target_lengths",
    ),
]

# torch does not check these (it reads out of bounds and returns whatever is there); jaxloss raises instead
DATA_TORCH_UNCHECKED = {
    "ctc-class-out-of-range": (
        "ctc_loss",
        {},
        (LP, np.array([[1, 4], [1, 2]]), IL, TL),
        (LP, TG, IL, TL),
        "targets",
    ),
}


def _eager_and_checked(name, options, bad, good, argname):
    fn = functools.partial(getattr(L, name), **options)
    with pytest.raises(ValueError, match=rf"^{name}: .*\b{argname}\b"):
        fn(*bad)
    checked = jax.jit(jaxloss.checked(fn))
    err, _ = checked(*bad)
    msg = err.get()
    assert msg is not None and msg.startswith(f"{name}: "), msg
    assert argname in msg.splitlines()[0], msg
    err, value = checked(*good)
    assert err.get() is None, err.get()
    np.testing.assert_allclose(np.asarray(value), np.asarray(fn(*good)), rtol=1e-12)
    # a plain jit computes on (no error); it must still trace
    jax.jit(fn)(*bad)


@pytest.mark.parametrize(
    "name, options, bad, good, argname", [pytest.param(*c[1:], id=c[0]) for c in DATA_CASES]
)
def test_data_errors_eager_and_checked(name, options, bad, good, argname):
    with pytest.raises(Exception):  # noqa: B017 - torch rejects the same data (RuntimeError/IndexError/ValueError)
        _torch_call(name, bad, options)
    _torch_call(name, good, options)  # and accepts the valid data
    _eager_and_checked(name, options, bad, good, argname)


@pytest.mark.parametrize("case", sorted(DATA_TORCH_UNCHECKED))
def test_data_errors_torch_does_not_check(case):
    name, options, bad, good, argname = DATA_TORCH_UNCHECKED[case]
    _torch_call(name, bad, options)  # torch returns a value (reads past the class axis)
    _eager_and_checked(name, options, bad, good, argname)


def test_data_checks_torch_reports_as_values():
    """What torch gives a value for is not a data error: jaxloss computes the same value eagerly and under checked."""
    lp, tg = LP, np.array([[1, 2, 3], [1, 2, 3]])
    il, tl = np.array([2, 5]), np.array([3, 3])
    want = _torch_call("ctc_loss", (lp, tg, il, tl), {"reduction": "none"}).numpy()
    assert np.isinf(want[0])
    fn = functools.partial(L.ctc_loss, reduction="none")
    np.testing.assert_allclose(np.asarray(fn(lp, tg, il, tl)), want, rtol=1e-9)
    err, value = jax.jit(jaxloss.checked(fn))(lp, tg, il, tl)
    np.testing.assert_allclose(np.asarray(value), want, rtol=1e-9)
    # jaxloss.checked may point the impossible alignment out (a checked-only diagnostic), naming the loss
    assert err.get() is None or err.get().startswith("ctc_loss: "), err.get()
    # all-ignored targets: torch's mean is nan, no error
    want = _torch_call("cross_entropy", (X, np.full(3, -100)), {}).numpy()
    err, value = jax.jit(jaxloss.checked(L.cross_entropy))(X, np.full(3, -100))
    assert err.get() is None and np.isnan(want) and np.isnan(value)
