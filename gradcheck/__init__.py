"""gradcheck: tells you whether your from-scratch neural network is right."""

from gradcheck import adapters, cli
from gradcheck.api import check_gradients
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
from gradcheck.findings import Finding
from gradcheck.layer_check import check_layer
from gradcheck.results import GradientCheckResult, ParamReport

__version__ = "0.1.0"

__all__ = [
    "GradientCheckResult",
    "adapters",
    "cli",
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
