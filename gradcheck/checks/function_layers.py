"""``check_function_layer``: one function-pair layer (``out, cache = f_forward(...)``,
``grads = f_backward(dout, cache)``, or ``loss, dx = f_loss(...)``) against finite differences.

The layer's outputs are reduced to ``sum_k sum(out_k * dout_k)`` with fixed random upstream
gradients ``dout_k``, whose gradient with respect to each float argument is exactly what the
backward must return (:class:`gradcheck.adapters.function_pairs.LayerProblem`); a loss layer is
its own scalar. The check is :func:`gradcheck.check_gradients` on the layer's float arguments,
named as the forward names them, through the one post-check pipeline.

Precision follows what the layer computes: a forward that returns or caches float32 arrays
when given float64 ones is a float32 layer, and is checked on float32 arguments with float32's
tolerances (the numeric model's :func:`~gradcheck.numeric.model.precision_of`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradcheck.adapters.function_pairs import FunctionLayer, FunctionLayers, make_layer
from gradcheck.adapters.layer_problem import LayerProblem, cached_arrays
from gradcheck.checks.gradients import unrun_result
from gradcheck.checks.integrity import CRASH_NOTE, ArrayGuard
from gradcheck.checks.jacobian import explain_diagonal
from gradcheck.checks.pipeline import check_problem_gradients
from gradcheck.checks.shrinking import shrink_failures
from gradcheck.errors import GradcheckError, InvalidArgumentError
from gradcheck.numeric.model import eps_of, precision_of, tolerance_for
from gradcheck.results import GradientCheckResult
from gradcheck.targets.usercode import UserCodeCrash
from gradcheck.threads import under_one_blas_thread
from gradcheck.validation import float_dtype, validate_options, validate_seed

#: Keyword arguments check_function_layer passes on to check_gradients.
OPTIONS = ("mode", "eps", "rtol", "atol", "samples", "method", "directions", "progress",
           "max_seconds", "jobs")


@under_one_blas_thread
def check_function_layer(forward: Callable | FunctionLayer | FunctionLayers, backward: Callable | None = None,
                         *args, seed: int = 0, dtype=np.float64, fixed=(), layout: str | None = None,
                         **options) -> GradientCheckResult:
    """Check a function-pair layer's backward: the gradient of every float argument.

    Parameters
    ----------
    forward : callable
        ``forward(*args) -> (out, cache)`` or ``(out1, ..., cache)``; for a loss layer (with
        ``backward=None``) ``(loss, dx, ...)``. A :func:`gradcheck.adapters.function_layer`
        target is taken too.
    backward : callable or None
        ``backward(dout1, ..., cache)`` returning the gradients of the forward's float
        arguments: one array, a tuple in the forward's order (or named ``dx, dw``...), or a dict
        keyed ``"d" + name``.
    *args
        The forward's arguments, as you would call it. None given: the example arguments of
        the layer's kind (``conv``, ``lstm_step``, ``softmax_loss``...), known by its name.
        Integer and bool arrays, masks and dicts of settings are kept fixed.
    seed : int
        Seeds the upstream gradients, the example arguments and NumPy's global random state at
        each forward call (a dropout mask).
    dtype : float dtype
        dtype of the example arguments (not of arguments you give).
    fixed : list of str
        More float arguments (or dict keys) to keep fixed.
    layout : {"rows", "columns"}, optional
        Where the examples are in the first argument, for the diagnosis.
    **options
        Passed to :func:`gradcheck.check_gradients` (mode, eps, rtol, atol, samples, ...).
    """
    if isinstance(forward, FunctionLayers):
        if len(forward.function_layers) != 1:
            raise InvalidArgumentError("forward", f"holds {len(forward.function_layers)} layers, "
                                       "expected one.", "Check each, or run them with run_suite.")
        forward = forward.function_layers[0]
    layer = forward if isinstance(forward, FunctionLayer) else make_layer(
        forward, backward, args or None, fixed=fixed, layout=layout)
    return check_one_layer(layer, seed=seed, dtype=dtype, **options)


def check_one_layer(layer: FunctionLayer, *, seed: int = 0, dtype=np.float64,
                    **options) -> GradientCheckResult:
    """:func:`check_function_layer` on a :class:`FunctionLayer` (what the engine runs)."""
    validate_seed(seed)
    dtype = float_dtype(dtype)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise InvalidArgumentError("options", f"got unknown keyword arguments {unknown}.",
                                   f"It passes on only {list(OPTIONS)} (and seed) to check_gradients.")
    problem = LayerProblem(layer, layer.arguments(seed=seed, dtype=dtype), seed=seed)
    given = precision_of(list(problem.params.values()))
    unrun, computes = _first_call(problem, options)
    notes = []
    if unrun is None and eps_of(computes) > eps_of(given):
        # the forward computes in a narrower dtype than it was given: that is the layer's precision
        notes.append(f"{layer.functions} computes in {computes.name} (its output or cache is "
                     f"{computes.name} when given {given.name} arguments): checked on "
                     f"{computes.name} arguments with {computes.name}'s tolerances")
        problem = problem.narrowed(computes)
        unrun, _ = _first_call(problem, options)
    if unrun is not None:
        return unrun
    context = _context(problem)
    result = check_problem_gradients(problem, seed=seed, **context, **options)
    if not result.passed:  # a failure with no cause named: checked again at smaller sizes
        result = shrink_failures(result, layer, seed=seed, context_of=_context)
    if not result.passed:  # an input gradient with the Jacobian's diagonal only is named so
        result = _diagonal_only(result, problem, seed)
    for text in notes + problem.names.notes + _fixed_notes(problem):
        result.note(text)
    return result


def _diagonal_only(result: GradientCheckResult, problem: LayerProblem, seed: int) -> GradientCheckResult:
    """:func:`~gradcheck.checks.jacobian.explain_diagonal` for each checked argument shaped like
    the layer's one output (a loss layer, or one with several outputs, is left as it is)."""
    if problem.layer.is_loss:
        return result
    try:
        outputs, _ = problem.outputs(problem.run_forward())
    except (GradcheckError, UserCodeCrash):
        return result
    if len(outputs) != 1:
        return result
    for name, value in problem.params.items():
        if value.shape != outputs[0].shape:
            continue
        cache = []

        def forward(X, value=value, cache=cache):
            kept = value.copy()
            value[...] = X
            try:
                out, held = problem.outputs(problem.run_forward())
            finally:
                value[...] = kept  # the argument as checked: the cache may hold it
            cache[:] = [held]
            return out[0]

        def backward(dY, name=name, cache=cache):
            douts, problem.douts = problem.douts, [dY]
            try:
                return problem.named(problem.run_backward(cache[0]))[name]
            finally:
                problem.douts = douts

        result = explain_diagonal(result, name, forward, backward, value, problem.params, seed=seed)
    return result


def _first_call(problem: LayerProblem, options) -> tuple[GradientCheckResult | None, np.dtype]:
    """Call the forward and the backward once on the example arguments: learn the outputs, the
    upstream gradients, what the gradients are named, and the precision the forward computes in.
    A backward that raises is the bug report: a result that did not run, with its finding."""
    with ArrayGuard(dict(problem.params)) as guard:  # learn_names may add the weights of a dict
        outputs, cache = problem.outputs(problem.run_forward())
        guard.unchanged_by("forward")
        problem.draw_upstream(outputs)
        try:
            returned = problem.run_backward(cache)
        except UserCodeCrash as crash:
            guard.stop([crash.crash.finding(crash.crash.call)], CRASH_NOTE)
        problem.learn_names(returned)
        guard.unchanged_by("backward")
    if guard.stopped is not None:
        return _unrun(problem, guard.stopped, options), np.dtype(np.float64)
    computes = precision_of(list(problem.params.values()), outputs, cached_arrays(cache))
    return None, computes


def _unrun(problem: LayerProblem, stopped, options) -> GradientCheckResult:
    mode, method = options.get("mode", "full"), options.get("method", "central")
    validate_options(mode=mode, eps=options.get("eps"), rtol=options.get("rtol"),
                     atol=options.get("atol"), samples=options.get("samples"), seed=problem.seed,
                     method=method, directions=options.get("directions", 3), batch_size=None)
    tol = tolerance_for(precision_of(list(problem.params.values())), rtol=options.get("rtol"),
                        atol=options.get("atol"))
    return unrun_result(problem.params, stopped.findings, mode, method, problem.seed, tol, 0,
                        note=stopped.note)


def _context(problem: LayerProblem) -> dict:
    """What the diagnosis may know: the examples in the batch, how the scalar reduces over them
    (a sum of out * dout for a layer; a loss measures its own), where the examples are, and the
    role of every argument (an input or weight that is checked, integer indices, a mask...)."""
    layout = problem.layer.examples_layout
    first = next((v for v in problem.args.values() if isinstance(v, np.ndarray) and v.ndim), None)
    batch = None
    if first is not None and layout == "rows":
        batch = int(first.shape[0])
    elif first is not None and layout == "columns" and first.ndim == 2:
        batch = int(first.shape[1])
    reduction = "sum" if not problem.layer.is_loss else _loss_reduction(problem, batch, layout)
    roles = {name: "checked" for name in problem.params}
    roles.update(problem.fixed)
    return {"batch_size": batch if batch and batch > 1 else None, "reduction": reduction,
            "layout": layout, "layer": {"kind": problem.layer.kind, "name": problem.layer.name,
                                        "roles": roles}}


def _loss_reduction(problem: LayerProblem, batch: int | None, layout: str | None) -> str | None:
    """A loss layer's reduction over the examples, measured: on every example taken twice, a
    mean gives the same loss and a sum twice it (None when it cannot tell)."""
    if batch is None or layout != "rows":
        return None
    doubled = {name: (np.concatenate([v, v]) if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == batch
                      else v) for name, v in problem.args.items()}
    try:
        once = problem.loss()
        twice = LayerProblem(problem.layer, doubled, seed=problem.seed).loss()
    except Exception:  # noqa: BLE001 - a loss that cannot take the doubled batch says nothing
        return None
    if not (np.isfinite(once) and np.isfinite(twice)) or once == 0:
        return None
    ratio = twice / once
    return "mean" if abs(ratio - 1) < 1e-6 else "sum" if abs(ratio - 2) < 1e-6 else None


def _fixed_notes(problem: LayerProblem) -> list[str]:
    """One note listing the arguments kept fixed and why (indices, masks, settings)."""
    shown = {why: [] for why in problem.fixed.values() if not why.startswith("gets no gradient")}
    for name, why in problem.fixed.items():
        if why in shown:
            shown[why].append(name)
    if not shown:
        return []
    parts = [f"{', '.join(names)} ({why})" for why, names in shown.items()]
    return [f"kept fixed, not differenced: {'; '.join(parts)}"]
