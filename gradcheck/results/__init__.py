"""The results model (:mod:`.model`), its findings (:mod:`.findings`) and the one verdict (:mod:`.verdict`)."""

from gradcheck.results.findings import Finding
from gradcheck.results.model import (
    HTML_RENDERERS,
    STATUSES,
    TEXT_RENDERERS,
    CheckOutcome,
    GradientCheckResult,
    ParamReport,
    ProbeResult,
    SuiteResult,
    check_format,
)

__all__ = ["HTML_RENDERERS", "STATUSES", "TEXT_RENDERERS", "CheckOutcome", "Finding",
           "GradientCheckResult", "ParamReport", "ProbeResult", "SuiteResult", "check_format"]
