import numpy as np
import pytest
import torch.nn.functional as F

from jaxloss._regression import mse_loss
from tests.torch_parity import compare


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_mse(rng, dtype, jit, reduction):
    x, y, w = rng.standard_normal((3, 5, 4, 4))[:3]
    compare(mse_loss, F.mse_loss, [x, y], kwargs=dict(reduction=reduction), diff=(0, 1), dtype=dtype, jit=jit)
    compare(mse_loss, F.mse_loss, [x, y, None, None, reduction, np.abs(w)], diff=(0, 1, 5), dtype=dtype, jit=jit)
