"""gradcheck: tells you whether your from-scratch neural network is right."""

from gradcheck import adapters
from gradcheck.checks.gradients import check_gradients
from gradcheck.checks.layers import check_layer
from gradcheck.config import CheckConfig
from gradcheck.engine import iter_checks, run_suite
from gradcheck.errors import (
    CheckTooSlowError,
    GradcheckError,
    InvalidArgumentError,
    ProtocolError,
    ReportWriteError,
    TargetError,
    TargetLoadError,
    UserCodeError,
)
from gradcheck.render import notebook as _notebook  # noqa: F401  registers _repr_html_ of results
from gradcheck.render import terminal as _terminal  # noqa: F401  registers str() of results
from gradcheck.results import CheckOutcome, GradientCheckResult, ParamReport, SuiteResult
from gradcheck.results.findings import Finding

__version__ = "0.1.0"



__all__ = [
    "CheckConfig",
    "CheckOutcome",
    "GradientCheckResult",
    "SuiteResult",
    "adapters",
    "iter_checks",
    "run_suite",
    "ParamReport",
    "check_gradients",
    "check_layer",
    "Finding",
    "CheckTooSlowError",
    "GradcheckError",
    "InvalidArgumentError",
    "ProtocolError",
    "ReportWriteError",
    "TargetError",
    "TargetLoadError",
    "UserCodeError",
    "__version__",
]
