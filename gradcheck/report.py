"""The data model of an HTML report: one page, built from a suite's results, rendered elsewhere.

A :class:`Report` holds only JSON-safe data (the ``to_dict()`` of each result), so the page
can be rendered again from a saved JSON file: ``render_html(Report.from_dict(d))`` gives the
same HTML as rendering the original report. :meth:`Report.from_suite` makes one from a
:class:`gradcheck.results.SuiteResult`, with every gradient check's table.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gradcheck.errors import InvalidArgumentError
from gradcheck.results.findings import JSON_FORMAT_VERSION, json_safe

#: Keys of one training run's curves; History's ``train_accuracy``/``val_accuracy`` map here.
CURVE_KEYS = ("step", "epoch", "loss", "train_acc", "val_acc")
_CURVE_ALIASES = {"train_accuracy": "train_acc", "val_accuracy": "val_acc"}


def _as_dict(obj: Any, argument: str) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return json_safe(dict(obj))
    if hasattr(obj, "to_dict"):
        return json_safe(obj.to_dict())
    raise InvalidArgumentError(
        argument, f"got {type(obj).__name__}, expected a result object with to_dict() or a dict",
        "Pass the result returned by gradcheck (or its to_dict()).")


def _curves(name: str, run: Any) -> dict[str, list]:
    data = _as_dict(run, f"training[{name!r}]")
    out: dict[str, list] = {}
    for key, values in data.items():
        key = _CURVE_ALIASES.get(key, key)
        if key in CURVE_KEYS and values is not None:
            out[key] = list(values)
    if ("step" not in out and "epoch" not in out) or "loss" not in out:
        raise InvalidArgumentError(
            f"training[{name!r}]", f"got keys {sorted(data)}, expected 'loss' and 'step' or 'epoch'",
            "Pass a reference_net History or a dict of per-step (or per-epoch) lists.")
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summarize(gradients: dict | None, probes: Sequence[dict],
              more_gradients: Sequence[dict] = ()) -> tuple[bool, str]:
    """The verdict and one sentence saying it, from result dicts.

    ``more_gradients`` are the gradient checks after the first (``{"check", "result"}``);
    the failing ones are named.

    Returns
    -------
    (passed, sentence), e.g. ``(False, "2 of 4 gradients are wrong: b1, W2.")``.
    """
    parts: list[str] = []
    passed = True
    failing_checks = [g["check"] for g in more_gradients if not g["result"].get("passed")]
    if gradients is not None:
        params = gradients.get("params", [])
        failed = [p["name"] for p in params if not p.get("passed", False)]
        if not gradients.get("passed", not failed):
            passed = False
            if failed:
                parts.append(f"{len(failed)} of {_plural(len(params), 'gradient')} "
                             f"{'is' if len(failed) == 1 else 'are'} wrong: {', '.join(failed)}")
            else:
                parts.append("the gradient check failed")
        else:
            parts.append(f"all {_plural(len(params), 'gradient')} match finite differences")
    if probes:
        broken = [p.get("subject") or p.get("name", "?") for p in probes if not p.get("passed")]
        if broken:
            passed = False
            parts.append(f"{len(broken)} of {_plural(len(probes), 'stability probe')} "
                         f"failed: {', '.join(broken)}")
        else:
            parts.append(f"all {_plural(len(probes), 'stability probe')} pass")
    if not parts:
        return True, "Nothing was checked."
    sentence = "; ".join(parts) + "."
    if failing_checks:
        passed = False
        sentence += f" Other failing gradient checks: {', '.join(failing_checks)}."
    return passed, sentence[0].upper() + sentence[1:]


@dataclass
class Report:
    """Everything one HTML report shows; plain JSON-safe data.

    Attributes
    ----------
    title : str
        What was checked, e.g. ``"reference network 784-10-10 on real MNIST"``.
    passed : bool
        The verdict at the top of the page.
    summary : str
        One sentence saying the verdict, e.g. ``"1 of 4 gradients is wrong: b1."``.
    gradients : dict or None
        ``GradientCheckResult.to_dict()`` of the first gradient check; None when none was run.
    more_gradients : list of dict
        The other gradient checks of a suite, in run order: ``{"check": name, "description":
        ..., "result": GradientCheckResult.to_dict()}``. Each gets its own table.
    probes : list of dict
        ``ProbeResult.to_dict()`` of each stability probe, in run order.
    training : dict
        Run name (e.g. ``"full batch"``, ``"mini-batch 64"``) -> curves: lists ``loss`` and
        ``step`` or ``epoch`` (the x axis), optionally ``train_acc``, ``val_acc`` (fractions
        in [0, 1]). When every run has ``epoch`` the plots use it: runs with different batch
        sizes take different numbers of steps per pass over the data.
    environment : dict
        :func:`gradcheck.frontends.environment.collect_environment`; includes seed, dtype and command.
    created : str
        ISO 8601 UTC timestamp; the only line that differs between two identical runs.
    """

    title: str
    passed: bool
    summary: str
    gradients: dict[str, Any] | None = None
    probes: list[dict[str, Any]] = field(default_factory=list)
    more_gradients: list[dict[str, Any]] = field(default_factory=list)
    gradients_check: str = ""
    training: dict[str, dict[str, list]] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=_now)

    @classmethod
    def build(cls, title: str, *, gradients: Any = None, probes: Sequence[Any] = (),
              training: Mapping[str, Any] | None = None,
              environment: Mapping[str, Any] | None = None, created: str | None = None,
              more_gradients: Sequence[tuple[str, str, Any]] = (),
              gradients_check: str = "") -> Report:
        """Assemble a report from result objects (or their dicts) and compute the verdict.

        Parameters
        ----------
        title : str
        gradients : GradientCheckResult, its dict, or None.
        probes : ProbeResult objects or dicts.
        training : run name -> reference_net ``History`` (or a dict of per-step lists).
        environment : from :func:`gradcheck.frontends.environment.collect_environment`.
        created : timestamp; default now (UTC).
        more_gradients : (check name, description, result) of further gradient checks.
        gradients_check : name of the check ``gradients`` came from ("" for a single check).
        """
        if not isinstance(title, str):
            raise InvalidArgumentError("title", f"got {type(title).__name__}, expected str",
                                       "Pass a short description of what was checked.")
        grad = None if gradients is None else _as_dict(gradients, "gradients")
        probe_dicts = [_as_dict(p, f"probes[{i}]") for i, p in enumerate(probes)]
        curves = {str(k): _curves(str(k), v) for k, v in (training or {}).items()}
        more = [{"check": str(name), "description": str(description),
                 "result": _as_dict(result, f"more_gradients[{i}]")}
                for i, (name, description, result) in enumerate(more_gradients)]
        passed, summary = summarize(grad, probe_dicts, more)
        return cls(title=title, passed=passed, summary=summary, gradients=grad,
                   probes=probe_dicts, more_gradients=more, gradients_check=gradients_check,
                   training=curves, environment=json_safe(dict(environment or {})),
                   created=created or _now())

    @classmethod
    def from_suite(cls, suite, *, training: Mapping[str, Any] | None = None,
                   environment: Mapping[str, Any] | None = None,
                   created: str | None = None) -> Report:
        """A report of every check of a :class:`~gradcheck.results.SuiteResult` (or its dict).

        Every gradient check gets its table; a check that could not run is a failed probe
        entry carrying its error, so the verdict counts it.
        """
        data = _as_dict(suite, "suite")
        gradient_checks, probes = [], []
        for check in data.get("checks", []):
            result = check.get("result")
            if check.get("result_kind") == "gradient_check":
                gradient_checks.append((check["name"], check["description"], result))
            elif result is not None:
                probes.append(dict(result, check=check["name"], description=check["description"]))
            else:
                probes.append({"name": check["name"], "subject": check["name"], "passed": False,
                               "check": check["name"], "description": check["description"],
                               "findings": [{"kind": "exception", "subject": check["name"],
                                             "message": f"{check['name']}: {check.get('error')}",
                                             "hint": "The check could not run; fix the error "
                                                     "above.", "severity": "error", "data": {}}],
                               "series": {}, "breaking_magnitude": None})
        first = gradient_checks[0] if gradient_checks else None
        if environment is None:
            environment = data.get("environment")
        return cls.build(data.get("target", "target"),
                         gradients=None if first is None else first[2],
                         gradients_check="" if first is None else first[0],
                         more_gradients=gradient_checks[1:], probes=probes, training=training,
                         environment=environment, created=created)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with ``format_version`` and ``kind: "report"``."""
        return json_safe({
            "format_version": JSON_FORMAT_VERSION,
            "kind": "report",
            "title": self.title,
            "passed": self.passed,
            "summary": self.summary,
            "gradients": self.gradients,
            "gradients_check": self.gradients_check,
            "more_gradients": self.more_gradients,
            "probes": self.probes,
            "training": self.training,
            "environment": self.environment,
            "created": self.created,
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_dict` output (e.g. a saved JSON file)."""
        if not isinstance(data, Mapping):
            raise InvalidArgumentError("data", f"got {type(data).__name__}, expected a dict",
                                       "Pass the dict loaded from a report JSON file.")
        version = data.get("format_version")
        if version != JSON_FORMAT_VERSION or data.get("kind") != "report":
            raise InvalidArgumentError(
                "data", f"got format_version {version!r} and kind {data.get('kind')!r}, expected "
                f"format_version {JSON_FORMAT_VERSION} and kind 'report'",
                "Regenerate the JSON with this version of gradcheck.")
        return cls(title=data["title"], passed=bool(data["passed"]), summary=data["summary"],
                   gradients=data.get("gradients"), probes=list(data.get("probes") or []),
                   more_gradients=list(data.get("more_gradients") or []),
                   gradients_check=data.get("gradients_check") or "",
                   training=dict(data.get("training") or {}),
                   environment=dict(data.get("environment") or {}), created=data["created"])
