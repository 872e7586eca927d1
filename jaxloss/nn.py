"""torch.nn-style loss objects.

Each class takes torch's constructor arguments (names, order, defaults) and, when called, hands them to the
functional loss in :mod:`jaxloss.losses`; there is no math here. The objects are immutable and compare and hash by
their options (arrays such as ``weight`` by identity), so they can be static fields of Flax/Haiku/Equinox modules
and static arguments of :func:`jax.jit`::

    >>> import jax, jax.numpy as jnp
    >>> from jaxloss.nn import CrossEntropyLoss
    >>> loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    >>> step = jax.jit(lambda fn, x, y: fn(x, y), static_argnums=0)
    >>> round(float(step(loss_fn, jnp.zeros((2, 3)), jnp.array([0, 2]))), 4)
    1.0986

The deprecated ``size_average``/``reduce`` arguments are mapped to ``reduction`` at construction, exactly as
torch maps them (with a ``DeprecationWarning``), and the object keeps only ``reduction``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from jaxloss._src.core import reduction as R
from jaxloss import losses as F

__all__ = [
    "AngularLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchAllTripletMarginLoss",
    "CPOLoss",
    "CTCLoss",
    "CharbonnierLoss",
    "ClipLoss",
    "ClippedSurrogatePGLoss",
    "ClippedValueLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "DPOLoss",
    "DynamicSoftMarginLoss",
    "FastAPLoss",
    "GANGeneratorLoss",
    "GaussianNLLLoss",
    "GeneralizedLiftedStructureLoss",
    "HingeEmbeddingLoss",
    "HistogramLoss",
    "HuberLoss",
    "ImageGradientLoss",
    "InstanceLoss",
    "IntraPairVarianceLoss",
    "KLDivLoss",
    "KTOLoss",
    "L1Loss",
    "LargeMarginSoftmaxLoss",
    "LeastSquaresDiscriminatorLoss",
    "LeastSquaresGeneratorLoss",
    "LiftedStructureLoss",
    "LinearCrossEntropyLoss",
    "MSELoss",
    "MSSSIMLoss",
    "ManifoldLoss",
    "MarginLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "MultiResolutionSTFTLoss",
    "NCALoss",
    "NLLLoss",
    "NormalizedSoftmaxLoss",
    "ORPOLoss",
    "PNPLoss",
    "PairwiseMSELoss",
    "PairwiseQRLoss",
    "PairwiseSoftZeroOneLoss",
    "PointwiseMSELoss",
    "PointwiseSigmoidLoss",
    "PoissonNLLLoss",
    "PolicyGradientLoss",
    "Poly1SoftmaxLoss",
    "ProxyAnchorLoss",
    "ProxyNCALoss",
    "R1Penalty",
    "R2Penalty",
    "RankedListLoss",
    "SSIMLoss",
    "SigLipLoss",
    "SignalToNoiseRatioContrastiveLoss",
    "SimPOLoss",
    "SmoothAPLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "SoftTripleLoss",
    "SphereFaceLoss",
    "SubCenterArcFaceLoss",
    "ThresholdConsistentMarginLoss",
    "TotalVariation",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "TupletMarginLoss",
    "UniqueSoftmaxLoss",
    "VICRegLoss",
    "WGANGPPenalty",
]


def _key(value: Any) -> Any:
    """Hashable stand-in for a field: arrays (and other unhashable values) by identity."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


class _Loss:
    """Base of every loss object: immutable, compared and hashed by its options."""

    _function: ClassVar[Callable[..., Any]]
    #: field names that torch's class accepts only for the deprecated reduction mapping
    _legacy: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self._legacy:
            reduction = R.legacy_reduction(
                type(self).__name__, self.size_average, self.reduce, self.reduction
            )
            object.__setattr__(self, "size_average", None)
            object.__setattr__(self, "reduce", None)
            object.__setattr__(self, "reduction", reduction)
        allowed = ("none", "mean", "sum", "batchmean") if isinstance(self, KLDivLoss) else R.REDUCTIONS
        R.validate_reduction(type(self).__name__, self.reduction, allowed)

    def _options(self) -> dict[str, Any]:
        skip = {"size_average", "reduce"}
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip
        }

    def __call__(self, *args: Any) -> Any:
        return type(self)._function(*args, **self._options())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _key(getattr(self, f.name)) == _key(getattr(other, f.name))
            for f in dataclasses.fields(self)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(_key(getattr(self, f.name)) for f in dataclasses.fields(self)))


def _loss_class(function: Callable[..., Any], *, legacy: bool = True):
    def deco(cls):
        cls = dataclasses.dataclass(frozen=True, eq=False)(cls)
        cls._function = staticmethod(function)
        cls._legacy = legacy
        cls.__doc__ = (cls.__doc__ or "") + f"\n\n    Calls :func:`jaxloss.losses.{function.__name__}`."
        return cls

    return deco


@_loss_class(F.l1_loss)
class L1Loss(_Loss):
    """``torch.nn.L1Loss``: ``loss(input, target)``."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.mse_loss)
class MSELoss(_Loss):
    """``torch.nn.MSELoss``: ``loss(input, target)``."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.nll_loss)
class NLLLoss(_Loss):
    """``torch.nn.NLLLoss``: ``loss(input, target)`` with log-probabilities as input."""

    weight: Any = None
    size_average: Any = None
    ignore_index: int = -100
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.cross_entropy)
class CrossEntropyLoss(_Loss):
    """``torch.nn.CrossEntropyLoss``: ``loss(input, target)`` with logits as input."""

    weight: Any = None
    size_average: Any = None
    ignore_index: int = -100
    reduce: Any = None
    reduction: str = "mean"
    label_smoothing: float = 0.0


@_loss_class(F.poisson_nll_loss)
class PoissonNLLLoss(_Loss):
    """``torch.nn.PoissonNLLLoss``: ``loss(log_input, target)``."""

    log_input: bool = True
    full: bool = False
    size_average: Any = None
    eps: float = 1e-8
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.gaussian_nll_loss, legacy=False)
class GaussianNLLLoss(_Loss):
    """``torch.nn.GaussianNLLLoss``: ``loss(input, target, var)``."""

    _: dataclasses.KW_ONLY
    full: bool = False
    eps: float = 1e-6
    reduction: str = "mean"


@_loss_class(F.kl_div)
class KLDivLoss(_Loss):
    """``torch.nn.KLDivLoss``: ``loss(input, target)`` with log-probabilities as input."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"
    log_target: bool = False


@_loss_class(F.binary_cross_entropy)
class BCELoss(_Loss):
    """``torch.nn.BCELoss``: ``loss(input, target)`` with probabilities as input."""

    weight: Any = None
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.binary_cross_entropy_with_logits)
class BCEWithLogitsLoss(_Loss):
    """``torch.nn.BCEWithLogitsLoss``: ``loss(input, target)`` with logits as input."""

    weight: Any = None
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"
    pos_weight: Any = None


@_loss_class(F.hinge_embedding_loss)
class HingeEmbeddingLoss(_Loss):
    """``torch.nn.HingeEmbeddingLoss``: ``loss(input, target)``."""

    margin: float = 1.0
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.multilabel_margin_loss)
class MultiLabelMarginLoss(_Loss):
    """``torch.nn.MultiLabelMarginLoss``: ``loss(input, target)``."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.smooth_l1_loss)
class SmoothL1Loss(_Loss):
    """``torch.nn.SmoothL1Loss``: ``loss(input, target)``."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"
    beta: float = 1.0


@_loss_class(F.huber_loss, legacy=False)
class HuberLoss(_Loss):
    """``torch.nn.HuberLoss``: ``loss(input, target)``."""

    reduction: str = "mean"
    delta: float = 1.0


@_loss_class(F.soft_margin_loss)
class SoftMarginLoss(_Loss):
    """``torch.nn.SoftMarginLoss``: ``loss(input, target)``."""

    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.multilabel_soft_margin_loss)
class MultiLabelSoftMarginLoss(_Loss):
    """``torch.nn.MultiLabelSoftMarginLoss``: ``loss(input, target)``."""

    weight: Any = None
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.cosine_embedding_loss)
class CosineEmbeddingLoss(_Loss):
    """``torch.nn.CosineEmbeddingLoss``: ``loss(input1, input2, target)``."""

    margin: float = 0.0
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.margin_ranking_loss)
class MarginRankingLoss(_Loss):
    """``torch.nn.MarginRankingLoss``: ``loss(input1, input2, target)``."""

    margin: float = 0.0
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.multi_margin_loss)
class MultiMarginLoss(_Loss):
    """``torch.nn.MultiMarginLoss``: ``loss(input, target)``."""

    p: int = 1
    margin: float = 1.0
    weight: Any = None
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2; got {self.p!r}")


@_loss_class(F.triplet_margin_loss)
class TripletMarginLoss(_Loss):
    """``torch.nn.TripletMarginLoss``: ``loss(anchor, positive, negative)``."""

    margin: float = 1.0
    p: float = 2.0
    eps: float = 1e-6
    swap: bool = False
    size_average: Any = None
    reduce: Any = None
    reduction: str = "mean"


@_loss_class(F.triplet_margin_with_distance_loss, legacy=False)
class TripletMarginWithDistanceLoss(_Loss):
    """``torch.nn.TripletMarginWithDistanceLoss``: ``loss(anchor, positive, negative)``."""

    _: dataclasses.KW_ONLY
    distance_function: Callable[..., Any] | None = None
    margin: float = 1.0
    swap: bool = False
    reduction: str = "mean"


@_loss_class(F.ctc_loss, legacy=False)
class CTCLoss(_Loss):
    """``torch.nn.CTCLoss``: ``loss(log_probs, targets, input_lengths, target_lengths)``."""

    blank: int = 0
    reduction: str = "mean"
    zero_infinity: bool = False


@_loss_class(F.linear_cross_entropy, legacy=False)
class LinearCrossEntropyLoss(_Loss):
    """``torch.nn.LinearCrossEntropyLoss`` without owned parameters.

    torch's class owns the linear layer; a functional JAX model owns its parameters, so this object takes
    them at call time: ``loss(input, linear_weight, target, linear_bias=None)``. The options are torch's.
    """

    _: dataclasses.KW_ONLY
    reduction: str = "mean"
    weight: Any = None
    ignore_index: int | None = None
    label_smoothing: float = 0.0
    options: Any = None

    def __call__(self, input: Any, linear_weight: Any, target: Any, linear_bias: Any = None) -> Any:
        return F.linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, **self._options()
        )


@_loss_class(F.dpo_loss, legacy=False)
class DPOLoss(_Loss):
    """DPO and its variants (TRL's ``DPOTrainer`` options):
    ``loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps)``."""

    _: dataclasses.KW_ONLY
    beta: float = 0.1
    loss_type: str = "sigmoid"
    label_smoothing: float = 0.0
    reference_free: bool = False
    reduction: str = "mean"


@_loss_class(F.simpo_loss, legacy=False)
class SimPOLoss(_Loss):
    """SimPO (TRL's ``CPOTrainer`` with ``loss_type='simpo'``): ``loss(policy_chosen_logps, policy_rejected_logps)``
    with average log-probabilities."""

    _: dataclasses.KW_ONLY
    beta: float = 0.1
    gamma: float = 0.5
    label_smoothing: float = 0.0
    reduction: str = "mean"


@_loss_class(F.cpo_loss, legacy=False)
class CPOLoss(_Loss):
    """CPO (TRL's ``CPOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, policy_nll_loss=None)``."""

    _: dataclasses.KW_ONLY
    beta: float = 0.1
    alpha: float = 1.0
    loss_type: str = "sigmoid"
    label_smoothing: float = 0.0
    reduction: str = "mean"


@_loss_class(F.orpo_loss, legacy=False)
class ORPOLoss(_Loss):
    """ORPO (TRL's ``ORPOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, policy_nll_loss=None)``
    with average log-probabilities."""

    _: dataclasses.KW_ONLY
    beta: float = 0.1
    reduction: str = "mean"


@_loss_class(F.kto_loss, legacy=False)
class KTOLoss(_Loss):
    """KTO (TRL's ``KTOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
    reference_rejected_logps, kl)``."""

    _: dataclasses.KW_ONLY
    beta: float = 0.1
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0
    reduction: str = "mean"


@_loss_class(F.gan_generator_loss, legacy=False)
class GANGeneratorLoss(_Loss):
    """Standard GAN generator loss (non-saturating by default): ``loss(d_fake)``."""

    _: dataclasses.KW_ONLY
    saturating: bool = False
    reduction: str = "mean"


@_loss_class(F.least_squares_discriminator_loss, legacy=False)
class LeastSquaresDiscriminatorLoss(_Loss):
    """LSGAN discriminator loss with targets ``a`` (fake) and ``b`` (real): ``loss(d_real, d_fake)``."""

    _: dataclasses.KW_ONLY
    a: float = 0.0
    b: float = 1.0
    reduction: str = "mean"


@_loss_class(F.least_squares_generator_loss, legacy=False)
class LeastSquaresGeneratorLoss(_Loss):
    """LSGAN generator loss with target ``c``: ``loss(d_fake)``."""

    _: dataclasses.KW_ONLY
    c: float = 1.0
    reduction: str = "mean"


@_loss_class(F.r1_penalty, legacy=False)
class R1Penalty(_Loss):
    """R1 gradient penalty: ``penalty(discriminator, real)``."""

    _: dataclasses.KW_ONLY
    gamma: float = 10.0
    reduction: str = "mean"


@_loss_class(F.r2_penalty, legacy=False)
class R2Penalty(_Loss):
    """R2 gradient penalty: ``penalty(discriminator, fake)``."""

    _: dataclasses.KW_ONLY
    gamma: float = 10.0
    reduction: str = "mean"


@_loss_class(F.wgan_gp_penalty, legacy=False)
class WGANGPPenalty(_Loss):
    """WGAN-GP gradient penalty: ``penalty(discriminator, real, fake, alpha)``."""

    _: dataclasses.KW_ONLY
    lambda_gp: float = 10.0
    reduction: str = "mean"


@_loss_class(F.policy_gradient_loss, legacy=False)
class PolicyGradientLoss(_Loss):
    """rlax's policy-gradient loss: ``loss(logits_t, a_t, adv_t, w_t)``."""

    _: dataclasses.KW_ONLY
    use_stop_gradient: bool = True
    reduction: str = "mean"


@_loss_class(F.clipped_surrogate_pg_loss, legacy=False)
class ClippedSurrogatePGLoss(_Loss):
    """PPO's clipped surrogate (rlax): ``loss(prob_ratios_t, adv_t)``; ``epsilon`` is required."""

    _: dataclasses.KW_ONLY
    epsilon: float
    use_stop_gradient: bool = True
    reduction: str = "mean"


@_loss_class(F.clipped_value_loss, legacy=False)
class ClippedValueLoss(_Loss):
    """PPO's clipped value loss: ``loss(values, old_values, returns)``; ``epsilon`` is required."""

    _: dataclasses.KW_ONLY
    epsilon: float
    stop_target_gradients: bool = True
    reduction: str = "mean"


@_loss_class(F.clip_loss, legacy=False)
class ClipLoss(_Loss):
    """open_clip-style ``ClipLoss``: ``loss(image_embeds, text_embeds, logit_scale)``, ``logit_scale`` in log space."""

    _: dataclasses.KW_ONLY
    normalize: bool = True
    axis_name: Any = None
    reduction: str = "mean"


@_loss_class(F.siglip_loss, legacy=False)
class SigLipLoss(_Loss):
    """open_clip-style ``SigLipLoss``: ``loss(image_embeds, text_embeds, logit_scale, logit_bias)``."""

    _: dataclasses.KW_ONLY
    normalize: bool = True
    axis_name: Any = None
    reduction: str = "mean"


@_loss_class(F.ssim_loss, legacy=False)
class SSIMLoss(_Loss):
    """``1 - SSIM`` with pytorch-msssim's ``SSIM`` options: ``loss(X, Y)``, channels-first images."""

    _: dataclasses.KW_ONLY
    data_range: Any = 255
    win_size: int = 11
    win_sigma: float = 1.5
    win: Any = None
    K: Any = (0.01, 0.03)
    nonnegative_ssim: bool = False
    reduction: str = "mean"


@_loss_class(F.ms_ssim_loss, legacy=False)
class MSSSIMLoss(_Loss):
    """``1 - MS-SSIM`` with pytorch-msssim's ``MS_SSIM`` options: ``loss(X, Y)``, channels-first images."""

    _: dataclasses.KW_ONLY
    data_range: Any = 255
    win_size: int = 11
    win_sigma: float = 1.5
    win: Any = None
    weights: Any = None
    K: Any = (0.01, 0.03)
    reduction: str = "mean"


@_loss_class(F.total_variation, legacy=False)
class TotalVariation(_Loss):
    """kornia's ``TotalVariation`` (with its functional's ``reduction``): ``loss(img)``, output ``(*,)``."""

    reduction: str = "sum"


@_loss_class(F.charbonnier_loss, legacy=False)
class CharbonnierLoss(_Loss):
    """kornia's ``CharbonnierLoss``: ``loss(img1, img2)``; default ``reduction='none'`` as kornia."""

    reduction: str = "none"


@_loss_class(F.image_gradient_loss, legacy=False)
class ImageGradientLoss(_Loss):
    """L1 between Sobel (or central-difference) image gradients: ``loss(input, target)``."""

    _: dataclasses.KW_ONLY
    mode: str = "sobel"
    normalized: bool = True
    reduction: str = "mean"


@_loss_class(F.multi_resolution_stft_loss, legacy=False)
class MultiResolutionSTFTLoss(_Loss):
    """auraloss's ``MultiResolutionSTFTLoss``: ``loss(input, target)`` on ``(B, C, T)`` signals."""

    _: dataclasses.KW_ONLY
    fft_sizes: Any = (1024, 2048, 512)
    hop_sizes: Any = (120, 240, 50)
    win_lengths: Any = (600, 1200, 240)
    w_sc: float = 1.0
    w_log_mag: float = 1.0
    w_lin_mag: float = 0.0
    eps: float = 1e-8
    mag_distance: str = "L1"
    reduction: str = "mean"


@_loss_class(F.lifted_structure_loss, legacy=False)
class LiftedStructureLoss(_Loss):
    """pml's ``LiftedStructureLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    neg_margin: float = 1.0
    pos_margin: float = 0.0
    reduction: str = "mean"


@_loss_class(F.generalized_lifted_structure_loss, legacy=False)
class GeneralizedLiftedStructureLoss(_Loss):
    """pml's ``GeneralizedLiftedStructureLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    neg_margin: float = 1.0
    pos_margin: float = 0.0
    reduction: str = "mean"


@_loss_class(F.margin_loss, legacy=False)
class MarginLoss(_Loss):
    """pml's ``MarginLoss``: ``loss(embeddings, labels, beta=1.2)`` (``beta`` scalar or per class)."""

    _: dataclasses.KW_ONLY
    margin: float = 0.2
    nu: float = 0.0
    reduction: str = "mean"


@_loss_class(F.nca_loss, legacy=False)
class NCALoss(_Loss):
    """pml's ``NCALoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    softmax_scale: float = 1.0
    reduction: str = "mean"


@_loss_class(F.proxy_nca_loss, legacy=False)
class ProxyNCALoss(_Loss):
    """pml's ``ProxyNCALoss``: ``loss(embeddings, labels, proxies)`` with ``(C, D)`` proxies."""

    _: dataclasses.KW_ONLY
    softmax_scale: float = 1.0
    reduction: str = "mean"


@_loss_class(F.proxy_anchor_loss, legacy=False)
class ProxyAnchorLoss(_Loss):
    """pml's ``ProxyAnchorLoss``: ``loss(embeddings, labels, proxies)`` with ``(C, D)`` proxies."""

    _: dataclasses.KW_ONLY
    margin: float = 0.1
    alpha: float = 32.0
    reduction: str = "mean"


@_loss_class(F.soft_triple_loss, legacy=False)
class SoftTripleLoss(_Loss):
    """pml's ``SoftTripleLoss``: ``loss(embeddings, labels, centers)`` with ``(C, K, D)`` centres."""

    _: dataclasses.KW_ONLY
    la: float = 20.0
    gamma: float = 0.1
    margin: float = 0.01
    reduction: str = "mean"


@_loss_class(F.fast_ap_loss, legacy=False)
class FastAPLoss(_Loss):
    """pml's ``FastAPLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    num_bins: int = 10
    reduction: str = "mean"


@_loss_class(F.tuplet_margin_loss, legacy=False)
class TupletMarginLoss(_Loss):
    """pml's ``TupletMarginLoss``: ``loss(embeddings, labels)`` (``margin`` in degrees)."""

    _: dataclasses.KW_ONLY
    margin: float = 5.73
    scale: float = 64.0
    reduction: str = "mean"


@_loss_class(F.instance_loss, legacy=False)
class InstanceLoss(_Loss):
    """pml's ``InstanceLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    gamma: float = 64.0
    reduction: str = "mean"


@_loss_class(F.angular_loss, legacy=False)
class AngularLoss(_Loss):
    """pml's ``AngularLoss``: ``loss(embeddings, labels)`` (``alpha`` in degrees)."""

    _: dataclasses.KW_ONLY
    alpha: float = 40.0
    reduction: str = "mean"


@_loss_class(F.intra_pair_variance_loss, legacy=False)
class IntraPairVarianceLoss(_Loss):
    """pml's ``IntraPairVarianceLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    pos_eps: float = 0.01
    neg_eps: float = 0.01
    reduction: str = "mean"


@_loss_class(F.signal_to_noise_ratio_contrastive_loss, legacy=False)
class SignalToNoiseRatioContrastiveLoss(_Loss):
    """pml's ``SignalToNoiseRatioContrastiveLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    pos_margin: float = 0.0
    neg_margin: float = 1.0
    reduction: str = "mean"


@_loss_class(F.normalized_softmax_loss, legacy=False)
class NormalizedSoftmaxLoss(_Loss):
    """pml's ``NormalizedSoftmaxLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight."""

    _: dataclasses.KW_ONLY
    temperature: float = 0.05
    reduction: str = "mean"


@_loss_class(F.threshold_consistent_margin_loss, legacy=False)
class ThresholdConsistentMarginLoss(_Loss):
    """pml's ``ThresholdConsistentMarginLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    lambda_plus: float = 1.0
    lambda_minus: float = 1.0
    margin_plus: float = 0.9
    margin_minus: float = 0.5
    reduction: str = "mean"


@_loss_class(F.sub_center_arcface_loss, legacy=False)
class SubCenterArcFaceLoss(_Loss):
    """pml's ``SubCenterArcFaceLoss``: ``loss(embeddings, labels, centers)`` with ``(C, K, D)`` centres."""

    _: dataclasses.KW_ONLY
    margin: float = 28.6
    scale: float = 64.0
    reduction: str = "mean"


class _RankingLoss(_Loss):
    def __call__(self, scores: Any, labels: Any, **data: Any) -> Any:
        return type(self)._function(scores, labels, **data, **self._options())


@_loss_class(F.poly1_softmax_loss, legacy=False)
class Poly1SoftmaxLoss(_RankingLoss):
    """rax's ``poly1_softmax_loss``: ``loss(scores, labels, where=, weights=, segments=)``."""

    _: dataclasses.KW_ONLY
    epsilon: float = 1.0
    reduction: str = "mean"


@_loss_class(F.unique_softmax_loss, legacy=False)
class UniqueSoftmaxLoss(_RankingLoss):
    """rax's ``unique_softmax_loss``: ``loss(scores, labels, where=, weights=, segments=)``."""

    _: dataclasses.KW_ONLY
    gain_fn: Callable[..., Any] | None = F.unique_softmax_loss.__kwdefaults__["gain_fn"]
    reduction: str = "mean"


@_loss_class(F.pairwise_soft_zero_one_loss, legacy=False)
class PairwiseSoftZeroOneLoss(_RankingLoss):
    """rax's ``pairwise_soft_zero_one_loss``: ``loss(scores, labels, where=, weights=, segments=)``."""

    _: dataclasses.KW_ONLY
    lambdaweight_fn: Callable[..., Any] | None = None
    reduction: str = "mean"


@_loss_class(F.pairwise_mse_loss, legacy=False)
class PairwiseMSELoss(_RankingLoss):
    """rax's ``pairwise_mse_loss``: ``loss(scores, labels, where=, weights=, segments=)``."""

    _: dataclasses.KW_ONLY
    lambdaweight_fn: Callable[..., Any] | None = None
    reduction: str = "mean"


@_loss_class(F.pairwise_qr_loss, legacy=False)
class PairwiseQRLoss(_RankingLoss):
    """rax's ``pairwise_qr_loss``: ``loss(scores, labels, where=, weights=, segments=)``."""

    _: dataclasses.KW_ONLY
    tau: float = 0.5
    squared: bool = False
    lambdaweight_fn: Callable[..., Any] | None = None
    reduction: str = "mean"


@_loss_class(F.pointwise_sigmoid_loss, legacy=False)
class PointwiseSigmoidLoss(_RankingLoss):
    """rax's ``pointwise_sigmoid_loss``: ``loss(scores, labels, where=, weights=)``."""

    _: dataclasses.KW_ONLY
    reduction: str = "mean"


@_loss_class(F.pointwise_mse_loss, legacy=False)
class PointwiseMSELoss(_RankingLoss):
    """rax's ``pointwise_mse_loss``: ``loss(scores, labels, where=, weights=)``."""

    _: dataclasses.KW_ONLY
    reduction: str = "mean"


@_loss_class(F.large_margin_softmax_loss, legacy=False)
class LargeMarginSoftmaxLoss(_Loss):
    """pml's ``LargeMarginSoftmaxLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight."""

    _: dataclasses.KW_ONLY
    margin: int = 4
    scale: float = 1.0
    reduction: str = "mean"


@_loss_class(F.sphereface_loss, legacy=False)
class SphereFaceLoss(_Loss):
    """pml's ``SphereFaceLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight."""

    _: dataclasses.KW_ONLY
    margin: int = 4
    scale: float = 1.0
    reduction: str = "mean"


@_loss_class(F.batch_all_triplet_margin_loss, legacy=False)
class BatchAllTripletMarginLoss(_Loss):
    """pml's ``TripletMarginLoss`` (all triplets of the batch): ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    margin: float = 0.05
    swap: bool = False
    smooth_loss: bool = False
    reduction: str = "mean"


@_loss_class(F.vicreg_loss, legacy=False)
class VICRegLoss(_Loss):
    """pml's ``VICRegLoss``: ``loss(embeddings, ref_emb)``."""

    _: dataclasses.KW_ONLY
    invariance_lambda: float = 25.0
    variance_mu: float = 25.0
    covariance_v: float = 1.0
    eps: float = 1e-4
    reduction: str = "mean"


@_loss_class(F.histogram_loss, legacy=False)
class HistogramLoss(_Loss):
    """pml's ``HistogramLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    n_bins: int = 100
    reduction: str = "mean"


@_loss_class(F.ranked_list_loss, legacy=False)
class RankedListLoss(_Loss):
    """pml's ``RankedListLoss``: ``loss(embeddings, labels)`` (``margin`` and ``Tn`` required, as pml)."""

    _: dataclasses.KW_ONLY
    margin: float
    Tn: float
    imbalance: float = 0.5
    alpha: float | None = None
    Tp: float = 0.0
    reduction: str = "mean"


@_loss_class(F.pnp_loss, legacy=False)
class PNPLoss(_Loss):
    """pml's ``PNPLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    b: float = 2.0
    alpha: float = 1.0
    anneal: float = 0.01
    variant: str = "O"
    reduction: str = "mean"


@_loss_class(F.smooth_ap_loss, legacy=False)
class SmoothAPLoss(_Loss):
    """pml's ``SmoothAPLoss``: ``loss(embeddings, labels)``."""

    _: dataclasses.KW_ONLY
    temperature: float = 0.01
    reduction: str = "mean"


@_loss_class(F.manifold_loss, legacy=False)
class ManifoldLoss(_Loss):
    """pml's ``ManifoldLoss``: ``loss(embeddings, meta_classes, proxies)`` with ``(K, D)`` proxies."""

    _: dataclasses.KW_ONLY
    lambdaC: float = 1.0
    alpha: float = 0.8
    margin: float = 5e-4
    reduction: str = "mean"


@_loss_class(F.dynamic_soft_margin_loss, legacy=False)
class DynamicSoftMarginLoss(_Loss):
    """pml's ``DynamicSoftMarginLoss``: ``loss(embeddings, labels, histogram=None)`` (the running histogram
    is an argument; ``return_histogram=True`` returns the updated one too)."""

    _: dataclasses.KW_ONLY
    min_val: float = -2.0
    num_bins: int = 10
    momentum: float = 0.01
    return_histogram: bool = False
    reduction: str = "mean"
