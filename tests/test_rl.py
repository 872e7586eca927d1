"""RL family against rlax 0.1.9 (DeepMind's RL building blocks, installed; the same JAX).

rlax computes in the same JAX, so every value and vector-Jacobian product (random cotangent, w.r.t. every
floating argument, so the ``stop_gradient`` placement is compared too) is compared on the same randomised
inputs: float64 tight (1e-10) and float32 (2e-5), eager and under ``jit``, one trajectory / transition as
rlax takes it and ``vmap``-ed batches (rlax vmapped over a leading axis == jaxloss vmapped, and jaxloss's
own trailing (sequences) / leading (transitions) batch axes == rlax vmapped). PPO value clipping has no rlax
function: it is compared with a float64 numpy transcription of OpenAI baselines' ppo2 formula.
"""

from __future__ import annotations

import functools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rlax

from jaxloss import losses as L


def _seed(*key) -> int:
    """A seed from the test's parameters that is the same in every process (``hash`` of a str is not)."""
    return zlib.crc32(repr(key).encode())


TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 2e-5, "atol": 2e-6}}

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore::PendingDeprecationWarning"
    ),  # rlax.softmax's deprecation notice
    pytest.mark.filterwarnings(
        "ignore:jax.core.pytype_aval_mappings:DeprecationWarning"
    ),  # distrax's TFP
]


def _is_float(x):
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _cast(args, dtype):
    return [x.astype(dtype) if _is_float(x) else x for x in args]


def _compare(ours, theirs, args, dtype, *, jit=False, kwargs=None, seed=0):
    """Value and VJP (w.r.t. every floating array argument) of ``ours`` and ``theirs`` agree."""
    kwargs = kwargs or {}
    args = _cast(list(args), dtype)
    pos = [i for i, a in enumerate(args) if _is_float(a)]

    def bind(fn):
        def f(*d):
            full = list(args)
            for i, v in zip(pos, d):
                full[i] = v
            return fn(*full, **kwargs)

        return jax.jit(f) if jit else f

    primals = [jnp.asarray(args[i]) for i in pos]
    out_o, vjp_o = jax.vjp(bind(ours), *primals)
    out_t, vjp_t = jax.vjp(bind(theirs), *primals)
    rng = np.random.default_rng(seed)
    cot = jax.tree_util.tree_map(
        lambda x: jnp.asarray(rng.standard_normal(x.shape), x.dtype), out_t
    )
    tol = TOL[dtype]
    for a, b in zip(jax.tree_util.tree_leaves(out_o), jax.tree_util.tree_leaves(out_t)):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **tol, err_msg="value")
    cot_o = type(out_o)(*cot) if isinstance(out_o, tuple) else cot
    for k, (a, b) in enumerate(zip(vjp_o(cot_o), vjp_t(cot))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **tol, err_msg=f"grad {pos[k]}")


# ------------------------------------------------------------------------------------------ sequences


def _seq(rng, t=7, batch=()):
    shape = (t, *batch)
    r = rng.standard_normal(shape)
    discount = rng.uniform(0.0, 1.0, shape)
    discount[rng.random(shape) < 0.2] = 0.0  # episode ends
    return r, discount


def _lambda(rng, kind, shape):
    return {"scalar": 0.7, "vector": rng.uniform(0, 1, shape)}[kind]


SEQUENCE_CASES = [
    "lambda_returns",
    "td_lambda",
    "n_step_1",
    "n_step_3",
    "n_step_long",
    "gae",
    "vtrace",
    "vtrace_adv",
]
# (dtype, jit, lambda kind, stop_target_gradients): every flag value and both modes, in few compilations
COMBOS = [
    (np.float64, False, "vector", False),
    (np.float64, True, "scalar", True),
    (np.float32, True, "vector", True),
]


def _sequence_case(name, rng, lam_kind, stop, batch=()):
    """(ours, rlax, args, kwargs) for one randomised trajectory (or a trailing batch when ``batch``)."""
    r, d = _seq(rng, batch=batch)
    shape = r.shape
    v = rng.standard_normal(shape)
    lam = _lambda(rng, lam_kind, shape)
    if name == "lambda_returns":
        return L.lambda_returns, rlax.lambda_returns, [r, d, v, lam, stop], {}
    if name == "td_lambda":
        return L.td_lambda, rlax.td_lambda, [rng.standard_normal(shape), r, d, v, lam, stop], {}
    if name.startswith("n_step"):
        n = {"n_step_1": 1, "n_step_3": 3, "n_step_long": 10}[
            name
        ]  # 10 > T: every step bootstraps at the end
        return (
            L.n_step_bootstrapped_returns,
            rlax.n_step_bootstrapped_returns,
            [r, d, v, n, lam, stop],
            {},
        )
    if name == "gae":
        values = rng.standard_normal((shape[0] + 1, *shape[1:]))
        return (
            L.truncated_generalized_advantage_estimation,
            rlax.truncated_generalized_advantage_estimation,
            [r, d, lam, values, stop],
            {},
        )
    v_tm1 = rng.standard_normal(shape)
    rho = np.exp(rng.standard_normal(shape))  # on both sides of the clip thresholds
    mask = rng.random(shape) < 0.75
    if name == "vtrace":
        return L.vtrace, rlax.vtrace, [v_tm1, v, r, d, rho, lam, 1.3, stop, mask], {}
    return (
        L.vtrace_td_error_and_advantage,
        rlax.vtrace_td_error_and_advantage,
        [v_tm1, v, r, d, rho, lam, 1.3, 0.8, stop, mask],
        {},
    )


@pytest.mark.parametrize("name", SEQUENCE_CASES)
@pytest.mark.parametrize("dtype,jit,lam_kind,stop", COMBOS, ids=["f64-eager", "f64-jit", "f32-jit"])
def test_sequences_match_rlax(name, dtype, jit, lam_kind, stop):
    rng = np.random.default_rng(_seed(name, lam_kind, stop))
    ours, theirs, args, kwargs = _sequence_case(name, rng, lam_kind, stop)
    if name.startswith("n_step") and dtype == np.float32:
        # rlax pads with jnp.zeros(n - 1) in the default dtype, so under x64 its float32 result is float64;
        # jaxloss keeps float32. Compare rlax's result cast back to float32.
        ref = theirs
        theirs = lambda *a: ref(*a).astype(a[0].dtype)
    _compare(ours, theirs, args, dtype, jit=jit, kwargs=kwargs)


@pytest.mark.parametrize("name", SEQUENCE_CASES)
def test_sequences_batched_equal_rlax_vmapped(name):
    """jaxloss with a trailing batch axis (T, B) == rlax vmapped over that axis; and jaxloss vmapped over a
    leading batch axis == rlax vmapped the same way."""
    rng = np.random.default_rng(7)
    ours, theirs, args, _ = _sequence_case(name, rng, "vector", False, batch=(3,))
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def vmapped(fn, axis):
        def f(*arr):
            def one(*a):
                full = list(args)
                for i, x in zip(arrays, a):
                    full[i] = x
                return fn(*full)

            return jax.vmap(one, in_axes=axis, out_axes=axis)(*arr)

        return f

    arr = [jnp.asarray(args[i]) for i in arrays]
    full = list(args)
    ours_out = ours(*full)
    theirs_out = vmapped(theirs, 1)(*arr)
    for a, b in zip(jax.tree_util.tree_leaves(ours_out), jax.tree_util.tree_leaves(theirs_out)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL[np.float64])
    # leading batch axis through vmap on both sides (move the batch axis first)
    lead = [jnp.moveaxis(a, 1, 0) for a in arr]
    for a, b in zip(
        jax.tree_util.tree_leaves(vmapped(ours, 0)(*lead)),
        jax.tree_util.tree_leaves(vmapped(theirs, 0)(*lead)),
    ):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL[np.float64])


def test_vtrace_defaults_and_no_mask_match_rlax():
    rng = np.random.default_rng(3)
    r, d = _seq(rng)
    v_tm1, v, rho = (
        rng.standard_normal(r.shape),
        rng.standard_normal(r.shape),
        np.exp(rng.standard_normal(r.shape)),
    )
    for fn, ref in (
        (L.vtrace, rlax.vtrace),
        (L.vtrace_td_error_and_advantage, rlax.vtrace_td_error_and_advantage),
    ):
        _compare(fn, ref, [v_tm1, v, r, d, rho], np.float64)
        _compare(fn, ref, [v_tm1, v, r, d, rho], np.float32, jit=True)
    out = L.vtrace_td_error_and_advantage(v_tm1, v, r, d, rho)
    assert out._fields == ("errors", "pg_advantage", "q_estimate")


# ------------------------------------------------------------------------------------------ transitions


def _transition(rng, name, batch=()):
    a = 5
    q_tm1 = rng.standard_normal((*batch, a))
    a_tm1 = rng.integers(0, a, batch)
    r_t = rng.standard_normal(batch)
    discount = rng.uniform(0, 1, batch)
    q_t = rng.standard_normal((*batch, a))
    if name == "q_learning":
        return L.q_learning, rlax.q_learning, [q_tm1, a_tm1, r_t, discount, q_t]
    if name == "double_q_learning":
        return (
            L.double_q_learning,
            rlax.double_q_learning,
            [q_tm1, a_tm1, r_t, discount, q_t, rng.standard_normal((*batch, a))],
        )
    probs = rng.dirichlet(np.ones(a), batch) if batch else rng.dirichlet(np.ones(a))
    return L.expected_sarsa, rlax.expected_sarsa, [q_tm1, a_tm1, r_t, discount, q_t, probs]


TRANSITIONS = ["q_learning", "double_q_learning", "expected_sarsa"]


@pytest.mark.parametrize("name", TRANSITIONS)
@pytest.mark.parametrize(
    "dtype,jit,stop",
    [(np.float64, False, True), (np.float64, True, False), (np.float32, True, True)],
    ids=["f64-eager", "f64-jit", "f32-jit"],
)
def test_transitions_match_rlax(name, dtype, jit, stop):
    for seed in range(2):
        rng = np.random.default_rng(seed)
        ours, theirs, args = _transition(rng, name)
        _compare(ours, theirs, args + [stop], dtype, jit=jit, seed=seed)


@pytest.mark.parametrize("name", TRANSITIONS)
def test_transitions_batched_equal_rlax_vmapped(name):
    rng = np.random.default_rng(11)
    ours, theirs, args = _transition(rng, name, batch=(2, 4))
    ref = jax.vmap(jax.vmap(theirs))(*args)
    np.testing.assert_allclose(np.asarray(ours(*args)), np.asarray(ref), **TOL[np.float64])
    np.testing.assert_allclose(
        np.asarray(jax.vmap(ours)(*args)), np.asarray(ref), **TOL[np.float64]
    )
    _compare(lambda *a: ours(*a), lambda *a: jax.vmap(jax.vmap(theirs))(*a), args, np.float64)


def test_double_q_selector_ties_pick_the_first_action_like_rlax():
    q_tm1, q_value = np.array([1.0, 2.0, 3.0]), np.array([5.0, 7.0, 9.0])
    selector = np.array([0.0, 1.0, 1.0])
    args = [q_tm1, np.array(0), np.array(1.0), np.array(0.5), q_value, selector]
    assert (
        float(L.double_q_learning(*args))
        == float(rlax.double_q_learning(*args))
        == 1.0 + 0.5 * 7.0 - 1.0
    )


# ------------------------------------------------------------------------------------------ policy losses


def _rlax_reduced(fn, reduction):
    """rlax returns the mean; for 'none' recover the per-step values by vmapping over single steps."""
    if reduction == "mean":
        return fn
    if reduction == "sum":
        return lambda *a: fn(*a) * a[0].shape[0]

    def per_step(*a):
        return jax.vmap(lambda *x: fn(*[jnp.expand_dims(y, 0) for y in x]))(*a)

    return per_step


POLICY_COMBOS = [
    ("mean", True, np.float64, False),
    ("none", False, np.float64, True),
    ("sum", True, np.float32, True),
    ("mean", False, np.float32, False),
]


@pytest.mark.parametrize("reduction,stop,dtype,jit", POLICY_COMBOS)
def test_policy_gradient_loss_matches_rlax(reduction, stop, dtype, jit):
    rng = np.random.default_rng(5)
    t, a = 9, 4
    args = [
        rng.standard_normal((t, a)) * 3,
        rng.integers(0, a, t),
        rng.standard_normal(t),
        rng.uniform(0, 2, t),
    ]

    def ref(logits, a_t, adv, w):
        return _rlax_reduced(
            lambda *x: rlax.policy_gradient_loss(*x, use_stop_gradient=stop), reduction
        )(logits, a_t, adv, w)

    ours = functools.partial(L.policy_gradient_loss, use_stop_gradient=stop, reduction=reduction)
    _compare(ours, ref, args, dtype, jit=jit)


@pytest.mark.parametrize("reduction,_,dtype,jit", POLICY_COMBOS)
def test_entropy_loss_matches_rlax(reduction, _, dtype, jit):
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((8, 5)) * 2
    logits[
        0, 1
    ] = -np.inf  # a zero-probability action: 0 log 0 = 0 with a finite gradient, as distrax
    args = [logits, rng.uniform(0, 2, 8)]
    ref = _rlax_reduced(rlax.entropy_loss, reduction)
    _compare(functools.partial(L.entropy_loss, reduction=reduction), ref, args, dtype, jit=jit)


@pytest.mark.parametrize("reduction,stop,dtype,jit", POLICY_COMBOS)
def test_clipped_surrogate_matches_rlax(reduction, stop, dtype, jit):
    rng = np.random.default_rng(8)
    ratios = np.exp(rng.standard_normal(20) * 0.4)  # inside and outside [1 - eps, 1 + eps]
    adv = rng.standard_normal(20)
    ref = _rlax_reduced(
        lambda r, a: rlax.clipped_surrogate_pg_loss(r, a, 0.2, use_stop_gradient=stop), reduction
    )
    ours = functools.partial(
        L.clipped_surrogate_pg_loss, epsilon=0.2, use_stop_gradient=stop, reduction=reduction
    )
    _compare(ours, ref, [ratios, adv], dtype, jit=jit)


def test_policy_losses_batched_equal_rlax_vmapped():
    rng = np.random.default_rng(9)
    b, t, a = 3, 6, 4
    logits, acts = rng.standard_normal((b, t, a)), rng.integers(0, a, (b, t))
    adv, w = rng.standard_normal((b, t)), rng.uniform(0, 1, (b, t))
    ref = jax.vmap(rlax.policy_gradient_loss)(logits, acts, adv, w)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(L.policy_gradient_loss)(logits, acts, adv, w)),
        np.asarray(ref),
        **TOL[np.float64],
    )
    ent = jax.vmap(rlax.entropy_loss)(logits, w)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(L.entropy_loss)(logits, w)), np.asarray(ent), **TOL[np.float64]
    )
    ratios = np.exp(rng.standard_normal((b, t)) * 0.4)
    ppo = jax.vmap(lambda r, a: rlax.clipped_surrogate_pg_loss(r, a, 0.2))(ratios, adv)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(lambda r, a: L.clipped_surrogate_pg_loss(r, a, 0.2))(ratios, adv)),
        np.asarray(ppo),
        **TOL[np.float64],
    )
    # the batch axes handled natively (no vmap): mean over every step = mean of the per-trajectory means
    np.testing.assert_allclose(
        float(L.policy_gradient_loss(logits, acts, adv, w)), float(jnp.mean(ref)), rtol=1e-12
    )


# ------------------------------------------------------------------------------------------ PPO value clipping


def _baselines_value_loss(values, old_values, returns, eps):
    """OpenAI baselines ppo2/model.py (float64 numpy transcription):
    vpredclipped = OLDVPRED + clip(vpred - OLDVPRED, -CLIPRANGE, CLIPRANGE)
    vf_loss = .5 * reduce_mean(maximum(square(vpred - R), square(vpredclipped - R)))
    returns the per-step values (before the mean) and d(sum)/d(values)."""
    clipped = old_values + np.clip(values - old_values, -eps, eps)
    l1, l2 = (values - returns) ** 2, (clipped - returns) ** 2
    inside = np.abs(values - old_values) < eps
    # gradient of the max w.r.t. values: branch 1 always depends on v; branch 2 only inside the clip range
    grad = np.where(l1 >= l2, values - returns, np.where(inside, clipped - returns, 0.0))
    return 0.5 * np.maximum(l1, l2), grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clipped_value_loss_matches_baselines_formula(dtype):
    rng = np.random.default_rng(10)
    old = rng.standard_normal(30)
    values = old + rng.uniform(-0.6, 0.6, 30)
    returns = rng.standard_normal(30)
    ref, ref_grad = _baselines_value_loss(values, old, returns, 0.2)
    tol = TOL[dtype]
    for jit in (False, True):
        f = (lambda fn: jax.jit(fn, static_argnames="reduction") if jit else fn)(
            lambda v, reduction="mean": L.clipped_value_loss(
                v, old.astype(dtype), returns.astype(dtype), 0.2, reduction=reduction
            )
        )
        v = values.astype(dtype)
        np.testing.assert_allclose(np.asarray(f(v, reduction="none")), ref, **tol)
        np.testing.assert_allclose(float(f(v)), ref.mean(), **tol)
        np.testing.assert_allclose(float(f(v, reduction="sum")), ref.sum(), **tol)
        grad = jax.grad(lambda x: f(x, reduction="sum"))(jnp.asarray(v))
        np.testing.assert_allclose(np.asarray(grad), ref_grad, **tol)
    # returns are stop_gradient-ed by default, differentiable with stop_target_gradients=False
    g_ret = jax.grad(lambda r: L.clipped_value_loss(values, old, r, 0.2, reduction="sum"))(returns)
    assert np.all(np.asarray(g_ret) == 0)
    g_ret = jax.grad(lambda r: L.clipped_value_loss(values, old, r, 0.2, False, reduction="sum"))(
        returns
    )
    clipped = old + np.clip(values - old, -0.2, 0.2)
    larger = np.where((values - returns) ** 2 >= (clipped - returns) ** 2, values, clipped)
    np.testing.assert_allclose(np.asarray(g_ret), -(larger - returns), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------ half precision


def test_half_precision_computes_in_float32():
    rng = np.random.default_rng(12)
    r, d = _seq(rng)
    v = rng.standard_normal(r.shape)
    out = L.lambda_returns(
        jnp.asarray(r, jnp.bfloat16),
        jnp.asarray(d, jnp.bfloat16),
        jnp.asarray(v, jnp.bfloat16),
        0.9,
    )
    assert out.dtype == jnp.bfloat16
    ref = rlax.lambda_returns(
        *(jnp.asarray(jnp.asarray(x, jnp.bfloat16), jnp.float32) for x in (r, d, v)), 0.9
    )
    np.testing.assert_allclose(
        np.asarray(out, np.float32),
        np.asarray(ref.astype(jnp.bfloat16), np.float32),
        rtol=1e-2,
        atol=1e-2,
    )


# ------------------------------------------------------------------------------------------ bad input

_R, _D = np.ones(4), np.full(4, 0.9)
BAD = [
    ("lambda_returns", lambda: L.lambda_returns(_R, _D, np.ones(5)), ValueError, "v_t"),
    (
        "lambda_returns-lambda",
        lambda: L.lambda_returns(_R, _D, _R, np.ones(3)),
        ValueError,
        "lambda_",
    ),
    ("lambda_returns-scalar", lambda: L.lambda_returns(1.0, 0.9, 1.0), ValueError, "r_t"),
    ("lambda_returns-int", lambda: L.lambda_returns(np.ones(4, int), _D, _R), TypeError, "r_t"),
    (
        "lambda_returns-flag",
        lambda: L.lambda_returns(_R, _D, _R, 1.0, "yes"),
        ValueError,
        "stop_target_gradients",
    ),
    ("n_step-n", lambda: L.n_step_bootstrapped_returns(_R, _D, _R, 0), ValueError, "n must"),
    (
        "gae-values",
        lambda: L.truncated_generalized_advantage_estimation(_R, _D, 0.9, _R),
        ValueError,
        "values",
    ),
    (
        "vtrace-mask",
        lambda: L.vtrace(_R, _R, _R, _D, _R, sample_mask=np.ones(4)),
        TypeError,
        "sample_mask",
    ),
    ("vtrace-rho", lambda: L.vtrace(_R, _R, _R, _D, np.ones(3)), ValueError, "rho_tm1"),
    (
        "q_learning-action",
        lambda: L.q_learning(np.ones(3), np.array(3), 1.0, 0.9, np.ones(3)),
        ValueError,
        "a_tm1",
    ),
    (
        "q_learning-action-dtype",
        lambda: L.q_learning(np.ones(3), 1.0, 1.0, 0.9, np.ones(3)),
        TypeError,
        "a_tm1",
    ),
    (
        "q_learning-q_t",
        lambda: L.q_learning(np.ones(3), np.array(0), 1.0, 0.9, np.ones(4)),
        ValueError,
        "q_t",
    ),
    (
        "q_learning-r_t",
        lambda: L.q_learning(np.ones(3), np.array(0), np.ones(2), np.ones(2), np.ones(3)),
        ValueError,
        "r_t",
    ),
    (
        "pg-actions",
        lambda: L.policy_gradient_loss(np.ones((2, 3)), np.array([0, 5]), np.ones(2), np.ones(2)),
        ValueError,
        "a_t",
    ),
    (
        "pg-adv",
        lambda: L.policy_gradient_loss(np.ones((2, 3)), np.array([0, 1]), np.ones(3), np.ones(3)),
        ValueError,
        "adv_t",
    ),
    (
        "pg-reduction",
        lambda: L.policy_gradient_loss(
            np.ones((2, 3)), np.array([0, 1]), np.ones(2), np.ones(2), reduction="avg"
        ),
        ValueError,
        "reduction",
    ),
    ("entropy-w", lambda: L.entropy_loss(np.ones((2, 3)), np.ones(3)), ValueError, "w_t"),
    (
        "ppo-shape",
        lambda: L.clipped_surrogate_pg_loss(np.ones(3), np.ones(2), 0.2),
        ValueError,
        "adv_t",
    ),
    (
        "value-shape",
        lambda: L.clipped_value_loss(np.ones(3), np.ones(2), np.ones(3), 0.2),
        ValueError,
        "old_values",
    ),
]


@pytest.mark.parametrize("case,call,exc,argname", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_named_errors(case, call, exc, argname):
    loss = (
        case.split("-")[0]
        .replace("pg", "policy_gradient_loss")
        .replace("ppo", "clipped_surrogate_pg_loss")
    )
    loss = {
        "n_step": "n_step_bootstrapped_returns",
        "gae": "truncated_generalized_advantage_estimation",
        "entropy": "entropy_loss",
        "value": "clipped_value_loss",
    }.get(loss, loss)
    with pytest.raises(exc, match=argname) as info:
        call()
    assert loss in str(info.value)


def test_nn_objects_match_rlax():
    from jaxloss import nn as jnn

    rng = np.random.default_rng(13)
    logits, acts = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    adv, w = rng.standard_normal(5), rng.uniform(0, 1, 5)
    np.testing.assert_allclose(
        float(jnn.PolicyGradientLoss()(logits, acts, adv, w)),
        float(rlax.policy_gradient_loss(logits, acts, adv, w)),
        rtol=1e-12,
    )
    ratios = np.exp(rng.standard_normal(5) * 0.4)
    np.testing.assert_allclose(
        float(jnn.ClippedSurrogatePGLoss(epsilon=0.1)(ratios, adv)),
        float(rlax.clipped_surrogate_pg_loss(ratios, adv, 0.1)),
        rtol=1e-12,
    )
    old = rng.standard_normal(5)
    np.testing.assert_allclose(
        np.asarray(jnn.ClippedValueLoss(epsilon=0.2, reduction="none")(old + 0.3, old, adv)),
        _baselines_value_loss(old + 0.3, old, adv, 0.2)[0],
        rtol=1e-12,
    )
    assert jnn.ClippedSurrogatePGLoss(epsilon=0.1) == jnn.ClippedSurrogatePGLoss(epsilon=0.1)
    with pytest.raises(TypeError):
        jnn.ClippedValueLoss()  # epsilon is required, as in rlax / baselines
