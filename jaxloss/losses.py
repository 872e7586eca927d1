"""The whole catalogue, functional.

torch's losses keep torch's names, positional order, parameter names and defaults; the rest follow the
reference library named in their docstrings, with data positional and hyper-parameters keyword-only.
Every function takes ``reduction='mean' | 'sum' | 'none'`` (``kl_div`` also ``'batchmean'``).

Shape letters used in every docstring: ``N``/``B`` batch, ``C`` classes, ``T`` time, ``S`` target length,
``D``/``H`` feature dimension, ``V`` vocabulary, ``d1..dK`` extra (spatial) dimensions.
"""

from jaxloss._src.families.alignment import cpo_loss
from jaxloss._src.families.alignment import dpo_loss
from jaxloss._src.families.alignment import kto_loss
from jaxloss._src.families.alignment import orpo_loss
from jaxloss._src.families.alignment import sequence_log_probs
from jaxloss._src.families.alignment import simpo_loss
from jaxloss._src.families.binary import binary_cross_entropy
from jaxloss._src.families.binary import binary_cross_entropy_with_logits
from jaxloss._src.families.binary import multilabel_soft_margin_loss
from jaxloss._src.families.binary import soft_margin_loss
from jaxloss._src.families.classification.cross_entropy import cross_entropy
from jaxloss._src.families.classification.cross_entropy import nll_loss
from jaxloss._src.families.contrastive import clip_loss
from jaxloss._src.families.contrastive import siglip_loss
from jaxloss._src.families.ctc import ctc_loss
from jaxloss._src.families.detection import complete_box_iou_loss
from jaxloss._src.families.detection import distance_box_iou_loss
from jaxloss._src.families.detection import generalized_box_iou_loss
from jaxloss._src.families.detection import sigmoid_focal_loss
from jaxloss._src.families.distance import cosine_similarity
from jaxloss._src.families.distance import pairwise_distance
from jaxloss._src.families.distillation import distillation_loss
from jaxloss._src.families.distillation import generalized_kl_divergence
from jaxloss._src.families.distillation import js_divergence
from jaxloss._src.families.divergence import kl_div
from jaxloss._src.families.gan import gan_discriminator_loss
from jaxloss._src.families.gan import gan_generator_loss
from jaxloss._src.families.gan import hinge_discriminator_loss
from jaxloss._src.families.gan import hinge_generator_loss
from jaxloss._src.families.gan import least_squares_discriminator_loss
from jaxloss._src.families.gan import least_squares_generator_loss
from jaxloss._src.families.gan import r1_penalty
from jaxloss._src.families.gan import r2_penalty
from jaxloss._src.families.gan import wasserstein_discriminator_loss
from jaxloss._src.families.gan import wasserstein_generator_loss
from jaxloss._src.families.gan import wgan_gp_penalty
from jaxloss._src.families.classification.linear_cross_entropy import LinearCrossEntropyOptions
from jaxloss._src.families.classification.linear_cross_entropy import linear_cross_entropy
from jaxloss._src.families.margin import cosine_embedding_loss
from jaxloss._src.families.margin import hinge_embedding_loss
from jaxloss._src.families.margin import margin_ranking_loss
from jaxloss._src.families.margin import multi_margin_loss
from jaxloss._src.families.margin import multilabel_margin_loss
from jaxloss._src.families.margin import triplet_margin_loss
from jaxloss._src.families.margin import triplet_margin_with_distance_loss
from jaxloss._src.families.metric import angular_loss
from jaxloss._src.families.metric import arcface_loss
from jaxloss._src.families.metric import circle_loss
from jaxloss._src.families.metric import contrastive_loss
from jaxloss._src.families.metric import cosface_loss
from jaxloss._src.families.metric import info_nce_loss
from jaxloss._src.families.metric import intra_pair_variance_loss
from jaxloss._src.families.metric import multi_similarity_loss
from jaxloss._src.families.metric import normalized_softmax_loss
from jaxloss._src.families.metric import npairs_loss
from jaxloss._src.families.metric import ntxent_loss
from jaxloss._src.families.metric import p2s_grad_loss
from jaxloss._src.families.metric import signal_to_noise_ratio_contrastive_loss
from jaxloss._src.families.metric import sub_center_arcface_loss
from jaxloss._src.families.metric import supervised_contrastive_loss
from jaxloss._src.families.metric import fast_ap_loss
from jaxloss._src.families.metric import generalized_lifted_structure_loss
from jaxloss._src.families.metric import instance_loss
from jaxloss._src.families.metric import lifted_structure_loss
from jaxloss._src.families.metric import margin_loss
from jaxloss._src.families.metric import nca_loss
from jaxloss._src.families.metric import proxy_anchor_loss
from jaxloss._src.families.metric import proxy_nca_loss
from jaxloss._src.families.metric import soft_triple_loss
from jaxloss._src.families.metric import threshold_consistent_margin_loss
from jaxloss._src.families.metric import tuplet_margin_loss
from jaxloss._src.families.metric import large_margin_softmax_loss
from jaxloss._src.families.metric import sphereface_loss
from jaxloss._src.families.metric import batch_all_triplet_margin_loss
from jaxloss._src.families.metric import vicreg_loss
from jaxloss._src.families.metric import histogram_loss
from jaxloss._src.families.metric import ranked_list_loss
from jaxloss._src.families.metric import pnp_loss
from jaxloss._src.families.metric import smooth_ap_loss
from jaxloss._src.families.metric import manifold_loss
from jaxloss._src.families.metric import dynamic_soft_margin_loss
from jaxloss._src.families.multiclass import bi_tempered_logistic_loss
from jaxloss._src.families.multiclass import categorical_hinge
from jaxloss._src.families.multiclass import cross_entropy_with_z_loss
from jaxloss._src.families.multiclass import entmax15_loss
from jaxloss._src.families.multiclass import generalized_cross_entropy
from jaxloss._src.families.multiclass import poly1_cross_entropy
from jaxloss._src.families.multiclass import softmax_focal_loss
from jaxloss._src.families.multiclass import sparsemax_loss
from jaxloss._src.families.multiclass import squared_hinge
from jaxloss._src.families.multiclass import z_loss
from jaxloss._src.families.quality import charbonnier_loss
from jaxloss._src.families.quality import image_gradient_loss
from jaxloss._src.families.quality import ms_ssim
from jaxloss._src.families.quality import ms_ssim_loss
from jaxloss._src.families.quality import multi_resolution_stft_loss
from jaxloss._src.families.quality import psnr
from jaxloss._src.families.quality import psnr_loss
from jaxloss._src.families.quality import ssim
from jaxloss._src.families.quality import ssim_loss
from jaxloss._src.families.quality import total_variation
from jaxloss._src.families.ranking import approx_ndcg_loss
from jaxloss._src.families.ranking import listmle_loss
from jaxloss._src.families.ranking import listwise_softmax_loss
from jaxloss._src.families.ranking import pairwise_hinge_loss
from jaxloss._src.families.ranking import pairwise_logistic_loss
from jaxloss._src.families.ranking import pairwise_mse_loss
from jaxloss._src.families.ranking import pairwise_qr_loss
from jaxloss._src.families.ranking import pairwise_soft_zero_one_loss
from jaxloss._src.families.ranking import pointwise_mse_loss
from jaxloss._src.families.ranking import pointwise_sigmoid_loss
from jaxloss._src.families.ranking import poly1_softmax_loss
from jaxloss._src.families.ranking import unique_softmax_loss
from jaxloss._src.families.regression import gaussian_nll_loss
from jaxloss._src.families.regression import huber_loss
from jaxloss._src.families.regression import l1_loss
from jaxloss._src.families.regression import log_cosh_loss
from jaxloss._src.families.regression import mean_absolute_percentage_error
from jaxloss._src.families.regression import mean_squared_logarithmic_error
from jaxloss._src.families.regression import mse_loss
from jaxloss._src.families.regression import poisson_nll_loss
from jaxloss._src.families.regression import quantile_loss
from jaxloss._src.families.regression import smooth_l1_loss
from jaxloss._src.families.regression import tweedie_nll_loss
from jaxloss._src.families.rl import clipped_surrogate_pg_loss
from jaxloss._src.families.rl import clipped_value_loss
from jaxloss._src.families.rl import double_q_learning
from jaxloss._src.families.rl import entropy_loss
from jaxloss._src.families.rl import expected_sarsa
from jaxloss._src.families.rl import lambda_returns
from jaxloss._src.families.rl import n_step_bootstrapped_returns
from jaxloss._src.families.rl import policy_gradient_loss
from jaxloss._src.families.rl import q_learning
from jaxloss._src.families.rl import td_lambda
from jaxloss._src.families.rl import truncated_generalized_advantage_estimation
from jaxloss._src.families.rl import vtrace
from jaxloss._src.families.rl import vtrace_td_error_and_advantage
from jaxloss._src.families.segmentation import dice_loss
from jaxloss._src.families.segmentation import focal_tversky_loss
from jaxloss._src.families.segmentation import jaccard_loss
from jaxloss._src.families.segmentation import lovasz_hinge_loss
from jaxloss._src.families.segmentation import lovasz_softmax_loss
from jaxloss._src.families.segmentation import tversky_loss

#: torch.nn.functional's losses and helpers (torch 2.13), by their torch names.
TORCH_FUNCTIONS = (
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "pairwise_distance",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
)

__all__ = [
    "LinearCrossEntropyOptions",
    "angular_loss",
    "approx_ndcg_loss",
    "arcface_loss",
    "bi_tempered_logistic_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_hinge",
    "charbonnier_loss",
    "circle_loss",
    "clipped_surrogate_pg_loss",
    "clipped_value_loss",
    "clip_loss",
    "complete_box_iou_loss",
    "contrastive_loss",
    "cosface_loss",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cpo_loss",
    "cross_entropy",
    "cross_entropy_with_z_loss",
    "ctc_loss",
    "dice_loss",
    "distance_box_iou_loss",
    "distillation_loss",
    "double_q_learning",
    "dpo_loss",
    "entmax15_loss",
    "entropy_loss",
    "expected_sarsa",
    "fast_ap_loss",
    "large_margin_softmax_loss",
    "sphereface_loss",
    "batch_all_triplet_margin_loss",
    "vicreg_loss",
    "histogram_loss",
    "ranked_list_loss",
    "pnp_loss",
    "smooth_ap_loss",
    "manifold_loss",
    "dynamic_soft_margin_loss",
    "focal_tversky_loss",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gaussian_nll_loss",
    "generalized_box_iou_loss",
    "generalized_cross_entropy",
    "generalized_kl_divergence",
    "hinge_discriminator_loss",
    "generalized_lifted_structure_loss",
    "hinge_embedding_loss",
    "hinge_generator_loss",
    "huber_loss",
    "image_gradient_loss",
    "info_nce_loss",
    "instance_loss",
    "intra_pair_variance_loss",
    "jaccard_loss",
    "js_divergence",
    "kl_div",
    "kto_loss",
    "l1_loss",
    "lambda_returns",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "lifted_structure_loss",
    "linear_cross_entropy",
    "listmle_loss",
    "listwise_softmax_loss",
    "log_cosh_loss",
    "lovasz_hinge_loss",
    "lovasz_softmax_loss",
    "margin_loss",
    "margin_ranking_loss",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "ms_ssim",
    "ms_ssim_loss",
    "mse_loss",
    "multi_margin_loss",
    "multi_resolution_stft_loss",
    "multi_similarity_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "n_step_bootstrapped_returns",
    "nca_loss",
    "nll_loss",
    "normalized_softmax_loss",
    "npairs_loss",
    "ntxent_loss",
    "orpo_loss",
    "p2s_grad_loss",
    "pairwise_distance",
    "pairwise_hinge_loss",
    "pairwise_logistic_loss",
    "pairwise_mse_loss",
    "pairwise_qr_loss",
    "pairwise_soft_zero_one_loss",
    "pointwise_mse_loss",
    "pointwise_sigmoid_loss",
    "poly1_softmax_loss",
    "poisson_nll_loss",
    "policy_gradient_loss",
    "poly1_cross_entropy",
    "q_learning",
    "proxy_anchor_loss",
    "proxy_nca_loss",
    "quantile_loss",
    "r1_penalty",
    "r2_penalty",
    "sequence_log_probs",
    "psnr",
    "psnr_loss",
    "siglip_loss",
    "sigmoid_focal_loss",
    "simpo_loss",
    "signal_to_noise_ratio_contrastive_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "soft_triple_loss",
    "softmax_focal_loss",
    "sparsemax_loss",
    "squared_hinge",
    "ssim",
    "ssim_loss",
    "supervised_contrastive_loss",
    "td_lambda",
    "total_variation",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "truncated_generalized_advantage_estimation",
    "tversky_loss",
    "tweedie_nll_loss",
    "vtrace",
    "vtrace_td_error_and_advantage",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wgan_gp_penalty",
    "sub_center_arcface_loss",
    "threshold_consistent_margin_loss",
    "tuplet_margin_loss",
    "unique_softmax_loss",
    "z_loss",
]
