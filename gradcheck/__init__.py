"""gradcheck: tells you whether your from-scratch neural network is right.

The public names are imported when first used (``gradcheck.check_gradients`` loads the checker
then, not before), so importing a part of gradcheck, such as the pytest plugin's entry point
that every pytest run of an environment with gradcheck installed loads, costs nothing more.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC = {
    "check_gradients": "gradcheck.checks.gradients",
    "check_layer": "gradcheck.checks.layers",
    "check_function_layer": "gradcheck.checks.function_layers",
    "CheckConfig": "gradcheck.config",
    "iter_checks": "gradcheck.engine",
    "run_suite": "gradcheck.engine",
    "Finding": "gradcheck.results.findings",
    "CheckOutcome": "gradcheck.results.model",
    "GradientCheckResult": "gradcheck.results.model",
    "ParamReport": "gradcheck.results.model",
    "ProbeResult": "gradcheck.results.model",
    "SuiteResult": "gradcheck.results.model",
    "Verdict": "gradcheck.results.verdict",
    **{name: "gradcheck.errors" for name in (
        "CheckTooSlowError", "GradcheckError", "InvalidArgumentError", "ProtocolError",
        "ReportWriteError", "TargetError", "TargetLoadError", "UserCodeError")},
}
#: Subpackages reachable as attributes (``gradcheck.adapters.functional``).
_SUBPACKAGES = ("adapters", "probes", "strategies")


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"gradcheck.{name}")
    else:
        raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC, *_SUBPACKAGES])


__all__ = ["__version__", *_PUBLIC, *_SUBPACKAGES]
