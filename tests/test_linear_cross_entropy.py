"""linear_cross_entropy against torch 2.13 (reference and chunked paths, computed in the same run), and the
chunked engine against the materialised one under jit, grad, jvp, Hessian-vector products, vmap and shard_map."""

import os
import subprocess
import sys
import textwrap
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.families.classification.linear_cross_entropy import (
    LinearCrossEntropyOptions,
    linear_cross_entropy,
)
from tests.torch_parity import compare

N, H, C = 11, 4, 7
REDUCTIONS = ["none", "mean", "sum"]
# Chunk configurations reaching every loop shape: several full row blocks plus a tail, one row block, class
# blocks with a tail, and the default ('auto').
CHUNKINGS = [
    LinearCrossEntropyOptions(batch_chunk_size=4),
    LinearCrossEntropyOptions(batch_chunk_size=4, vocab_chunk_size=3),
    LinearCrossEntropyOptions(chunking_method=None, vocab_chunk_size=C),
    LinearCrossEntropyOptions(),
]


def _problem(rng, n=N, classes=C, out=()):
    x = rng.standard_normal((n, H))
    w = rng.standard_normal((classes, *out, H)) * 0.7
    b = rng.standard_normal((classes, *out))
    t = rng.integers(0, classes, (n, *out))
    t.reshape(-1)[:: max(1, t.size // 3)] = -100
    return x, w, b, t


def _jax(options=None, **kw):
    def fn(x, w, t, b=None):
        return linear_cross_entropy(x, w, t, linear_bias=b, options=options, **kw)

    return fn


def _torch(options=None, **kw):
    def fn(x, w, t, b=None):
        if t.dim() == 1 and x.dim() == 1 and t.shape[0] == 1 and w.shape[0] != 1:
            t = t.reshape(())  # torch_parity makes 0-d arrays 1-d (np.ascontiguousarray)
        kwargs = {
            k: torch.as_tensor(v, dtype=x.dtype) if isinstance(v, np.ndarray) else v
            for k, v in kw.items()
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when its chunked path falls back
            return F.linear_cross_entropy(x, w, t, linear_bias=b, options=options, **kwargs)

    return fn


@pytest.mark.parametrize("dtype, jit", [(np.float64, False), (np.float32, True)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reference_path(rng, dtype, jit, reduction):
    x, w, b, t = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C).astype(
        dtype
    )  # torch and jaxloss refuse a weight of another dtype
    compare(
        _jax(reduction=reduction),
        _torch(reduction=reduction),
        [x, w, t, b],
        diff=(0, 1, 3),
        dtype=dtype,
        jit=jit,
    )
    kw = {"reduction": reduction, "weight": cw, "label_smoothing": 0.2}
    compare(_jax(**kw), _torch(**kw), [x, w, t, b], diff=(0, 1, 3), dtype=dtype, jit=not jit)


@pytest.mark.parametrize("dtype, jit", [(np.float64, False), (np.float32, True)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_chunked_matches_torch_chunked(rng, dtype, jit, reduction):
    """torch's chunked path (index targets, no smoothing) against jaxloss's, values and gradients."""
    x, w, b, t = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C)
    t_opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    options = CHUNKINGS[0] if jit else CHUNKINGS[1]
    kw = {"reduction": reduction, "weight": cw}
    compare(
        _jax(options, **kw),
        _torch(t_opts, **kw),
        [x, w, t, b],
        diff=(0, 1, 3),
        dtype=dtype,
        jit=True,
    )
    if reduction == "mean":
        compare(
            _jax(CHUNKINGS[2 if jit else 3]),
            _torch(t_opts),
            [x, w, t],
            diff=(0, 1),
            dtype=dtype,
            jit=True,
        )


@pytest.mark.parametrize(
    "reduction, options", [("mean", CHUNKINGS[0]), ("sum", CHUNKINGS[1]), ("none", CHUNKINGS[1])]
)
def test_chunked_every_branch(rng, options, reduction):
    """Branches torch's chunked path does not take (it falls back): weights + ignore + smoothing, probability
    targets with weights and smoothing, K-dimensional weights, unbatched input. Against torch's reference."""
    x, w, b, t = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C)
    kw = {"reduction": reduction, "weight": cw, "label_smoothing": 0.3, "ignore_index": 2}
    t2 = np.where(t == -100, 2, t)
    compare(_jax(options, **kw), _torch(**kw), [x, w, t2, b], diff=(0, 1, 3), jit=True)
    p = rng.dirichlet(np.ones(C), N)
    kw = {"reduction": reduction, "weight": cw, "label_smoothing": 0.2}
    compare(_jax(options, **kw), _torch(**kw), [x, w, p, b], diff=(0, 1, 3), jit=True)
    # K-dimensional: linear_weight (C, 2, 3, H), logits (N, C, 2, 3), targets (N, 2, 3) or (N, C, 2)
    xk, wk, bk, tk = _problem(rng, n=5, out=(2, 3))
    kw = {"reduction": reduction, "weight": cw, "label_smoothing": 0.1}
    compare(_jax(options, **kw), _torch(**kw), [xk, wk, tk, bk], diff=(0, 1, 3), jit=True)
    pk = rng.dirichlet(np.ones(C), (5, 2)).transpose(0, 2, 1)
    compare(
        _jax(options, reduction=reduction),
        _torch(reduction=reduction),
        [xk, wk[:, :, 0], pk],
        diff=(0, 1),
        jit=True,
    )
    # unbatched input (H,), index and probability targets
    kw = {"reduction": reduction, "label_smoothing": 0.1}
    compare(_jax(options, **kw), _torch(**kw), [x[0], w, np.array(3), b], diff=(0, 1, 3), jit=True)
    compare(_jax(options, **kw), _torch(**kw), [x[0], w, p[0]], diff=(0, 1), jit=True)


@pytest.mark.parametrize("options", [None, CHUNKINGS[1]])
def test_all_ignored(rng, options):
    """'mean' with every target ignored is nan with zero gradients (torch's reference path)."""
    x, w, b, _ = _problem(rng)
    t = np.full((N,), -100)
    for reduction in REDUCTIONS:
        kw = {"reduction": reduction, "label_smoothing": 0.1}
        jv, _ = compare(_jax(options, **kw), _torch(**kw), [x, w, t, b], diff=(0, 1, 3), jit=True)
        assert np.isnan(jv).all() == (reduction == "mean")


def test_empty_batch():
    x, w = np.zeros((0, H)), np.ones((C, H))
    for options in (None, CHUNKINGS[0]):
        got = linear_cross_entropy(x, w, np.zeros((0,), np.int64), options=options)
        want = F.linear_cross_entropy(
            torch.from_numpy(x), torch.from_numpy(w), torch.zeros((0,), dtype=torch.long)
        )
        np.testing.assert_array_equal(np.asarray(got), want.numpy())


@pytest.mark.parametrize("reduction, options", [("mean", CHUNKINGS[1]), ("none", CHUNKINGS[0])])
def test_jvp_hvp_vmap(rng, reduction, options):
    """Forward mode, forward-over-reverse and reverse-over-reverse Hessian-vector products, and vmap of the
    chunked path equal the materialised ones."""
    x, w, b, t = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C)
    vx, vw, vb = (
        rng.standard_normal(x.shape),
        rng.standard_normal(w.shape),
        rng.standard_normal(b.shape),
    )
    kw = {"reduction": reduction, "weight": cw, "label_smoothing": 0.1}

    def loss(options):
        return lambda x, w, b: jnp.sum(
            linear_cross_entropy(x, w, t, linear_bias=b, options=options, **kw)
        )

    f, ref = loss(options), loss(None)
    tan = jax.jit(lambda *p: jax.jvp(f, p, (vx, vw, vb))[1])(x, w, b)
    tan_ref = jax.jvp(ref, (x, w, b), (vx, vw, vb))[1]
    np.testing.assert_allclose(tan, tan_ref, rtol=1e-10)
    hvp = jax.jit(lambda *p: jax.jvp(jax.grad(f, argnums=(0, 1, 2)), p, (vx, vw, vb))[1])(x, w, b)
    hvp_ref = jax.jvp(jax.grad(ref, argnums=(0, 1, 2)), (x, w, b), (vx, vw, vb))[1]
    for got, want in zip(hvp, hvp_ref):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    if (
        reduction == "mean"
    ):  # reverse over reverse (differentiates the gradient sweep by XLA's autodiff)
        rr = jax.jit(jax.grad(lambda w: jnp.vdot(jax.grad(f, argnums=1)(x, w, b), vw)))(w)
        rr_ref = jax.grad(lambda w: jnp.vdot(jax.grad(ref, argnums=1)(x, w, b), vw))(w)
        np.testing.assert_allclose(rr, rr_ref, rtol=1e-9, atol=1e-12)
    xs = np.stack([x, 0.5 * x])
    np.testing.assert_allclose(
        jax.jit(jax.vmap(jax.grad(f, argnums=1), in_axes=(0, None, None)))(xs, w, b),
        jax.vmap(jax.grad(ref, argnums=1), in_axes=(0, None, None))(xs, w, b),
        rtol=1e-10,
        atol=1e-13,
    )


@pytest.mark.parametrize("dtype", [jnp.bfloat16])
def test_half_precision(rng, dtype):
    """Half-precision inputs accumulate in float32 on both paths; output in the input dtype."""
    x, w, b, t = _problem(rng)
    xh, wh, bh = (jnp.asarray(a, dtype) for a in (x, w, b))
    x64, w64, b64 = (np.array(a.astype(jnp.float64)) for a in (xh, wh, bh))
    want = F.linear_cross_entropy(
        torch.from_numpy(x64),
        torch.from_numpy(w64),
        torch.from_numpy(t),
        linear_bias=torch.from_numpy(b64),
    ).item()
    for options in (None, CHUNKINGS[1]):
        f = lambda x, w, b, options=options: linear_cross_entropy(
            x, w, t, linear_bias=b, options=options
        )
        got, grads = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))(xh, wh, bh)
        assert got.dtype == dtype
        np.testing.assert_allclose(float(got), want, rtol=1e-2)
        assert [g.dtype for g in grads] == [dtype] * 3
    g32 = jax.jit(jax.grad(lambda w: linear_cross_entropy(xh, w, t, options=CHUNKINGS[1])))(wh)
    g64 = jax.grad(lambda w: linear_cross_entropy(x64, w, t))(w64)
    np.testing.assert_allclose(np.asarray(g32, np.float64), g64, atol=2e-2)


def test_memory_is_bounded():
    """XLA's temporaries for value and gradient: the chunked path never holds the (N, V) logits."""
    n, h, v = 256, 32, 4096
    x, w = jnp.ones((n, h), jnp.float32), jnp.ones((v, h), jnp.float32)
    t = jnp.zeros((n,), jnp.int32)

    def temp(options):
        f = jax.value_and_grad(
            lambda x, w: linear_cross_entropy(x, w, t, options=options), argnums=(0, 1)
        )
        return jax.jit(f).lower(x, w).compile().memory_analysis().temp_size_in_bytes

    logits = n * v * 4
    assert temp(None) >= 2 * logits
    assert temp(LinearCrossEntropyOptions(batch_chunk_size=16)) < logits / 2
    assert temp(LinearCrossEntropyOptions(batch_chunk_size=64, vocab_chunk_size=512)) < logits / 2
    # a block size that does not divide N: one loop body (the last block overlaps), no second tail buffer
    assert temp(LinearCrossEntropyOptions(batch_chunk_size=48)) < 1.2 * temp(
        LinearCrossEntropyOptions(batch_chunk_size=64)
    )


def test_memory_at_the_benchmark_size():
    """The issue-11 size (N=4096, H=512, V=32768; compiled, not run): 'auto' holds at most 1/16 of the
    materialised path's XLA temporaries for value and gradient."""
    x = jax.ShapeDtypeStruct((4096, 512), jnp.float32)
    w = jax.ShapeDtypeStruct((32768, 512), jnp.float32)
    t = jax.ShapeDtypeStruct((4096,), jnp.int32)

    def temp(options):
        f = jax.value_and_grad(
            lambda x, w, t: linear_cross_entropy(x, w, t, options=options), argnums=(0, 1)
        )
        return jax.jit(f).lower(x, w, t).compile().memory_analysis().temp_size_in_bytes

    assert temp(LinearCrossEntropyOptions()) * 16 <= temp(None)


def test_options():
    O = LinearCrossEntropyOptions
    assert O(batch_chunk_size=8)._batch_chunk(100, 16, 1000) == 8
    assert O(chunking_method=None)._batch_chunk(100, 16, 1000) == 100
    # torch's aspect_ratio rule: next_pow2(ceil(N / ceil(V / H))) // k
    for method in ("aspect_ratio", "aspect_ratio:2"):
        ours = O(chunking_method=method)._batch_chunk(4096, 512, 32768)
        theirs = torch.nn.LinearCrossEntropyOptions(chunking_method=method)._adjust(
            4096, 512, 32768, torch.float32
        )
        assert ours == theirs.batch_chunk_size
    # 'auto': logits blocks of at most 64 MiB and 512 rows, at most 3/32 of the rows unless under 256, and a
    # multiple of 64 rows where that fits
    assert O()._batch_chunk(4096, 512, 32768) == 384  # 11 blocks (128 rows overlap in the last one)
    assert O()._batch_chunk(4096, 512, 131072) == 128
    assert O()._batch_chunk(8192, 512, 32768) == 512
    assert O()._batch_chunk(1024, 512, 32768) == 256
    assert O()._batch_chunk(4096, 512, 262144) == 64
    assert O()._batch_chunk(4096, 512, 10**6) == 16
    assert O()._batch_chunk(100, 16, 1000) == 100 and O()._batch_chunk(11, 4, 7) == 11
    for n, v in [(4096, 65536), (1000, 32768), (8192, 256000), (40000, 10**6), (10**6, 2048)]:
        rows = O()._batch_chunk(n, 512, v)
        assert rows % 8 == 0 and rows * v * 4 <= 64 * 2**20 and rows <= 512, (n, v, rows)
        assert rows <= max(256, 3 * n // 32), (n, v, rows)
        assert rows % 64 == 0 or rows < 64, (n, v, rows)
    assert hash(O()) == hash(O()) and O() == O()
    with pytest.raises(
        ValueError, match="batch_chunk_size .* and chunking_method .* give different chunk sizes"
    ):
        O(batch_chunk_size=3, chunking_method="aspect_ratio")._batch_chunk(4096, 512, 32768)
    for bad in (
        {"acc_policy": "fast"},
        {"chunking_method": "square"},
        {"batch_chunk_size": 0},
        {"vocab_chunk_size": -1},
        {"acc_dtype": jnp.int32},
    ):
        with pytest.raises(ValueError, match="LinearCrossEntropyOptions: "):
            O(**bad)
    with pytest.raises(ValueError, match="acc_dtype float16 is narrower"):
        linear_cross_entropy(
            np.ones((2, 3), np.float32),
            np.ones((4, 3), np.float32),
            np.zeros(2, np.int32),
            options=O(acc_dtype=jnp.float16),
        )
    # acc_dtype=float64 on float32 inputs accumulates in float64 and returns float32
    x, w, _b, t = _problem(np.random.default_rng(3))
    got = linear_cross_entropy(
        x.astype(np.float32), w.astype(np.float32), t, options=O(acc_dtype=jnp.float64)
    )
    assert got.dtype == jnp.float32


def test_errors(rng):
    x, w, b, t = _problem(rng)
    name = "linear_cross_entropy: "
    with pytest.raises(
        ValueError,
        match=name + r"target has shape \(11, 2\); for logits \(11, 7\) it must be "
        r"\(11,\) \(class indices\) or \(11, 7\) \(probabilities\)",
    ):
        linear_cross_entropy(x, w, np.zeros((N, 2), np.int64))
    with pytest.raises(ValueError, match=name + "input must be 1-D or 2-D"):
        linear_cross_entropy(x[None], w, t)
    with pytest.raises(ValueError, match=name + r"linear_weight has shape \(7, 3\); its last axis"):
        linear_cross_entropy(x, w[:, :3], t)
    with pytest.raises(ValueError, match=name + r"linear_bias has shape \(6,\); it must be \(7,\)"):
        linear_cross_entropy(x, w, t, linear_bias=b[:6])
    with pytest.raises(
        ValueError, match=name + "K-dimensional linear_weight .* needs batched input"
    ):
        linear_cross_entropy(x[0], w[:, None], np.zeros((1,), np.int64))
    with pytest.raises(
        ValueError, match=name + "ignore_index must be None for probability targets"
    ):
        linear_cross_entropy(x, w, np.full((N, C), 1 / C), ignore_index=-100)
    with pytest.raises(
        TypeError, match=name + "target holds class indices and must have an integer dtype"
    ):
        linear_cross_entropy(x, w, t.astype(np.float64))
    with pytest.raises(ValueError, match=name + "label_smoothing"):
        linear_cross_entropy(x, w, t, label_smoothing=2.0)
    with pytest.raises(
        TypeError, match=name + "options must be None or a LinearCrossEntropyOptions"
    ):
        linear_cross_entropy(x, w, t, options={"batch_chunk_size": 2})
    with pytest.raises(ValueError, match=name + r"weight has shape \(3,\)"):
        linear_cross_entropy(x, w, t, weight=np.ones(3), options=CHUNKINGS[0])
    for options in (None, CHUNKINGS[0]):
        with pytest.raises(ValueError, match=name + r"target values must be in \[0, 7\)"):
            linear_cross_entropy(x, w, np.where(t == -100, 7, t), options=options)


def test_vocab_parallel_shard_map():
    """linear_weight split by class over 8 (host) devices under shard_map equals the single-device loss and
    gradients. Run in a subprocess: this test process already initialised JAX with one device."""
    script = textwrap.dedent(
        """
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp, numpy as np
        from functools import partial
        from jax.sharding import NamedSharding, PartitionSpec as P
        from jaxloss._src.families.classification.linear_cross_entropy import linear_cross_entropy, LinearCrossEntropyOptions
        mesh = jax.make_mesh((8,), ("v",))
        jax.set_mesh(mesh)
        rng = np.random.default_rng(0)
        n, h, c = 13, 4, 24
        x, w, b = rng.standard_normal((n, h)), rng.standard_normal((c, h)), rng.standard_normal(c)
        cw = rng.uniform(0.5, 2, c)
        t = rng.integers(0, c, n); t[2] = -100
        p = rng.dirichlet(np.ones(c), n)
        put = lambda a, spec: jax.device_put(a, NamedSharding(mesh, spec))
        xs, ws, bs, cws = put(x, P()), put(w, P("v")), put(b, P("v")), put(cw, P("v"))
        for vocab_chunk, reds in ((None, ("mean", "none")), (2, ("sum",))):
            opts = LinearCrossEntropyOptions(batch_chunk_size=4, vocab_chunk_size=vocab_chunk, vocab_axis_name="v")
            for red in reds:
                kw = dict(reduction=red, label_smoothing=0.1)
                sharded = jax.jit(jax.shard_map(
                    lambda x, w, b, cw, tgt: linear_cross_entropy(x, w, tgt, linear_bias=b, weight=cw, options=opts, **kw),
                    mesh=mesh, in_specs=(P(), P("v"), P("v"), P("v"), P()), out_specs=P()))
                for tgt in (t, p):
                    single = lambda x, w, b: linear_cross_entropy(x, w, tgt, linear_bias=b, weight=cw, **kw)
                    np.testing.assert_allclose(sharded(xs, ws, bs, cws, put(tgt, P())), single(x, w, b), rtol=1e-12, atol=1e-13)
                    g = jax.jit(jax.grad(lambda x, w, b: jnp.sum(sharded(x, w, b, cws, put(tgt, P()))), argnums=(0, 1, 2)))(xs, ws, bs)
                    g_ref = jax.grad(lambda x, w, b: jnp.sum(single(x, w, b)), argnums=(0, 1, 2))(x, w, b)
                    for a, r in zip(g, g_ref):
                        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-13)
                    # class weights (and probability targets) are differentiated too
                    diff_t = tgt.dtype.kind == "f"
                    argnums = (0, 1) if diff_t else (0,)
                    full = lambda cw, tg: jnp.sum(
                        linear_cross_entropy(x, w, tg if diff_t else tgt, linear_bias=b, weight=cw, **kw))
                    g = jax.jit(jax.grad(lambda cw, tg: jnp.sum(sharded(xs, ws, bs, cw, tg)), argnums=argnums))(cws, put(tgt, P()))
                    g_ref = jax.grad(full, argnums=argnums)(cw, tgt)
                    for a, r in zip(g, g_ref):
                        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-13)
        print("OK")
        """
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]


# --------------------------------------------------------------------------------------------------------------
# Gradients with respect to the target (probabilities) and the class weights, on the chunked path
# --------------------------------------------------------------------------------------------------------------


def _jax_w(options=None, **kw):
    """jaxloss with the class weights positional (argument 4), so that they can be differentiated."""

    def fn(x, w, t, b, cw):
        return linear_cross_entropy(x, w, t, linear_bias=b, weight=cw, options=options, **kw)

    return fn


def _torch_w(options=None, **kw):
    def fn(x, w, t, b, cw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's chunked path falls back for these arguments
            return F.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw, options=options, **kw)

    return fn


@pytest.mark.parametrize("dtype, jit", [(np.float64, False), (np.float32, True)])
@pytest.mark.parametrize(
    "reduction, options", [("mean", CHUNKINGS[0]), ("sum", CHUNKINGS[1]), ("none", CHUNKINGS[1])]
)
def test_chunked_probability_target_and_weight_gradients(rng, dtype, jit, reduction, options):
    """torch 2.13 differentiates probability targets and class weights on both of its paths (its chunked path
    falls back to the reference for probability targets); jaxloss's chunked path matches it, also with label
    smoothing and K-dimensional weights."""
    x, w, b, _ = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C)
    p = rng.dirichlet(np.ones(C), N)
    t_opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    kw = {"reduction": reduction, "label_smoothing": 0.2}
    compare(
        _jax_w(options, **kw),
        _torch_w(t_opts, **kw),
        [x, w, p, b, cw],
        diff=(0, 1, 2, 3, 4),
        dtype=dtype,
        jit=jit,
    )
    # K-dimensional: linear_weight (C, 2, H), logits and target (N, C, 2); no smoothing
    xk, wk, bk, _ = _problem(rng, n=5, out=(2,))
    pk = rng.dirichlet(np.ones(C), (5, 2)).transpose(0, 2, 1)
    kw = {"reduction": reduction}
    compare(
        _jax_w(options, **kw),
        _torch_w(t_opts, **kw),
        [xk, wk, pk, bk, cw],
        diff=(0, 1, 2, 3, 4),
        dtype=dtype,
        jit=jit,
    )


def test_chunked_target_gradient_torch_samples():
    """torch's own OpInfo samples of linear_cross_entropy's chunked variants (op_db 'chunked' and
    'chunked_none'), float64: samples whose target holds probabilities (torch differentiates it), every
    reduction, 2-D and K-dimensional weights:
    value and gradients of every argument torch differentiates."""
    from tests.torch_opinfo import _loss_opinfos, _op_cases, compare_to_torch

    ops = [o for o in _loss_opinfos() if o.name == "nn.functional.linear_cross_entropy"]
    assert {o.variant_test_name for o in ops} >= {"chunked", "chunked_none"}
    checked, per_group = 0, {}
    for o in ops:
        if not o.variant_test_name.startswith("chunked"):
            continue
        for case in _op_cases(o, "float64"):
            if (
                not case.id.split("-")[-1].startswith("sample")
                or not case.pos[2].is_floating_point()
            ):
                continue  # torch's larger reference_inputs repeat the same branches
            assert ("p", 2) in case.diff  # torch differentiates the probabilities
            group = (o.variant_test_name, case.kw.get("reduction", "mean"), case.pos[1].dim() > 2)
            if per_group.setdefault(group, 0) == 2:
                continue  # two samples per variant, reduction and weight rank keep the test fast
            per_group[group] += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's chunked path falls back for probabilities
                problems = compare_to_torch(case, jit=checked % 2 == 1)
            assert not problems, (case.id, problems)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("dtype, jit", [(np.float64, False), (np.float32, True)])
@pytest.mark.parametrize(
    "reduction, options", [("mean", CHUNKINGS[0]), ("sum", CHUNKINGS[1]), ("none", CHUNKINGS[1])]
)
def test_chunked_index_target_weight_gradient(rng, dtype, jit, reduction, options):
    """With class-index targets torch differentiates ``weight`` on neither path (the reference raises, the
    chunked op returns no gradient); jaxloss differentiates it on both, and the chunked path equals the
    materialised one (with ignore_index, smoothing, class blocks and K-dimensional weights)."""
    x, w, b, t = _problem(rng)
    cw = rng.uniform(0.3, 2.0, C)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.linear_cross_entropy(
            *(torch.from_numpy(a) for a in (x, w, t)), weight=torch.from_numpy(cw).requires_grad_()
        )
    xk, wk, bk, tk = _problem(rng, n=5, out=(2, 3))
    cast = lambda *a: [
        np.asarray(v, dtype) if np.issubdtype(np.asarray(v).dtype, np.floating) else v for v in a
    ]
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    for smoothing, args in ((0.3, cast(x, w, t, b, cw)), (0.0, cast(xk, wk, tk, bk, cw))):
        kw = {"reduction": reduction, "label_smoothing": smoothing}

        def loss(options, *d, args=args, kw=kw):
            out = _jax_w(options, **kw)(d[0], d[1], args[2], d[2], d[3])
            return jnp.sum(out * jnp.linspace(0.5, 1.5, out.size).reshape(out.shape))

        grad = jax.grad(loss, argnums=(1, 2, 3, 4))
        if jit:
            grad = jax.jit(grad, static_argnums=0)
        d = (args[0], args[1], args[3], args[4])
        for got, want in zip(grad(options, *d), jax.grad(loss, argnums=(1, 2, 3, 4))(None, *d)):
            np.testing.assert_allclose(got, want, **tol)
        # forward mode through the weights
        v = np.asarray(rng.standard_normal(C), dtype)
        tan = jax.jvp(lambda cw, loss=loss, d=d: loss(options, *d[:3], cw), (d[3],), (v,))[1]
        ref = jax.jvp(lambda cw, loss=loss, d=d: loss(None, *d[:3], cw), (d[3],), (v,))[1]
        np.testing.assert_allclose(tan, ref, **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_in_class_slices(rng, monkeypatch, reduction):
    """The gradient of a row block is formed in class slices (``_SLICE_BYTES``); shrunk here to 16-class
    slices over 40 classes (two full slices and a tail) with 4-row blocks over 11 rows (the last block
    overlaps its predecessor). Index targets with weights, ignore_index and smoothing, and probability
    targets with their own and the weights' gradients, against torch's reference, float64, under jit."""
    import jaxloss._src.families.classification.linear_cross_entropy as lce

    monkeypatch.setattr(lce, "_SLICE_BYTES", 1)
    classes = 40
    x, w, b, t = _problem(rng, classes=classes)
    cw = rng.uniform(0.3, 2.0, classes)
    options = LinearCrossEntropyOptions(batch_chunk_size=4)
    kw = {"reduction": reduction, "label_smoothing": 0.2, "ignore_index": 2}
    compare(
        _jax(options, weight=cw, **kw),
        _torch(weight=cw, **kw),
        [x, w, np.where(t == -100, 2, t), b],
        diff=(0, 1, 3),
        jit=True,
    )
    p = rng.dirichlet(np.ones(classes), N)
    kw = {"reduction": reduction, "label_smoothing": 0.1}
    compare(_jax_w(options, **kw), _torch_w(**kw), [x, w, p, b, cw], diff=(0, 1, 2, 3, 4), jit=True)
