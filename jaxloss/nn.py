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

from jaxloss import losses as F
from jaxloss._src.core import reduction as R
from jaxloss._src.objects import _loss_class

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

L1Loss = _loss_class(
    "L1Loss",
    F.l1_loss,
    data=2,
    exclude=("weight",),
    doc="``torch.nn.L1Loss``: ``loss(input, target)``.",
)
MSELoss = _loss_class(
    "MSELoss",
    F.mse_loss,
    data=2,
    exclude=("weight",),
    doc="``torch.nn.MSELoss``: ``loss(input, target)``.",
)
NLLLoss = _loss_class(
    "NLLLoss",
    F.nll_loss,
    data=2,
    doc="``torch.nn.NLLLoss``: ``loss(input, target)`` with log-probabilities as input.",
)
CrossEntropyLoss = _loss_class(
    "CrossEntropyLoss",
    F.cross_entropy,
    data=2,
    doc="``torch.nn.CrossEntropyLoss``: ``loss(input, target)`` with logits as input.",
)
PoissonNLLLoss = _loss_class(
    "PoissonNLLLoss",
    F.poisson_nll_loss,
    data=2,
    doc="``torch.nn.PoissonNLLLoss``: ``loss(log_input, target)``.",
)
GaussianNLLLoss = _loss_class(
    "GaussianNLLLoss",
    F.gaussian_nll_loss,
    data=3,
    kw_only=True,
    doc="``torch.nn.GaussianNLLLoss``: ``loss(input, target, var)``.",
)
KLDivLoss = _loss_class(
    "KLDivLoss",
    F.kl_div,
    data=2,
    reductions=(*R.REDUCTIONS, "batchmean"),
    doc="``torch.nn.KLDivLoss``: ``loss(input, target)`` with log-probabilities as input.",
)
BCELoss = _loss_class(
    "BCELoss",
    F.binary_cross_entropy,
    data=2,
    doc="``torch.nn.BCELoss``: ``loss(input, target)`` with probabilities as input.",
)
BCEWithLogitsLoss = _loss_class(
    "BCEWithLogitsLoss",
    F.binary_cross_entropy_with_logits,
    data=2,
    doc="``torch.nn.BCEWithLogitsLoss``: ``loss(input, target)`` with logits as input.",
)
HingeEmbeddingLoss = _loss_class(
    "HingeEmbeddingLoss",
    F.hinge_embedding_loss,
    data=2,
    doc="``torch.nn.HingeEmbeddingLoss``: ``loss(input, target)``.",
)
MultiLabelMarginLoss = _loss_class(
    "MultiLabelMarginLoss",
    F.multilabel_margin_loss,
    data=2,
    doc="``torch.nn.MultiLabelMarginLoss``: ``loss(input, target)``.",
)
SmoothL1Loss = _loss_class(
    "SmoothL1Loss",
    F.smooth_l1_loss,
    data=2,
    doc="``torch.nn.SmoothL1Loss``: ``loss(input, target)``.",
)
HuberLoss = _loss_class(
    "HuberLoss",
    F.huber_loss,
    data=2,
    exclude=("weight",),
    doc="``torch.nn.HuberLoss``: ``loss(input, target)``.",
)
SoftMarginLoss = _loss_class(
    "SoftMarginLoss",
    F.soft_margin_loss,
    data=2,
    doc="``torch.nn.SoftMarginLoss``: ``loss(input, target)``.",
)
MultiLabelSoftMarginLoss = _loss_class(
    "MultiLabelSoftMarginLoss",
    F.multilabel_soft_margin_loss,
    data=2,
    doc="``torch.nn.MultiLabelSoftMarginLoss``: ``loss(input, target)``.",
)
CosineEmbeddingLoss = _loss_class(
    "CosineEmbeddingLoss",
    F.cosine_embedding_loss,
    data=3,
    defaults={"margin": 0.0},
    doc="``torch.nn.CosineEmbeddingLoss``: ``loss(input1, input2, target)``.",
)
MarginRankingLoss = _loss_class(
    "MarginRankingLoss",
    F.margin_ranking_loss,
    data=3,
    defaults={"margin": 0.0},
    doc="``torch.nn.MarginRankingLoss``: ``loss(input1, input2, target)``.",
)
MultiMarginLoss = _loss_class(
    "MultiMarginLoss",
    F.multi_margin_loss,
    data=2,
    choices={"p": (1, 2)},
    doc="``torch.nn.MultiMarginLoss``: ``loss(input, target)``.",
)
TripletMarginLoss = _loss_class(
    "TripletMarginLoss",
    F.triplet_margin_loss,
    data=3,
    defaults={"p": 2.0},
    doc="``torch.nn.TripletMarginLoss``: ``loss(anchor, positive, negative)``.",
)
TripletMarginWithDistanceLoss = _loss_class(
    "TripletMarginWithDistanceLoss",
    F.triplet_margin_with_distance_loss,
    data=3,
    doc="``torch.nn.TripletMarginWithDistanceLoss``: ``loss(anchor, positive, negative)``.",
)
CTCLoss = _loss_class(
    "CTCLoss",
    F.ctc_loss,
    data=4,
    doc="``torch.nn.CTCLoss``: ``loss(log_probs, targets, input_lengths, target_lengths)``.",
)
LinearCrossEntropyLoss = _loss_class(
    "LinearCrossEntropyLoss",
    F.linear_cross_entropy,
    data=4,
    order=("reduction", "weight", "ignore_index", "label_smoothing", "options"),
    doc=(
        "``torch.nn.LinearCrossEntropyLoss`` without owned parameters.\n"
        "\n"
        "torch's class owns the linear layer; a functional JAX model owns its parameters, so this object takes\n"
        "them at call time: ``loss(input, linear_weight, target, linear_bias=None)``. The options are torch's."
    ),
)
DPOLoss = _loss_class(
    "DPOLoss",
    F.dpo_loss,
    data=4,
    exclude=("return_rewards",),
    doc=(
        "DPO and its variants (TRL's ``DPOTrainer`` options):\n"
        "``loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps)``."
    ),
)
SimPOLoss = _loss_class(
    "SimPOLoss",
    F.simpo_loss,
    data=2,
    exclude=("return_rewards",),
    doc=(
        "SimPO (TRL's ``CPOTrainer`` with ``loss_type='simpo'``): ``loss(policy_chosen_logps, policy_rejected_logps)``\n"
        "with average log-probabilities."
    ),
)
CPOLoss = _loss_class(
    "CPOLoss",
    F.cpo_loss,
    data=3,
    exclude=("return_rewards",),
    doc="CPO (TRL's ``CPOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, policy_nll_loss=None)``.",
)
ORPOLoss = _loss_class(
    "ORPOLoss",
    F.orpo_loss,
    data=3,
    exclude=("return_rewards",),
    doc=(
        "ORPO (TRL's ``ORPOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, policy_nll_loss=None)``\n"
        "with average log-probabilities."
    ),
)
KTOLoss = _loss_class(
    "KTOLoss",
    F.kto_loss,
    data=5,
    exclude=("return_rewards",),
    doc=(
        "KTO (TRL's ``KTOTrainer``): ``loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,\n"
        "reference_rejected_logps, kl)``."
    ),
)
GANGeneratorLoss = _loss_class(
    "GANGeneratorLoss",
    F.gan_generator_loss,
    data=1,
    doc="Standard GAN generator loss (non-saturating by default): ``loss(d_fake)``.",
)
LeastSquaresDiscriminatorLoss = _loss_class(
    "LeastSquaresDiscriminatorLoss",
    F.least_squares_discriminator_loss,
    data=2,
    doc="LSGAN discriminator loss with targets ``a`` (fake) and ``b`` (real): ``loss(d_real, d_fake)``.",
)
LeastSquaresGeneratorLoss = _loss_class(
    "LeastSquaresGeneratorLoss",
    F.least_squares_generator_loss,
    data=1,
    doc="LSGAN generator loss with target ``c``: ``loss(d_fake)``.",
)
R1Penalty = _loss_class(
    "R1Penalty", F.r1_penalty, data=2, doc="R1 gradient penalty: ``penalty(discriminator, real)``."
)
R2Penalty = _loss_class(
    "R2Penalty", F.r2_penalty, data=2, doc="R2 gradient penalty: ``penalty(discriminator, fake)``."
)
WGANGPPenalty = _loss_class(
    "WGANGPPenalty",
    F.wgan_gp_penalty,
    data=4,
    doc="WGAN-GP gradient penalty: ``penalty(discriminator, real, fake, alpha)``.",
)
PolicyGradientLoss = _loss_class(
    "PolicyGradientLoss",
    F.policy_gradient_loss,
    data=4,
    kw_only=True,
    doc="rlax's policy-gradient loss: ``loss(logits_t, a_t, adv_t, w_t)``.",
)
ClippedSurrogatePGLoss = _loss_class(
    "ClippedSurrogatePGLoss",
    F.clipped_surrogate_pg_loss,
    data=2,
    kw_only=True,
    doc="PPO's clipped surrogate (rlax): ``loss(prob_ratios_t, adv_t)``; ``epsilon`` is required.",
)
ClippedValueLoss = _loss_class(
    "ClippedValueLoss",
    F.clipped_value_loss,
    data=3,
    kw_only=True,
    doc="PPO's clipped value loss: ``loss(values, old_values, returns)``; ``epsilon`` is required.",
)
ClipLoss = _loss_class(
    "ClipLoss",
    F.clip_loss,
    data=3,
    doc="open_clip-style ``ClipLoss``: ``loss(image_embeds, text_embeds, logit_scale)``, ``logit_scale`` in log space.",
)
SigLipLoss = _loss_class(
    "SigLipLoss",
    F.siglip_loss,
    data=4,
    doc="open_clip-style ``SigLipLoss``: ``loss(image_embeds, text_embeds, logit_scale, logit_bias)``.",
)
SSIMLoss = _loss_class(
    "SSIMLoss",
    F.ssim_loss,
    data=2,
    doc="``1 - SSIM`` with pytorch-msssim's ``SSIM`` options: ``loss(X, Y)``, channels-first images.",
)
MSSSIMLoss = _loss_class(
    "MSSSIMLoss",
    F.ms_ssim_loss,
    data=2,
    doc="``1 - MS-SSIM`` with pytorch-msssim's ``MS_SSIM`` options: ``loss(X, Y)``, channels-first images.",
)
TotalVariation = _loss_class(
    "TotalVariation",
    F.total_variation,
    data=1,
    doc="kornia's ``TotalVariation`` (with its functional's ``reduction``): ``loss(img)``, output ``(*,)``.",
)
CharbonnierLoss = _loss_class(
    "CharbonnierLoss",
    F.charbonnier_loss,
    data=2,
    doc="kornia's ``CharbonnierLoss``: ``loss(img1, img2)``; default ``reduction='none'`` as kornia.",
)
ImageGradientLoss = _loss_class(
    "ImageGradientLoss",
    F.image_gradient_loss,
    data=2,
    doc="L1 between Sobel (or central-difference) image gradients: ``loss(input, target)``.",
)
MultiResolutionSTFTLoss = _loss_class(
    "MultiResolutionSTFTLoss",
    F.multi_resolution_stft_loss,
    data=2,
    doc="auraloss's ``MultiResolutionSTFTLoss``: ``loss(input, target)`` on ``(B, C, T)`` signals.",
)
LiftedStructureLoss = _loss_class(
    "LiftedStructureLoss",
    F.lifted_structure_loss,
    data=2,
    doc="pml's ``LiftedStructureLoss``: ``loss(embeddings, labels)``.",
)
GeneralizedLiftedStructureLoss = _loss_class(
    "GeneralizedLiftedStructureLoss",
    F.generalized_lifted_structure_loss,
    data=2,
    doc="pml's ``GeneralizedLiftedStructureLoss``: ``loss(embeddings, labels)``.",
)
MarginLoss = _loss_class(
    "MarginLoss",
    F.margin_loss,
    data=3,
    doc="pml's ``MarginLoss``: ``loss(embeddings, labels, beta=1.2)`` (``beta`` scalar or per class).",
)
NCALoss = _loss_class(
    "NCALoss", F.nca_loss, data=2, doc="pml's ``NCALoss``: ``loss(embeddings, labels)``."
)
ProxyNCALoss = _loss_class(
    "ProxyNCALoss",
    F.proxy_nca_loss,
    data=3,
    doc="pml's ``ProxyNCALoss``: ``loss(embeddings, labels, proxies)`` with ``(C, D)`` proxies.",
)
ProxyAnchorLoss = _loss_class(
    "ProxyAnchorLoss",
    F.proxy_anchor_loss,
    data=3,
    doc="pml's ``ProxyAnchorLoss``: ``loss(embeddings, labels, proxies)`` with ``(C, D)`` proxies.",
)
SoftTripleLoss = _loss_class(
    "SoftTripleLoss",
    F.soft_triple_loss,
    data=3,
    doc="pml's ``SoftTripleLoss``: ``loss(embeddings, labels, centers)`` with ``(C, K, D)`` centres.",
)
FastAPLoss = _loss_class(
    "FastAPLoss", F.fast_ap_loss, data=2, doc="pml's ``FastAPLoss``: ``loss(embeddings, labels)``."
)
TupletMarginLoss = _loss_class(
    "TupletMarginLoss",
    F.tuplet_margin_loss,
    data=2,
    doc="pml's ``TupletMarginLoss``: ``loss(embeddings, labels)`` (``margin`` in degrees).",
)
InstanceLoss = _loss_class(
    "InstanceLoss",
    F.instance_loss,
    data=2,
    doc="pml's ``InstanceLoss``: ``loss(embeddings, labels)``.",
)
AngularLoss = _loss_class(
    "AngularLoss",
    F.angular_loss,
    data=2,
    doc="pml's ``AngularLoss``: ``loss(embeddings, labels)`` (``alpha`` in degrees).",
)
IntraPairVarianceLoss = _loss_class(
    "IntraPairVarianceLoss",
    F.intra_pair_variance_loss,
    data=2,
    doc="pml's ``IntraPairVarianceLoss``: ``loss(embeddings, labels)``.",
)
SignalToNoiseRatioContrastiveLoss = _loss_class(
    "SignalToNoiseRatioContrastiveLoss",
    F.signal_to_noise_ratio_contrastive_loss,
    data=2,
    doc="pml's ``SignalToNoiseRatioContrastiveLoss``: ``loss(embeddings, labels)``.",
)
NormalizedSoftmaxLoss = _loss_class(
    "NormalizedSoftmaxLoss",
    F.normalized_softmax_loss,
    data=3,
    doc="pml's ``NormalizedSoftmaxLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight.",
)
ThresholdConsistentMarginLoss = _loss_class(
    "ThresholdConsistentMarginLoss",
    F.threshold_consistent_margin_loss,
    data=2,
    doc="pml's ``ThresholdConsistentMarginLoss``: ``loss(embeddings, labels)``.",
)
SubCenterArcFaceLoss = _loss_class(
    "SubCenterArcFaceLoss",
    F.sub_center_arcface_loss,
    data=3,
    doc="pml's ``SubCenterArcFaceLoss``: ``loss(embeddings, labels, centers)`` with ``(C, K, D)`` centres.",
)
Poly1SoftmaxLoss = _loss_class(
    "Poly1SoftmaxLoss",
    F.poly1_softmax_loss,
    data=5,
    doc="rax's ``poly1_softmax_loss``: ``loss(scores, labels, where=, weights=, segments=)``.",
)
UniqueSoftmaxLoss = _loss_class(
    "UniqueSoftmaxLoss",
    F.unique_softmax_loss,
    data=5,
    doc="rax's ``unique_softmax_loss``: ``loss(scores, labels, where=, weights=, segments=)``.",
)
PairwiseSoftZeroOneLoss = _loss_class(
    "PairwiseSoftZeroOneLoss",
    F.pairwise_soft_zero_one_loss,
    data=5,
    doc="rax's ``pairwise_soft_zero_one_loss``: ``loss(scores, labels, where=, weights=, segments=)``.",
)
PairwiseMSELoss = _loss_class(
    "PairwiseMSELoss",
    F.pairwise_mse_loss,
    data=5,
    doc="rax's ``pairwise_mse_loss``: ``loss(scores, labels, where=, weights=, segments=)``.",
)
PairwiseQRLoss = _loss_class(
    "PairwiseQRLoss",
    F.pairwise_qr_loss,
    data=5,
    doc="rax's ``pairwise_qr_loss``: ``loss(scores, labels, where=, weights=, segments=)``.",
)
PointwiseSigmoidLoss = _loss_class(
    "PointwiseSigmoidLoss",
    F.pointwise_sigmoid_loss,
    data=5,
    doc="rax's ``pointwise_sigmoid_loss``: ``loss(scores, labels, where=, weights=)``.",
)
PointwiseMSELoss = _loss_class(
    "PointwiseMSELoss",
    F.pointwise_mse_loss,
    data=5,
    doc="rax's ``pointwise_mse_loss``: ``loss(scores, labels, where=, weights=)``.",
)
LargeMarginSoftmaxLoss = _loss_class(
    "LargeMarginSoftmaxLoss",
    F.large_margin_softmax_loss,
    data=3,
    doc="pml's ``LargeMarginSoftmaxLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight.",
)
SphereFaceLoss = _loss_class(
    "SphereFaceLoss",
    F.sphereface_loss,
    data=3,
    doc="pml's ``SphereFaceLoss``: ``loss(embeddings, labels, weight)`` with ``(C, D)`` weight.",
)
BatchAllTripletMarginLoss = _loss_class(
    "BatchAllTripletMarginLoss",
    F.batch_all_triplet_margin_loss,
    data=2,
    doc="pml's ``TripletMarginLoss`` (all triplets of the batch): ``loss(embeddings, labels)``.",
)
VICRegLoss = _loss_class(
    "VICRegLoss", F.vicreg_loss, data=2, doc="pml's ``VICRegLoss``: ``loss(embeddings, ref_emb)``."
)
HistogramLoss = _loss_class(
    "HistogramLoss",
    F.histogram_loss,
    data=2,
    doc="pml's ``HistogramLoss``: ``loss(embeddings, labels)``.",
)
RankedListLoss = _loss_class(
    "RankedListLoss",
    F.ranked_list_loss,
    data=2,
    doc="pml's ``RankedListLoss``: ``loss(embeddings, labels)`` (``margin`` and ``Tn`` required, as pml).",
)
PNPLoss = _loss_class(
    "PNPLoss", F.pnp_loss, data=2, doc="pml's ``PNPLoss``: ``loss(embeddings, labels)``."
)
SmoothAPLoss = _loss_class(
    "SmoothAPLoss",
    F.smooth_ap_loss,
    data=2,
    doc="pml's ``SmoothAPLoss``: ``loss(embeddings, labels)``.",
)
ManifoldLoss = _loss_class(
    "ManifoldLoss",
    F.manifold_loss,
    data=3,
    doc="pml's ``ManifoldLoss``: ``loss(embeddings, meta_classes, proxies)`` with ``(K, D)`` proxies.",
)
DynamicSoftMarginLoss = _loss_class(
    "DynamicSoftMarginLoss",
    F.dynamic_soft_margin_loss,
    data=3,
    doc=(
        "pml's ``DynamicSoftMarginLoss``: ``loss(embeddings, labels, histogram=None)`` (the running histogram\n"
        "is an argument; ``return_histogram=True`` returns the updated one too)."
    ),
)
