"""gradcheck: tells you whether your from-scratch neural network is right."""

from gradcheck.errors import (
    GradcheckError,
    InvalidArgumentError,
    ProtocolError,
    ReportWriteError,
    TargetError,
    TargetLoadError,
    UserCodeError,
)
from gradcheck.findings import Finding

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "GradcheckError",
    "InvalidArgumentError",
    "ProtocolError",
    "ReportWriteError",
    "TargetError",
    "TargetLoadError",
    "UserCodeError",
    "__version__",
]
