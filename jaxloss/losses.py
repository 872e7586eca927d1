"""The whole catalogue, functional.

torch's losses keep torch's names, positional order, parameter names and defaults; the rest follow the
reference library named in their docstrings, with data positional and hyper-parameters keyword-only.
Every function takes ``reduction='mean' | 'sum' | 'none'`` (``kl_div`` also ``'batchmean'``).

Shape letters used in every docstring: ``N``/``B`` batch, ``C`` classes, ``T`` time, ``S`` target length,
``D``/``H`` feature dimension, ``V`` vocabulary, ``d1..dK`` extra (spatial) dimensions.
"""

from jaxloss._binary import binary_cross_entropy
from jaxloss._binary import binary_cross_entropy_with_logits
from jaxloss._binary import multilabel_soft_margin_loss
from jaxloss._binary import soft_margin_loss
from jaxloss._classification import cross_entropy
from jaxloss._classification import nll_loss
from jaxloss._ctc import ctc_loss
from jaxloss._detection import complete_box_iou_loss
from jaxloss._detection import distance_box_iou_loss
from jaxloss._detection import generalized_box_iou_loss
from jaxloss._detection import sigmoid_focal_loss
from jaxloss._distance import cosine_similarity
from jaxloss._distance import pairwise_distance
from jaxloss._distillation import distillation_loss
from jaxloss._distillation import generalized_kl_divergence
from jaxloss._distillation import js_divergence
from jaxloss._divergence import kl_div
from jaxloss._linear_cross_entropy import LinearCrossEntropyOptions
from jaxloss._linear_cross_entropy import linear_cross_entropy
from jaxloss._margin import cosine_embedding_loss
from jaxloss._margin import hinge_embedding_loss
from jaxloss._margin import margin_ranking_loss
from jaxloss._margin import multi_margin_loss
from jaxloss._margin import multilabel_margin_loss
from jaxloss._margin import triplet_margin_loss
from jaxloss._margin import triplet_margin_with_distance_loss
from jaxloss._metric import arcface_loss
from jaxloss._metric import circle_loss
from jaxloss._metric import contrastive_loss
from jaxloss._metric import cosface_loss
from jaxloss._metric import info_nce_loss
from jaxloss._metric import multi_similarity_loss
from jaxloss._metric import npairs_loss
from jaxloss._metric import ntxent_loss
from jaxloss._metric import supervised_contrastive_loss
from jaxloss._multiclass import bi_tempered_logistic_loss
from jaxloss._multiclass import categorical_hinge
from jaxloss._multiclass import cross_entropy_with_z_loss
from jaxloss._multiclass import entmax15_loss
from jaxloss._multiclass import generalized_cross_entropy
from jaxloss._multiclass import poly1_cross_entropy
from jaxloss._multiclass import softmax_focal_loss
from jaxloss._multiclass import sparsemax_loss
from jaxloss._multiclass import squared_hinge
from jaxloss._multiclass import z_loss
from jaxloss._ranking import approx_ndcg_loss
from jaxloss._ranking import listmle_loss
from jaxloss._ranking import listwise_softmax_loss
from jaxloss._ranking import pairwise_hinge_loss
from jaxloss._ranking import pairwise_logistic_loss
from jaxloss._regression import gaussian_nll_loss
from jaxloss._regression import huber_loss
from jaxloss._regression import l1_loss
from jaxloss._regression import log_cosh_loss
from jaxloss._regression import mean_absolute_percentage_error
from jaxloss._regression import mean_squared_logarithmic_error
from jaxloss._regression import mse_loss
from jaxloss._regression import poisson_nll_loss
from jaxloss._regression import quantile_loss
from jaxloss._regression import smooth_l1_loss
from jaxloss._regression import tweedie_nll_loss
from jaxloss._segmentation import dice_loss
from jaxloss._segmentation import focal_tversky_loss
from jaxloss._segmentation import jaccard_loss
from jaxloss._segmentation import lovasz_hinge_loss
from jaxloss._segmentation import lovasz_softmax_loss
from jaxloss._segmentation import tversky_loss

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
    "approx_ndcg_loss",
    "arcface_loss",
    "bi_tempered_logistic_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_hinge",
    "circle_loss",
    "complete_box_iou_loss",
    "contrastive_loss",
    "cosface_loss",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "cross_entropy_with_z_loss",
    "ctc_loss",
    "dice_loss",
    "distance_box_iou_loss",
    "distillation_loss",
    "entmax15_loss",
    "focal_tversky_loss",
    "gaussian_nll_loss",
    "generalized_box_iou_loss",
    "generalized_cross_entropy",
    "generalized_kl_divergence",
    "hinge_embedding_loss",
    "huber_loss",
    "info_nce_loss",
    "jaccard_loss",
    "js_divergence",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "listmle_loss",
    "listwise_softmax_loss",
    "log_cosh_loss",
    "lovasz_hinge_loss",
    "lovasz_softmax_loss",
    "margin_ranking_loss",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "mse_loss",
    "multi_margin_loss",
    "multi_similarity_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "npairs_loss",
    "ntxent_loss",
    "pairwise_distance",
    "pairwise_hinge_loss",
    "pairwise_logistic_loss",
    "poisson_nll_loss",
    "poly1_cross_entropy",
    "quantile_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax_focal_loss",
    "sparsemax_loss",
    "squared_hinge",
    "supervised_contrastive_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "tversky_loss",
    "tweedie_nll_loss",
    "z_loss",
]
