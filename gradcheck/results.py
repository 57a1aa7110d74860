"""Results of a gradient check: plain data, with ``to_dict()`` for JSON and reports.

No printing and no formatting here beyond ``__str__`` delegating to the terminal renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck.findings import JSON_FORMAT_VERSION, Finding, json_safe


def _num(x) -> float | None:
    """JSON-safe float: NaN and inf become None."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


@dataclass
class ParamReport:
    """How one parameter's analytic gradient compares with the numeric one.

    Attributes
    ----------
    name, shape, dtype : the parameter.
    mode : "full", "sample" or "directional".
    n_checked : entries (or directions, in directional mode) compared.
    max_abs_error, max_rel_error : over checked entries; relative error is
        |a - n| / max(|a|, |n|, atol) (see :mod:`gradcheck.numeric.tolerances`), counted as 0
        where |a - n| is below the loss's rounding noise (eps * |L| / h).
    worst_index : index of the worst entry (None in directional mode).
    worst_analytic, worst_numeric : the two values there.
    tier : "excellent", "good", "suspicious" or "wrong".
    passed : False when any finding of severity "error" is attached.
    n_kinks : entries excused because the finite difference straddles a kink.
    findings : the diagnosis (empty when all is well).
    error_map : |analytic - numeric| on a grid of at most 64 x 64 (mean-pooled), for
        heatmaps of failing parameters; None for passing ones or when not all entries were checked.
    n_loss_evals : loss evaluations spent on this parameter.
    """

    name: str
    shape: tuple
    dtype: str
    mode: str
    n_checked: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple | None
    worst_analytic: float | None
    worst_numeric: float | None
    tier: str
    passed: bool
    n_kinks: int = 0
    findings: list[Finding] = field(default_factory=list)
    error_map: list[list[float]] | None = None
    n_loss_evals: int = 0

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "mode": self.mode,
            "n_checked": self.n_checked,
            "max_abs_error": _num(self.max_abs_error),
            "max_rel_error": _num(self.max_rel_error),
            "worst_index": None if self.worst_index is None else [int(i) for i in self.worst_index],
            "worst_analytic": _num(self.worst_analytic),
            "worst_numeric": _num(self.worst_numeric),
            "tier": self.tier,
            "passed": self.passed,
            "verdict": self.verdict,
            "n_kinks": self.n_kinks,
            "findings": [f.to_dict() for f in self.findings],
            "error_map": json_safe(self.error_map),
            "n_loss_evals": self.n_loss_evals,
        }


@dataclass
class GradientCheckResult:
    """Outcome of :func:`gradcheck.check_gradients`.

    ``params`` holds one :class:`ParamReport` per parameter, in the caller's order;
    ``findings`` collects every finding (parameter findings plus whole-check ones such as
    ``nondeterministic``).
    """

    params: list[ParamReport]
    mode: str
    method: str
    seed: int
    rtol: float
    atol: float
    dtype: str
    n_loss_evals: int
    check_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        out = list(self.check_findings)
        for report in self.params:
            out.extend(report.findings)
        return out

    @property
    def failed(self) -> list[str]:
        """Names of parameters whose gradient is wrong."""
        return [p.name for p in self.params if not p.passed]

    @property
    def passed(self) -> bool:
        return not self.failed and not any(f.is_failure for f in self.check_findings)

    def __getitem__(self, name: str) -> ParamReport:
        for report in self.params:
            if report.name == name:
                return report
        raise KeyError(f"no parameter named {name!r}; the result has {[p.name for p in self.params]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": JSON_FORMAT_VERSION,
            "kind": "gradient_check",
            "passed": self.passed,
            "failed": self.failed,
            "mode": self.mode,
            "method": self.method,
            "seed": self.seed,
            "rtol": self.rtol,
            "atol": self.atol,
            "dtype": self.dtype,
            "n_loss_evals": self.n_loss_evals,
            "params": [p.to_dict() for p in self.params],
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        from gradcheck.render.terminal import format_gradient_result

        return format_gradient_result(self)
