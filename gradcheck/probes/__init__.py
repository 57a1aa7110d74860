"""Numerical-stability probes: where a user's function stops being finite, and why.

Each ``probe_<name>(fn, *, dtype=np.float64, subject=..., seed=0, ...)`` sweeps input
magnitudes and returns a :class:`ProbeResult`; :func:`function_probes_for` picks the probes a
target's functions call for.
"""

from gradcheck.probes.activations import probe_log_softmax, probe_sigmoid
from gradcheck.probes.base import MAGNITUDES, ProbeResult
from gradcheck.probes.functions import FUNCTION_PROBES, function_probes_for
from gradcheck.probes.losses import probe_binary_cross_entropy, probe_cross_entropy
from gradcheck.probes.softmax import probe_softmax

__all__ = [
    "FUNCTION_PROBES",
    "MAGNITUDES",
    "ProbeResult",
    "function_probes_for",
    "probe_binary_cross_entropy",
    "probe_cross_entropy",
    "probe_log_softmax",
    "probe_sigmoid",
    "probe_softmax",
]
