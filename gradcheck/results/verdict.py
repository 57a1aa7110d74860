"""The one verdict: what a suite (or one gradient check) says, in one place for every front end.

:func:`suite_verdict` turns a :class:`~gradcheck.results.model.SuiteResult` into its status,
its headline and its failing subjects; the terminal's last line, the HTML banner, the JSON's
``verdict``, the pytest plugin's summary line, the several-targets rows and the notebook all show
it, so no two of them can disagree. The headline leads with what is wrong: the parameters whose
gradients fail (with the checks that failed them), then the probes that fail, then the checks
that could not run.

Statuses, and the exit code each gives:

- ``passed`` (0): every check ran and passed, or did not apply (skipped, with the reason);
- ``failed`` (1): a check found a bug; it stands whatever else could not run or judge;
- ``not_checked`` (2): no check failed, but one or more could not run, so nothing was shown;
- ``inconclusive`` (3): every check ran and none failed, but one or more could not judge
  something decisive (a parameter whose gradients are all below the loss's rounding, say): the
  headline names what, and what would let it judge (float64, a larger batch, a larger step).

Over several targets a target that could not be checked is never hidden behind another's failure:
the run is ``not_checked`` when any target is, else ``failed`` when any failed, else
``inconclusive`` when any could not judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcheck.text import printable

#: Status -> exit code of the command line.
EXIT_CODES = {"passed": 0, "failed": 1, "not_checked": 2, "inconclusive": 3}
#: Status -> the word a headline starts with.
WORDS = {"passed": "PASSED", "failed": "FAILED", "not_checked": "COULD NOT CHECK",
         "inconclusive": "INCONCLUSIVE"}
#: Status -> how a row of several targets says it.
LABELS = {"passed": "passed", "failed": "failed", "not_checked": "not checked",
          "inconclusive": "inconclusive"}

#: Finding kinds that stop a gradient check before any comparison, with how its last line starts
#: and the sentence that says why (``{subjects}`` lists the findings' subjects); looked up in
#: this order. A loss that is not repeatable or code that moves the parameters was never a fair
#: comparison ("could not check"); a backward that raises is the bug itself ("FAILED").
UNFAIR: dict[str, tuple[str, str]] = {
    "nondeterministic": ("could not check", (
        "the loss is not repeatable (two calls at the same parameters gave {first} and {second}); "
        "fix the seed of any dropout or noise, or pass a deterministic loss")),
    "mutation": ("could not check", (
        "calling the code changed {subjects}; finite differences need a loss and gradients that "
        "leave the parameters alone")),
    "exception": ("FAILED", "the gradients could not be computed ({subjects} raised); the "
                  "exception above is the bug"),
}


@dataclass(frozen=True)
class Verdict:
    """What a suite says, once.

    Attributes
    ----------
    status : str
        ``"passed"``, ``"failed"``, ``"not_checked"`` or ``"inconclusive"`` (see the module's
        docstring).
    headline : str
        One line, e.g. ``"FAILED: wrong gradient for b2 (check_gradients_batch20,
        check_gradients_batch_missing_classes); 1 of 6 stability probes failed: learning rate"``.
    wrong_gradients : tuple of str
        Parameters whose gradient a check failed, each once, in run order; a layer check's are
        prefixed with the layer (``"layer1_dense.W"``).
    failing_probes : tuple of str
        Subjects of the stability probes that failed.
    not_run : tuple of str
        Checks that could not run (or targets that could not be checked).
    skipped : tuple of str
        Checks that do not apply to this target.
    failing_kinds : tuple of str
        Kinds of the findings that fail it, each once.
    undecided : tuple of str
        What could not be judged: parameters (prefixed with the layer, as ``wrong_gradients``)
        and probe subjects, each once; a run over several targets lists the targets.
    """

    status: str
    headline: str
    wrong_gradients: tuple[str, ...] = ()
    failing_probes: tuple[str, ...] = ()
    not_run: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failing_kinds: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    undecided: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def word(self) -> str:
        """``PASSED``, ``FAILED``, ``COULD NOT CHECK`` or ``INCONCLUSIVE``."""
        return WORDS[self.status]

    @property
    def label(self) -> str:
        """``passed``, ``failed``, ``not checked`` or ``inconclusive``: a target's verdict in a
        row of several."""
        return LABELS[self.status]

    @property
    def reason(self) -> str:
        """The headline after its status word; empty for a pass (a row needs no reason)."""
        return "" if self.status == "passed" else self.headline.split(": ", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "headline": self.headline, "exit_code": self.exit_code,
                "wrong_gradients": list(self.wrong_gradients),
                "failing_probes": list(self.failing_probes), "not_run": list(self.not_run),
                "skipped": list(self.skipped), "failing_kinds": list(self.failing_kinds),
                "inconclusive": list(self.undecided), "counts": dict(self.counts)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _names(names) -> str:
    return ", ".join(printable(n) for n in names)


def _unfair(findings) -> tuple[str, str] | None:
    """(how the line starts, why) for a gradient check stopped before any comparison, else None."""
    for kind, (start, sentence) in UNFAIR.items():
        # handed-out gradient arrays overwritten later are the network's bug, not an unfair check
        of_kind = [f for f in findings if f.kind == kind and not f.data.get("handed_out")]
        if of_kind:
            data = of_kind[0].data
            number = lambda v: "?" if v is None else f"{float(v)!r}"  # noqa: E731
            return start, sentence.format(subjects=_names(dict.fromkeys(f.subject for f in of_kind)),
                                          first=number(data.get("first")),
                                          second=number(data.get("second")))
    return None


#: Finding kind -> the few words a suite's headline gives a gradient check it stopped.
STOPPED = {"nondeterministic": "the loss is not repeatable", "mutation": "the code moves {subjects}",
           "exception": "the gradients raised"}
#: How a headline says gradient arrays were overwritten after they were handed out.
HANDED_OUT = "the gradient arrays returned for {subjects} change when the loss runs again"


def _stopped_phrase(failures) -> str:
    handed_out = [f for f in failures if f.data.get("handed_out")]
    if handed_out and len(handed_out) == len(failures):
        return HANDED_OUT.format(subjects=_names(dict.fromkeys(f.subject for f in handed_out)))
    for kind, phrase in STOPPED.items():
        of_kind = [f for f in failures if f.kind == kind and not f.data.get("handed_out")]
        if of_kind:
            return phrase.format(subjects=_names(dict.fromkeys(f.subject for f in of_kind)))
    return "the gradient check failed on " + _names(dict.fromkeys(f.subject for f in failures))


def _remedy(findings) -> str:
    """What would let the inconclusive ``findings`` judge: the first one's remedy."""
    return next((f.remedy for f in findings if f.inconclusive), "")


def gradient_verdict(result) -> str:
    """The last line of one gradient check's text, e.g. ``"FAILED: wrong gradient for W1"``."""
    if result.passed and result.inconclusive:
        undecided = result.undecided
        judged = len(result.params) - sum(p.name in undecided for p in result.params)
        return (f"INCONCLUSIVE: could not judge {_names(undecided)} ({judged} of "
                f"{_plural(len(result.params), 'parameter')} agree with finite differences); "
                f"{_remedy(result.findings)}")
    if result.passed:
        return f"PASSED: all {len(result.params)} parameters agree with finite differences"
    unfair = _unfair([f for f in result.findings if f.is_failure])
    if unfair is not None:
        return f"{unfair[0]}: {unfair[1]}"
    if result.failed:
        return f"FAILED: wrong gradient for {_names(result.failed)}"
    handed_out = [f for f in result.check_findings if f.is_failure and f.data.get("handed_out")]
    if handed_out:
        return "FAILED: " + HANDED_OUT.format(subjects=_names(dict.fromkeys(f.subject for f in handed_out)))
    whole = [printable(f.subject) for f in result.check_findings if f.is_failure]
    kinds = ", ".join(dict.fromkeys(f.kind for f in result.check_findings if f.is_failure))
    return f"FAILED: {', '.join(whole) or 'the check'}" + (f": {kinds}" if kinds else "")


def _qualified(outcome, name: str) -> str:
    subject = outcome.subject
    return name if subject in ("", "network") else f"{subject}.{name}"


def suite_verdict(suite) -> Verdict:
    """The verdict of a :class:`~gradcheck.results.model.SuiteResult` (of one target or several)."""
    if suite.targets:
        return _targets_verdict(suite)
    wrong: dict[str, list[str]] = {}  # parameter -> checks that failed it
    probes: list[str] = []
    whole: list[str] = []  # gradient checks that failed on no parameter (unfair, or whole-check)
    not_run, skipped, kinds = [], [], []
    undecided: dict[str, list[str]] = {}  # subject -> checks that could not judge it
    remedies: list[str] = []
    for outcome in suite.outcomes:
        if outcome.status == "skipped":
            skipped.append(outcome.name)
        elif outcome.status == "error":
            not_run.append(outcome.name)
        elif outcome.status == "inconclusive":
            result = outcome.result
            subjects = ([_qualified(outcome, s) for s in result.undecided]
                        if outcome.group == "gradients" else [result.subject or outcome.name])
            for subject in subjects:
                undecided.setdefault(subject, []).append(outcome.name)
            remedies.append(_remedy(result.findings))
        elif outcome.status == "failed":
            result = outcome.result
            kinds += [f.kind for f in result.findings if f.is_failure]
            if outcome.group == "gradients" and getattr(result, "params", None) is not None:
                names = [_qualified(outcome, p) for p in result.failed]
                for name in names:
                    wrong.setdefault(name, []).append(outcome.name)
                if not names:
                    whole.append(outcome.name)
            else:
                probes.append(getattr(result, "subject", None) or outcome.name)
    n = len(suite.outcomes)
    n_probes = sum(o.group == "probes" for o in suite.outcomes)
    parts = []
    if wrong:
        checks = list(dict.fromkeys(c for cs in wrong.values() for c in cs))
        parts.append(f"wrong gradient for {_names(wrong)} ({', '.join(checks)})")
    stopped: dict[str, list[str]] = {}  # why a gradient check stopped -> the checks it stopped
    for name in whole:
        failures = [f for f in suite[name].result.findings if f.is_failure]
        stopped.setdefault(_stopped_phrase(failures), []).append(name)
    parts += [f"{phrase} ({', '.join(names)})" for phrase, names in stopped.items()]
    if probes:
        parts.append(f"{len(probes)} of {_plural(n_probes, 'stability probe')} failed: {_names(probes)}")
    if not_run and all(suite[name].group == "target" for name in not_run):
        # the target itself could not be used (it did not load, its worker ended): say only why
        parts += [printable((suite[name].error or "an error").splitlines()[0]) for name in not_run]
    elif not_run:
        first = suite[not_run[0]]
        error = printable((first.error or "").splitlines()[0] if first.error else "an error")
        parts.append(f"{_plural(len(not_run), 'check')} could not run ({not_run[0]}: {error}"
                     + (f"; also {', '.join(not_run[1:])}" if len(not_run) > 1 else "") + ")")
    if undecided:
        checks = list(dict.fromkeys(c for cs in undecided.values() for c in cs))
        remedy = next((r for r in remedies if r), "")
        parts.append(f"could not judge {_names(undecided)} ({', '.join(checks)})"
                     + (f": {remedy}" if remedy else ""))
    status = ("failed" if (wrong or whole or probes) else "not_checked" if not_run
              else "inconclusive" if undecided else "passed")
    if not n:
        status, parts = "not_checked", ["no check was run"]
    if status == "passed":
        ran = n - len(skipped)
        head = f"all {_plural(n, 'check')}" if not skipped else f"{ran} of {_plural(n, 'check')}"
        parts = [f"{head} of {printable(suite.target)}"
                 + (f", {len(skipped)} skipped: {', '.join(skipped)}" if skipped else "")]
    counts = {"checks": n, "failed": sum(o.status == "failed" for o in suite.outcomes),
              "not_run": len(not_run), "skipped": len(skipped),
              "inconclusive": sum(o.status == "inconclusive" for o in suite.outcomes)}
    return Verdict(status, f"{WORDS[status]}: " + "; ".join(parts), tuple(wrong), tuple(probes),
                   tuple(not_run), tuple(skipped), tuple(dict.fromkeys(kinds)), counts,
                   undecided=tuple(undecided))


def _targets_verdict(suite) -> Verdict:
    verdicts = [child.verdict for child in suite.targets]
    by = {status: [child.target for child, v in zip(suite.targets, verdicts) if v.status == status]
          for status in EXIT_CODES}
    status = ("not_checked" if by["not_checked"] else "failed" if by["failed"]
              else "inconclusive" if by["inconclusive"] else "passed")
    n = len(suite.targets)
    headline = (f"{WORDS[status]}: {_plural(n, 'target')}: {len(by['passed'])} passed, "
                f"{len(by['failed'])} failed, {len(by['not_checked'])} could not be checked"
                + (f", {len(by['inconclusive'])} inconclusive" if by["inconclusive"] else ""))
    kinds = tuple(dict.fromkeys(k for v in verdicts for k in v.failing_kinds))
    return Verdict(status, headline, (), (), tuple(by["not_checked"]), (), kinds,
                   {"targets": n, "passed": len(by["passed"]), "failed": len(by["failed"]),
                    "not_checked": len(by["not_checked"]), "inconclusive": len(by["inconclusive"])},
                   undecided=tuple(by["inconclusive"]))


__all__ = ["EXIT_CODES", "UNFAIR", "Verdict", "gradient_verdict", "suite_verdict"]
