"""The results model: plain data with ``to_dict()``/``from_dict()``, one JSON format version.

``ParamReport`` and ``GradientCheckResult`` (one gradient check), ``ProbeResult`` (one
stability probe), ``CheckOutcome`` (one named check of a suite: its verdict and result) and
``SuiteResult`` (every check run on one target, what every renderer consumes). No printing
and no formatting here: ``str(result)`` asks the text renderer registered for the result's
type (:mod:`gradcheck.render.terminal` registers itself, and is imported the first time a
result is shown).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.results.findings import JSON_FORMAT_VERSION, Finding, json_safe

#: Text renderers by result type; filled by :mod:`gradcheck.render.terminal` when it is imported.
TEXT_RENDERERS: dict[type, Callable[[Any], str]] = {}
#: HTML renderers (notebook display) by result type; filled by :mod:`gradcheck.render.notebook`.
HTML_RENDERERS: dict[type, Callable[[Any], str]] = {}
#: The modules that register those renderers, imported by name the first time a result is shown
#: (the results model never imports a renderer itself).
_RENDERER_MODULES = {"text": "gradcheck.render.terminal", "html": "gradcheck.render.notebook"}


def _renderer(table: dict, which: str, result) -> Callable[[Any], str] | None:
    if type(result) not in table:
        importlib.import_module(_RENDERER_MODULES[which])
    return table.get(type(result))


def _html(result) -> str | None:
    """``_repr_html_``: None (plain repr) when no HTML renderer is registered."""
    render = _renderer(HTML_RENDERERS, "html", result)
    return None if render is None else render(result)


def _text(result) -> str:
    render = _renderer(TEXT_RENDERERS, "text", result)
    return object.__repr__(result) if render is None else render(result)


def _float(x) -> float:
    """A number from JSON: None (written for NaN/inf) comes back as NaN."""
    return float("nan") if x is None else float(x)


def check_format(data: Any, kind: str) -> Mapping[str, Any]:
    """``data`` if it is a dict of this format version and ``kind``, else InvalidArgumentError."""
    if not isinstance(data, Mapping):
        raise InvalidArgumentError("data", f"got {type(data).__name__}, expected a dict",
                                   "Pass the dict loaded from a gradcheck JSON file.")
    version = data.get("format_version")
    if version != JSON_FORMAT_VERSION or data.get("kind") != kind:
        raise InvalidArgumentError(
            "data", f"got format_version {version!r} and kind {data.get('kind')!r}, expected "
            f"format_version {JSON_FORMAT_VERSION} and kind {kind!r}",
            "Regenerate the JSON with this version of gradcheck.")
    return data


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
        |a - n| / max(|a|, |n|, atol) (see :mod:`gradcheck.numeric.model`), counted as 0
        where |a - n| is below the loss's rounding noise (eps * |L| / h).
    worst_index : index of the worst entry (None in directional mode).
    worst_analytic, worst_numeric : the two values there.
    tier : the grade of the numbers: "excellent", "good", "suspicious" or "wrong" (beyond the
        tolerance), or "unchecked" when no difference was taken. A finding of another kind (a
        shape, a mutation) fails a parameter whose numbers are excellent: :attr:`verdict` says
        which kinds failed it.
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
    n_kinks: int = 0
    findings: list[Finding] = field(default_factory=list)
    error_map: list[list[float]] | None = None
    n_loss_evals: int = 0

    @property
    def passed(self) -> bool:
        """True unless a finding of severity "error" is attached: the findings are the verdict."""
        return not any(f.is_failure for f in self.findings)

    @property
    def failing_kinds(self) -> list[str]:
        """The kinds of the findings that fail this parameter, in order, each once."""
        return list(dict.fromkeys(f.kind for f in self.findings if f.is_failure))

    @property
    def inconclusive(self) -> bool:
        """True when nothing fails this parameter but a finding says it could not be judged
        (none of its entries rise above the loss's rounding, say): neither a pass nor a failure."""
        return self.passed and any(f.inconclusive for f in self.findings)

    @property
    def verdict(self) -> str:
        """"pass", "FAIL (scale)" (the kinds that failed it), "not judged" or "unchecked"."""
        if not self.passed:
            return f"FAIL ({', '.join(self.failing_kinds)})"
        if self.inconclusive:
            return "not judged"
        return "unchecked" if self.tier == "unchecked" else "pass"

    # -- the only ways a report changes after it is made ---------------------------------------
    def fail(self, finding: Finding) -> None:
        """Add a failing ``finding`` first among the findings: the gradient is wrong."""
        if not finding.is_failure:
            raise ValueError(f"fail() takes a finding of severity 'error', got {finding.severity!r}")
        self.findings.insert(0, finding)

    def note(self, finding: Finding) -> None:
        """Add a finding that does not change the verdict (a warning or a note)."""
        if finding.is_failure:
            raise ValueError("note() takes a warning or a note; use fail() for an error")
        self.findings.append(finding)

    def excuse(self, kinds: frozenset[str], because: Finding) -> bool:
        """Demote the failures to warnings when every one is of ``kinds``, and say ``because``.

        Returns True when it did (the parameter then passes, graded "suspicious": its numbers
        still disagree); False, changing nothing, when a failure of another kind remains.
        """
        failures = [f for f in self.findings if f.is_failure]
        if not failures or any(f.kind not in kinds for f in failures):
            return False
        self.findings = [f.demoted() if f.is_failure else f for f in self.findings]
        if self.tier == "wrong":
            self.tier = "suspicious"
        self.note(because)
        return True

    def forget(self, drop: Callable[[Finding], bool]) -> None:
        """Remove the findings ``drop`` selects (a note another check has since answered)."""
        self.findings = [f for f in self.findings if not drop(f)]

    def spent(self, evaluations: int, *, max_rel_error: float = 0.0) -> None:
        """Count ``evaluations`` more loss calls made on this parameter, and a relative error
        they measured (directions checked before the entries)."""
        self.n_loss_evals += int(evaluations)
        self.max_rel_error = max(self.max_rel_error, float(max_rel_error))

    def take_numbers(self, other: ParamReport) -> None:
        """Show ``other``'s worst entry, errors and heatmap: a check that saw the error more
        clearly (the float64 copy of a float32 network)."""
        self.max_abs_error = max(self.max_abs_error, other.max_abs_error)
        self.max_rel_error = max(self.max_rel_error, other.max_rel_error)
        self.worst_index, self.worst_analytic, self.worst_numeric = (
            other.worst_index, other.worst_analytic, other.worst_numeric)
        self.error_map = other.error_map
        self.tier = other.tier

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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParamReport:
        """The report :meth:`to_dict` wrote (NaN/inf, written as null, come back as NaN)."""
        worst = data.get("worst_index")
        return cls(
            name=data["name"], shape=tuple(data["shape"]), dtype=data["dtype"], mode=data["mode"],
            n_checked=int(data["n_checked"]), max_abs_error=_float(data.get("max_abs_error")),
            max_rel_error=_float(data.get("max_rel_error")),
            worst_index=None if worst is None else tuple(worst),
            worst_analytic=data.get("worst_analytic"), worst_numeric=data.get("worst_numeric"),
            tier=data["tier"], n_kinks=int(data.get("n_kinks", 0)),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            error_map=data.get("error_map"), n_loss_evals=int(data.get("n_loss_evals", 0)),
        )


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
    #: The dtype the loss computes in, as measured (it sets the tolerance); "" when unknown.
    precision: str = ""

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

    @property
    def undecided(self) -> list[str]:
        """Subjects that could not be judged (parameters, or the loss as a whole), each once."""
        names = [p.name for p in self.params if p.inconclusive]
        names += [f.subject for f in self.check_findings if f.inconclusive]
        return list(dict.fromkeys(names))

    @property
    def inconclusive(self) -> bool:
        """Nothing failed, but something decisive could not be judged (see :attr:`undecided`)."""
        return self.passed and bool(self.undecided)

    def note(self, text: str) -> None:
        """Add a note about the whole check (how it was done, what was not used and why)."""
        self.notes.append(text)

    def spent(self, evaluations: int) -> None:
        """Count ``evaluations`` more loss calls made for this check (a re-check on a copy)."""
        self.n_loss_evals += int(evaluations)

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
            "inconclusive": self.undecided,
            "mode": self.mode,
            "method": self.method,
            "seed": self.seed,
            "rtol": self.rtol,
            "atol": self.atol,
            "dtype": self.dtype,
            "precision": self.precision or self.dtype,
            "n_loss_evals": self.n_loss_evals,
            "params": [p.to_dict() for p in self.params],
            "findings": [f.to_dict() for f in self.findings],
            "check_findings": [f.to_dict() for f in self.check_findings],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradientCheckResult:
        """The result :meth:`to_dict` wrote, e.g. read back from a JSON file."""
        data = check_format(data, "gradient_check")
        params = [ParamReport.from_dict(p) for p in data["params"]]
        whole = [Finding.from_dict(f) for f in data.get("check_findings", [])]
        return cls(params=params, mode=data["mode"], method=data["method"], seed=data["seed"],
                   rtol=data["rtol"], atol=data["atol"], dtype=data["dtype"],
                   n_loss_evals=data["n_loss_evals"], check_findings=whole,
                   notes=list(data.get("notes", [])), precision=data.get("precision") or "")

    def __str__(self) -> str:
        return _text(self)

    def _repr_html_(self) -> str | None:
        return _html(self)


@dataclass
class ProbeResult:
    """Outcome of one stability probe: verdict, findings and plottable series.

    ``series`` maps names to equal-length lists over ``series["magnitude"]`` (or another x key);
    ``<name>_tolerance`` is the threshold ``<name>`` was held to, a list of bools is pass/fail
    per point. NaN marks a
    magnitude at which the quantity could not be computed. ``breaking_magnitude`` is the
    smallest swept magnitude with a finding (None when the function never broke).
    ``skipped`` is the reason when the probe could not judge this target (its verdict then
    rests on nothing, so it is neither a pass nor a failure), else None. ``passed`` is derived:
    a probe fails exactly when one of its findings has severity "error".
    """

    name: str
    subject: str
    findings: list[Finding] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    breaking_magnitude: float | None = None
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not any(f.is_failure for f in self.findings)

    @property
    def inconclusive(self) -> bool:
        """Nothing failed, but a finding says the probe could not decide (see
        :attr:`gradcheck.results.findings.Finding.inconclusive`)."""
        return self.passed and not self.skipped and any(f.inconclusive for f in self.findings)

    @property
    def undecided(self) -> list[str]:
        return [self.subject] if self.inconclusive else []

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "name": self.name, "subject": self.subject, "passed": self.passed,
            "inconclusive": self.inconclusive,
            "findings": [f.to_dict() for f in self.findings], "series": self.series,
            "breaking_magnitude": self.breaking_magnitude, "skipped": self.skipped,
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeResult:
        """The probe :meth:`to_dict` wrote; JSON from before ``skipped`` existed still loads."""
        findings = [Finding.from_dict(f) for f in data.get("findings", [])]
        skipped = data.get("skipped")
        return cls(name=data["name"], subject=data["subject"], findings=findings, series=dict(data.get("series") or {}),
                   breaking_magnitude=data.get("breaking_magnitude"), skipped=skipped)

    def _repr_html_(self) -> str | None:
        return _html(self)


#: What a suite's check can be: it ran and passed, ran and failed, could not run (an error),
#: does not apply to this target (skipped, with the reason), or ran but could not judge
#: something decisive (inconclusive, with what would let it judge).
STATUSES = ("passed", "failed", "error", "skipped", "inconclusive")
#: What a check is about: the network's gradients, one layer's, a stability probe, or the target
#: as a whole (it could not be loaded, or its worker ended without a result).
GROUPS = ("gradients", "probes", "target")


@dataclass
class CheckOutcome:
    """One named check of a suite, e.g. ``check_gradients_batch1``, and how it came out.

    Attributes
    ----------
    name : str
        The check's name (the pytest id), ``check_<subject>_<property>``.
    group : str
        ``"gradients"``, ``"probes"`` or ``"target"`` (the target itself could not be used).
    description : str
        What the check does, in a few words.
    status : str
        ``"passed"``, ``"failed"``, ``"error"`` (the check could not run; see ``error``),
        ``"skipped"`` (it does not apply to this target; see :attr:`skip_reason`) or
        ``"inconclusive"`` (it ran, nothing failed, but something decisive could not be judged;
        see :attr:`undecided_reason`).
    result : GradientCheckResult, ProbeResult or None
        None when the check could not run.
    error : str or None
        The message of the error that stopped the check.
    subject : str
        What a gradient check checks: ``"network"`` (every parameter of the network), or one
        layer's name (``"layer1_dense"``), whose parameter names the verdict prefixes with it.
        Empty for probes (their result names its subject).
    """

    name: str
    group: str
    description: str
    status: str
    result: GradientCheckResult | ProbeResult | None = None
    error: str | None = None
    #: The exception behind ``error`` in this process (not saved: it does not survive JSON).
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    subject: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.group not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}, got {self.group!r}")

    @classmethod
    def of(cls, name: str, group: str, description: str, result, *, subject: str = "") -> CheckOutcome:
        """The outcome of a check that ran: its status read from ``result`` (the one place that
        does): failed when a finding fails it, skipped when it does not apply, inconclusive when
        something decisive could not be judged, else passed."""
        if not result.passed:
            status = "failed"
        elif getattr(result, "skipped", None):
            status = "skipped"
        elif getattr(result, "inconclusive", False):
            status = "inconclusive"
        else:
            status = "passed"
        return cls(name, group, description, status, result, subject=subject)

    @classmethod
    def could_not_run(cls, name: str, group: str, description: str, error: BaseException | str,
                      *, subject: str = "") -> CheckOutcome:
        """The outcome of a check that could not run, with the error that stopped it."""
        exception = error if isinstance(error, BaseException) else None
        return cls(name, group, description, "error", None, str(error), exception=exception,
                   subject=subject)

    @property
    def passed(self) -> bool:
        """True unless the check failed or could not run: a skipped or inconclusive check is not
        a failure."""
        return self.status in ("passed", "skipped", "inconclusive")

    @property
    def undecided_reason(self) -> str | None:
        """What an inconclusive check could not judge and what would let it judge, in one
        sentence; None for any other status."""
        if self.status != "inconclusive" or self.result is None:
            return None
        first = next((f for f in self.result.findings if f.inconclusive), None)
        if first is None:
            return "something could not be judged"
        return f"{first.text}; {first.remedy}"

    @property
    def skip_reason(self) -> str | None:
        """Why the check was skipped, or None when it was not."""
        if self.status != "skipped":
            return None
        return getattr(self.result, "skipped", None) or "the check does not apply to this target"

    @property
    def findings(self) -> list[Finding]:
        return [] if self.result is None else list(self.result.findings)

    def to_dict(self) -> dict[str, Any]:
        kind = None if self.result is None else (
            "gradient_check" if isinstance(self.result, GradientCheckResult) else "probe")
        return {"name": self.name, "group": self.group, "description": self.description,
                "status": self.status, "subject": self.subject, "result_kind": kind,
                "result": None if self.result is None else self.result.to_dict(),
                "error": self.error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckOutcome:
        loaders = {"gradient_check": GradientCheckResult.from_dict, "probe": ProbeResult.from_dict}
        raw, kind = data.get("result"), data.get("result_kind")
        result = None if raw is None else loaders[kind](raw)
        return cls(name=data["name"], group=data["group"], description=data["description"],
                   status=data["status"], result=result, error=data.get("error"),
                   subject=data.get("subject") or "")


#: Keys of one training run's curves; reference_net's History ``train_accuracy`` and
#: ``val_accuracy`` are read as ``train_acc`` and ``val_acc``.
CURVE_KEYS = ("step", "epoch", "loss", "train_acc", "val_acc")
_CURVE_ALIASES = {"train_accuracy": "train_acc", "val_accuracy": "val_acc"}


def training_curves(runs: Mapping[str, Any]) -> dict[str, dict[str, list]]:
    """Run name -> curves (lists ``loss`` and ``step`` or ``epoch``, optionally ``train_acc``
    and ``val_acc`` as fractions), from reference_net ``History`` objects or dicts of lists."""
    out: dict[str, dict[str, list]] = {}
    for name, run in runs.items():
        argument = f"training[{str(name)!r}]"
        data = run.to_dict() if hasattr(run, "to_dict") else run
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(argument, f"got {type(run).__name__}, expected a History or "
                                       "a dict of per-step lists",
                                       "Pass a reference_net History or a dict of lists.")
        curves = {}
        for key, values in data.items():
            key = _CURVE_ALIASES.get(key, key)
            if key in CURVE_KEYS and values is not None:
                curves[key] = list(values)
        if ("step" not in curves and "epoch" not in curves) or "loss" not in curves:
            raise InvalidArgumentError(
                argument, f"got keys {sorted(data)}, expected 'loss' and 'step' or 'epoch'",
                "Pass a reference_net History or a dict of per-step (or per-epoch) lists.")
        out[str(name)] = json_safe(curves)
    return out


@dataclass
class SuiteResult:
    """Every check run on one target, or on several: what every renderer consumes.

    Attributes
    ----------
    target : str
        What was checked, e.g. ``"student.py:target (examples as rows)"``; for several targets,
        e.g. ``"3 targets"``.
    config : dict
        The :class:`gradcheck.config.CheckConfig` the checks ran with, as a dict.
    outcomes : list of CheckOutcome
        In run order (empty for a run over several targets: see ``targets``).
    environment : dict
        Where and when it ran (:func:`gradcheck.frontends.environment.collect_environment`),
        filled by front ends.
    training : dict
        Training curves shown with the results (``gradcheck report`` of the reference network):
        run name -> curves, see :func:`training_curves`.
    targets : list of SuiteResult
        A run over several targets: each target's own suite, in the order given. A target that
        could not be checked has one outcome of group ``"target"`` and status ``"error"``.
    worker : dict or None
        For one target of several: how its worker process ended (``status``, ``message``,
        ``seconds``, ``exit_code``, ``signal``, ``output``: the end of what it printed).
    """

    target: str
    config: dict[str, Any] = field(default_factory=dict)
    outcomes: list[CheckOutcome] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    training: dict[str, dict[str, list]] = field(default_factory=dict)
    targets: list[SuiteResult] = field(default_factory=list)
    worker: dict[str, Any] | None = None

    @property
    def verdict(self):
        """The one verdict (:func:`gradcheck.results.verdict.suite_verdict`): status, headline,
        failing subjects, exit code; every front end shows this one."""
        from gradcheck.results.verdict import suite_verdict

        return suite_verdict(self)

    @property
    def passed(self) -> bool:
        return self.verdict.status == "passed"

    @property
    def failed(self) -> list[str]:
        """Names of the checks that failed or could not run (of every target, for several)."""
        own = [o.name for o in self.outcomes if not o.passed]
        return own + [name for suite in self.targets for name in suite.failed]

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.findings]

    def group(self, name: str) -> list[CheckOutcome]:
        """The outcomes of one group (``"gradients"`` or ``"probes"``), in run order."""
        return [o for o in self.outcomes if o.group == name]

    def __getitem__(self, name: str) -> CheckOutcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(f"no check named {name!r}; ran {[o.name for o in self.outcomes]}")

    def to_dict(self) -> dict[str, Any]:
        verdict = self.verdict
        return json_safe({
            "format_version": JSON_FORMAT_VERSION,
            "kind": "suite",
            "target": self.target,
            "verdict": verdict.to_dict(),
            "passed": verdict.status == "passed",
            "failed": self.failed,
            "config": dict(self.config),
            "checks": [o.to_dict() for o in self.outcomes],
            "environment": dict(self.environment),
            "training": dict(self.training),
            "targets": [suite.to_dict() for suite in self.targets],
            "worker": self.worker,
        })

    @classmethod
    def from_dict(cls, data: Any) -> SuiteResult:
        """The suite :meth:`to_dict` wrote: ``json.load`` of the JSON of ``gradcheck check``,
        ``probe`` or ``report``, of a run over several targets, or of the pytest plugin's."""
        data = check_format(data, "suite")
        try:
            return cls(target=str(data["target"]), config=dict(data.get("config") or {}),
                       outcomes=[CheckOutcome.from_dict(o) for o in data.get("checks") or []],
                       environment=dict(data.get("environment") or {}),
                       training=dict(data.get("training") or {}),
                       targets=[cls.from_dict(t) for t in data.get("targets") or []],
                       worker=data.get("worker"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InvalidArgumentError):
                raise
            raise InvalidArgumentError(
                "data", f"is not a suite document this version of gradcheck wrote "
                f"({type(exc).__name__}: {exc})",
                "Pass the dict loaded from a gradcheck JSON file, unchanged.") from None

    def __str__(self) -> str:
        return _text(self)

    def _repr_html_(self) -> str | None:
        return _html(self)
