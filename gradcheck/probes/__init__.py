"""Numerical-stability probes: where a user's function stops being finite, and why."""

from gradcheck.probes.softmax import ProbeResult, probe_softmax

__all__ = ["ProbeResult", "probe_softmax"]
