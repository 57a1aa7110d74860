"""Numerical-stability probes: where a user's network stops being finite or right, and why.

Function probes ``probe_<name>(fn, *, dtype=np.float64, subject=..., seed=0, ...)`` sweep
input magnitudes; :func:`function_probes_for` picks the ones a target's functions call for.
Contract probes (``probe_shapes``, ``probe_example_order``) call a target at several batch
sizes and example orders; training probes (``probe_input_scale``, ``probe_learning_rate``,
``probe_activations``, ``probe_gradient_flow``, ``probe_precision``) run a few steps of
gradient descent on it. Every one returns a :class:`ProbeResult`.
"""

from gradcheck.probes.activations import probe_log_softmax, probe_sigmoid
from gradcheck.probes.base import MAGNITUDES, ProbeResult
from gradcheck.probes.contracts import probe_example_order, probe_shapes
from gradcheck.probes.functions import FUNCTION_PROBES, function_probes_for
from gradcheck.probes.losses import probe_binary_cross_entropy, probe_cross_entropy
from gradcheck.probes.softmax import probe_softmax
from gradcheck.probes.training import (
    probe_activations,
    probe_gradient_flow,
    probe_input_scale,
    probe_learning_rate,
    probe_precision,
)

__all__ = [
    "FUNCTION_PROBES",
    "MAGNITUDES",
    "ProbeResult",
    "function_probes_for",
    "probe_activations",
    "probe_binary_cross_entropy",
    "probe_cross_entropy",
    "probe_example_order",
    "probe_gradient_flow",
    "probe_input_scale",
    "probe_learning_rate",
    "probe_log_softmax",
    "probe_precision",
    "probe_shapes",
    "probe_sigmoid",
    "probe_softmax",
]
