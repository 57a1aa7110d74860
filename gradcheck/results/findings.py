"""One finding: a plain-words statement about something wrong (or worth knowing).

Gradient checks and stability probes both produce findings of this one type, so the
terminal, JSON and HTML renderers treat them alike.

The message format is fixed: ``"<subject>[<index>]: <numbers> — <what it means> (<kind>)"``,
followed by a ``hint``: one plain sentence about the likely line of code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

#: Version of every JSON document gradcheck writes. Bump on an incompatible change.
JSON_FORMAT_VERSION = 2

#: Severities. Only ``"error"`` makes a check fail; ``"info"`` marks things that are
#: not bugs (a kink at ReLU's 0, float32 rounding) but that a user should understand.
SEVERITIES = ("error", "warning", "info")

#: The stable vocabulary of gradient-check finding kinds.
GRADIENT_KINDS = (
    "scale",
    "sign",
    "transpose",
    "reduction",
    "zero",
    "orientation",
    "routing",
    "label_term",
    "missing_term",
    "accumulation",
    "derivative",
    "jacobian",
    "nonfinite",
    "kink",
    "precision",
    "shape",
    "mutation",
    "nondeterministic",
    "mismatch",
    "exception",
)

#: Gradient-check kinds that only say the values differ, and how (not their shape, not a crash,
#: not a mutation): what another check can explain away, such as a float64 copy of a float32 network
#: that agrees, or a whole network that agrees where one layer's stored gradient carries a term
#: of the loss outside the layer (an L2 penalty).
VALUE_KINDS = frozenset({"mismatch", "scale", "sign", "zero", "reduction", "orientation",
                         "routing", "label_term", "missing_term", "accumulation",
                         "derivative", "jacobian"})

#: The vocabulary of stability-probe finding kinds.
PROBE_KINDS = (
    "overflow",
    "nonfinite",
    "wrong_axis",
    "not_normalized",
    "shift_variance",
    "order_variance",
    "warning",
    "shape",
    "exception",
    "argmax",
    "inaccurate",
    "symmetry",
    "divergence",
    "exploding",
    "vanishing",
    "dead_relu",
    "dtype_mismatch",
    "skipped",
)


def json_safe(value: Any) -> Any:
    """Recursively turn NumPy scalars into Python numbers and NaN/inf into None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Finding:
    """A single diagnosis, in one format.

    Attributes
    ----------
    kind : str
        One word from :data:`GRADIENT_KINDS` or :data:`PROBE_KINDS`.
    subject : str
        What the finding is about: a parameter name (``"b1"``) or a probe subject
        (``"softmax"``).
    text : str
        What was found, in the fixed format without the kind, e.g.
        ``"W1[3, 7]: analytic 0.125, numeric 0.0125, ratio 10.0 — gradient is 10x too large"``.
    hint : str
        One plain sentence about the likely line of code to look at.
    severity : str
        ``"error"`` (a bug: the check fails), ``"warning"`` or ``"info"`` (not a bug).
    data : dict
        The JSON-safe numbers behind the finding, for reports.

    :attr:`message` is the one line shown everywhere: the text, then the kind in parentheses.
    This class is the only place that suffix is written.
    """

    kind: str
    subject: str
    text: str
    hint: str = ""
    severity: str = "error"
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def message(self) -> str:
        """``"<text> (<kind>)"``, e.g. ``"b1[2]: ... — one value repeated for every entry (reduction)"``."""
        return f"{self.text} ({self.kind})"

    @property
    def is_failure(self) -> bool:
        """True when this finding makes a check fail."""
        return self.severity == "error"

    @property
    def inconclusive(self) -> bool:
        """True when this finding says something decisive could not be judged: a warning whose
        ``data["inconclusive"]`` says what would let it judge (float64, a larger batch, a larger
        step). A check with one, and no failure, is inconclusive: neither passed nor failed."""
        return self.severity == "warning" and bool(self.data.get("inconclusive"))

    @property
    def remedy(self) -> str:
        """What would let an inconclusive finding judge (empty for any other finding)."""
        return str(self.data.get("inconclusive") or "") if self.inconclusive else ""

    def demoted(self) -> Finding:
        """The same finding as a warning: what it says stands, but it fails nothing."""
        return replace(self, severity="warning")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "text": self.text,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
            "data": json_safe(self.data),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The finding :meth:`to_dict` wrote."""
        return cls(kind=data["kind"], subject=data["subject"], text=data["text"],
                   hint=data.get("hint", ""), severity=data.get("severity", "error"),
                   data=dict(data.get("data") or {}))

    def __str__(self) -> str:
        return f"{self.message}\n    {self.hint}" if self.hint else self.message


def format_shape(shape) -> str:
    """A shape as NumPy prints it, everywhere it is shown: ``(10,)``, ``(784, 10)``; a 0-d
    array's is ``scalar``."""
    shape = tuple(int(s) for s in shape)
    return str(shape) if shape else "scalar"
