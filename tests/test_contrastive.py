"""CLIP and SigLIP losses against float64 torch references written from their published definitions, and the
sharded (``axis_name``) forms against the single-device loss on 8 CPU devices.

open_clip and big_vision do not install here, so the references below transcribe them (computed with torch
2.13.0 in the same run, on the same inputs):

* ``ClipLoss.forward`` (open_clip ``src/open_clip/loss.py``, one process): ``logits_per_image = logit_scale *
  image_features @ text_features.T``, ``logits_per_text = logit_scale * text_features @ image_features.T``,
  ``(F.cross_entropy(logits_per_image, arange) + F.cross_entropy(logits_per_text, arange)) / 2``;
* ``SigLipLoss._loss`` (open_clip ``loss.py``; big_vision ``big_vision/trainers/proj/image_text/siglip.py``):
  ``logits = logit_scale * image_features @ text_features.T + logit_bias``, ``labels = 2 * eye(B) - 1``,
  ``-F.logsigmoid(labels * logits).sum() / B``.

In both, ``logit_scale`` is the model's ``logit_scale.exp()``; jaxloss takes the log-space parameter, so the
references exponentiate it (and the gradients are with respect to the log-space parameter), and the
features are ``F.normalize``d as open_clip's ``encode_image``/``encode_text`` do.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from jaxloss import nn as jnn
from jaxloss.losses import clip_loss, siglip_loss
from tests.torch_parity import compare

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


def _features(image, text, normalize):
    if normalize:
        image, text = TF.normalize(image, dim=-1), TF.normalize(text, dim=-1)
    return image, text


def torch_clip(image, text, log_scale, normalize=True, reduction="mean"):
    image, text = _features(image, text, normalize)
    scale = log_scale.exp()
    labels = torch.arange(image.shape[0])
    logits_per_image = scale * image @ text.T
    logits_per_text = scale * text @ image.T
    if reduction == "mean":  # open_clip's ClipLoss
        return (
            TF.cross_entropy(logits_per_image, labels) + TF.cross_entropy(logits_per_text, labels)
        ) / 2
    per_pair = (
        TF.cross_entropy(logits_per_image, labels, reduction="none")
        + TF.cross_entropy(logits_per_text, labels, reduction="none")
    ) / 2
    return per_pair.sum() if reduction == "sum" else per_pair


def torch_siglip(image, text, log_scale, bias, normalize=True, reduction="mean"):
    image, text = _features(image, text, normalize)
    logits = log_scale.exp() * image @ text.T + bias
    labels = 2 * torch.eye(image.shape[0], dtype=logits.dtype) - 1
    pair = -TF.logsigmoid(labels * logits)
    if reduction == "mean":  # open_clip's SigLipLoss / big_vision: sum over pairs / batch size
        return pair.sum() / image.shape[0]
    return pair.sum() if reduction == "sum" else pair.sum(dim=1)


def _pair(rng, b=6, d=5, aligned=0.0):
    image = rng.standard_normal((b, d))
    text = aligned * image + rng.standard_normal((b, d))
    return image, text


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalize, jit", [(True, False), (True, True), (False, False)])
def test_clip_matches_open_clip_definition(rng, dtype, reduction, normalize, jit):
    image, text = _pair(rng, aligned=1.5)
    log_scale = np.array(np.log(1 / 0.07)) if normalize else np.array(-0.3)
    compare(
        clip_loss,
        torch_clip,
        [image, text, log_scale],
        kwargs=dict(normalize=normalize, reduction=reduction),
        diff=(0, 1, 2),
        dtype=dtype,
        jit=jit,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalize, jit", [(True, False), (True, True), (False, False)])
def test_siglip_matches_big_vision_definition(rng, dtype, reduction, normalize, jit):
    image, text = _pair(rng, aligned=1.5)
    # SigLIP's initialisation (t' = log 10, b = -10) and a trained-like point
    for log_scale, bias in [(np.log(10.0), -10.0), (np.log(30.0), -3.0)]:
        compare(
            siglip_loss,
            torch_siglip,
            [image, text, np.array(log_scale), np.array(bias)],
            kwargs=dict(normalize=normalize, reduction=reduction),
            diff=(0, 1, 2, 3),
            dtype=dtype,
            jit=jit,
        )


def test_extreme_scales_stay_finite():
    image, text = _pair(np.random.default_rng(3), b=4, d=3)
    for log_scale, bias in [(np.log(1e4), 0.0), (np.log(100.0), -1e3)]:
        compare(clip_loss, torch_clip, [image, text, np.array(log_scale)], diff=(0, 1, 2))
        compare(
            siglip_loss,
            torch_siglip,
            [image, text, np.array(log_scale), np.array(bias)],
            diff=(0, 1, 2, 3),
        )


def test_zero_embedding_has_finite_gradients():
    image, text = _pair(np.random.default_rng(4), b=3, d=4)
    image[1] = 0.0
    compare(clip_loss, torch_clip, [image, text, np.array(2.0)], diff=(0, 1, 2))
    compare(
        siglip_loss, torch_siglip, [image, text, np.array(2.0), np.array(-1.0)], diff=(0, 1, 2, 3)
    )


def test_half_precision_computes_in_float32():
    image, text = _pair(np.random.default_rng(5))
    ref = float(clip_loss(image, text, 2.0))
    out = clip_loss(jnp.asarray(image, jnp.bfloat16), jnp.asarray(text, jnp.bfloat16), 2.0)
    assert out.dtype == jnp.bfloat16
    np.testing.assert_allclose(float(out), ref, rtol=3e-2)
    out = siglip_loss(jnp.asarray(image, jnp.float16), jnp.asarray(text, jnp.float16), 2.0, -1.0)
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(float(out), float(siglip_loss(image, text, 2.0, -1.0)), rtol=1e-2)


def test_nn_objects_call_the_functions():
    image, text = _pair(np.random.default_rng(6))
    np.testing.assert_allclose(
        jnn.ClipLoss(reduction="sum")(image, text, 1.0),
        clip_loss(image, text, 1.0, reduction="sum"),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        jnn.SigLipLoss(normalize=False)(image, text, 1.0, -2.0),
        siglip_loss(image, text, 1.0, -2.0, normalize=False),
        rtol=1e-12,
    )
    assert jnn.ClipLoss() == jnn.ClipLoss() and hash(jnn.SigLipLoss()) == hash(jnn.SigLipLoss())


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: clip_loss(np.zeros((3, 4)), np.zeros((3, 5)), 1.0),
            "clip_loss: text_embeds has shape",
        ),
        (lambda: clip_loss(np.zeros(4), np.zeros(4), 1.0), "clip_loss: image_embeds must be 2-D"),
        (
            lambda: clip_loss(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros(2)),
            "clip_loss: logit_scale must be a scalar",
        ),
        (
            lambda: clip_loss(np.zeros((3, 4)), np.zeros((3, 4)), 1.0, reduction="avg"),
            "clip_loss: reduction",
        ),
        (
            lambda: clip_loss(np.zeros((3, 4)), np.zeros((3, 4)), 1.0, axis_name=3),
            "clip_loss: axis_name",
        ),
        (
            lambda: siglip_loss(np.zeros((3, 4)), np.zeros((2, 4)), 1.0, 0.0),
            "siglip_loss: text_embeds has shape",
        ),
        (
            lambda: siglip_loss(np.zeros((3, 4)), np.zeros((3, 4)), 1.0, np.zeros(3)),
            "siglip_loss: logit_bias must be",
        ),
        (
            lambda: siglip_loss(np.zeros((3, 4)), np.zeros((3, 4)), float("nan"), 0.0),
            "siglip_loss: logit_scale",
        ),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_loss(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------------------------------------
# sharded forms: run in a subprocess with 8 CPU devices (the device count is fixed when JAX starts)

_SHARDED_SCRIPT = r"""
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, PartitionSpec as P
jax.config.update("jax_enable_x64", True)
from jaxloss.losses import clip_loss, siglip_loss
assert len(jax.devices()) == 8
mesh = Mesh(np.array(jax.devices()), ("batch",))
rng = np.random.default_rng(0)
image = rng.standard_normal((16, 5)) + 0.0
text = image + rng.standard_normal((16, 5))
scale, bias = np.array(np.log(12.0)), np.array(-4.0)

def run(name, fn, extra, reduction, dtype):
    args = [jnp.asarray(a, dtype) for a in (image, text, scale) + extra]
    argnums = tuple(range(len(args)))
    def single(*a):
        return jnp.sum(fn(*a, reduction=reduction))
    def local(*a):
        out = fn(*a, axis_name="batch", reduction=reduction)
        # 'none' gives the local rows: their global sum is the single-device sum
        return jax.lax.psum(jnp.sum(out), "batch") if reduction == "none" else out
    specs = (P("batch"), P("batch")) + (P(),) * (len(args) - 2)
    sharded = jax.jit(jax.shard_map(jax.value_and_grad(local, argnums=argnums), mesh=mesh,
                                    in_specs=specs, out_specs=(P(), specs)))
    value, grads = sharded(*args)
    ref_value, ref_grads = jax.value_and_grad(single, argnums=argnums)(*args)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == jnp.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(np.asarray(value), np.asarray(ref_value), **tol)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), **tol)
    if reduction == "none":  # the per-row values themselves, laid out as the global batch
        rows = jax.jit(jax.shard_map(lambda *a: fn(*a, axis_name="batch", reduction="none"), mesh=mesh,
                                     in_specs=specs, out_specs=P("batch")))(*args)
        np.testing.assert_allclose(np.asarray(rows), np.asarray(fn(*args, reduction="none")), **tol)
    print("ok", name, reduction, jnp.dtype(dtype).name)

for dtype, reductions in ((jnp.float64, ("mean", "sum", "none")), (jnp.float32, ("mean",))):
    for reduction in reductions:
        run("clip_loss", clip_loss, (), reduction, dtype)
        run("siglip_loss", siglip_loss, (bias,), reduction, dtype)
print("done")
"""


def test_sharded_forms_equal_the_single_device_loss():
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    root = pathlib.Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-c", _SHARDED_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert proc.stdout.count("ok ") == 8 and "done" in proc.stdout, proc.stdout
