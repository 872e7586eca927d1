"""The Pallas kernel of linear_cross_entropy (options.kernel='pallas'), run in Pallas's interpret mode on CPU,
against the XLA chunked engine and the materialised path computed in the same run (values and the gradients
of input, linear_weight and linear_bias), and its statistics against a float64 numpy reference.

Tiles are chosen so that neither N nor V is a multiple of them (row and class padding are exercised)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxloss._src.families.classification import linear_cross_entropy_pallas as pallas_module
from jaxloss._src.families.classification.linear_cross_entropy import (
    LinearCrossEntropyOptions,
    linear_cross_entropy,
)
from jaxloss._src.families.classification.linear_cross_entropy_pallas import linear_ce_stats

N, H, V = 13, 8, 40
ROWS, COLS = (
    8,
    16,
)  # 13 rows -> 2 row blocks (3 padded rows), 40 classes -> 3 class tiles (8 padded)
PALLAS = LinearCrossEntropyOptions(kernel="pallas", batch_chunk_size=ROWS, vocab_chunk_size=COLS)
XLA = LinearCrossEntropyOptions(kernel="xla", batch_chunk_size=ROWS, vocab_chunk_size=COLS)
REDUCTIONS = ["mean", "sum", "none"]


def _problem(seed, dtype=jnp.float32, ignored=True):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal((N, H)), dtype)
    w = jnp.asarray(rng.standard_normal((V, H)) * 0.7, dtype)
    b = jnp.asarray(rng.standard_normal(V), dtype)
    t = rng.integers(0, V, N)
    if ignored:
        t[[1, 6, 12]] = -100
    weight = jnp.asarray(rng.uniform(0.5, 2.0, V), dtype)
    return x, w, b, jnp.asarray(t), weight


def _value_and_grads(options, reduction, t, with_bias=True, **kw):
    def f(x, w, b):
        out = linear_cross_entropy(
            x,
            w,
            t,
            linear_bias=b if with_bias else None,
            reduction=reduction,
            options=options,
            **kw,
        )
        # a weighted sum for 'none', so the per-row cotangents differ
        scale = jnp.arange(1.0, out.size + 1.0, dtype=out.dtype).reshape(out.shape)
        return jnp.sum(out * scale), out

    return jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2), has_aux=True))


def _close(a, b, rtol, atol):
    np.testing.assert_allclose(
        np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol
    )


CASES = [("plain", r) for r in REDUCTIONS] + [
    ("smoothing", "mean"),
    ("smoothing", "none"),
    ("weight", "mean"),
    ("weight", "none"),
    ("no_ignored", "sum"),
    ("no_bias", "mean"),
]


@pytest.mark.parametrize("case,reduction", CASES)
def test_float32_matches_xla_and_materialised(case, reduction):
    x, w, b, t, weight = _problem(0, ignored=case != "no_ignored")
    kw = {"label_smoothing": 0.1} if case == "smoothing" else {}
    if case == "weight":
        kw["weight"] = weight
    bias = case != "no_bias"
    (_, got), grads = _value_and_grads(PALLAS, reduction, t, bias, **kw)(x, w, b)
    for ref_options in (XLA, None):
        (_, want), want_grads = _value_and_grads(ref_options, reduction, t, bias, **kw)(x, w, b)
        assert got.dtype == want.dtype == jnp.float32 and got.shape == want.shape
        _close(got, want, 1e-5, 1e-5)
        for g, wg in zip(grads[: 3 if bias else 2], want_grads):
            _close(g, wg, 1e-5, 1e-5)
    if reduction == "none":
        assert np.all(np.asarray(got)[np.asarray(t) == -100] == 0)
    if not bias:
        assert np.all(np.asarray(grads[2]) == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bfloat16_matches_materialised(reduction):
    x, w, b, t, _ = _problem(1, jnp.bfloat16)
    (_, got), grads = _value_and_grads(PALLAS, reduction, t, label_smoothing=0.05)(x, w, b)
    (_, want), want_grads = _value_and_grads(None, reduction, t, label_smoothing=0.05)(x, w, b)
    assert got.dtype == jnp.bfloat16 and got.shape == want.shape
    _close(got, want, 2e-2, 2e-2)
    for g, wg in zip(grads, want_grads):
        assert g.dtype == jnp.bfloat16
        # bfloat16 gradients: G is rounded to bfloat16 before the backward products
        _close(g, wg, 5e-2, 5e-2)


def test_statistics_against_float64_numpy():
    x, w, b, t, _ = _problem(2, ignored=False)
    lse, lt, sl = jax.jit(linear_ce_stats, static_argnums=4)(
        x, w, b, t.astype(jnp.int32), (ROWS, COLS, True)
    )
    l = np.asarray(x, np.float64) @ np.asarray(w, np.float64).T + np.asarray(b, np.float64)
    m = l.max(axis=1)
    _close(lse, m + np.log(np.exp(l - m[:, None]).sum(axis=1)), 1e-5, 1e-5)
    _close(lt, l[np.arange(N), np.asarray(t)], 1e-5, 1e-5)
    _close(sl, l.sum(axis=1), 1e-5, 1e-5)


def test_all_ignored_mean_is_nan_with_zero_gradients():
    x, w, b, _, _ = _problem(3)
    t = jnp.full((N,), -100)
    (_, got), grads = _value_and_grads(PALLAS, "mean", t)(x, w, b)
    assert np.isnan(float(got))
    for g in grads:
        assert np.all(np.asarray(g) == 0)


def test_unbatched_input_and_custom_ignore_index():
    x, w, b, t, _ = _problem(4, ignored=False)
    t = t.at[2].set(5)
    got = linear_cross_entropy(x, w, t, linear_bias=b, ignore_index=5, options=PALLAS)
    want = linear_cross_entropy(x, w, t, linear_bias=b, ignore_index=5)
    _close(got, want, 1e-5, 1e-5)
    got1 = linear_cross_entropy(x[0], w, t[0], linear_bias=b, options=PALLAS, reduction="none")
    assert got1.shape == ()
    _close(got1, linear_cross_entropy(x[0], w, t[0], linear_bias=b, reduction="none"), 1e-5, 1e-5)


def test_selection_and_limits(monkeypatch):
    x, w, b, t, _ = _problem(5)
    # 'auto' on CPU is the XLA engine, which supports forward mode; the Pallas path is reverse mode only
    auto = LinearCrossEntropyOptions(batch_chunk_size=ROWS)
    assert jax.default_backend() == "cpu"
    _, tangent = jax.jvp(
        lambda x: linear_cross_entropy(x, w, t, options=auto), (x,), (jnp.ones_like(x),)
    )
    assert np.isfinite(float(tangent))
    with pytest.raises(TypeError):
        jax.jvp(lambda x: linear_cross_entropy(x, w, t, options=PALLAS), (x,), (jnp.ones_like(x),))
    # 'auto' picks the kernel on the backends in AUTO_BACKENDS ('gpu'), for the calls it serves
    monkeypatch.setattr(pallas_module, "AUTO_BACKENDS", ("cpu",))
    with pytest.raises(TypeError):
        jax.jvp(lambda x: linear_cross_entropy(x, w, t, options=auto), (x,), (jnp.ones_like(x),))
    xla_only = LinearCrossEntropyOptions(batch_chunk_size=ROWS, kernel="xla")
    jax.jvp(lambda x: linear_cross_entropy(x, w, t, options=xla_only), (x,), (jnp.ones_like(x),))
    probs = jax.nn.softmax(
        jnp.asarray(np.random.default_rng(0).standard_normal((N, V)), jnp.float32)
    )
    with pytest.raises(ValueError, match="kernel='pallas'"):
        linear_cross_entropy(x, w, probs, options=PALLAS)
    with pytest.raises(ValueError, match="kernel='pallas'"):
        linear_cross_entropy(x, w, t, weight=b, label_smoothing=0.1, options=PALLAS)
    # calls the kernel does not serve take the XLA engine under 'auto' (probability targets, forward mode)
    jax.jvp(lambda x: linear_cross_entropy(x, w, probs, options=auto), (x,), (jnp.ones_like(x),))
    with pytest.raises(ValueError, match="kernel must be one of"):
        LinearCrossEntropyOptions(kernel="triton")


def test_vmap_of_grad():
    x, w, _, t, _ = _problem(6, ignored=False)
    xs, ts = x[:12].reshape(2, 6, H), t[:12].reshape(2, 6)

    def grads(options):
        loss = lambda x, t: linear_cross_entropy(x, w, t, options=options)
        return jax.jit(jax.vmap(jax.grad(loss)))(xs, ts)

    _close(grads(PALLAS), grads(None), 1e-5, 1e-5)
