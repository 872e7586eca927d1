"""A drop-in for ``optax.losses`` (optax 0.2.8): every public name, same signatures, same per-example values.

Replace ``optax.losses`` by ``jaxloss.optax_losses`` and nothing changes, except where optax 0.2.8 has a bug;
each such difference is listed, with its reason and its test, in ``docs/optax_differences.md``:

* ``dice_loss(..., apply_softmax=False)`` (and ``binary_dice_loss(..., apply_sigmoid=False)``) work under
  ``jit``; the probability check is a :func:`jaxloss._src.core.validation.data_check`, and a single channel is checked
  for values in ``[0, 1]`` instead of "sums to 1";
* ``sigmoid_binary_cross_entropy``, ``sigmoid_focal_loss`` and ``hinge_loss`` raise ``ValueError`` for a pair of
  shapes that broadcast to neither (``(4, 1)`` with ``(4,)``) instead of silently returning ``(4, 4)``;
* ``cosine_similarity``/``cosine_distance`` give ``0`` similarity and a finite gradient for a zero vector (and a
  fully masked row) with ``epsilon=0``; ``ntxent`` gives ``0`` without positive pairs; ``smooth_labels`` stays
  finite on a fully masked row; ``softmax_cross_entropy``/``poly_loss_cross_entropy`` with ``where`` give a
  zero (not ``nan``) gradient for masked labels;
* ``triplet_margin_loss`` takes the absolute value inside its ``norm_degree``-norm (optax's is signed for odd
  degrees); ``multiclass_sparsemax_loss`` keeps float32 and differentiates under ``jax_enable_x64``.

Shape legend: ``B`` batch dimensions (any number), ``C`` classes, ``T`` time, ``N`` label length.
"""

from jaxloss._src.families.binary import (
    optax_sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy,
)
from jaxloss._src.families.classification.cross_entropy import (
    optax_poly_loss_cross_entropy as poly_loss_cross_entropy,
)
from jaxloss._src.families.classification.cross_entropy import optax_smooth_labels as smooth_labels
from jaxloss._src.families.classification.cross_entropy import (
    optax_softmax_cross_entropy as softmax_cross_entropy,
)
from jaxloss._src.families.classification.cross_entropy import (
    optax_softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,
)
from jaxloss._src.families.ctc import optax_ctc_loss as ctc_loss
from jaxloss._src.families.ctc import (
    optax_ctc_loss_with_forward_probs as ctc_loss_with_forward_probs,
)
from jaxloss._src.families.detection import optax_sigmoid_focal_loss as sigmoid_focal_loss
from jaxloss._src.families.distance import optax_cosine_distance as cosine_distance
from jaxloss._src.families.distance import optax_cosine_similarity as cosine_similarity
from jaxloss._src.families.divergence import optax_convex_kl_divergence as convex_kl_divergence
from jaxloss._src.families.divergence import (
    optax_generalized_kl_divergence as generalized_kl_divergence,
)
from jaxloss._src.families.divergence import optax_kl_divergence as kl_divergence
from jaxloss._src.families.divergence import (
    optax_kl_divergence_with_log_targets as kl_divergence_with_log_targets,
)
from jaxloss._src.families.fenchel_young import make_fenchel_young_loss
from jaxloss._src.families.fenchel_young import (
    optax_safe_softmax_cross_entropy as safe_softmax_cross_entropy,
)
from jaxloss._src.families.hinge import optax_hinge_loss as hinge_loss
from jaxloss._src.families.hinge import optax_multiclass_hinge_loss as multiclass_hinge_loss
from jaxloss._src.families.hinge import (
    optax_multiclass_perceptron_loss as multiclass_perceptron_loss,
)
from jaxloss._src.families.hinge import optax_perceptron_loss as perceptron_loss
from jaxloss._src.families.margin import optax_triplet_margin_loss as triplet_margin_loss
from jaxloss._src.families.metric import optax_ntxent as ntxent
from jaxloss._src.families.multiclass import (
    optax_multiclass_sparsemax_loss as multiclass_sparsemax_loss,
)
from jaxloss._src.families.multiclass import optax_sparsemax_loss as sparsemax_loss
from jaxloss._src.families.ranking import optax_ranking_softmax_loss as ranking_softmax_loss
from jaxloss._src.families.regression import optax_huber_loss as huber_loss
from jaxloss._src.families.regression import optax_l2_loss as l2_loss
from jaxloss._src.families.regression import optax_log_cosh as log_cosh
from jaxloss._src.families.regression import optax_squared_error as squared_error
from jaxloss._src.families.segmentation import optax_binary_dice_loss as binary_dice_loss
from jaxloss._src.families.segmentation import optax_dice_loss as dice_loss
from jaxloss._src.families.segmentation import (
    optax_multiclass_generalized_dice_loss as multiclass_generalized_dice_loss,
)

__all__ = [
    "binary_dice_loss",
    "convex_kl_divergence",
    "cosine_distance",
    "cosine_similarity",
    "ctc_loss",
    "ctc_loss_with_forward_probs",
    "dice_loss",
    "generalized_kl_divergence",
    "hinge_loss",
    "huber_loss",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "l2_loss",
    "log_cosh",
    "make_fenchel_young_loss",
    "multiclass_generalized_dice_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "ntxent",
    "perceptron_loss",
    "poly_loss_cross_entropy",
    "ranking_softmax_loss",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "sparsemax_loss",
    "squared_error",
    "triplet_margin_loss",
]
