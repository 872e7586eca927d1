"""Image and signal quality losses against their installed references, computed in this run on the same inputs
(values and autograd gradients through ``tests.torch_parity.compare``, torch 2.13.0):

* pytorch-msssim 1.0.0: ``pytorch_msssim.ssim`` / ``ms_ssim`` (and ``1 -`` them for the losses);
* kornia 0.9.0: ``kornia.metrics.psnr``, ``kornia.losses.psnr_loss``, ``kornia.losses.total_variation``,
  ``kornia.losses.charbonnier_loss``, ``kornia.filters.spatial_gradient`` (+ ``F.l1_loss``);
* auraloss 0.4.0: ``auraloss.freq.MultiResolutionSTFTLoss``.
"""

from __future__ import annotations

import warnings

import auraloss
import jax
import jax.numpy as jnp
import kornia
import numpy as np
import pytest
import pytorch_msssim
import torch
import torch.nn.functional as TF
from pytorch_msssim.ssim import _fspecial_gauss_1d

from jaxloss import nn as jnn
from jaxloss.losses import (
    charbonnier_loss,
    image_gradient_loss,
    ms_ssim,
    ms_ssim_loss,
    multi_resolution_stft_loss,
    psnr,
    psnr_loss,
    ssim,
    ssim_loss,
    total_variation,
)
from tests.torch_parity import compare

DTYPES = [np.float64, np.float32]
# float32 SSIM: E[x^2] - mu^2 cancels, and XLA's and torch's convolutions sum in different orders
F32_SSIM = dict(rtol=1e-4, atol=1e-5)


def _images(rng, shape, data_range=1.0, noise=0.2):
    x = rng.uniform(0.0, data_range, shape)
    y = np.clip(x + noise * data_range * rng.standard_normal(shape), 0.0, data_range)
    return x, y


def _tol(dtype, f32=None):
    return {} if dtype == np.float64 else (f32 or {})


# ---------------------------------------------------------------------------------------------------------
# SSIM


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average, jit", [(True, False), (False, True)])
def test_ssim_matches_pytorch_msssim_defaults(rng, dtype, size_average, jit):
    x, y = _images(rng, (2, 3, 24, 21), data_range=255.0)
    compare(
        ssim,
        pytorch_msssim.ssim,
        [x, y],
        kwargs=dict(size_average=size_average),
        diff=(0, 1),
        dtype=dtype,
        jit=jit,
        **_tol(dtype, F32_SSIM),
    )


def test_default_window_is_bit_identical_to_the_reference():
    from jaxloss._src.families.quality import _gaussian_window

    np.testing.assert_array_equal(
        _gaussian_window(11, 1.5), _fspecial_gauss_1d(11, 1.5).numpy().ravel()
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_ssim_options(rng, dtype):
    x, y = _images(rng, (2, 2, 16, 17))
    # a different window, given explicitly to both (the reference's own float32 window)
    win = _fspecial_gauss_1d(7, 1.0).repeat([2, 1, 1, 1])
    kw = dict(data_range=1.0, K=(0.02, 0.05), nonnegative_ssim=True, size_average=False)
    compare(
        ssim,
        pytorch_msssim.ssim,
        [x, y],
        kwargs=dict(kw, win=win.numpy()),
        torch_kwargs=dict(kw, win=win),
        diff=(0, 1),
        dtype=dtype,
        **_tol(dtype, F32_SSIM),
    )
    # win_size / win_sigma build the window the same way (float32 taps)
    compare(
        ssim,
        pytorch_msssim.ssim,
        [x, y],
        kwargs=dict(data_range=1.0, win_size=7, win_sigma=1.0),
        diff=(0, 1),
        dtype=dtype,
        **_tol(dtype, F32_SSIM),
    )


def test_ssim_nonnegative_clamps_anticorrelated_images():
    x = np.linspace(0.0, 1.0, 2 * 16 * 16).reshape(2, 1, 16, 16)
    y = 1.0 - x
    assert float(ssim(x, y, data_range=1.0)) < 0
    compare(
        ssim,
        pytorch_msssim.ssim,
        [x, y],
        kwargs=dict(data_range=1.0, nonnegative_ssim=True),
        diff=(0, 1),
    )


def test_ssim_volumes_and_short_axes(rng):
    x, y = _images(rng, (1, 2, 12, 13, 14))
    compare(ssim, pytorch_msssim.ssim, [x, y], kwargs=dict(data_range=1.0, win_size=5), diff=(0, 1))
    # an axis shorter than the window is not smoothed (with the reference's warning)
    x, y = _images(rng, (2, 1, 16, 6))
    with pytest.warns(UserWarning, match="Skipping Gaussian Smoothing"):
        compare(ssim, pytorch_msssim.ssim, [x, y], kwargs=dict(data_range=1.0), diff=(0, 1))
    # an axis longer than 256 is filtered with shifted slices, shorter ones with a banded matmul
    x, y = _images(rng, (1, 1, 260, 20))
    compare(ssim, pytorch_msssim.ssim, [x, y], kwargs=dict(data_range=1.0), diff=(0, 1), jit=True)
    # trailing size-1 axes are squeezed first, as the reference does
    x, y = _images(rng, (2, 1, 16, 17, 1))
    compare(ssim, pytorch_msssim.ssim, [x, y], kwargs=dict(data_range=1.0, win_size=5), diff=(0, 1))


@pytest.mark.parametrize(
    "dtype, reduction",
    [(np.float64, "mean"), (np.float64, "sum"), (np.float64, "none"), (np.float32, "mean")],
)
def test_ssim_loss_is_one_minus_ssim(rng, dtype, reduction):
    x, y = _images(rng, (3, 2, 16, 16))

    def reference(a, b):
        per_image = 1 - pytorch_msssim.ssim(a, b, data_range=1.0, size_average=False, win_size=5)
        return {"mean": per_image.mean(), "sum": per_image.sum(), "none": per_image}[reduction]

    compare(
        ssim_loss,
        reference,
        [x, y],
        kwargs=dict(data_range=1.0, win_size=5, reduction=reduction),
        torch_kwargs={},
        diff=(0, 1),
        dtype=dtype,
        jit=True,
        **_tol(dtype, F32_SSIM),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_ms_ssim_matches_pytorch_msssim_defaults(rng, dtype):
    x, y = _images(rng, (1, 1, 180, 181), data_range=255.0, noise=0.1)  # odd side: padded pooling
    compare(
        ms_ssim,
        pytorch_msssim.ms_ssim,
        [x, y],
        diff=(0, 1),
        dtype=dtype,
        jit=True,
        **_tol(dtype, F32_SSIM),
    )


@pytest.mark.parametrize("dtype, size_average", [(np.float64, True), (np.float32, False)])
def test_ms_ssim_fewer_scales_small_window(rng, dtype, size_average):
    x, y = _images(rng, (2, 2, 35, 34), noise=0.1)
    kw = dict(
        data_range=1.0,
        win_size=3,
        win_sigma=1.0,
        weights=[0.2, 0.3, 0.5],
        size_average=size_average,
    )
    compare(
        ms_ssim,
        pytorch_msssim.ms_ssim,
        [x, y],
        kwargs=kw,
        diff=(0, 1),
        dtype=dtype,
        jit=True,
        **_tol(dtype, F32_SSIM),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ms_ssim_loss_is_one_minus_ms_ssim(rng, reduction):
    x, y = _images(rng, (3, 1, 33, 33), noise=0.1)
    kw = dict(data_range=1.0, win_size=3, K=(0.02, 0.04))

    def reference(a, b):
        per_image = 1 - pytorch_msssim.ms_ssim(a, b, size_average=False, **kw)
        return {"mean": per_image.mean(), "sum": per_image.sum(), "none": per_image}[reduction]

    compare(
        ms_ssim_loss,
        reference,
        [x, y],
        kwargs=dict(kw, reduction=reduction),
        torch_kwargs={},
        diff=(0, 1),
        jit=True,
    )


def test_ms_ssim_zero_contrast_level_has_zero_gradient_not_nan():
    # anticorrelated images: cs < 0 at the first scale, clamped by relu as in the reference
    x = np.linspace(0.0, 1.0, 33 * 33).reshape(1, 1, 33, 33) ** 2
    y = 1.0 - x
    assert float(ms_ssim(x, y, data_range=1.0, win_size=3)) == 0.0
    # equal to torch's gradient (zero through the clamped level), so finite
    compare(
        ms_ssim,
        pytorch_msssim.ms_ssim,
        [x, y],
        kwargs=dict(data_range=1.0, win_size=3),
        diff=(0, 1),
        jit=True,
    )


def test_ssim_half_precision_computes_in_float32(rng):
    x, y = _images(rng, (1, 1, 16, 16))
    out = ssim(jnp.asarray(x, jnp.bfloat16), jnp.asarray(y, jnp.bfloat16), data_range=1.0)
    assert out.dtype == jnp.bfloat16
    np.testing.assert_allclose(float(out), float(ssim(x, y, data_range=1.0)), rtol=3e-2)


# ---------------------------------------------------------------------------------------------------------
# PSNR, total variation, Charbonnier, image gradients


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("jit", [False, True])
def test_psnr_and_loss_match_kornia(rng, dtype, jit):
    x, y = _images(rng, (2, 3, 5, 6))
    for ours, theirs in [(psnr, kornia.metrics.psnr), (psnr_loss, kornia.losses.psnr_loss)]:
        compare(ours, theirs, [x, y, 1.0], diff=(0, 1), dtype=dtype, jit=jit)
        compare(ours, theirs, [255 * x, 255 * y, 255.0], diff=(0, 1), dtype=dtype, jit=jit)
    assert float(psnr(x, x, 1.0)) == np.inf and float(psnr_loss(x, x, 1.0)) == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_total_variation_matches_kornia(rng, dtype, reduction):
    for shape in [(2, 3, 5, 6), (4, 4), (2, 1, 6), (3, 1, 1)]:
        img = rng.standard_normal(shape)
        compare(
            total_variation,
            kornia.losses.total_variation,
            [img],
            kwargs=dict(reduction=reduction),
            dtype=dtype,
            jit=True,
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_charbonnier_matches_kornia(rng, dtype, reduction):
    a = rng.standard_normal((2, 3, 4, 5))
    b = a + rng.choice([0.1, 3.0], a.shape) * rng.standard_normal(
        a.shape
    )  # both branches (|r| < 1 and >= 1)
    compare(
        charbonnier_loss,
        kornia.losses.charbonnier_loss,
        [a, b],
        kwargs=dict(reduction=reduction),
        diff=(0, 1),
        dtype=dtype,
        jit=True,
    )


def test_charbonnier_default_reduction_is_none(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    compare(charbonnier_loss, kornia.losses.charbonnier_loss, [a, b], diff=(0, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "mode, normalized, reduction",
    [
        ("sobel", True, "mean"),
        ("sobel", False, "none"),
        ("diff", True, "sum"),
        ("diff", False, "mean"),
    ],
)
def test_image_gradient_loss_matches_kornia_spatial_gradient(
    rng, dtype, mode, normalized, reduction
):
    a, b = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((2, 3, 6, 7))

    def reference(x, y):
        gx = kornia.filters.spatial_gradient(x, mode=mode, normalized=normalized)
        gy = kornia.filters.spatial_gradient(y, mode=mode, normalized=normalized)
        return TF.l1_loss(gx, gy, reduction=reduction)

    compare(
        image_gradient_loss,
        reference,
        [a, b],
        kwargs=dict(mode=mode, normalized=normalized, reduction=reduction),
        torch_kwargs={},
        diff=(0, 1),
        dtype=dtype,
        jit=True,
    )


# ---------------------------------------------------------------------------------------------------------
# multi-resolution STFT


def _aura(**kwargs):
    return auraloss.freq.MultiResolutionSTFTLoss(**kwargs)


def _signals(rng, shape):
    t = np.arange(shape[-1]) / 8000.0
    x = np.sin(2 * np.pi * 440 * t) + 0.3 * rng.standard_normal(shape)
    y = 0.8 * np.sin(2 * np.pi * 445 * t + 0.3) + 0.3 * rng.standard_normal(shape)
    return x, y


# float32 STFT gradients of log-magnitudes are ill-conditioned (d log|S| / dx ~ 1 / |S| at near-empty bins),
# so two float32 FFTs differ there by ~1e-3 of the gradient's scale: compare them loosely, and check that
# jaxloss's float32 gradient is as close to the float64 one as auraloss's float32 gradient is.
F32_STFT = dict(rtol=2e-3, atol=2e-3)


def test_mrstft_matches_auraloss_defaults_float32(rng):
    x, y = _signals(rng, (2, 1, 2100))
    compare(
        multi_resolution_stft_loss,
        _aura(),
        [x, y],
        diff=(0, 1),
        dtype=np.float32,
        jit=True,
        **F32_STFT,
    )
    grad = jax.jit(jax.grad(multi_resolution_stft_loss))
    g64 = np.asarray(grad(x, y))
    g32 = np.asarray(grad(x.astype(np.float32), y.astype(np.float32)))
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    value = _aura()(xt, torch.tensor(y, dtype=torch.float32))
    (g32_aura,) = torch.autograd.grad(value, xt)
    np.testing.assert_allclose(float(multi_resolution_stft_loss(x, y)), value.item(), rtol=1e-6)
    assert np.max(np.abs(g32 - g64)) <= 2 * np.max(np.abs(g32_aura.numpy() - g64))


def _aura_float64(**kwargs):
    """auraloss builds its windows in float32 whatever the input; give it float64 ones (jaxloss's)."""
    loss = _aura(**kwargs)
    for f in loss.stft_losses:
        f.window = torch.hann_window(f.win_length, dtype=torch.float64)
    return loss


def test_mrstft_matches_auraloss_defaults_float64(rng):
    x, y = _signals(rng, (2, 2, 2100))
    compare(multi_resolution_stft_loss, _aura_float64(), [x, y], diff=(0, 1), jit=True)
    # with auraloss's own float32 windows the float64 values agree to the window's rounding
    own = _aura()(torch.tensor(x), torch.tensor(y)).item()
    np.testing.assert_allclose(float(multi_resolution_stft_loss(x, y)), own, rtol=1e-6)


@pytest.mark.parametrize(
    "dtype, options",
    [
        (np.float64, dict(w_lin_mag=0.5, mag_distance="L2")),
        (np.float64, dict(w_sc=0.0, w_log_mag=2.0, reduction="sum")),
        (np.float64, dict(w_lin_mag=1.0, eps=1e-3)),
        (np.float32, dict(w_lin_mag=0.5, mag_distance="L2", reduction="sum")),
    ],
)
def test_mrstft_options(rng, dtype, options):
    x, y = _signals(rng, (3, 1, 200))
    res = dict(fft_sizes=[64, 128, 32], hop_sizes=[16, 32, 8], win_lengths=[48, 128, 20])
    ref = _aura_float64 if dtype == np.float64 else _aura
    aura_options = {k: v for k, v in options.items() if k not in ("eps", "reduction")}
    loss = ref(
        **res,
        **aura_options,
        eps=options.get("eps", 1e-8),
        reduction=options.get("reduction", "mean"),
    )
    compare(
        multi_resolution_stft_loss,
        loss,
        [x, y],
        kwargs=dict(res, **options),
        torch_kwargs={},
        diff=(0, 1),
        dtype=dtype,
        jit=True,
        **_tol(dtype, F32_STFT),
    )


def test_mrstft_identical_signals_give_zero_with_finite_gradients(rng):
    x, _ = _signals(rng, (1, 1, 256))
    kw = dict(fft_sizes=(64,), hop_sizes=(16,), win_lengths=(64,))
    value, grad = jax.value_and_grad(lambda a: multi_resolution_stft_loss(a, x, **kw))(x)
    assert float(value) == 0.0 and np.all(np.isfinite(np.asarray(grad)))


# ---------------------------------------------------------------------------------------------------------
# nn objects and errors


def test_nn_objects_call_the_functions(rng):
    x, y = _images(rng, (2, 1, 34, 34))
    cases = [
        (jnn.SSIMLoss(data_range=1.0, win_size=5), ssim_loss(x, y, data_range=1.0, win_size=5)),
        (
            jnn.MSSSIMLoss(data_range=1.0, win_size=3, weights=(0.5, 0.5)),
            ms_ssim_loss(x, y, data_range=1.0, win_size=3, weights=(0.5, 0.5)),
        ),
        (jnn.CharbonnierLoss(reduction="sum"), charbonnier_loss(x, y, reduction="sum")),
        (jnn.ImageGradientLoss(mode="diff"), image_gradient_loss(x, y, mode="diff")),
    ]
    for obj, expected in cases:
        np.testing.assert_allclose(obj(x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(jnn.TotalVariation()(x), total_variation(x), rtol=1e-12)
    s, t = _signals(rng, (1, 1, 128))
    kw = dict(fft_sizes=(32,), hop_sizes=(8,), win_lengths=(32,))
    np.testing.assert_allclose(
        jnn.MultiResolutionSTFTLoss(**kw)(s, t), multi_resolution_stft_loss(s, t, **kw)
    )
    assert jnn.SSIMLoss() == jnn.SSIMLoss() and hash(jnn.MSSSIMLoss()) == hash(jnn.MSSSIMLoss())


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ssim(np.zeros((1, 1, 16, 16)), np.zeros((1, 1, 16, 15))), "ssim: Y has shape"),
        (lambda: ssim(np.zeros((16, 16)), np.zeros((16, 16))), "ssim: X must be"),
        (
            lambda: ssim(np.zeros((1, 1, 16, 16)), np.zeros((1, 1, 16, 16)), win_size=4),
            "ssim: the window size",
        ),
        (
            lambda: ssim(
                np.zeros((1, 2, 16, 16)), np.zeros((1, 2, 16, 16)), win=np.ones((3, 1, 1, 5))
            ),
            "ssim: win",
        ),
        (
            lambda: ssim_loss(np.zeros((1, 1, 9, 9)), np.zeros((1, 1, 9, 9)), reduction="avg"),
            "ssim_loss: reduction",
        ),
        (
            lambda: ms_ssim(np.zeros((1, 1, 64, 64)), np.zeros((1, 1, 64, 64))),
            "ms_ssim: X's smaller side is 64",
        ),
        (
            lambda: ms_ssim_loss(
                np.zeros((1, 1, 40, 40)),
                np.zeros((1, 1, 40, 40)),
                win_size=3,
                weights=np.ones((2, 2)),
            ),
            "ms_ssim_loss: weights",
        ),
        (lambda: psnr(np.zeros(3), np.zeros(4), 1.0), "psnr: target has shape"),
        (lambda: total_variation(np.zeros(3)), "total_variation: img must have shape"),
        (lambda: total_variation(np.zeros((3, 3)), reduction="none"), "total_variation: reduction"),
        (
            lambda: charbonnier_loss(np.zeros(3), np.zeros((2, 3))),
            "charbonnier_loss: img2 has shape",
        ),
        (
            lambda: image_gradient_loss(np.zeros((2, 3, 4)), np.zeros((2, 3, 4))),
            "image_gradient_loss: input must be 4-D",
        ),
        (
            lambda: image_gradient_loss(
                np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 4, 4)), mode="scharr"
            ),
            "image_gradient_loss: mode",
        ),
        (
            lambda: multi_resolution_stft_loss(
                np.zeros((1, 1, 64)), np.zeros((1, 1, 64)), fft_sizes=(16,)
            ),
            "multi_resolution_stft_loss: fft_sizes, hop_sizes and win_lengths",
        ),
        (
            lambda: multi_resolution_stft_loss(np.zeros((1, 64)), np.zeros((1, 64))),
            "multi_resolution_stft_loss: input",
        ),
        (
            lambda: multi_resolution_stft_loss(np.zeros((1, 1, 600)), np.zeros((1, 1, 600))),
            "multi_resolution_stft_loss: input has 600 samples",
        ),
        (
            lambda: multi_resolution_stft_loss(
                np.zeros((1, 1, 64)),
                np.zeros((1, 1, 64)),
                fft_sizes=(16,),
                hop_sizes=(4,),
                win_lengths=(32,),
            ),
            "multi_resolution_stft_loss: win_lengths",
        ),
        (
            lambda: multi_resolution_stft_loss(
                np.zeros((1, 1, 64)), np.zeros((1, 1, 64)), reduction="none"
            ),
            "multi_resolution_stft_loss: reduction",
        ),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_loss(call, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            call()
