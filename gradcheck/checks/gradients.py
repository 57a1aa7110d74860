"""The main entry point, :func:`check_gradients` (``check_layer`` is in :mod:`gradcheck.checks.layers`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.checks.budget import refuse_if_too_slow
from gradcheck.checks.diagnosis import CodeContext, diagnose_shape, reused_buffer_findings
from gradcheck.checks.entries import ParamChecker, select_indices
from gradcheck.checks.evaluation import UNPERTURBED, LossEvaluator, as_scalar
from gradcheck.checks.integrity import (
    CRASH_NOTE,
    IMPURE_NOTE,
    ArrayGuard,
    mutation_findings,
    nondeterminism_finding,
)
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.inmemory import InMemory
from gradcheck.numeric.model import least_precise, precision_of, smallest_step, tolerance_for
from gradcheck.numeric.parallel import ParallelDifferences
from gradcheck.options import LAYOUTS
from gradcheck.results import GradientCheckResult, ParamReport
from gradcheck.results.findings import Finding
from gradcheck.targets.usercode import UserCodeCrash, call_user
from gradcheck.threads import under_one_blas_thread
from gradcheck.validation import (
    require_callable,
    resolve_grads,
    shared_memory_pairs,
    validate_entries,
    validate_grads,
    validate_options,
    validate_params,
    validate_step,
)

#: Default of ``max_seconds``: a check estimated to take longer is refused before it starts.
MAX_SECONDS = 300.0


def _unchecked(name, array, findings=()) -> ParamReport:
    return ParamReport(
        name=name, shape=tuple(array.shape), dtype=array.dtype.name, mode="none", n_checked=0,
        max_abs_error=float("nan"), max_rel_error=float("nan"), worst_index=None,
        worst_analytic=None, worst_numeric=None, tier="unchecked",
        findings=list(findings),
    )


def _align(name, analytic, array, context: CodeContext):
    """Bring an analytic gradient to its parameter's shape: (aligned or None, ShapeMismatch or None)."""
    if analytic.shape == array.shape:
        return analytic, None
    mismatch = diagnose_shape(name, analytic.shape, array.shape, context)
    return mismatch.align(analytic, array.shape), mismatch


def _refuse_unread(memory: InMemory, loss) -> None:
    """A file-backed parameter was swapped for a copy: the loss must read the copy, or the check
    would compare the gradient with a loss that does not move."""
    try:
        f0 = as_scalar(call_user(loss, call="loss"))
        if as_scalar(call_user(loss, call="loss")) != f0:
            return  # not repeatable: the check itself says so
        for name in memory.names:
            copy = memory.params[name]
            saved = copy.copy()
            direction = np.random.default_rng(0).standard_normal(copy.shape)  # no constant shift
            try:
                copy += (1e-3 * direction * np.maximum(1.0, np.abs(saved))).astype(copy.dtype)
                moved = as_scalar(call_user(loss, call="loss"))
            finally:
                np.copyto(copy, saved)
            if moved == f0:
                raise InvalidArgumentError(
                    f"params[{name!r}]", "maps a file; gradcheck checks an in-memory copy of it so as "
                    "never to write into the file, and the loss does not read that copy (it reaches "
                    "the file's array some other way).",
                    "Have the loss read its arrays through the params mapping you pass, or open the "
                    "file with np.load(path, mmap_mode='c') (copy-on-write), which gradcheck moves in place.")
    except (UserCodeCrash, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidArgumentError) and exc.argument.startswith("params["):
            raise
        return  # the check reports what the loss does


def _on_in_memory_copies(check):
    """``check(loss, params, grads, **options)`` with every parameter that maps a file swapped
    for an in-memory copy while it runs (:class:`InMemory`), and the user's references put back."""

    @functools.wraps(check)
    def checked(loss, params, grads, **options):
        with InMemory(params, loss, grads) as memory:
            if memory.names:
                _refuse_unread(memory, loss)
            return check(loss, params, grads, **options)

    return checked


@under_one_blas_thread
@_on_in_memory_copies
def check_gradients(
    loss: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads,
    *,
    mode: str = "full",
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    samples: int | None = None,
    seed: int = 0,
    method: str = "central",
    directions: int = 3,
    batch_size: int | None = None,
    per_example: bool = False,
    reduction: str | None = None,
    layout: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_seconds: float | None = MAX_SECONDS,
    jobs=None,
    entries: Mapping[str, np.ndarray] | None = None,
    penalties=(),
    layer: Mapping | None = None,
) -> GradientCheckResult:
    """Compare analytic gradients with finite differences, and explain every disagreement.

    Parameters
    ----------
    loss : callable () -> float
        Returns the scalar loss for the *current contents* of the arrays in ``params``.
    params : mapping str -> float ndarray
        The very arrays ``loss`` reads. They are perturbed in place, one entry at a time, and
        every one is restored bit for bit before this function returns or raises. An array that
        maps a file (``np.memmap`` opened ``r+``, shared memory) is never written: it is swapped
        for an in-memory copy in ``params`` and wherever ``loss`` and ``grads`` reach it, for the
        check only (see :mod:`gradcheck.numeric.inmemory`); a loss that does not read the copy
        is refused.
    grads : mapping str -> ndarray, or callable () -> mapping
        The analytic gradients under test (same names; ideally same shapes).
    mode : {"full", "sample", "directional"}
        Every entry (2 loss calls each); ``samples`` random entries per parameter; or
        ``directions`` random projections per parameter (2 calls each), with a small entry-wise
        follow-up only on parameters that fail.
    eps : float, optional
        Relative step: entry x moves by eps * max(1, |x|). Default cbrt(machine eps) of the
        dtype (6.1e-6 for float64, 4.9e-3 for float32).
    rtol, atol : float, optional
        An entry passes when |a - n| <= atol + rtol * max(|a|, |n|). Defaults by dtype
        (float64: 1e-4 and 1e-8; float32: 2e-2 and 1e-4), atol raised to the loss's rounding
        noise when that is larger.
    samples : int, optional
        Entries per parameter in "sample" mode (default 16).
    seed : int
        Seeds the sampled entries and directions; results are deterministic per seed.
    method : {"central", "richardson"}
        Central differences, or Richardson extrapolation of two central differences (4 calls
        per entry, error O(h^4)).
    directions : int
        Random directions per parameter in "directional" mode (default 3).
    batch_size : int, optional
        Examples in the batch the loss averages over: a gradient off by exactly this factor is
        reported as a missing 1/m (the command line and the plugin always pass it).
    per_example : bool
        The gradients come from code that sees one example at a time (a per-sample
        ``backprop(x, y)``): hints then speak of no examples axis and no 1/m.
    reduction : {"mean", "sum"}, optional
        How the loss reduces over the examples, when known: a hint about a 1/m says which side
        to change.
    layout : {"rows", "columns"}, optional
        Where the examples are in X: hints name that layout's formulas only.
    progress : callable (done, total), optional
        Called as entries are checked (e.g. to drive a progress bar).
    max_seconds : float or None
        Refuse a check estimated to take longer than this (default 300 s), with an error that
        says how long it would take and suggests a cheaper mode. The estimate is the time of
        one loss evaluation (the faster of the first two) times the evaluations the mode needs
        (2 per entry in full mode). None turns the guard off.
    jobs : int, concurrent.futures.Executor or None
        Worker processes for the entry-wise differences: N, or -1 for one per core; each
        perturbs its own copy of the parameters, the results are a serial run's, bit for bit.
        An Executor (e.g. dask.distributed's ``client.get_executor()``) runs them wherever it
        sends tasks. None or 1: in this process. See :mod:`gradcheck.numeric.parallel`.
    entries : mapping str -> int array, optional
        Flat indices to check, per parameter, in place of the ones ``mode`` picks ("full" and
        "sample" modes); parameters not named are checked as ``mode`` says.
    penalties : sequence of (parameter, "l2" or "l1", strength, where), optional
        Penalty strengths the code holds, e.g. ``[("W1", "l2", 5e-4, "dense1.weight_regularizer_l2")]``
        (the ``layer_objects`` adapter finds them): a gradient off by exactly a penalty's
        gradient is named as that term, in the code's words.
    layer : mapping, optional
        What a function-pair layer's check knows about the layer, for the diagnosis: its
        ``kind`` and ``name``, and the ``roles`` of the forward's arguments (``"checked"``,
        ``"integer indices"``, ``"a mask"``, ``"settings"``...); ``check_layer`` names its input
        ``"input"`` (examples first, then the positions and channels the layer runs over).

    Returns
    -------
    GradientCheckResult
        ``.passed``, ``.failed``, ``.params`` (one report per parameter), ``.findings``,
        ``.to_dict()``; ``str(result)`` is a readable table.

    Raises
    ------
    InvalidArgumentError
        A bad argument, or a loss that does not return a finite scalar at the unperturbed
        parameters (the message names the argument and says what to do).
    CheckTooSlowError
        The check would take longer than ``max_seconds``; nothing was perturbed.
    UserCodeError
        ``loss`` raised; the original exception is chained. KeyboardInterrupt and other
        non-Exception errors propagate unchanged. Either way every array in ``params`` is
        restored bit for bit first.

    An exception raised by ``grads`` is not an error of the call: it is the bug being looked
    for, so the result fails with an ``exception`` finding naming the exception, the user's
    file and line, and the shapes of the arrays on that line.
    """
    require_callable(loss, "loss")
    validate_options(mode=mode, eps=eps, rtol=rtol, atol=atol, samples=samples, seed=seed,
                     method=method, directions=directions, batch_size=batch_size,
                     progress=progress, max_seconds=max_seconds)
    context = code_context(batch_size=batch_size, per_example=per_example, reduction=reduction,
                           layout=layout, penalties=penalties, layer=layer)
    if progress is not None:
        progress = _guarded_progress(progress)
    params = validate_params(params)
    entries = validate_entries(entries, params, mode)
    dtypes = {arr.dtype for arr in params.values()}
    dtype = least_precise(dtypes)  # the least precise one sets the bar
    validate_step(eps, dtype)
    tol = tolerance_for(dtype, rtol=rtol, atol=atol)
    rng = np.random.default_rng(seed)
    evaluate = LossEvaluator(loss)
    # a loss in another process evaluates its entries there, many per round trip: no forks here
    parallel = ParallelDifferences(evaluate, params, None if hasattr(loss, "entry_values") else jobs)
    notes = [_shared_memory_note(first, second) for first, second in shared_memory_pairs(params)]
    check_findings: list[Finding] = []
    with ArrayGuard(params) as guard:
        try:
            f0 = evaluate()
            guard.unchanged_by("loss")
            f0_again = evaluate()
            guard.unchanged_by("loss")
            finding = nondeterminism_finding(f0, f0_again)
            if finding is not None:
                guard.stop([finding])
            if not np.isfinite(f0):
                raise InvalidArgumentError(
                    "loss", f"returned {f0} at the unperturbed parameters, expected a finite number.",
                    "Gradients cannot be checked where the loss is NaN/inf; check the inputs and "
                    "the parameters first.",
                )
            sizes = [len(entries[name]) if name in entries else arr.size for name, arr in params.items()]
            refuse_if_too_slow(evaluate.seconds_per_call, sizes, mode=mode,
                               method=method, samples=samples, directions=directions, max_seconds=max_seconds,
                               retime=evaluate.retime, workers=parallel.workers)
            try:
                returned = call_user(resolve_grads, grads, call="gradients")
            except UserCodeCrash as crash:
                # The user's own backward raising is the bug report, not an unusable target.
                guard.stop([crash.crash.finding("gradients")], CRASH_NOTE)
            analytic = validate_grads(returned, params)
            guard.unchanged_by("grads")
            # judged by the precision the loss computes in, measured, not by the parameters' dtype
            precisions = evaluate.precisions(params, analytic, f0)
            guard.unchanged_by("loss")
            precision = least_precise(p.dtype for p in precisions.values())
            tol = tolerance_for(precision, rtol=rtol, atol=atol)
            notes.extend(_precision_notes(params, precisions))
            grad_dtypes = {name: precision_of(returned.get(name)) for name in params
                           if isinstance(returned.get(name), np.ndarray)} if hasattr(returned, "get") else {}
            reports = _check_each(params, analytic, evaluate, f0, tol, eps, method, atol, context,
                                  parallel, mode, samples, directions, rng, progress, entries,
                                  precisions, grad_dtypes, rtol)
            # Every perturbation was undone entry by entry, so anything still different was
            # written by the user's code while the differences ran.
            changed = guard.changed()
            if not changed and any(not report.passed for report in reports):
                check_findings.extend(_drift_finding(evaluate, f0))
                changed = guard.changed()
            _flag_mutation(reports, changed)
            check_findings.extend(_nonfinite_warning(evaluate, reports))
            check_findings.extend(reused_buffer_findings(returned, analytic))
        finally:
            parallel.close()
    if guard.stopped is not None:
        return unrun_result(params, guard.stopped.findings, mode, method, seed, tol, evaluate.calls,
                            note=guard.stopped.note)
    return GradientCheckResult(
        params=reports, mode=mode, method=method, seed=seed, rtol=tol.rtol,
        atol=tol.atol if atol is None else float(atol), dtype=np.dtype(dtype).name,
        n_loss_evals=evaluate.calls, check_findings=check_findings, notes=notes + parallel.notes,
        precision=np.dtype(precision).name,
    )




def _precision_notes(params, precisions) -> list[str]:
    """What the check was judged by, for the parameters narrower than float64."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, array in params.items():
        if array.dtype != np.float64:
            groups.setdefault((array.dtype.name, precisions[name].name), []).append(name)
    notes = []
    for (dtype, judged), names in groups.items():
        sigmas = [precisions[n].sigma for n in names if precisions[n].sigma is not None]
        measured = f" (measured rounding up to {max(sigmas):.2g})" if sigmas else ""
        rtol = tolerance_for(np.dtype(judged)).rtol
        which = f" {', '.join(names)}" if len(names) < len(params) else ""
        if judged != dtype:
            notes.append(f"parameters{which} are {dtype}, but the loss computes in {judged} along "
                         f"them{measured}: judged by {judged}'s tolerance (rtol {rtol:g})")
        else:
            notes.append(f"parameters{which} are {dtype} and so is the loss along them{measured}: "
                         f"tolerances are set for its precision (rtol {rtol:g}); check in float64 "
                         "for a tighter bound")
    return notes


def _check_each(params, analytic, evaluate, f0, tol, eps, method, atol, context, parallel, mode,
                samples, directions, rng, progress, entries, precisions=None,
                grad_dtypes=None, rtol=None) -> list[ParamReport]:
    """Finite differences for every parameter, each report carrying its shape finding if any."""
    checker = ParamChecker(
        evaluate, f0, tol, tol.step_base if eps is None else float(eps), method, atol, context,
        evaluate.at, parallel, grad_dtypes=grad_dtypes, peers=params, peer_gradients=analytic,
    )
    reports = []
    total = sum(len(entries[n]) if n in entries else a.size for n, a in params.items()) \
        if mode == "full" else len(params)
    done = 0
    for name, array in params.items():
        if precisions is not None:
            # each parameter judged by the precision the loss has along it, at a step its own
            # dtype can take
            judged = tolerance_for(precisions[name].dtype, rtol=rtol, atol=atol)
            step = judged.step_base if eps is None else float(eps)
            checker.use(judged, max(step, smallest_step(array.dtype)) if eps is None else step,
                        precisions[name])
        aligned, mismatch = _align(name, analytic[name], array, context)
        if aligned is None:
            reports.append(_unchecked(name, array, [mismatch.finding()]))
            continue
        scalar = mismatch is not None and mismatch.how == "broadcast"
        if mode == "directional":
            report = checker.check_directional(name, array, aligned, rng, directions, scalar)
        else:
            indices = entries[name] if name in entries else select_indices(array.size, mode, samples, rng)
            on_entry = None
            if progress is not None and mode == "full":
                base = done
                on_entry = lambda k, base=base: (k % 256 == 255) and progress(base + k + 1, total)  # noqa: E731
            report = checker.check_entries(name, array, aligned, indices, mode, on_entry, scalar)
        if mismatch is not None and mismatch.reshaping is not None and not report.passed:
            # values compared through a guessed alignment say nothing when they disagree
            report = _unchecked(name, array, [mismatch.finding()])
        elif mismatch is not None:
            finding = mismatch.finding(values_right=report.passed)
            if not finding.is_failure:
                # singleton axes only, and the update keeps the parameter's shape: said, not failed
                report.note(finding)
            elif not (mismatch.how == "broadcast" and "reduction" in report.failing_kinds):
                # a broadcast bias whose values show the reduction needs no second finding
                report.fail(finding)
        reports.append(report)
        done += (len(entries[name]) if name in entries else array.size) if mode == "full" else 1
        if progress is not None:
            progress(done, total)
    return reports


def _guarded_progress(progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
    """``progress`` through the one guarded call: if it raises, the check stops with an error
    naming ``progress`` (the parameters are restored on the way out)."""
    return lambda done, total: call_user(progress, done, total, call="progress")


def _shared_memory_note(first: str, second: str) -> str:
    return (f"params[{first!r}] and params[{second!r}] share memory: moving an entry of one moves "
            "the other, so each difference is the derivative through both names; pass separate "
            "arrays to check each on its own")


def _flag_mutation(reports: list[ParamReport], changed: list[str]) -> None:
    """Fail the parameters the loss wrote into while finite differences were running."""
    findings = {f.subject: f for f in mutation_findings(changed, "loss", when="during the finite differences")}
    for report in reports:
        if report.name in findings:
            report.fail(findings[report.name])


def _drift_finding(evaluate: LossEvaluator, f0: float) -> list[Finding]:
    """After a failing check, one more call at the start point: did the loss itself drift?"""
    evaluate.at(UNPERTURBED)
    f_end = evaluate()
    finding = nondeterminism_finding(f0, f_end)
    if finding is None:
        return []
    return [Finding(kind="nondeterministic", subject="loss", hint=finding.hint, data=finding.data,
                    text=f"loss: {f0!r} at the start of the check and {f_end!r} at its end, at the "
                    "same parameters — the failures above may come from the loss changing, not from "
                    "the gradients")]


def _nonfinite_warning(evaluate: LossEvaluator, reports: list[ParamReport]) -> list[Finding]:
    """Say so when the loss returned NaN/inf at some call, unless a parameter's finding already does."""
    if not evaluate.nonfinite_calls:
        return []
    if any(f.kind == "nonfinite" for report in reports for f in report.findings):
        return []
    return [Finding(
        kind="nonfinite", subject="loss", severity="warning",
        text=f"loss: returned NaN or inf on {evaluate.nonfinite_calls} of {evaluate.calls} calls "
        f"(first: {evaluate.first_nonfinite}); a smaller step gave finite values there",
        hint="The loss is on the edge of overflow or log(0) near these parameters, or it does not "
        "depend on the parameters alone; a stable log-softmax or a clipped log usually fixes it.",
        data={"calls": evaluate.nonfinite_calls, "first": evaluate.first_nonfinite},
    )]


def unrun_result(params, findings, mode, method, seed, tol, calls, *,
                 note: str = IMPURE_NOTE) -> GradientCheckResult:
    """A result for a check that could not run finite differences at all."""
    reports = [
        _unchecked(name, arr, [f for f in findings if f.subject == name])
        for name, arr in params.items()
    ]
    whole = [f for f in findings if f.subject not in params]
    return GradientCheckResult(
        params=reports, mode=mode, method=method, seed=seed, rtol=tol.rtol, atol=tol.atol,
        dtype=tol.dtype, n_loss_evals=calls, check_findings=whole,
        notes=[note],
    )


#: How a loss may reduce over the examples (``reduction=``).
REDUCTIONS = ("mean", "sum")


def code_context(*, batch_size=None, per_example=False, reduction=None, layout=None,
                 penalties=(), layer=None) -> CodeContext:
    """The diagnosis context from ``check_gradients``' keywords, each checked (batch_size is
    checked with the other options)."""
    penalties = _validated_penalties(penalties)
    if not isinstance(per_example, bool):
        raise InvalidArgumentError("per_example", f"got {per_example!r}, expected True or False.")
    if reduction is not None and reduction not in REDUCTIONS:
        raise InvalidArgumentError("reduction", f"got {reduction!r}, expected one of {REDUCTIONS} "
                                   "or None.", "Pass reduction='mean' when the loss averages over "
                                   "the examples, 'sum' when it adds them.")
    if layout is not None and layout not in LAYOUTS:
        raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows', 'columns' or None.")
    if layer is not None and not isinstance(layer, Mapping):
        raise InvalidArgumentError("layer", f"got {type(layer).__name__}, expected a mapping or None.")
    return CodeContext(batch_size=batch_size, per_example=per_example, reduction=reduction,
                       layout=layout, penalties=penalties, layer=None if layer is None else dict(layer))


def _validated_penalties(penalties) -> tuple:
    """``penalties`` as a tuple of (parameter, kind, strength, where), or InvalidArgumentError."""
    try:
        out = tuple((str(p), str(k), float(s), str(w)) for p, k, s, w in (penalties or ()))
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            "penalties", f"got {penalties!r:.80}, expected (parameter, kind, strength, where) tuples.",
            "Pass e.g. penalties=[('W1', 'l2', 5e-4, 'dense1.weight_regularizer_l2')].") from None
    bad = [k for _, k, _, _ in out if k not in ("l1", "l2")]
    if bad:
        raise InvalidArgumentError("penalties", f"got kind {bad[0]!r}, expected 'l1' or 'l2'.")
    return out
