"""GAN losses: the adversarial objectives as functions of the discriminator's outputs, and the gradient
penalties (R1, R2, WGAN-GP) as functions of the discriminator itself.

Shapes: ``d_real`` and ``d_fake`` are the discriminator's (critic's) outputs on a batch of real and of
generated samples, one value per sample (``(B,)`` or ``(B, 1)``; any shape works). ``reduction``
(``'mean'`` default, ``'sum'``, ``'none'``) acts on the per-sample losses; for the discriminator losses the
real and fake terms are reduced separately and added (``'mean'`` is ``mean(real) + mean(fake)``, so the
two batches may differ in size), and ``'none'`` (real term + fake term per pair) needs equal shapes.

The penalties take ``discriminator``, a function from a batch ``(B, ...)`` to its outputs, whose examples
are independent (no batch statistics); they differentiate it w.r.t. its input with ``jax.vjp`` inside, so
``jax.grad`` of a penalty w.r.t. parameters the discriminator closes over (a double backward) composes::

    penalty = lambda params: r1_penalty(lambda x: D.apply(params, x), real)
    grads = jax.grad(penalty)(params)

Half-precision inputs are computed in float32 and the result cast back.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import fill_docs, register

__all__ = [
    "gan_discriminator_loss",
    "gan_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "r1_penalty",
    "r2_penalty",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wgan_gp_penalty",
]


# ----------------------------------------------------------------------------------------------------------
# Argument handling and reductions.


def _outputs(name: str, *named: tuple[str, object]):
    arrays = [V.as_float(name, arg, x) for arg, x in named]
    out_dtype = V.result_dtype(*arrays)
    cdt = V.compute_dtype(out_dtype)
    return [a.astype(cdt) for a in arrays], out_dtype


def _discriminator_loss(name, terms, d_real, d_fake, reduction):
    """``terms(d_real, d_fake) -> (real_terms, fake_terms)`` reduced separately and added; ``'none'`` adds
    them per pair."""
    R.validate_reduction(name, reduction)
    (d_real, d_fake), out_dtype = _outputs(name, ("d_real", d_real), ("d_fake", d_fake))
    real_terms, fake_terms = terms(d_real, d_fake)
    if reduction == "none":
        if real_terms.shape != fake_terms.shape:
            raise ValueError(
                f"{name}: d_fake has shape {tuple(fake_terms.shape)}; with reduction='none' it must have "
                f"d_real's shape {tuple(real_terms.shape)} (use 'mean' or 'sum' for batches of other sizes)"
            )
        return (real_terms + fake_terms).astype(out_dtype)
    return (R.reduce(real_terms, reduction) + R.reduce(fake_terms, reduction)).astype(out_dtype)


def _generator_loss(name, term, d_fake, reduction):
    """``term(d_fake)`` per sample, reduced."""
    R.validate_reduction(name, reduction)
    (d_fake,), out_dtype = _outputs(name, ("d_fake", d_fake))
    return R.reduce(term(d_fake), reduction).astype(out_dtype)


def _negated(d_fake: jax.Array) -> jax.Array:
    return -d_fake


def _bce_terms(d_real: jax.Array, d_fake: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.nn.softplus(-d_real), jax.nn.softplus(
        d_fake
    )  # -log sigmoid(r), -log(1 - sigmoid(f))


def _hinge_terms(d_real: jax.Array, d_fake: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.nn.relu(1 - d_real), jax.nn.relu(1 + d_fake)


def _wasserstein_terms(d_real: jax.Array, d_fake: jax.Array) -> tuple[jax.Array, jax.Array]:
    return -d_real, d_fake


# ----------------------------------------------------------------------------------------------------------
# Examples for the registry.


def _pair_example(rng: np.random.Generator):
    return (rng.standard_normal(6) + 1.0, rng.standard_normal(6) - 1.0), {}


def _fake_example(rng: np.random.Generator):
    return (rng.standard_normal(6),), {}


def _hinge_example(rng: np.random.Generator):
    # no output within 0.1 of the hinges at +-1
    real = np.array([-0.5, 0.3, 1.4, 2.0, 0.8, 1.7]) + 0.05 * rng.uniform(-1, 1, 6)
    fake = np.array([-1.6, -0.7, 0.2, -2.0, 0.5, -1.3]) + 0.05 * rng.uniform(-1, 1, 6)
    return (real, fake), {}


_EX_RNG = np.random.default_rng(1234)
_EX_W1 = _EX_RNG.standard_normal((3, 8)) * 0.7
_EX_B1 = _EX_RNG.standard_normal(8) * 0.1
_EX_W2 = _EX_RNG.standard_normal(8)


def _example_discriminator(x):
    """A fixed tanh MLP ``(B, 3) -> (B,)`` for the registry examples (smooth, so second derivatives exist)."""
    return jnp.tanh(x @ _EX_W1 + _EX_B1[None, :]) @ _EX_W2


def _r_example(rng: np.random.Generator):
    return (_example_discriminator, rng.standard_normal((5, 3))), {"gamma": 10.0}


def _gp_example(rng: np.random.Generator):
    real, fake = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)) + 0.5
    return (_example_discriminator, real, fake, rng.uniform(0, 1, 5)), {"lambda_gp": 10.0}


# ----------------------------------------------------------------------------------------------------------
# Standard (non-saturating) GAN.


@register(
    family="gan",
    reference="Goodfellow et al. 2014, GAN discriminator (BCE on logits)",
    example=_pair_example,
    diff=(0, 1),
)
def gan_discriminator_loss(d_real, d_fake, *, reduction: str = "mean") -> jax.Array:
    """Standard GAN discriminator loss: binary cross-entropy with real = 1 and fake = 0, on logits.

    .. math:: \\ell = -\\log\\sigma(D(x)) - \\log(1 - \\sigma(D(G(z))))
              = \\mathrm{softplus}(-D(x)) + \\mathrm{softplus}(D(G(z)))

    (stable for logits of any size). Source: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014,
    eq. 1 (the discriminator maximises :math:`\\log D(x) + \\log(1 - D(G(z)))`).

    Args:
      d_real: discriminator logits on real samples, e.g. ``(B,)``.
      d_fake: discriminator logits on generated samples.
      reduction: ``'mean'`` (``mean(real) + mean(fake)``, default), ``'sum'`` or ``'none'`` (equal shapes).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import gan_discriminator_loss
      >>> print(f"{float(gan_discriminator_loss(jnp.array([0.0]), jnp.array([0.0]))):.4f}")  # 2 log 2
      1.3863

    Reference: Goodfellow et al. 2014, GAN discriminator (BCE on logits).
    """
    return _discriminator_loss("gan_discriminator_loss", _bce_terms, d_real, d_fake, reduction)


@register(
    family="gan",
    reference="Goodfellow et al. 2014, generator loss (non-saturating and minimax)",
    example=_fake_example,
)
def gan_generator_loss(d_fake, *, saturating: bool = False, reduction: str = "mean") -> jax.Array:
    """Standard GAN generator loss on the discriminator's logits for generated samples.

    .. math:: \\text{non-saturating (default): } -\\log\\sigma(D(G(z))) = \\mathrm{softplus}(-D(G(z)))
              \\qquad \\text{saturating: } \\log(1 - \\sigma(D(G(z)))) = -\\mathrm{softplus}(D(G(z)))

    The saturating form is the minimax game's generator objective; its gradient vanishes when the
    discriminator rejects the samples confidently, which is why the paper recommends the non-saturating one.

    Source: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014, eq. 1 and Sec. 3.

    Args:
      d_fake: discriminator logits on generated samples.
      saturating: use the minimax objective instead of the non-saturating one.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import gan_generator_loss
      >>> print(f"{float(gan_generator_loss(jnp.array([0.0, 2.0]))):.4f}")
      0.4100

    Reference: Goodfellow et al. 2014, generator loss (non-saturating and minimax).
    """
    name = "gan_generator_loss"
    V.check_option(
        name, "saturating", saturating, isinstance(saturating, (bool, np.bool_)), "a Python bool"
    )
    if saturating:
        return _generator_loss(name, lambda fake: -jax.nn.softplus(fake), d_fake, reduction)
    return _generator_loss(name, lambda fake: jax.nn.softplus(-fake), d_fake, reduction)


# ----------------------------------------------------------------------------------------------------------
# Hinge.


@register(
    family="gan",
    reference="Miyato et al. 2018 (SN-GAN) / Lim & Ye 2017, hinge discriminator loss",
    example=_hinge_example,
    diff=(0, 1),
)
def hinge_discriminator_loss(d_real, d_fake, *, reduction: str = "mean") -> jax.Array:
    """Hinge discriminator loss.

    .. math:: \\ell = \\max(0, 1 - D(x)) + \\max(0, 1 + D(G(z)))

    Source: Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral normalization for generative
    adversarial networks", ICLR 2018, eq. 16; Brock et al. (BigGAN) 2019.

    Args:
      d_real: discriminator outputs on real samples.
      d_fake: discriminator outputs on generated samples.
      reduction: ``'mean'`` (``mean(real) + mean(fake)``, default), ``'sum'`` or ``'none'`` (equal shapes).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import hinge_discriminator_loss
      >>> print(f"{float(hinge_discriminator_loss(jnp.array([0.5, 2.0]), jnp.array([-0.5, 0.0]))):.4f}")
      1.0000

    Reference: Miyato et al. 2018 (SN-GAN) / Lim & Ye 2017, hinge discriminator loss.
    """
    return _discriminator_loss("hinge_discriminator_loss", _hinge_terms, d_real, d_fake, reduction)


@register(
    family="gan",
    reference="Miyato et al. 2018 (SN-GAN), hinge generator loss -D(G(z))",
    example=_fake_example,
)
def hinge_generator_loss(d_fake, *, reduction: str = "mean") -> jax.Array:
    """Hinge-GAN generator loss: minus the discriminator's output on generated samples.

    .. math:: \\ell = -D(G(z))

    Source: Miyato et al., "Spectral normalization for generative adversarial networks", ICLR 2018, eq. 17
    (the same as :func:`wasserstein_generator_loss`).

    Args:
      d_fake: discriminator outputs on generated samples.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import hinge_generator_loss
      >>> print(f"{float(hinge_generator_loss(jnp.array([0.5, -1.5]))):.4f}")
      0.5000

    Reference: Miyato et al. 2018 (SN-GAN), hinge generator loss -D(G(z)).
    """
    return _generator_loss("hinge_generator_loss", _negated, d_fake, reduction)


# ----------------------------------------------------------------------------------------------------------
# Least squares.


@register(
    family="gan",
    reference="Mao et al. 2017 (LSGAN), eq. 2, discriminator",
    example=_pair_example,
    diff=(0, 1),
)
def least_squares_discriminator_loss(
    d_real, d_fake, *, a: float = 0.0, b: float = 1.0, reduction: str = "mean"
) -> jax.Array:
    """Least-squares GAN discriminator loss.

    .. math:: \\ell = \\tfrac12 (D(x) - b)^2 + \\tfrac12 (D(G(z)) - a)^2

    with the labels ``a`` for fake and ``b`` for real (the paper's 0-1 coding by default; ``a=-1, b=1, c=0``
    is its Pearson-chi-squared choice).

    Source: Mao et al., "Least squares generative adversarial networks", ICCV 2017, eq. 2.

    Args:
      d_real: discriminator outputs on real samples.
      d_fake: discriminator outputs on generated samples.
      a: target for generated samples.
      b: target for real samples.
      reduction: ``'mean'`` (``mean(real) + mean(fake)``, default), ``'sum'`` or ``'none'`` (equal shapes).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import least_squares_discriminator_loss
      >>> print(f"{float(least_squares_discriminator_loss(jnp.array([0.5]), jnp.array([0.5]))):.4f}")
      0.2500

    Reference: Mao et al. 2017 (LSGAN), eq. 2, discriminator.
    """
    name = "least_squares_discriminator_loss"
    V.check_real(name, "a", a)
    V.check_real(name, "b", b)

    def terms(real, fake):
        return 0.5 * jnp.square(real - b), 0.5 * jnp.square(fake - a)

    return _discriminator_loss(name, terms, d_real, d_fake, reduction)


@register(
    family="gan", reference="Mao et al. 2017 (LSGAN), eq. 2, generator", example=_fake_example
)
def least_squares_generator_loss(d_fake, *, c: float = 1.0, reduction: str = "mean") -> jax.Array:
    """Least-squares GAN generator loss.

    .. math:: \\ell = \\tfrac12 (D(G(z)) - c)^2

    with ``c`` the value the generator wants the discriminator to believe (1 in the 0-1 coding).

    Source: Mao et al., "Least squares generative adversarial networks", ICCV 2017, eq. 2.

    Args:
      d_fake: discriminator outputs on generated samples.
      c: target for generated samples.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import least_squares_generator_loss
      >>> print(f"{float(least_squares_generator_loss(jnp.array([0.0, 1.0]))):.4f}")
      0.2500

    Reference: Mao et al. 2017 (LSGAN), eq. 2, generator.
    """
    name = "least_squares_generator_loss"
    V.check_real(name, "c", c)
    return _generator_loss(name, lambda fake: 0.5 * jnp.square(fake - c), d_fake, reduction)


# ----------------------------------------------------------------------------------------------------------
# Wasserstein.


@register(
    family="gan",
    reference="Arjovsky et al. 2017 (WGAN), critic loss E[D(G(z))] - E[D(x)]",
    example=_pair_example,
    diff=(0, 1),
)
def wasserstein_discriminator_loss(d_real, d_fake, *, reduction: str = "mean") -> jax.Array:
    """Wasserstein GAN critic loss: the negated estimate of the Wasserstein-1 distance.

    .. math:: \\ell = D(G(z)) - D(x)

    (the critic maximises :math:`E[D(x)] - E[D(G(z))]` over 1-Lipschitz functions; enforce the constraint
    with weight clipping, spectral normalisation or :func:`wgan_gp_penalty`).

    Source: Arjovsky, Chintala & Bottou, "Wasserstein generative adversarial networks", ICML 2017,
    Algorithm 1.

    Args:
      d_real: critic outputs on real samples.
      d_fake: critic outputs on generated samples.
      reduction: ``'mean'`` (``mean(fake) - mean(real)``, default), ``'sum'`` or ``'none'`` (equal shapes).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import wasserstein_discriminator_loss
      >>> print(f"{float(wasserstein_discriminator_loss(jnp.array([2.0, 1.0]), jnp.array([0.5]))):.4f}")
      -1.0000

    Reference: Arjovsky et al. 2017 (WGAN), critic loss E[D(G(z))] - E[D(x)].
    """
    return _discriminator_loss(
        "wasserstein_discriminator_loss", _wasserstein_terms, d_real, d_fake, reduction
    )


@register(
    family="gan",
    reference="Arjovsky et al. 2017 (WGAN), generator loss -E[D(G(z))]",
    example=_fake_example,
)
def wasserstein_generator_loss(d_fake, *, reduction: str = "mean") -> jax.Array:
    """Wasserstein GAN generator loss: minus the critic's output on generated samples.

    .. math:: \\ell = -D(G(z))

    Source: Arjovsky, Chintala & Bottou, "Wasserstein generative adversarial networks", ICML 2017,
    Algorithm 1.

    Args:
      d_fake: critic outputs on generated samples.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import wasserstein_generator_loss
      >>> print(f"{float(wasserstein_generator_loss(jnp.array([0.5, 1.5]))):.4f}")
      -1.0000

    Reference: Arjovsky et al. 2017 (WGAN), generator loss -E[D(G(z))].
    """
    return _generator_loss("wasserstein_generator_loss", _negated, d_fake, reduction)


# ----------------------------------------------------------------------------------------------------------
# Gradient penalties.


def _check_discriminator(name: str, discriminator) -> None:
    if not callable(discriminator):
        raise TypeError(
            f"{name}: discriminator must be a callable (batch -> outputs); got "
            f"{type(discriminator).__name__}"
        )


def _batch(name: str, arg: str, x) -> jax.Array:
    x = V.as_float(name, arg, x)
    if x.ndim < 1:
        raise ValueError(f"{name}: {arg} must be a batch (B, ...); got a scalar")
    return x


def _input_gradient_sq_norms(name: str, discriminator: Callable, x: jax.Array, cdt) -> jax.Array:
    """``||d sum(D(x)) / d x_i||^2`` per example ``i`` (one reverse pass; examples must be independent)."""
    out, vjp = jax.vjp(discriminator, x)
    out = jnp.asarray(out)
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(
            f"{name}: discriminator must return a floating array; got dtype {out.dtype}"
        )
    (grad,) = vjp(jnp.ones_like(out))
    grad = grad.astype(cdt)
    return jnp.sum(jnp.square(grad).reshape(grad.shape[0], -1), axis=-1)


def _check_penalty(name: str, discriminator, weight_name: str, weight, reduction: str) -> None:
    R.validate_reduction(name, reduction)
    _check_discriminator(name, discriminator)
    V.check_real(name, weight_name, weight)


def _sq_norm_penalty(name, discriminator, x, arg, gamma, reduction):
    _check_penalty(name, discriminator, "gamma", gamma, reduction)
    x = _batch(name, arg, x)
    out_dtype = jnp.dtype(x.dtype)
    cdt = V.compute_dtype(out_dtype)
    sq = _input_gradient_sq_norms(name, discriminator, x, cdt)
    return R.reduce(0.5 * gamma * sq, reduction).astype(out_dtype)


_PENALTY_NOTE = """The gradient w.r.t. the input is taken with ``jax.vjp`` of ``discriminator`` (a cotangent of
    ones, i.e. the gradient of ``sum(D(x))``), so each example's gradient is its own only if the
    discriminator treats examples independently (no batch normalisation). ``jax.grad`` of the penalty
    w.r.t. parameters that ``discriminator`` closes over differentiates through that gradient (a double
    backward, as ``torch.autograd.grad(..., create_graph=True)``); the discriminator must be twice
    differentiable there (ReLU networks are, almost everywhere)."""


@register(
    family="gan",
    reference="Mescheder et al. 2018, R1 = gamma/2 E_real ||grad D||^2",
    example=_r_example,
    diff=(1,),
)
def r1_penalty(discriminator, real, *, gamma: float = 10.0, reduction: str = "mean") -> jax.Array:
    """R1 gradient penalty on real data.

    .. math:: R_1 = \\frac{\\gamma}{2} \\lVert \\nabla_x D(x) \\rVert^2, \\quad x \\text{ real}

    per example. Added to the discriminator's loss, it keeps the discriminator flat on the data
    manifold, which makes GAN training locally convergent (Mescheder et al.; StyleGAN's regulariser, also
    with :math:`\\gamma / 2`). The authors' code (GAN_stability) multiplies by ``reg_param`` without the
    1/2: its ``reg_param`` is :math:`\\gamma / 2` here.

    {note}

    Source: Mescheder, Geiger & Nowozin, "Which training methods for GANs do actually converge?", ICML 2018,
    eq. 9.

    Args:
      discriminator: a function from a batch ``(B, ...)`` to the outputs (``(B,)``, ``(B, 1)``, ...).
      real: ``(B, ...)`` real samples.
      gamma: :math:`\\gamma`, the penalty weight.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      The penalty; a scalar unless ``reduction='none'``; dtype of ``real``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import r1_penalty
      >>> discriminator = lambda x: jnp.sum(x ** 2, axis=-1)  # gradient 2x
      >>> print(f"{float(r1_penalty(discriminator, jnp.array([[1.0, 0.0], [0.0, 2.0]]), gamma=1.0)):.4f}")
      5.0000

    Reference: Mescheder et al. 2018, R1 = gamma/2 E_real ||grad D||^2.
    """
    return _sq_norm_penalty("r1_penalty", discriminator, real, "real", gamma, reduction)


@register(
    family="gan",
    reference="Mescheder et al. 2018, R2 = gamma/2 E_fake ||grad D||^2",
    example=_r_example,
    diff=(1,),
)
def r2_penalty(discriminator, fake, *, gamma: float = 10.0, reduction: str = "mean") -> jax.Array:
    """R2 gradient penalty on generated data.

    .. math:: R_2 = \\frac{\\gamma}{2} \\lVert \\nabla_x D(x) \\rVert^2, \\quad x = G(z)

    per example (the same as :func:`r1_penalty`, on the generator's samples; pass them
    ``stop_gradient``-ed for the discriminator's update).

    {note}

    Source: Mescheder, Geiger & Nowozin, "Which training methods for GANs do actually converge?", ICML 2018,
    eq. 10.

    Args:
      discriminator: a function from a batch ``(B, ...)`` to the outputs.
      fake: ``(B, ...)`` generated samples.
      gamma: :math:`\\gamma`, the penalty weight.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      The penalty; a scalar unless ``reduction='none'``; dtype of ``fake``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import r2_penalty
      >>> discriminator = lambda x: 3.0 * x[:, 0]
      >>> print(f"{float(r2_penalty(discriminator, jnp.ones((4, 2)))):.4f}")  # 10 / 2 * 9
      45.0000

    Reference: Mescheder et al. 2018, R2 = gamma/2 E_fake ||grad D||^2.
    """
    return _sq_norm_penalty("r2_penalty", discriminator, fake, "fake", gamma, reduction)


@register(
    family="gan",
    reference="Gulrajani et al. 2017 (WGAN-GP), lambda (||grad D(x_hat)|| - 1)^2",
    example=_gp_example,
    diff=(1, 2),
)
def wgan_gp_penalty(
    discriminator, real, fake, alpha, *, lambda_gp: float = 10.0, reduction: str = "mean"
) -> jax.Array:
    """WGAN-GP gradient penalty at random interpolates of real and generated samples.

    .. math:: \\hat x = \\alpha x + (1 - \\alpha) \\tilde x, \\qquad
              \\ell = \\lambda \\big(\\lVert \\nabla_{\\hat x} D(\\hat x) \\rVert_2 - 1\\big)^2

    per example, with one :math:`\\alpha \\sim U[0, 1]` per example drawn by the caller (pure function:
    ``alpha = jax.random.uniform(key, (B,))``). The norm has gradient 0 at a zero input gradient (as
    torch's ``norm`` backward). Gradients flow into ``real`` and ``fake``; pass the generator's samples
    ``stop_gradient``-ed for the critic's update.

    {note}

    Source: Gulrajani et al., "Improved training of Wasserstein GANs", NeurIPS 2017, Algorithm 1
    (:math:`\\lambda = 10`).

    Args:
      discriminator: a function from a batch ``(B, ...)`` to the critic's outputs.
      real: ``(B, ...)`` real samples.
      fake: ``(B, ...)`` generated samples.
      alpha: ``(B,)`` interpolation weights in ``[0, 1]`` (the weight of ``real``).
      lambda_gp: :math:`\\lambda`, the penalty weight.
      reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      The penalty; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.gan import wgan_gp_penalty
      >>> critic = lambda x: 2.0 * x[:, 0]  # gradient norm 2 everywhere
      >>> print(f"{float(wgan_gp_penalty(critic, jnp.ones((3, 2)), jnp.zeros((3, 2)), jnp.full(3, 0.5))):.4f}")
      10.0000

    Reference: Gulrajani et al. 2017 (WGAN-GP), lambda (||grad D(x_hat)|| - 1)^2.
    """
    name = "wgan_gp_penalty"
    _check_penalty(name, discriminator, "lambda_gp", lambda_gp, reduction)
    real = _batch(name, "real", real)
    fake = _batch(name, "fake", fake)
    V.check_same_shape(name, "fake", fake, "real", real)
    alpha = V.as_float(name, "alpha", alpha)
    if alpha.shape != real.shape[:1]:
        raise ValueError(
            f"{name}: alpha has shape {tuple(alpha.shape)}; it must be {tuple(real.shape[:1])} (one weight per "
            "example)"
        )
    out_dtype = V.result_dtype(real, fake, alpha)
    cdt = V.compute_dtype(out_dtype)
    weights = alpha.reshape(alpha.shape + (1,) * (real.ndim - 1))
    interpolates = weights * real + (1 - weights) * fake
    sq = _input_gradient_sq_norms(name, discriminator, interpolates, cdt)
    positive = sq > 0
    # double where: no infinite gradient of sqrt at a zero input gradient
    norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)
    return R.reduce(lambda_gp * jnp.square(norm - 1.0), reduction).astype(out_dtype)


fill_docs(
    (r1_penalty, r2_penalty, wgan_gp_penalty),
    note=_PENALTY_NOTE,
)
