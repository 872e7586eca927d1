"""Vision-language contrastive losses on paired image and text embeddings: CLIP and SigLIP.

Shapes: ``B`` batch (row ``i`` of ``image_embeds`` is paired with row ``i`` of ``text_embeds``), ``D`` embedding
size; both embeddings are ``(B, D)`` floats. The temperature is learned in log space, as in CLIP, open_clip and
big_vision: ``logit_scale`` is the *log* of the multiplier (``t'`` in the SigLIP paper) and the similarities
are multiplied by ``exp(logit_scale)``; pass ``log(1 / 0.07)`` for CLIP's initial temperature 0.07 and
``log(10)`` (with ``logit_bias=-10``) for SigLIP's initialisation. (open_clip's loss modules take the
already exponentiated scale: ``ClipLoss()(img, txt, model.logit_scale.exp())``.) Both are differentiable.

Data parallelism: with ``axis_name`` set, the loss is called inside :func:`jax.shard_map` on the local
shard of the batch (``(b, D)``, ``B = b * devices``). The other devices' embeddings are gathered with
:func:`jax.lax.all_gather`, each device computes the logits of its own rows against the whole batch, and
the partial sums are combined with :func:`jax.lax.psum`: the returned ``'mean'``/``'sum'`` is the global loss
(the single-device value on the full batch) on every device, and gradients flow back through the gather
(its transpose is a reduce-scatter), so ``jax.grad`` inside ``shard_map`` gives the single-device gradients
of the local shard. ``'none'`` returns the local rows' values. Shard the batch contiguously (row ``i`` of
device ``k`` is global row ``k * b + i``), as ``shard_map`` with ``in_specs=P(axis_name)`` does.

Matrix products use ``precision=HIGHEST``: float32 on GPU/TPU is full float32, not TF32/bfloat16.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.embeddings import paired_views
from jaxloss._src.core.numerics import _dot, _l2_normalize
from jaxloss._src.core.registry import register

__all__ = ["clip_loss", "siglip_loss"]


def _clip_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), np.array(np.log(5.0))), {}


def _siglip_example(rng: np.random.Generator):
    return (
        rng.standard_normal((4, 3)),
        rng.standard_normal((4, 3)),
        np.array(np.log(5.0)),
        np.array(-2.0),
    ), {}


def _prepare(
    loss: str, reduction: str, axis_name, image_embeds, text_embeds, logit_scale, normalize: bool
):
    """Check the options and the ``(B, D)`` pair; returns the (normalised) compute-dtype embeddings, the
    multiplier ``exp(logit_scale)`` and the output dtype."""
    R.validate_reduction(loss, reduction)
    ok = (
        axis_name is None
        or isinstance(axis_name, str)
        or (isinstance(axis_name, tuple) and all(isinstance(a, str) for a in axis_name))
    )
    V.check_option(loss, "axis_name", axis_name, ok, "None, a mesh axis name or a tuple of names")
    image_embeds, text_embeds, out_dtype = paired_views(
        loss, "image_embeds", image_embeds, "text_embeds", text_embeds
    )
    if normalize:
        image_embeds, text_embeds = _l2_normalize(image_embeds), _l2_normalize(text_embeds)
    scale = jnp.exp(_scale(loss, "logit_scale", logit_scale, image_embeds.dtype))
    return image_embeds, text_embeds, scale, out_dtype


def _scale(loss: str, name: str, value, dtype):
    value = V.hyper(loss, name, value)
    return jnp.asarray(value, dtype)


def _gather(x: jax.Array, axis_name):
    """``(global batch, D)`` copy of ``x`` and the global index of the local first row."""
    if axis_name is None:
        return x, 0
    offset = lax.axis_index(axis_name) * x.shape[0]
    return lax.all_gather(x, axis_name, axis=0, tiled=True), offset


def _finish(per_row: jax.Array, reduction: str, axis_name, out_dtype) -> jax.Array:
    """Reduce the local rows; under ``axis_name`` the sum and the count are global."""
    if reduction == "none":
        return per_row.astype(out_dtype)
    total = jnp.sum(per_row)
    count = per_row.shape[0]
    if axis_name is not None:
        total = lax.psum(total, axis_name)
        count = count * lax.psum(1, axis_name)
    if reduction == "mean":
        total = total / count
    return total.astype(out_dtype)


@register(
    family="contrastive",
    reference="Radford et al. 2021 (CLIP); open_clip ClipLoss (loss.py), written float64 torch reference",
    example=_clip_example,
    diff=(0, 1, 2),
)
def clip_loss(
    image_embeds,
    text_embeds,
    logit_scale,
    *,
    normalize: bool = True,
    axis_name=None,
    reduction: str = "mean",
) -> jax.Array:
    """CLIP's symmetric contrastive (InfoNCE) loss between paired image and text embeddings.

    With :math:`\\hat u_i, \\hat v_j` the (L2-normalised) image and text embeddings and
    :math:`s_{ij} = e^{t} \\hat u_i \\cdot \\hat v_j` (``t = logit_scale``), each pair ``i`` costs the mean of
    the image-to-text and text-to-image cross entropies:

    .. math::

        \\ell_i = \\tfrac12 \\Big[ -\\log \\frac{e^{s_{ii}}}{\\sum_j e^{s_{ij}}}
                                 -\\log \\frac{e^{s_{ii}}}{\\sum_j e^{s_{ji}}} \\Big]

    Radford et al., *Learning Transferable Visual Models From Natural Language Supervision* (ICML 2021);
    ``reduction='mean'`` equals open_clip's ``ClipLoss()(image_features, text_features, exp(logit_scale))``
    (``(CE(logits_per_image) + CE(logits_per_text)) / 2``) on normalised features.

    Args:
      image_embeds: ``(B, D)`` image embeddings (the local ``(b, D)`` shard under ``axis_name``).
      text_embeds: ``(B, D)`` text embeddings, row ``i`` paired with image ``i``.
      logit_scale: the log of the logit multiplier (a Python number or a 0-d array, e.g. the learned
        parameter initialised at ``log(1 / 0.07)``); the logits are ``exp(logit_scale) * cosine``.
      normalize: L2-normalise the embeddings first (``x / max(||x||, 1e-12)``, torch's ``F.normalize``);
        ``False`` when the model already does.
      axis_name: ``None``, or the ``shard_map`` mesh axis (or axes) the batch is split over; see the module
        docstring: the result is the single-device loss on the full batch.
      reduction: ``'mean'`` (over pairs), ``'sum'``, or ``'none'`` (``(B,)`` per-pair values; the local
        ``(b,)`` under ``axis_name``).

    Returns:
      The loss; a scalar unless ``reduction='none'``; the floating dtype of the embeddings.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.contrastive import clip_loss
      >>> img = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(clip_loss(img, img, jnp.log(10.0))), 4)
      0.0

    Reference: Radford et al. 2021 (CLIP); open_clip ClipLoss (loss.py), written float64 torch reference.
    """
    img, txt, scale, out_dtype = _prepare(
        "clip_loss", reduction, axis_name, image_embeds, text_embeds, logit_scale, normalize
    )
    all_img, offset = _gather(img, axis_name)
    all_txt, _ = _gather(txt, axis_name)
    rows = jnp.arange(img.shape[0])
    positive = (offset + rows)[:, None]
    per_row = jnp.zeros(img.shape[:1], img.dtype)
    for queries, keys in ((img, all_txt), (txt, all_img)):  # image->text, then text->image
        logits = scale * _dot(queries, keys)  # (b, B): the local rows against the whole batch
        target = jnp.take_along_axis(logits, positive, axis=1)[:, 0]
        per_row = per_row + (jax.nn.logsumexp(logits, axis=1) - target)
    return _finish(per_row / 2, reduction, axis_name, out_dtype)


@register(
    family="contrastive",
    reference="Zhai et al. 2023 (SigLIP, arXiv:2303.15343); big_vision siglip / open_clip SigLipLoss, "
    "written float64 torch reference",
    example=_siglip_example,
    diff=(0, 1, 2, 3),
)
def siglip_loss(
    image_embeds,
    text_embeds,
    logit_scale,
    logit_bias,
    *,
    normalize: bool = True,
    axis_name=None,
    reduction: str = "mean",
) -> jax.Array:
    """SigLIP's pairwise sigmoid loss between paired image and text embeddings.

    Every (image, text) pair is an independent binary problem, positive on the diagonal:

    .. math::

        \\ell_i = -\\sum_j \\log \\sigma\\big(z_{ij} (e^{t} \\hat u_i \\cdot \\hat v_j + b)\\big),
        \\qquad z_{ij} = \\begin{cases} 1 & i = j \\\\ -1 & i \\ne j \\end{cases}

    with ``t = logit_scale`` and ``b = logit_bias``; ``reduction='mean'`` is
    :math:`\\frac1B \\sum_{ij}`, the sum over all pairs divided by the batch size, as big_vision and open_clip's
    ``SigLipLoss()(image_features, text_features, exp(logit_scale), logit_bias)``. Zhai et al., *Sigmoid
    Loss for Language Image Pre-Training* (ICCV 2023), arXiv:2303.15343; their initialisation is
    ``logit_scale = log(10)``, ``logit_bias = -10``. Under ``axis_name`` the other devices' text embeddings are
    all-gathered (the paper's ring of ``ppermute`` steps gives the same numbers with less memory).

    Args:
      image_embeds: ``(B, D)`` image embeddings (the local ``(b, D)`` shard under ``axis_name``).
      text_embeds: ``(B, D)`` text embeddings, row ``i`` paired with image ``i``.
      logit_scale: the log of the logit multiplier (number or 0-d array); the logits are
        ``exp(logit_scale) * cosine + logit_bias``.
      logit_bias: the logit bias (number or 0-d array).
      normalize: L2-normalise the embeddings first (torch's ``F.normalize``).
      axis_name: ``None``, or the ``shard_map`` mesh axis (or axes) the batch is split over; the result is the
        single-device loss on the full batch.
      reduction: ``'mean'`` (sum over all pairs divided by ``B``), ``'sum'`` (over all pairs), or ``'none'``
        (``(B,)``: each image's sum over every text; the local ``(b,)`` under ``axis_name``).

    Returns:
      The loss; a scalar unless ``reduction='none'``; the floating dtype of the embeddings.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.contrastive import siglip_loss
      >>> img = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(siglip_loss(img, img, jnp.log(10.0), -10.0)), 4)
      0.6932

    Reference: Zhai et al. 2023 (SigLIP, arXiv:2303.15343); big_vision siglip / open_clip SigLipLoss, written float64 torch reference.
    """
    img, txt, scale, out_dtype = _prepare(
        "siglip_loss", reduction, axis_name, image_embeds, text_embeds, logit_scale, normalize
    )
    bias = _scale("siglip_loss", "logit_bias", logit_bias, img.dtype)
    all_txt, offset = _gather(txt, axis_name)
    logits = scale * _dot(img, all_txt) + bias  # (b, B)
    columns = lax.broadcasted_iota(jnp.int32, logits.shape, 1)
    rows = lax.broadcasted_iota(jnp.int32, logits.shape, 0) + offset
    signed = jnp.where(columns == rows, logits, -logits)
    per_row = -jnp.sum(jax.nn.log_sigmoid(signed), axis=1)
    return _finish(per_row, reduction, axis_name, out_dtype)
