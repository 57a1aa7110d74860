"""Shrinking: a function-pair layer whose gradient fails with no cause named is checked again on
smaller versions of its kind's example arguments, and the size that makes the error vanish names
the cause.

The smaller versions (:data:`gradcheck.adapters.layer_examples.SMALLER`) each take one thing
away: several time steps, a kernel wider than one entry, several window positions and examples,
an index used twice, windows that overlap. What a parameter's error does there is evidence the
full-size numbers do not give:

- right with one time step, wrong with several, while every other argument fails at full size:
  the gradient carried from later steps back to earlier ones is missing or wrong (the recurrent
  term). While some other argument's gradient is right on every entry at full size (the gradient
  reaching every step is right), the parameter's per-step contributions are right but are not
  added up over the steps (``=`` where ``+=`` belongs). When neither is known (only a sample of
  the other arguments' entries was checked), nothing is named;
- right with a 1x1 kernel, wrong with k x k: the kernel's indexing or orientation;
- right with one channel, wrong with several: the channel axis merged with others before it
  was moved (a reshape without its transpose);
- right with one window position (or no index used twice), wrong with several, while another
  argument is right: the contributions to one entry are not added up;
- still wrong at the smaller size, where a relation of :mod:`gradcheck.checks.structure` now
  holds (a max's gradient reaching its whole window shows once windows do not overlap): that
  relation's cause.

Rerun only on a failure whose diagnosis named no cause, only for the parameters that failed, at
the small size, every entry, in float64. A smaller version that cannot be run (the forward
raises on it) says nothing. :func:`size_story` is the rule, a pure function; :func:`shrink_failures`
runs the checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from gradcheck.adapters.function_pairs import FunctionLayer, required_parameters
from gradcheck.adapters.layer_examples import Smaller, smaller_arguments
from gradcheck.adapters.layer_problem import LayerProblem
from gradcheck.checks.gradients import check_gradients
from gradcheck.checks.structure import MIN_WITNESSES, Story
from gradcheck.errors import GradcheckError
from gradcheck.results import GradientCheckResult
from gradcheck.results.findings import Finding
from gradcheck.targets.usercode import Named, UserCodeCrash

#: Kinds whose cause a finding at the smaller size may lend the full-size one: relations that
#: hold on many entries. Not ``zero``, ``scale``, ``sign`` or ``reduction``, which a small
#: version can show by chance (a window that reads only padding gets exactly 0).
CAUSE_KINDS = frozenset({"routing", "orientation", "transpose", "label_term", "missing_term",
                         "derivative", "accumulation"})


def size_story(name: str, removes: str, words: str, *, others_pass: bool | None) -> Story | None:
    """What it means that parameter ``name``'s error vanishes once ``removes`` is taken away
    (said as ``words``). ``others_pass``: True when some other checked argument's gradient is
    right on every entry at full size, False when every other one is wrong, None when that is
    not known (no other argument, or only a sample of entries checked). None when the
    vanishing and the others do not decide a cause."""
    if removes == "steps" and others_pass is False:
        return Story(
            "missing_term",
            f"right with {words}, wrong with several, and every argument's gradient is wrong: the "
            "gradient carried back from later time steps to earlier ones is missing or wrong",
            f"Each step's backward must add the gradient arriving from the next step (dh_next, "
            f"dc_next) to the one from its own output before going further back: d{name} misses "
            "that term, or takes it from the wrong step.",
            {"how": "through_time", "removed": removes})
    if (removes in ("steps", "positions") and others_pass is True) or removes == "repeats":
        where, each = {"steps": ("time steps", "time step"),
                       "positions": ("window positions and examples", "window position"),
                       "repeats": ("uses of the same index", "use of an index")}[removes]
        return Story(
            "accumulation",
            f"right with {words}, wrong with several" + (
                ", while the other arguments' gradients are right" if others_pass else "")
            + f": the contributions to each entry of d{name} from several {where} are not added up",
            f"d{name} receives one contribution per {each}: "
            f"add them (d{name} += ..., np.add.at for indices that repeat) rather than assign "
            f"(d{name} = ..., d{name}[idx] += ... with a repeated idx), which keeps only one.",
            {"how": "not_accumulated", "removed": removes})
    if removes == "channels":
        return Story(
            "orientation",
            f"right with {words}, wrong with several: the channel axis is mixed up with the others "
            "(a reshape without the transpose that moves the channels next to it, or a transpose "
            "back in the wrong order)",
            f"Before merging the other axes, move the channels where the reshape expects them "
            f"(x.transpose(0, 2, 3, 1).reshape(-1, C)), and undo it in the same order for d{name} "
            "(reshape(N, H, W, C).transpose(0, 3, 1, 2)).",
            {"how": "channels", "removed": removes})
    if removes == "kernel":
        return Story(
            "orientation",
            f"right with {words}, wrong with a wider kernel: the kernel's indexing or "
            "orientation (flipped, or windows offset)",
            f"The backward reads the kernel, or the input window, at other positions than the "
            f"forward does: compare d{name}'s window indices with the forward's, and flip the "
            "kernel in both passes or in neither.",
            {"how": "kernel", "removed": removes})
    return None


def _lent_story(words: str, finding: Finding) -> Story:
    """The cause a failing finding at the smaller size names, for the full-size finding."""
    meaning = finding.text.partition(" — ")[2] or finding.text
    return Story(finding.kind, f"checked again with {words}: {meaning}", finding.hint,
                 {**finding.data, "seen_with": words})


def _unnamed(report) -> Finding | None:
    """The report's only failing finding when it names no cause (``mismatch``), else None."""
    failing = [f for f in report.findings if f.is_failure]
    return failing[0] if len(failing) == 1 and failing[0].kind == "mismatch" else None


def _small_reports(layer: FunctionLayer, smaller: Smaller, args: dict, names: list[str], seed: int,
                   context_of: Callable) -> tuple[dict, dict] | None:
    """(reports by name, analytic gradients by name) of ``names`` on the smaller arguments, or
    None when the smaller version cannot be run."""
    problem = LayerProblem(layer, args, seed=seed)
    try:
        outputs, cache = problem.outputs(problem.run_forward())
        problem.draw_upstream(outputs)
        problem.learn_names(problem.run_backward(cache))
        grads = problem.gradients()
    except (GradcheckError, UserCodeCrash, ValueError, TypeError, IndexError):
        return None
    if any(name not in problem.params or name not in grads for name in names):
        return None
    params = {name: problem.params[name] for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = check_gradients(Named(problem.loss, "forward"), params,
                                     lambda: {n: problem.gradients()[n] for n in names},
                                     mode="full", seed=seed, **context_of(problem))
        except (GradcheckError, UserCodeCrash):
            return None
    return {report.name: report for report in result.params}, grads


def _vanished(report, analytic) -> bool:
    """Right at the smaller size, on enough entries that carry a gradient to tell."""
    if report is None or not report.passed or report.inconclusive or report.tier == "unchecked":
        return False
    g = np.abs(np.asarray(analytic, dtype=np.float64))
    return int(np.count_nonzero(g > 1e-6 * max(float(g.max(initial=0.0)), 1e-300))) >= MIN_WITNESSES


def shrink_failures(result: GradientCheckResult, layer: FunctionLayer, *, seed: int,
                    context_of: Callable) -> GradientCheckResult:
    """Name the cause of ``result``'s unnamed failures from smaller versions of ``layer``'s
    example arguments (see the module docstring); ``context_of(problem)`` gives the diagnosis
    context of a :class:`LayerProblem`. The result's reports change only through ``fail`` and
    ``forget``; a layer with arguments of its own is left as it is."""
    if layer.args is not None:
        return result
    unnamed = {report.name: finding for report in result.params
               if (finding := _unnamed(report)) is not None}
    if not unnamed:
        return result
    required = required_parameters(layer.forward) or []
    # an argument right on every entry (a sample of entries could miss its wrong ones), and the
    # arguments that failed
    passing = {report.name for report in result.params
               if report.passed and report.mode == "full" and report.n_checked == int(np.prod(report.shape))}
    failing = {report.name for report in result.params if not report.passed}
    names = {report.name for report in result.params}
    stories: dict[str, Story] = {}
    for smaller, args in smaller_arguments(layer.kind, required, seed=seed, dtype=np.float64):
        left = [name for name in unnamed if name not in stories]
        if not left:
            break
        small = _small_reports(layer, smaller, args, left, seed, context_of)
        if small is None:
            continue
        reports, grads = small
        for name in left:
            report = reports.get(name)
            if _vanished(report, grads.get(name)):
                others = names - {name}
                story = size_story(name, smaller.removes, smaller.words,
                                   others_pass=True if others & passing else
                                   False if others and others <= failing else None)
            elif report is not None and not report.passed and report.failing_kinds[0] in CAUSE_KINDS:
                story = _lent_story(smaller.words, next(f for f in report.findings if f.is_failure))
            else:
                story = None
            if story is not None:
                stories[name] = story
    for report in result.params:
        story = stories.get(report.name)
        if story is None:
            continue
        old = unnamed[report.name]
        numbers, _, where = old.text.partition(" — ")
        report.forget(lambda f, old=old: f is old)
        report.fail(Finding(kind=story.kind, subject=old.subject,
                            text=f"{numbers} — {where}; {story.meaning}", hint=story.hint,
                            data={**old.data, **story.data, "shrunk": True}))
    return result
