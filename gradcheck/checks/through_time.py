"""Fewer time steps: a whole network that declares a sequence input (``input_spec`` with
``sequence``: the adapters' ``vocab=, steps=`` or ``input_shape=(T, d), sequence_length=T``)
and fails its gradient check with no cause named is checked again on smaller versions of the
same batch (:func:`gradcheck.targets.batches.step_batches`), and where the error vanishes says
what the full-size numbers cannot:

- right with the full length when every step is the same (each example's first input, and label
  when labels are per step, at every step), wrong when the steps differ: a step reads another
  step's input or label (a time index off by one): ``orientation``, how ``time_index``. Only
  when the network tells equal steps apart (its loss there is neither one step's nor T times
  it): a network with no sense of position gives every equal step one output, and then any
  mixing of the steps vanishes too (attention's mask, its softmax's Jacobian);
- wrong with one time step, where the loss does not depend on the parameter at all (moving
  every entry of it by 1 % leaves the loss bit for bit the same: a recurrent weight meets only
  the zero initial state at the first step) while the backward gives it a clearly nonzero
  gradient that is not a multiple of the weights (a penalty's): a step's contribution reads
  another step's state (``h[t]`` for ``h[t-1]``): ``orientation``, how ``wrong_step``;
- right with one time step, wrong with several, and still wrong with equal steps (checked, and
  telling), while it is the only parameter that fails and every other one is right on every
  entry: each step's contribution to it is right but they are not added up over the steps
  (``=`` for ``+=``), the gradient lost across time steps: ``missing_term``, how
  ``through_time``. The other parameters being right rules out a mistake in what carries the
  gradient between steps, which would reach them too; the equal steps rule out a time index;
- right with one time step, wrong with several, otherwise: the mistake is in what links the time
  steps, but a recurrent term missing, a recurrent weight not transposed, a gate's path through
  the cell, and attention across positions (a causal mask, a softmax's Jacobian) all vanish
  with one step alike. The network is then checked once more on the full batch with every
  square weight made symmetric (W and W.T averaged, restored bit for bit afterwards): when the
  error vanishes there, a backward multiplies by a square weight where it should multiply by its
  transpose (``Whh`` for ``Whh.T``): ``orientation``, how ``untransposed``. A network of
  tokens is then checked on two steps whose second reads tokens the first never does
  (:func:`gradcheck.targets.batches.fresh_last_step`): when a parameter's rows (along its one
  axis as long as the vocabulary) of the last step's tokens are right and those of the first
  step's are wrong, the gradient the last step sends back to the first is missing or wrong
  (``dh_next`` left out): ``missing_term``, how ``later_steps``. A gate's derivative or
  attention across positions reach the last step's own rows too. Before that, a network that
  offers its outputs (``outputs``, ``output_gradients``) is checked with a loss reading the first
  step's outputs alone: entries that loss ignores and that still get gradient mean a later step
  leaks into an earlier one (``routing``, how ``later_leak``, :mod:`gradcheck.checks.first_step`);
  after it, the same two-step batch one example at a time, on the entries the first step alone
  ignores, may show a derivative's factor per unit (``derivative``, how ``unit_factor``,
  :mod:`gradcheck.checks.unit_factor`);
- wrong with one time step and none of the above: one example of that batch, with its label and
  another, and another example, may show a derivative's factor per unit (``unit_factor``);
- still unnamed, with tokens: every step t reading token t, and token t + 1. Gone with the
  first and still wrong with the second, the backward scatters a lookup's gradient by position
  (``orientation``, how ``position_for_token``).

Otherwise the finding says the error needs several steps (or names no cause; it stays
``mismatch``).

Rerun only on a failure whose diagnosis named no cause, on a batch of at least
:data:`MIN_EXAMPLES` examples (a batch of one is left as it is), only for the parameters that
failed, on every entry, in float64 (a float32 network on its float64 copy; none when no copy
can be made). A smaller batch the network refuses (its code raises) says nothing. A vanishing counts
only where the small gradient carries at least three clearly nonzero entries.
:func:`time_story` is the rule, a pure function; :func:`shrink_steps` runs the checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from gradcheck.checks.first_step import leak_story, leaking_names
from gradcheck.checks.gradients import check_gradients
from gradcheck.checks.structure import MIN_WITNESSES, Story, retell
from gradcheck.checks.unit_factor import derivative_names, derivative_story
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.results import GradientCheckResult
from gradcheck.results.findings import Finding
from gradcheck.targets.batches import FreshLastStep, fresh_last_step, position_token_batches, step_batches
from gradcheck.targets.inputs import InputSpec
from gradcheck.targets.protocol import bound_loss, target_params
from gradcheck.targets.tasks import Task
from gradcheck.targets.widening import float64_copy

T = TypeVar("T")


def time_story(name: str, vanished: dict[str, bool], *, alone: bool) -> Story | None:
    """What it means for parameter ``name`` that its error vanished (``vanished[removes]``) on
    the smaller batches: ``"variety"`` (every step the same) and ``"steps"`` (one step).
    ``alone``: it is the only parameter that failed, and every other one is right on every
    entry. A batch missing from ``vanished`` was not checked (refused, or it could not tell).
    None when it vanished on neither."""
    if vanished.get("variety"):
        return Story(
            "orientation",
            "right when every time step is the same, wrong when they differ: a step reads another "
            "step's input or label (a time index off by one)",
            f"Each step's contribution to d{name} must use that step's own input, hidden state "
            "and label: compare the time index of every array the backward reads (x[t], h[t-1], "
            "y[t]) with the forward's.",
            {"how": "time_index", "removed": "variety"})
    if not vanished.get("steps"):
        return None
    if alone and vanished.get("variety") is False:  # checked with equal steps: not a time index
        return Story(
            "missing_term",
            "right with one time step, wrong with several, while every other parameter is right: "
            f"each step's contribution to d{name} is right but they are not added up over the "
            "steps, so the gradient from the other steps is lost",
            f"d{name} receives one contribution per time step: add them (d{name} += ...) rather "
            f"than assign (d{name} = ...), which keeps only one step's.",
            {"how": "through_time", "removed": "steps"})
    return Story(
        "mismatch",
        "right with one time step, wrong with several: the mistake is in what links the time "
        "steps (the gradient carried back from later steps, a recurrent weight, a gate's path "
        "through the cell, or attention across positions); the numbers do not say which",
        "Check the backward's terms that cross time steps: dh_next and dc_next added to each "
        "step's gradient, the recurrent weight transposed, the forget gate's path, or an "
        "attention's mask and softmax Jacobian.",
        {"how": "several_steps", "removed": "steps"})


def untransposed_story(name: str, squares: list[str]) -> Story:
    """The story of an error that needs several steps and vanishes when every square weight
    (``squares``) is symmetric."""
    which = ", ".join(squares)
    return Story(
        "orientation",
        f"right with one time step and right when every square weight ({which}) is made "
        "symmetric, wrong otherwise: a backward multiplies by a square weight where it should "
        "multiply by its transpose",
        f"Where the gradient goes back through a square weight ({which}), multiply by its "
        "transpose: dh_prev = W.T @ dh (or dh @ W for rows), not W @ dh.",
        {"how": "untransposed", "removed": "asymmetry", "weights": list(squares)})


def later_steps_story(name: str) -> Story:
    """The story of an error that needs several steps, right on the rows (tokens or features)
    read only at the last step and wrong on those read at the first."""
    return Story(
        "missing_term",
        "right with one time step; with two steps, right on the rows read only at the last step "
        "and wrong on the rows read at the first: what the last step sends back to the first is "
        "missing or wrong",
        f"The gradient reaching each earlier step must add what later steps send back through "
        f"the state (dh = dy_part + dh_next, dc += dc_next), with dh_next carried back through "
        f"the recurrent weight and the activation's derivative; d{name} misses it.",
        {"how": "later_steps", "removed": "later"})


def _rows_of(array: np.ndarray, vocab: int, tokens: np.ndarray) -> np.ndarray | None:
    """Flat indices of ``array``'s entries at ``tokens`` along its one axis of length ``vocab``
    (the vocabulary, or the input's features); None when no axis, or more than one, has that
    length."""
    axes = [axis for axis, n in enumerate(np.shape(array)) if n == vocab]
    if len(axes) != 1:
        return None
    mask = np.zeros(np.shape(array), dtype=bool)
    index = [slice(None)] * np.ndim(array)
    index[axes[0]] = tokens
    mask[tuple(index)] = True
    return np.flatnonzero(mask)


def _quietly(run: Callable[[], T]) -> T | None:
    """``run()`` with the user's warnings silenced; None when the network's code raises (a
    network refusing a smaller batch raises what it raises, and then the batch says nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return run()
        except Exception:  # noqa: BLE001 - see the docstring
            return None


def _later_steps_check(target, fresh: FreshLastStep, names: list[str], seed: int) -> set[str]:
    """The names among ``names`` right on the last step's rows and wrong on the first's, on the
    two-step batch ``fresh`` (:func:`gradcheck.targets.batches.fresh_last_step`)."""
    X2, y2 = fresh.X, fresh.y

    def told(name: str) -> bool:
        array = target_params(target)[name]
        rows = {which: _rows_of(array, fresh.size, tokens)
                for which, tokens in (("early", fresh.early), ("last", fresh.last))}
        if any(r is None or r.size == 0 for r in rows.values()):
            return False
        analytic = np.asarray(target.gradients(X2, y2)[name], dtype=np.float64)
        reports = {which: check_gradients(bound_loss(target, X2, y2), {name: array},
                                          lambda: {name: np.asarray(target.gradients(X2, y2)[name])},
                                          mode="full", seed=seed, batch_size=int(np.shape(y2)[0]),
                                          entries={name: flat}).params[0]
                   for which, flat in rows.items()}
        return _vanished(reports["last"], analytic.reshape(-1)[rows["last"]]) and \
            not reports["early"].passed and reports["early"].tier != "unchecked"

    return {name for name in names if _quietly(lambda name=name: told(name))}


def wrong_step_story(name: str) -> Story:
    """The story of a parameter the loss ignores at one time step that still gets a gradient."""
    return Story(
        "orientation",
        f"with one time step the loss does not depend on {name} at all (moving it leaves the loss "
        "bit for bit the same) yet the backward gives it a gradient: a step's contribution reads "
        "the state of another step",
        f"Each step's contribution to d{name} must use the state that step's forward read: the "
        "previous step's (h[t-1], c[t-1]), not its own output h[t].",
        {"how": "wrong_step", "removed": "steps"})


#: How far each entry is moved to see whether the loss depends on a parameter at all: 1 % of the
#: parameter's largest entry, far above any rounding of the loss.
IGNORED_MOVE = 1e-2


def _ignored(target, X, y, names: list[str], seed: int) -> set[str]:
    """The names among ``names`` the loss on ``(X, y)`` does not depend on at all (every entry
    moved, the loss bit for bit the same) whose analytic gradient there is clearly nonzero on at
    least :data:`MIN_WITNESSES` entries and not a multiple of the parameter (a penalty's
    gradient). Every array is restored bit for bit."""
    rng = np.random.default_rng(seed)

    def told(name: str) -> bool:
        array = target_params(target)[name]
        grads = np.asarray(target.gradients(X, y)[name], dtype=np.float64).reshape(-1)
        before = float(target.loss(X, y))
        with Snapshot({name: array}):
            scale = float(np.max(np.abs(array), initial=0.0)) or 1.0
            array += (IGNORED_MOVE * scale * rng.choice((-1.0, 1.0), np.shape(array))).astype(array.dtype)
            after = float(target.loss(X, y))
        g = np.abs(grads)
        clear = g > 1e-6 * max(float(g.max(initial=0.0)), 1e-300)
        w = np.asarray(array, dtype=np.float64).reshape(-1)
        c = float(grads @ w) / float(w @ w) if float(w @ w) > 0 else 0.0
        penalty = c != 0 and np.allclose(grads, c * w, rtol=1e-6, atol=0)
        return after == before and np.isfinite(before) and g.max() > 0 and not penalty \
            and int(np.count_nonzero(clear)) >= MIN_WITNESSES

    return {name for name in names if _quietly(lambda name=name: told(name))}


def _unnamed(report) -> Finding | None:
    """The report's only failing finding when it names no cause (``mismatch``), else None."""
    failing = [f for f in report.findings if f.is_failure]
    return failing[0] if len(failing) == 1 and failing[0].kind == "mismatch" else None


def _vanished(report, analytic) -> bool:
    """Right on the smaller batch, on enough entries that carry a gradient to tell."""
    if report is None or not report.passed or report.inconclusive or report.tier == "unchecked":
        return False
    g = np.abs(np.asarray(analytic, dtype=np.float64))
    return int(np.count_nonzero(g > 1e-6 * max(float(g.max(initial=0.0)), 1e-300))) >= MIN_WITNESSES


def _wide(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a


def _small_check(target, X, y, names: list[str], seed: int, *, still_wrong: bool = False) \
        -> dict[str, bool] | None:
    """name -> vanished (or, with ``still_wrong``, name -> failed there), for ``names`` on the
    batch (X, y); None when the network refuses it."""

    def run() -> dict[str, bool] | None:
        grads = {name: np.asarray(g) for name, g in dict(target.gradients(X, y)).items()}
        if any(name not in grads for name in names):
            return None
        params = target_params(target)
        result = check_gradients(bound_loss(target, X, y), {n: params[n] for n in names},
                                 lambda: {n: np.asarray(target.gradients(X, y)[n]) for n in names},
                                 mode="full", seed=seed, batch_size=int(np.shape(y)[0]))
        reports = {report.name: report for report in result.params}
        if still_wrong:
            return {name: name in reports and not reports[name].passed and reports[name].tier != "unchecked"
                    for name in names}
        return {name: _vanished(reports.get(name), grads[name]) for name in names}

    return _quietly(run)


def position_story(name: str) -> Story:
    """The story of an error that vanishes when every token's id equals its position."""
    return Story(
        "orientation",
        "right when every step t reads token t, wrong when each step reads token t + 1 (the same "
        "tokens and examples): the backward indexes by position where the forward indexed by token",
        f"Scatter the gradient of a lookup back to the rows the forward read: np.add.at(d{name}, "
        f"tokens, d_rows), not np.add.at(d{name}, positions, ...).",
        {"how": "position_for_token", "removed": "positions"})


#: Examples a batch needs to be shrunk: with fewer, chance can make a smaller batch agree (one
#: example's first token equal to its position, read by a backward that indexes by position).
MIN_EXAMPLES = 4
#: How close the loss of T equal steps must come to 1x or Tx the loss of one to count as the same.
ALIKE = 1e-9


def _steps_alike(target, batches) -> bool:
    """True when the network cannot tell equal steps apart: the loss of the full length with every
    step the same is the loss of one step, or T times it (a network with no sense of position, an
    attention without positional encodings, gives every step the output of one). Then every
    mixing of the steps vanishes with equal steps, a mask or a softmax's Jacobian as much as a
    time index, and that batch says nothing. True too when either loss cannot be computed."""
    found = {removes: (Xs, ys) for removes, _, Xs, ys in batches}
    if set(found) != {"steps", "variety"}:
        return True
    losses = _quietly(lambda: (float(target.loss(*found["steps"])), float(target.loss(*found["variety"]))))
    if losses is None:
        return True
    one, equal = losses
    steps = np.shape(found["variety"][0])[1]
    return not np.isfinite(one * equal) or any(
        abs(equal - c * one) <= ALIKE * max(abs(equal), abs(c * one)) for c in (1, steps))


def _square_weights(params: dict) -> list[str]:
    """Names of the float parameters that are square matrices of at least 2 x 2."""
    return [name for name, a in params.items()
            if np.ndim(a) == 2 and np.shape(a)[0] == np.shape(a)[1] >= 2
            and np.issubdtype(np.asarray(a).dtype, np.floating)]


def _symmetric_check(target, X, y, names: list[str], seed: int) -> dict[str, bool] | None:
    """name -> vanished on the batch with every square weight symmetric; None when the network
    has no square weight, or refuses. Every array is restored bit for bit, whatever happens."""
    params = target_params(target)
    squares = _square_weights(params)
    if not squares:
        return None
    with Snapshot({name: params[name] for name in squares}):
        for name in squares:
            W = params[name]
            W[...] = (W + W.T) / 2
        return _small_check(target, X, y, names, seed)


def _stayed_stories(target, X1, y1, stayed: list[str], task: Task, seed: int,
                    words: dict[str, str]) -> dict[str, Story]:
    """Stories of the names still wrong with one time step ``(X1, y1)``: a weight that step
    ignores yet gets a gradient, else a derivative's factor per unit on one example."""
    stories = {name: wrong_step_story(name) for name in _ignored(target, X1, y1, stayed, seed)}
    still = [name for name in stayed if name not in stories]
    factored = _quietly(lambda: derivative_names(target, X1, y1, still, task)) if still else None
    if factored:
        words["example"] = "one example, with its label and with another, and another example"
    return {**stories, **{name: derivative_story(name) for name in factored or []}}


def _several_stories(target, X, y, several: list[str], task: Task, spec: InputSpec | None, layout: str,
                     seed: int, words: dict[str, str]) -> dict[str, Story]:
    """Stories of the names whose error needs several steps: an untransposed square weight, a
    later step leaking into the first one's gradient, a term the last step sends back missing,
    a derivative seen on what only a second step reads."""
    symmetric = _symmetric_check(target, X, y, several, seed)
    if symmetric is not None:
        words["asymmetry"] = "every square weight symmetric"
        if all(symmetric.values()):  # every such failure, or none: one cause explains them
            squares = _square_weights(target_params(target))
            return {name: untransposed_story(name, squares) for name in several}
    stories: dict[str, Story] = {}
    leaks = _quietly(lambda: leaking_names(target, X, several, target_params(target), seed))
    if leaks:
        words["later_outputs"] = "a loss reading only the first time step's outputs"
        stories.update({name: leak_story(name, entries) for name, entries in leaks.items()})
    rest = [name for name in several if name not in stories]
    fresh = fresh_last_step(X, y, task, spec, layout) if rest else None
    if fresh is None:
        return stories
    words["later"] = fresh.words
    stories.update({name: later_steps_story(name) for name in _later_steps_check(target, fresh, rest, seed)})
    rest = [name for name in rest if name not in stories]
    per_step = np.ndim(fresh.y) >= 2 and np.ndim(y) >= 2 and np.shape(y)[1] == np.shape(X)[1]
    first_steps = (fresh.X[:, :1], fresh.y[:, :1] if per_step else fresh.y)
    factored = _quietly(lambda: derivative_names(target, fresh.X, fresh.y, rest, task,
                                                 first_steps=first_steps)) if rest else None
    return {**stories, **{name: derivative_story(name, last_step=True) for name in factored or []}}


def _position_stories(target, X, y, undecided: list[str], spec: InputSpec | None, layout: str, seed: int,
                      words: dict[str, str]) -> dict[str, Story]:
    """Stories of the names gone when every step t reads token t and still wrong when it reads
    token t + 1: a lookup's gradient scattered by position."""
    pairs = position_token_batches(X, spec, layout)
    if pairs is None:
        return {}
    aligned = _small_check(target, pairs[0], y, undecided, seed)
    shifted = _small_check(target, pairs[1], y, undecided, seed, still_wrong=True)
    if aligned is None or shifted is None:
        return {}
    words["positions"] = "every step t reading token t, and token t + 1"
    return {name: position_story(name) for name in undecided if aligned[name] and shifted[name]}


def shrink_steps(result: GradientCheckResult, target, X, y, *, task: Task,
                 spec: InputSpec | None, layout: str, seed: int = 0) -> GradientCheckResult:
    """Name the cause of ``result``'s unnamed failures, a whole network's check on the batch
    ``(X, y)``, from smaller versions of that batch (see the module docstring). The result's
    reports change only through ``fail`` and ``forget``; a passing result, a network that
    declares no sequence, and one without a float64 version are left as they are."""
    if result.passed:
        return result
    unnamed = {report.name: finding for report in result.params
               if (finding := _unnamed(report)) is not None}
    few = np.ndim(X) == 0 or np.shape(X)[0] < MIN_EXAMPLES
    batches = step_batches(X, y, task, spec, layout) if unnamed and not few else []
    if not batches:
        return result
    params = target_params(target)
    if any(np.asarray(a).dtype != np.float64 for a in params.values()):
        target, X, y, _ = float64_copy(target, X, y)
        if target is None:
            return result
        batches = [(removes, words, _wide(Xs), _wide(ys))
                   for removes, words, Xs, ys in step_batches(X, y, task, spec, layout)]
    failing = {report.name for report in result.params if not report.passed}
    complete = {report.name for report in result.params
                if report.passed and report.mode == "full"
                and report.n_checked == int(np.prod(report.shape))}
    others_right = {report.name for report in result.params} - failing <= complete
    vanished: dict[str, dict[str, bool]] = {name: {} for name in unnamed}
    words: dict[str, str] = {}
    if _steps_alike(target, batches):
        batches = [batch for batch in batches if batch[0] != "variety"]
    for removes, said, Xs, ys in batches:
        small = _small_check(target, Xs, ys, list(unnamed), seed)
        if small is None:
            continue
        words[removes] = said
        for name, gone in small.items():
            vanished[name][removes] = gone
    stories = {name: time_story(name, vanished[name],
                                alone=failing == {name} and others_right and len(result.params) > 1)
               for name in unnamed}
    one_step = next((batch for batch in batches if batch[0] == "steps"), None)
    stayed = [name for name, story in stories.items()
              if story is None and vanished[name].get("steps") is False]
    if one_step is not None and stayed:
        stories.update(_stayed_stories(target, one_step[2], one_step[3], stayed, task, seed, words))
    several = [name for name, story in stories.items()
               if story is not None and story.data.get("how") == "several_steps"]
    if several:
        stories.update(_several_stories(target, X, y, several, task, spec, layout, seed, words))
    undecided = [name for name, story in stories.items()
                 if story is None or story.data.get("how") == "several_steps"]
    if undecided:
        stories.update(_position_stories(target, X, y, undecided, spec, layout, seed, words))
    for report in result.params:
        if report.name not in unnamed:
            continue
        story = stories[report.name]
        if story is None:
            continue
        retell(report, unnamed[report.name], story, checked="checked again with " + " and with ".join(words.values()),
               data={"steps_checked": sorted(words)})
    return result
