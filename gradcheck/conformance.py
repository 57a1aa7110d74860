"""The conformance suite's names, kept for code that imports them from here.

The engine lives in :mod:`gradcheck.engine`.
"""

from gradcheck.engine import GROUPS, Check, ConformanceFailure, check_target_gradients, iter_checks

__all__ = ["GROUPS", "Check", "ConformanceFailure", "check_target_gradients", "iter_checks"]
