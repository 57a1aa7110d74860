"""The results of every stability probe run on one target, as one data object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcheck.findings import JSON_FORMAT_VERSION, Finding
from gradcheck.probes.base import ProbeResult


@dataclass
class ProbeSuiteResult:
    """Probe results in run order, each with its check name and a description.

    ``entries`` is a list of ``(check_name, description, ProbeResult)``.
    """

    entries: list[tuple[str, str, ProbeResult]] = field(default_factory=list)

    @property
    def probes(self) -> list[ProbeResult]:
        return [result for _, _, result in self.entries]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.probes)

    @property
    def failed(self) -> list[str]:
        """Check names of the probes that failed."""
        return [name for name, _, result in self.entries if not result.passed]

    @property
    def findings(self) -> list[Finding]:
        return [f for result in self.probes for f in result.findings]

    def __getitem__(self, check_name: str) -> ProbeResult:
        for name, _, result in self.entries:
            if name == check_name:
                return result
        raise KeyError(f"no probe named {check_name!r}; ran {[n for n, _, _ in self.entries]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": JSON_FORMAT_VERSION,
            "kind": "probe_suite",
            "passed": self.passed,
            "failed": self.failed,
            "probes": [dict(result.to_dict(), check=name, description=description)
                       for name, description, result in self.entries],
        }

    def __str__(self) -> str:
        from gradcheck.render.terminal import format_probe_suite

        return format_probe_suite(self)
