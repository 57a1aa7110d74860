"""A batch to check a target on: synthetic by default, laid out as the target expects."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.options import LAYOUTS
from gradcheck.targets.inputs import InputSpec, input_spec
from gradcheck.targets.protocol import first_weight, target_params
from gradcheck.targets.tasks import Task, candidate_tasks
from gradcheck.targets.usercode import UserCodeCrash, call_user
from gradcheck.validation import positive_int, validate_seed

#: A synthetic batch may take at most this share of the machine's physical memory.
MEMORY_SHARE = 0.25
#: The cap used where the physical memory cannot be read (os.sysconf missing): 4 GiB.
FALLBACK_MEMORY_CAP = 4 * 1024 ** 3


def physical_memory() -> int | None:
    """Bytes of physical memory (``SC_PHYS_PAGES`` x ``SC_PAGE_SIZE``), or None when unknown."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def _bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.{0 if n >= 10 else 1}f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def check_batch_memory(batch_size: int, n_in: int, *, argument: str = "batch_size") -> None:
    """Refuse, before allocating, a batch of ``batch_size`` examples of ``n_in`` floats that
    needs more than :data:`MEMORY_SHARE` of physical memory (else a run swaps, hangs or is
    killed by the kernel). The message gives the size and the largest batch that fits."""
    per_example = 8 * (int(n_in) + 1)  # float64 inputs and an int64 label
    need = int(batch_size) * per_example
    physical = physical_memory()
    cap = int(physical * MEMORY_SHARE) if physical else FALLBACK_MEMORY_CAP
    if need > cap:
        where = (f"a quarter of this machine's {_bytes(physical)} of memory" if physical
                 else f"the {_bytes(cap)} cap used when the memory size is unknown")
        raise InvalidArgumentError(
            argument, f"a batch of {int(batch_size):,} examples of {int(n_in):,} floats needs "
            f"{_bytes(need)}, more than {where}.",
            f"Pass {argument} of at most {cap // per_example:,}.")


def input_width(target) -> int:
    """Numbers per example: the target's input spec's, else what its first weight matrix takes
    (the larger of its two sides)."""
    spec = input_spec(target)
    if spec is not None:
        return spec.width
    return max(first_weight(target_params(target)).shape[:2])


def labels(batch_size: int, n_classes: int, rng: np.random.Generator, *, missing: int = 0) -> np.ndarray:
    """Integer labels (batch_size,): every class in turn, shuffled; the top ``missing`` classes absent."""
    return Task("multiclass", n_classes, True).labels(batch_size, rng, missing=missing)


def _inputs(target, n: int, layout: str, rng: np.random.Generator, dtype,
            spec: InputSpec | None = None) -> np.ndarray:
    """``n`` inputs: as ``spec`` or the target's input spec says, else uniform in [0, 1] and as
    wide as its first weight matrix takes."""
    spec = spec or input_spec(target)
    if spec is not None:
        return spec.batch(n, rng, layout=layout, dtype=dtype)
    W = first_weight(target_params(target))
    n_in = W.shape[0] if layout == "rows" else W.shape[1]
    X = rng.uniform(0, 1, size=(n, n_in)).astype(dtype)
    return np.ascontiguousarray(X.T) if layout == "columns" else X


def describe(target, *, seed: int = 0, layout: str | None = None, dtype=np.float64) -> tuple[str, Task]:
    """``(layout, task)`` of ``target``: declared, or found by calling its loss.

    Each candidate layout (rows, then columns, unless one is given or declared) is tried with
    each candidate task of :func:`gradcheck.targets.tasks.candidate_tasks`, on a batch of
    max(3, k + 1) examples (so that labels of the wrong shape cannot broadcast); the first pair
    whose loss returns a number wins. A declared layout and task need no call; with the layout
    known and no form accepted, the likeliest task is returned and the checks say what failed.
    """
    if layout is not None and layout not in LAYOUTS:
        raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows', 'columns' or None.")
    params = target_params(target)
    layout = layout or getattr(target, "layout", None)
    tasks = candidate_tasks(target, params)
    layouts = [layout] if layout else list(LAYOUTS)
    if len(layouts) == 1 and len(tasks) == 1:
        return layouts[0], tasks[0]
    n = max(3, tasks[0].n_outputs + 1)
    errors = []
    for candidate in layouts:
        for task in tasks:
            rng = np.random.default_rng(seed)
            X = _inputs(target, n, candidate, rng, dtype)
            y = task.labels(n, rng, layout=candidate, dtype=dtype)
            try:
                float(call_user(target.loss, X, y, call="loss"))
            except UserCodeCrash as raised:
                if isinstance(raised.__cause__, MemoryError):  # says nothing about the form
                    raise UserCodeCrash(raised.crash, restored=(
                        f"it ran out of memory on a batch of {n} examples while gradcheck was "
                        "finding the layout of X")) from raised.__cause__
                # try the next form; report every one if none works
                errors.append(f"{candidate}, {task.name} labels {y.shape}: {raised.crash.error_type}: "
                              f"{raised.crash.message}")
                continue
            except (TypeError, ValueError) as exc:  # it returned something that is not a number
                errors.append(f"{candidate}, {task.name} labels {y.shape}: {type(exc).__name__}: {exc}")
                continue
            return candidate, task  # a NaN loss is a finding of the checks, not of the form
    if layout:
        # the layout is known: the checks report what the loss does with the likeliest labels
        return layout, tasks[0]
    raise ProtocolError(
        "could not call loss(X, y) with examples as rows or as columns, with any labels gradcheck "
        "knows (" + "; ".join(errors) + "); declare `layout = 'rows'` or `'columns'` and `task = "
        "'multiclass'`, 'binary', 'multilabel' or 'regression' on the target, or 'sequence' with "
        "`sequence_length` for integer sequences such as captions (see docs/protocol.md)"
    )


def synthetic_batch(target, batch_size: int, *, seed: int = 0, layout: str | None = None,
                    dtype=np.float64, missing_classes: int = 0, task: Task | None = None,
                    spec: InputSpec | None = None):
    """(X, y, layout) with X in [0, 1] shaped for the target's first weight matrix (or as its
    input spec says, or ``spec``: fewer time steps, say).

    y has the form of the target's task (:meth:`Task.labels`). With ``layout=None`` or
    ``task=None`` they are the target's declared ones or found by :func:`describe`.
    """
    positive_int(batch_size, "batch_size", fix="Pass e.g. batch_size=64.")
    validate_seed(seed)
    check_batch_memory(batch_size, spec.width if spec is not None else input_width(target))
    if layout is None or task is None:
        found_layout, found_task = describe(target, seed=seed, layout=layout, dtype=dtype)
        layout, task = layout or found_layout, task or found_task
    elif layout not in LAYOUTS:
        raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows', 'columns' or None.")
    rng = np.random.default_rng(seed)
    # labels first, as before tasks existed, so a seed gives the same multi-class batches
    y = task.labels(batch_size, rng, layout=layout, dtype=dtype, missing=missing_classes)
    X = _inputs(target, batch_size, layout, rng, dtype, spec)
    return X, y, layout


def step_batches(X: np.ndarray, y: np.ndarray, task: Task, spec: InputSpec | None,
                 layout: str) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Smaller versions of a sequence batch ``(X, y)``, each taking one thing away:
    ``(removes, words, X, y)`` for one time step (``"steps"``), then the full length with every
    step the same (``"variety"``). Empty unless ``spec`` declares a sequence of several steps
    and the examples are rows.

    X is ``(n, T, ...)`` (tokens or vectors per step). Labels given per step (``task.length``:
    sequence labels ``(n, T)``, a regression ``(n, T, k)``) are cut or repeated with it; a
    label per sequence stays as it is.

    >>> X = np.arange(6).reshape(2, 3); y = X + 10
    >>> [(r, x.tolist()) for r, _, x, _ in step_batches(X, y, Task("sequence", 20, False, True, 3),
    ...                                                InputSpec((3,), "int", 20, True), "rows")]
    [('steps', [[0], [3]]), ('variety', [[0, 0, 0], [3, 3, 3]])]
    """
    X = np.asarray(X)
    steps = getattr(spec, "steps", None) if spec is not None and spec.sequence else None
    if layout != "rows" or steps is None or steps < 2 or X.ndim < 2 or X.shape[1] != steps:
        return []
    y = np.asarray(y)
    per_step = task.length == steps and y.ndim >= 2 and y.shape[1] == steps

    def first(a: np.ndarray, repeat: int) -> np.ndarray:
        return np.ascontiguousarray(np.repeat(a[:, :1], repeat, axis=1))

    return [("steps", "one time step", first(X, 1), first(y, 1) if per_step else y.copy()),
            ("variety", f"{steps} time steps all the same (each example's first input and label "
             "at every step)", first(X, steps), first(y, steps) if per_step else y.copy())]


@dataclass(frozen=True)
class FreshLastStep:
    """Two time steps whose second reads what the first never does: ``X`` and ``y`` the batch,
    ``size`` the length of the axis a parameter's rows are read along (the vocabulary for
    tokens, the features for vectors), ``early`` and ``last`` the rows read at each step
    (sorted, disjoint), ``words`` what was done."""

    X: np.ndarray
    y: np.ndarray
    size: int
    early: np.ndarray
    last: np.ndarray
    words: str


def fresh_last_step(X: np.ndarray, y: np.ndarray, task: Task, spec: InputSpec | None,
                    layout: str) -> FreshLastStep | None:
    """Two time steps of a sequence batch whose second step reads rows the first never does.
    None unless ``spec`` declares a sequence and the examples are rows.

    Tokens (a vocabulary of at least 4): the first half of the vocabulary is read at the first
    step (each token folded into it), the second half at the last. Vectors ``(n, T, d)`` with
    ``d >= 2``: the first step keeps the first half of the features (the rest 0), the last step
    the second half. Labels per step are cut to two steps; a label per sequence stays. A row of a
    parameter read at a last-step token or feature then gets gradient only through the last
    step: right there and wrong at the first step's rows means what the last step sends back to
    the first is wrong.

    >>> X = np.array([[0, 1, 2], [3, 5, 4]]); y = X + 10
    >>> fresh = fresh_last_step(X, y, Task("sequence", 6, False, True, 3),
    ...                         InputSpec((3,), "int", 6, True), "rows")
    >>> fresh.X.tolist(), fresh.early.tolist(), fresh.last.tolist()
    ([[0, 4], [0, 5]], [0], [4, 5])
    """
    X = np.asarray(X)
    steps = getattr(spec, "steps", None) if spec is not None and spec.sequence else None
    if layout != "rows" or steps is None or steps < 2 or X.ndim < 2 or X.shape[1] != steps:
        return None
    y = np.asarray(y)
    per_step = task.length == steps and y.ndim >= 2 and y.shape[1] == steps
    y2 = np.ascontiguousarray(y[:, :2]) if per_step else y.copy()
    vocab = getattr(spec, "vocab", None)
    if np.issubdtype(X.dtype, np.integer):
        if X.ndim != 2 or vocab is None or vocab < 4:
            return None
        half = vocab // 2
        X2 = np.stack([X[:, 0] % half, half + X[:, 1] % (vocab - half)], axis=1).astype(X.dtype)
        return FreshLastStep(X2, y2, int(vocab), np.unique(X2[:, 0]), np.unique(X2[:, 1]),
                             "two steps whose last reads tokens the first never does")
    if X.ndim != 3 or X.shape[2] < 2 or not np.issubdtype(X.dtype, np.floating):
        return None
    d = X.shape[2]
    half = d // 2
    X2 = np.ascontiguousarray(X[:, :2]).copy()
    X2[:, 0, half:] = 0
    X2[:, 1, :half] = 0
    return FreshLastStep(X2, y2, int(d), np.arange(half), np.arange(half, d),
                         "two steps whose last reads features the first never does (the others 0)")


def position_token_batches(X: np.ndarray, spec: InputSpec | None, layout: str) \
        -> tuple[np.ndarray, np.ndarray] | None:
    """Two token batches shaped like ``X`` ``(n, T)`` in which every example is the same sequence
    of the tokens ``0 .. T-1``: in the first each step t reads token t, in the second token
    t + 1 (the last step token 0). The same tokens, the same examples; only whether a token's
    id equals its position differs. None unless ``spec`` declares a sequence of integer tokens
    with a vocabulary of at least T and the examples are rows.

    >>> a, b = position_token_batches(np.zeros((2, 3), int), InputSpec((3,), "int", 5, True), "rows")
    >>> a.tolist(), b.tolist()
    ([[0, 1, 2], [0, 1, 2]], [[1, 2, 0], [1, 2, 0]])
    """
    X = np.asarray(X)
    steps = getattr(spec, "steps", None) if spec is not None and spec.sequence else None
    vocab = getattr(spec, "vocab", None)
    if layout != "rows" or steps is None or steps < 2 or X.ndim != 2 or X.shape[1] != steps \
            or not np.issubdtype(X.dtype, np.integer) or vocab is None or vocab < steps:
        return None
    aligned = np.broadcast_to(np.arange(steps, dtype=X.dtype), X.shape).copy()
    return aligned, np.roll(aligned, -1, axis=1)
