"""GAN family: the adversarial losses against float64 references written from the papers, and the gradient
penalties against torch 2.13.0's double backward on the same tiny MLP.

* Losses of the discriminator's outputs: each reference below is the paper's formula in float64 torch
  (autograd for the gradients), compared value and VJP (``tests/torch_parity.compare``: float64 1e-9,
  float32 2e-5, eager and ``jit``): Goodfellow et al. 2014 (eq. 1, non-saturating generator of Sec. 3),
  Lim & Ye 2017 / Miyato et al. 2018 eq. 16-17 (hinge), Mao et al. 2017 eq. 2 (LSGAN), Arjovsky et al. 2017
  Algorithm 1 (WGAN).
* Penalties: the same two-layer tanh MLP with the same weights in JAX and torch; torch computes the input
  gradient with ``torch.autograd.grad(..., create_graph=True)`` (Mescheder et al.'s ``compute_grad2`` for
  R1/R2, Gulrajani et al.'s ``calc_gradient_penalty`` for WGAN-GP) and backpropagates the penalty into the
  weights and the inputs; ``jax.grad`` of the jaxloss penalty w.r.t. the weights (a pytree the
  discriminator closes over) and the inputs must agree.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxloss import losses as L
from jaxloss import nn as jnn
from tests.torch_parity import compare

RNG = np.random.default_rng(31)


def _reduce_pair(real_terms, fake_terms, reduction):
    if reduction == "none":
        return real_terms + fake_terms
    op = torch.mean if reduction == "mean" else torch.sum
    return op(real_terms) + op(fake_terms)


def _reduce(x, reduction):
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](x)


# Paper references (float64 torch).
D_LOSSES = {
    # Goodfellow et al. 2014, eq. 1: D maximises log D(x) + log(1 - D(G(z))), D = sigmoid(logits)
    "gan_discriminator_loss": (
        lambda r, f: -torch.log(torch.sigmoid(r)),
        lambda r, f: -torch.log(1 - torch.sigmoid(f)),
    ),
    # Lim & Ye 2017; Miyato et al. 2018 eq. 16: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]
    "hinge_discriminator_loss": (
        lambda r, f: torch.clamp(1 - r, min=0),
        lambda r, f: torch.clamp(1 + f, min=0),
    ),
    # Mao et al. 2017 eq. 2 with a = 0, b = 1: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    "least_squares_discriminator_loss": (
        lambda r, f: 0.5 * (r - 1) ** 2,
        lambda r, f: 0.5 * (f - 0) ** 2,
    ),
    # Arjovsky et al. 2017, Algorithm 1: the critic ascends E[D(x)] - E[D(G(z))]
    "wasserstein_discriminator_loss": (lambda r, f: -r, lambda r, f: f),
}
G_LOSSES = {
    # Goodfellow et al. 2014, Sec. 3: maximise log D(G(z)) instead of minimising log(1 - D(G(z)))
    "gan_generator_loss": lambda f: -torch.log(torch.sigmoid(f)),
    # Miyato et al. 2018 eq. 17
    "hinge_generator_loss": lambda f: -f,
    # Mao et al. 2017 eq. 2 with c = 1
    "least_squares_generator_loss": lambda f: 0.5 * (f - 1) ** 2,
    # Arjovsky et al. 2017, Algorithm 1
    "wasserstein_generator_loss": lambda f: -f,
}


def _outputs(n):
    # logits of moderate size, none within 0.05 of the hinge kinks at +-1
    x = RNG.uniform(-4, 4, n)
    return np.where(np.abs(np.abs(x) - 1) < 0.05, x + 0.2, x)


@pytest.mark.parametrize("name", list(D_LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_discriminator_losses_match_papers(name, reduction, dtype, jit):
    real_fn, fake_fn = D_LOSSES[name]
    compare(
        lambda r, f: getattr(L, name)(r, f, reduction=reduction),
        lambda r, f: _reduce_pair(real_fn(r, f), fake_fn(r, f), reduction),
        [_outputs(8), _outputs(8)],
        diff=(0, 1),
        dtype=dtype,
        jit=jit,
    )


@pytest.mark.parametrize("name", list(G_LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_generator_losses_match_papers(name, reduction, dtype, jit):
    compare(
        lambda f: getattr(L, name)(f, reduction=reduction),
        lambda f: _reduce(G_LOSSES[name](f), reduction),
        [_outputs(8)],
        diff=(0,),
        dtype=dtype,
        jit=jit,
    )


def test_options_and_batches_of_different_sizes():
    real, fake = _outputs(5), _outputs(3)
    # Mao et al. 2017, the Pearson chi^2 coding a = -1, b = 1, c = 0
    expected = 0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean((fake + 1) ** 2)
    np.testing.assert_allclose(
        float(L.least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0)), expected, rtol=1e-12
    )
    np.testing.assert_allclose(
        float(L.least_squares_generator_loss(fake, c=0.0, reduction="sum")),
        np.sum(0.5 * fake**2),
        rtol=1e-12,
    )
    # the minimax (saturating) generator: log(1 - sigmoid(D(G(z))))
    np.testing.assert_allclose(
        np.asarray(L.gan_generator_loss(fake, saturating=True, reduction="none")),
        np.log1p(-1 / (1 + np.exp(-fake))),
        rtol=1e-12,
    )
    # different batch sizes: real and fake terms reduced separately
    np.testing.assert_allclose(
        float(L.wasserstein_discriminator_loss(real, fake)), fake.mean() - real.mean(), rtol=1e-12
    )
    np.testing.assert_allclose(
        float(L.hinge_discriminator_loss(real, fake, reduction="sum")),
        np.maximum(0, 1 - real).sum() + np.maximum(0, 1 + fake).sum(),
        rtol=1e-12,
    )
    # extreme logits stay finite (softplus forms)
    big = np.array([1e4, -1e4])
    assert np.all(np.isfinite(np.asarray(L.gan_discriminator_loss(big, -big, reduction="none"))))
    assert np.all(np.isfinite(np.asarray(jax.grad(lambda x: L.gan_generator_loss(x))(big))))


# ----------------------------------------------------------------------------------------------- penalties

D_IN, HIDDEN = 6, 5


def _params(dtype):
    rng = np.random.default_rng(5)
    return {
        "W1": (rng.standard_normal((D_IN, HIDDEN)) * 0.6).astype(dtype),
        "b1": (rng.standard_normal(HIDDEN) * 0.1).astype(dtype),
        "w2": rng.standard_normal((HIDDEN, 1)).astype(dtype),
        "b2": rng.standard_normal(1).astype(dtype),
    }


def jax_mlp(p, x):
    h = jnp.tanh(x.reshape(x.shape[0], -1) @ p["W1"] + p["b1"][None, :])
    return h @ p["w2"] + p["b2"][None, :]  # (B, 1), as a torch nn.Linear head


def torch_mlp(p, x):
    h = torch.tanh(x.reshape(x.shape[0], -1) @ p["W1"] + p["b1"])
    return h @ p["w2"] + p["b2"]


def torch_compute_grad2(d_out, x_in):
    """Mescheder et al.'s GAN_stability (gan_training/train.py) compute_grad2: per-example ||grad D||^2."""
    batch_size = x_in.size(0)
    grad_dout = torch.autograd.grad(
        outputs=d_out.sum(), inputs=x_in, create_graph=True, retain_graph=True, only_inputs=True
    )[0]
    return grad_dout.pow(2).reshape(batch_size, -1).sum(1)


def torch_r1(p, x, gamma, reduction):
    # R1 (Mescheder et al. 2018, eq. 9): gamma / 2 * ||grad_x D(x)||^2
    return _reduce(gamma / 2 * torch_compute_grad2(torch_mlp(p, x), x), reduction)


def torch_wgan_gp(p, real, fake, alpha, lambda_gp, reduction):
    """Gulrajani et al. 2017 (igul222/improved_wgan_training, the PyTorch ports' calc_gradient_penalty)."""
    shape = (alpha.shape[0],) + (1,) * (real.dim() - 1)
    interpolates = alpha.reshape(shape) * real + (1 - alpha.reshape(shape)) * fake
    if (
        not interpolates.requires_grad
    ):  # constant samples: autograd.Variable(interpolates, requires_grad=True)
        interpolates.requires_grad_(True)
    disc_interpolates = torch_mlp(p, interpolates)
    gradients = torch.autograd.grad(
        outputs=disc_interpolates,
        inputs=interpolates,
        grad_outputs=torch.ones(disc_interpolates.size(), dtype=real.dtype),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.reshape(gradients.size(0), -1)
    return _reduce((gradients.norm(2, dim=1) - 1) ** 2 * lambda_gp, reduction)


TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=3e-5, atol=3e-6)}


def _assert_tree_close(jax_tree, torch_list, keys, tol):
    for k, t in zip(keys, torch_list):
        expect = (
            np.zeros(np.shape(jax_tree[k])) if t is None else t.detach().numpy()
        )  # b2: no input gradient
        np.testing.assert_allclose(np.asarray(jax_tree[k]), expect, **tol, err_msg=k)


@pytest.mark.parametrize("which", ["r1", "r2"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float64, True), (np.float32, True)])
def test_r1_r2_penalty_and_param_gradients_match_torch_double_backward(
    which, reduction, dtype, jit
):
    params = _params(dtype)
    x = RNG.standard_normal((4, 2, 3)).astype(
        dtype
    )  # non-flat examples: the norm is over every axis
    gamma = 7.0
    fn = L.r1_penalty if which == "r1" else L.r2_penalty
    cot = RNG.standard_normal(4).astype(dtype) if reduction == "none" else np.array(1.0, dtype)

    def penalty(p, x):
        return jnp.sum(fn(lambda z: jax_mlp(p, z), x, gamma=gamma, reduction=reduction) * cot)

    vg = jax.value_and_grad(penalty, argnums=(0, 1))
    if jit:
        vg = jax.jit(vg)
    value, (g_params, g_x) = vg(params, x)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x, requires_grad=True)
    t_value = (torch_r1(tp, tx, gamma, reduction) * torch.tensor(cot)).sum()
    keys = list(params)
    t_grads = torch.autograd.grad(t_value, [tp[k] for k in keys] + [tx], allow_unused=True)
    tol = TOL[dtype]
    np.testing.assert_allclose(float(value), t_value.item(), **tol)
    _assert_tree_close(g_params, t_grads[:-1], keys, tol)
    np.testing.assert_allclose(np.asarray(g_x), t_grads[-1].numpy(), **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype,jit", [(np.float64, False), (np.float32, True)])
def test_wgan_gp_penalty_and_param_gradients_match_torch_double_backward(reduction, dtype, jit):
    params = _params(dtype)
    real = RNG.standard_normal((5, D_IN)).astype(dtype)
    fake = (RNG.standard_normal((5, D_IN)) + 0.5).astype(dtype)
    alpha = RNG.uniform(0, 1, 5).astype(dtype)
    cot = RNG.standard_normal(5).astype(dtype) if reduction == "none" else np.array(1.0, dtype)

    def penalty(p, real, fake):
        out = L.wgan_gp_penalty(
            lambda z: jax_mlp(p, z), real, fake, alpha, lambda_gp=10.0, reduction=reduction
        )
        return jnp.sum(out * cot)

    vg = jax.value_and_grad(penalty, argnums=(0, 1, 2))
    if jit:
        vg = jax.jit(vg)
    value, (g_params, g_real, g_fake) = vg(params, real, fake)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    t_real, t_fake = torch.tensor(real, requires_grad=True), torch.tensor(fake, requires_grad=True)
    t_value = (
        torch_wgan_gp(tp, t_real, t_fake, torch.tensor(alpha), 10.0, reduction) * torch.tensor(cot)
    ).sum()
    keys = list(params)
    t_grads = torch.autograd.grad(
        t_value, [tp[k] for k in keys] + [t_real, t_fake], allow_unused=True
    )
    tol = TOL[dtype]
    np.testing.assert_allclose(float(value), t_value.item(), **tol)
    _assert_tree_close(g_params, t_grads[:-2], keys, tol)
    np.testing.assert_allclose(np.asarray(g_real), t_grads[-2].numpy(), **tol)
    np.testing.assert_allclose(np.asarray(g_fake), t_grads[-1].numpy(), **tol)


def test_wgan_gp_zero_input_gradient_is_finite_like_torch():
    """A critic flat at the interpolates: norm 0, penalty lambda, and torch's zero (finite) gradient."""
    params = _params(np.float64)
    params["W1"] = np.zeros_like(params["W1"])
    real, fake, alpha = (
        RNG.standard_normal((3, D_IN)),
        RNG.standard_normal((3, D_IN)),
        np.full(3, 0.3),
    )
    value, grads = jax.value_and_grad(
        lambda p: L.wgan_gp_penalty(lambda z: jax_mlp(p, z), real, fake, alpha)
    )(params)
    assert float(value) == 10.0
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    t_value = torch_wgan_gp(
        tp, torch.tensor(real), torch.tensor(fake), torch.tensor(alpha), 10.0, "mean"
    )
    assert t_value.item() == 10.0
    t_grads = torch.autograd.grad(t_value, [tp[k] for k in params], allow_unused=True)
    for k, t in zip(params, t_grads):
        expect = np.zeros_like(params[k]) if t is None else t.numpy()
        np.testing.assert_array_equal(np.asarray(grads[k]), expect)


def test_penalty_papers_closed_form():
    """A linear critic D(x) = w.x has input gradient w: R1 = gamma/2 ||w||^2 (Mescheder et al. 2018, eq. 9),
    WGAN-GP = lambda (||w|| - 1)^2 (Gulrajani et al. 2017, Algorithm 1), for every example."""
    w = np.array([0.3, -1.2, 0.5])
    critic = lambda x: x @ w
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(
        np.asarray(L.r1_penalty(critic, x, gamma=3.0, reduction="none")),
        np.full(4, 1.5 * w @ w),
        rtol=1e-12,
    )
    np.testing.assert_allclose(float(L.r2_penalty(critic, x)), 5.0 * w @ w, rtol=1e-12)
    np.testing.assert_allclose(
        float(L.wgan_gp_penalty(critic, x, x[::-1], np.full(4, 0.25), lambda_gp=2.0)),
        2.0 * (np.linalg.norm(w) - 1) ** 2,
        rtol=1e-12,
    )


def test_nn_objects_call_the_functions():
    params = _params(np.float64)
    disc = lambda z: jax_mlp(params, z)
    real, fake, alpha = (
        RNG.standard_normal((3, D_IN)),
        RNG.standard_normal((3, D_IN)),
        RNG.uniform(0, 1, 3),
    )
    r, f = _outputs(4), _outputs(4)
    assert float(jnn.R1Penalty(gamma=2.0)(disc, real)) == float(L.r1_penalty(disc, real, gamma=2.0))
    assert float(jnn.R2Penalty(reduction="sum")(disc, fake)) == float(
        L.r2_penalty(disc, fake, reduction="sum")
    )
    assert float(jnn.WGANGPPenalty(lambda_gp=5.0)(disc, real, fake, alpha)) == float(
        L.wgan_gp_penalty(disc, real, fake, alpha, lambda_gp=5.0)
    )
    assert float(jnn.LeastSquaresDiscriminatorLoss(a=-1.0)(r, f)) == float(
        L.least_squares_discriminator_loss(r, f, a=-1.0)
    )
    assert float(jnn.LeastSquaresGeneratorLoss(c=0.5)(f)) == float(
        L.least_squares_generator_loss(f, c=0.5)
    )
    assert float(jnn.GANGeneratorLoss(saturating=True)(f)) == float(
        L.gan_generator_loss(f, saturating=True)
    )
    assert jnn.R1Penalty(gamma=2.0) == jnn.R1Penalty(gamma=2.0) != jnn.R1Penalty()


BAD = [
    (
        "gan_discriminator_loss",
        lambda: L.gan_discriminator_loss(np.ones(3), np.ones(2), reduction="none"),
        ValueError,
        "d_fake",
    ),
    (
        "gan_generator_loss",
        lambda: L.gan_generator_loss(np.ones(3), saturating="no"),
        ValueError,
        "saturating",
    ),
    ("hinge_generator_loss", lambda: L.hinge_generator_loss(np.ones(3, int)), TypeError, "d_fake"),
    (
        "least_squares_discriminator_loss",
        lambda: L.least_squares_discriminator_loss(np.ones(2), np.ones(2), a="0"),
        ValueError,
        "a must",
    ),
    (
        "wasserstein_generator_loss",
        lambda: L.wasserstein_generator_loss(np.ones(2), reduction="avg"),
        ValueError,
        "reduction",
    ),
    ("r1_penalty", lambda: L.r1_penalty(np.ones(3), np.ones((2, 3))), TypeError, "discriminator"),
    ("r1_penalty", lambda: L.r1_penalty(lambda x: x.sum(-1), np.array(1.0)), ValueError, "real"),
    (
        "r2_penalty",
        lambda: L.r2_penalty(lambda x: x.sum(-1), np.ones((2, 3)), gamma=None),
        ValueError,
        "gamma",
    ),
    (
        "wgan_gp_penalty",
        lambda: L.wgan_gp_penalty(
            lambda x: x.sum(-1), np.ones((2, 3)), np.ones((2, 4)), np.ones(2)
        ),
        ValueError,
        "fake",
    ),
    (
        "wgan_gp_penalty",
        lambda: L.wgan_gp_penalty(
            lambda x: x.sum(-1), np.ones((2, 3)), np.ones((2, 3)), np.ones(3)
        ),
        ValueError,
        "alpha",
    ),
]


@pytest.mark.parametrize(
    "loss,call,exc,argname", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input_raises_named_errors(loss, call, exc, argname):
    with pytest.raises(exc, match=argname) as info:
        call()
    assert loss in str(info.value)
