"""Checks run against a target: the one engine behind the Python API and the command line."""

from __future__ import annotations

import numpy as np

from gradcheck.api import check_gradients
from gradcheck.results import GradientCheckResult
from gradcheck.targets.protocol import target_params


def check_target_gradients(target, X, y, **options) -> GradientCheckResult:
    """Check every parameter of a protocol target on one batch (X, y).

    ``options`` go to :func:`gradcheck.check_gradients`; the batch size is taken from y so a
    gradient off by exactly that factor is named as a missing 1/m.
    """
    params = target_params(target)
    options.setdefault("batch_size", int(np.asarray(y).shape[0]))
    return check_gradients(
        lambda: target.loss(X, y),
        params,
        lambda: target.gradients(X, y),
        **options,
    )
