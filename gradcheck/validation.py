"""Argument checks for the public API, each failing with a message that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.model import smallest_step
from gradcheck.options import DTYPES, METHODS, MODES
from gradcheck.wording import words


def _first_bad_index(arr: np.ndarray) -> str:
    """The index of the first NaN/inf entry of ``arr``, e.g. "[0, 2]" ("" for 0-d arrays)."""
    flat = int(np.flatnonzero(~np.isfinite(arr))[0])
    index = np.unravel_index(flat, arr.shape) if arr.shape else ()
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else ""


def overlaps_itself(arr: np.ndarray) -> bool:
    """True when two different entries of ``arr`` are the same memory (a zero or clashing stride).

    Exact for zero strides and for arrays whose bytes span less than their size; other
    self-overlapping layouts (rare, built with as_strided) are not detected.
    """
    if arr.size <= 1:
        return False
    if any(stride == 0 and dim > 1 for stride, dim in zip(arr.strides, arr.shape)):
        return True
    span = sum(abs(stride) * (dim - 1) for stride, dim in zip(arr.strides, arr.shape)) + arr.itemsize
    return span < arr.nbytes


def shared_memory_pairs(params: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """Pairs of parameter names whose arrays share at least one byte of memory."""
    names = list(params)
    pairs = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = params[first], params[second]
            if not np.may_share_memory(a, b):
                continue
            try:
                shared = np.shares_memory(a, b, max_work=10_000)
            except np.exceptions.TooHardError:
                shared = True  # cannot prove them apart: say so rather than stay silent
            if shared:
                pairs.append((first, second))
    return pairs


def validate_params(params, *, argument: str = "params") -> dict[str, np.ndarray]:
    """A mapping of str -> writeable, non-empty float ndarray with finite values.

    ``argument`` is the name errors use for the mapping (``params``; check_layer's input is
    checked separately and named ``X``).
    """
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(
            argument,
            f"got {type(params).__name__}, expected a mapping of name to array.",
            "Pass a dict, e.g. params={'W1': W1, 'b1': b1}.",
        )
    if not params:
        raise InvalidArgumentError(argument, "is empty.", "Pass at least one parameter array.")
    out = {}
    for name, arr in params.items():
        if not isinstance(name, str):
            raise InvalidArgumentError(
                argument, f"has a key {name!r} of type {type(name).__name__}; keys must be str.",
                f"Name every parameter with a string, e.g. {{'W{name}': ...}}.",
            )
        validate_array(arr, f"{argument}[{name!r}]")
        out[name] = arr
    return out


def validate_array(arr, arg: str) -> np.ndarray:
    """One array the checker will perturb in place: a writeable, non-empty, finite float ndarray."""
    if not isinstance(arr, np.ndarray):
        raise InvalidArgumentError(
            arg,
            f"is a {type(arr).__name__}, expected a NumPy array.",
            "Pass the very array your loss reads (the checker perturbs it in place), "
            "e.g. np.asarray(...) once and keep using that array.",
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise InvalidArgumentError(
            arg,
            f"has dtype {arr.dtype}, expected a float dtype (float64 or float32).",
            "Integer, bool, complex or object arrays cannot be perturbed by a small real step: "
            "convert with W = W.astype(np.float64) before building your loss.",
        )
    if arr.size == 0:
        raise InvalidArgumentError(arg, f"is empty (shape {arr.shape}); there is nothing to check.",
                                   "Remove it, or pass an array with at least one entry.")
    if not arr.flags.writeable:
        raise InvalidArgumentError(
            arg,
            "is read-only (writeable=False), so it cannot be perturbed in place; a copy would not "
            "help, because your loss would go on reading the original.",
            "Make a writeable copy, W = W.copy(), build the loss from that copy and pass it here "
            "(np.broadcast_to and some memory maps give read-only arrays).",
        )
    if overlaps_itself(arr):
        raise InvalidArgumentError(
            arg,
            f"has entries that share memory with each other (shape {arr.shape}, strides "
            f"{arr.strides}), so moving one entry moves others and no difference is per entry.",
            "Pass an array with its own memory, W = np.ascontiguousarray(W), and build the loss "
            "from it.",
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise InvalidArgumentError(
            arg,
            f"contains {bad} NaN or inf value{'s' if bad > 1 else ''} (the first at "
            f"{arg}{_first_bad_index(arr)}); there is no gradient to check there.",
            "Check the gradient at finite parameters, e.g. freshly initialised ones, and look for "
            "the step that made them NaN.",
        )
    return arr


def validate_grads(grads, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A mapping with exactly the names of params, float arrays (shapes are diagnosed later).

    Returns float64 copies, so later backward calls that reuse buffers cannot change them.
    """
    if not isinstance(grads, Mapping):
        raise InvalidArgumentError(
            "grads",
            f"got {type(grads).__name__}, expected a mapping of name to array "
            "(or a zero-argument function returning one).",
            "Pass e.g. grads={'W1': dW1, 'b1': db1}.",
        )
    missing = [n for n in params if n not in grads]
    extra = [n for n in grads if n not in params]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no gradient for {missing}")
        if extra:
            parts.append(f"gradients for unknown parameters {extra}")
        raise InvalidArgumentError(
            "grads",
            "; ".join(parts) + f". params has {list(params)}.",
            "Use the same names in params and grads.",
        )
    out = {}
    for name in params:
        g = grads[name]
        arg = f"grads[{name!r}]"
        if isinstance(g, (int, float, np.number)) and not isinstance(g, bool):
            g = np.asarray(g, dtype=np.float64)
        if not isinstance(g, np.ndarray):
            raise InvalidArgumentError(
                arg, f"is a {type(g).__name__}, expected a NumPy array.",
                f"Return the gradient of {name} as an array, e.g. np.asarray(d{name}, dtype=np.float64).")
        if not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)
                or g.dtype == np.bool_):
            raise InvalidArgumentError(
                arg, f"has dtype {g.dtype}, expected a float array.",
                f"Return real float values, e.g. d{name}.astype(np.float64).")
        out[name] = np.array(g, dtype=np.float64, copy=True)
    return out


def resolve_grads(grads) -> object:
    """Call a zero-argument grads function once, or return the mapping as given."""
    if callable(grads) and not isinstance(grads, Mapping):
        return grads()
    return grads


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_count(value, *, minimum: int = 1) -> bool:
    """An integer (not a bool) of at least ``minimum``."""
    return _is_int(value) and value >= minimum


def positive_int(value, argument: str, *, minimum: int = 1, or_none: bool = False,
                 fix: str = "") -> int | None:
    """``value`` as an int (None passes when ``or_none``), or InvalidArgumentError naming
    ``argument``: the one check of counts (samples, directions, batch sizes, steps, workers...)."""
    if value is None and or_none:
        return None
    if not is_count(value, minimum=minimum):
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        none = words().or_none(argument) if or_none else ""
        raise InvalidArgumentError(argument, f"got {value!r}, expected {expected}{none}.", fix)
    return int(value)


def positive_number(value, argument: str, *, or_none: bool = False, unit: str = "",
                    fix: str = "") -> float | None:
    """``value`` as a float when it is a positive finite number (None passes when ``or_none``),
    else InvalidArgumentError naming ``argument``; ``unit`` is said in the message ("seconds")."""
    if value is None and or_none:
        return None
    if not _is_positive_number(value):
        none = words().or_none(argument) if or_none else ""
        of = f" of {unit}" if unit else ""
        raise InvalidArgumentError(argument, f"got {value!r}, expected a positive number{of}{none}.", fix)
    return float(value)


def positive_list(values, argument: str, *, integer: bool = False, fix: str = "") -> list:
    """A non-empty sequence of positive numbers (integers with ``integer=True``), as a list."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InvalidArgumentError(argument, f"got {values!r}, expected a non-empty sequence of "
                                   f"{'positive integers' if integer else 'numbers'}",
                                   fix or f"Pass {argument}=(1, 255), say.")
    check = positive_int if integer else positive_number
    return [check(v, f"{argument}[{i}]", fix=fix) for i, v in enumerate(values)]


def float_dtype(value, argument: str = "dtype") -> np.dtype:
    """``value`` as np.dtype when it names float32 or float64, else InvalidArgumentError."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in DTYPES:
        raise InvalidArgumentError(argument, f"got {value!r}, expected float32 or float64.",
                                   f"Pass {words().setting(argument, 'float64')} or "
                                   f"{words().setting(argument, 'float32')}.")
    return dtype


def validate_seed(seed, argument: str = "seed") -> int:
    """``seed`` when it is a non-negative integer (what NumPy's generators take), else an
    InvalidArgumentError naming ``argument``; called before any user code runs."""
    if not _is_int(seed) or seed < 0:
        raise InvalidArgumentError(argument, f"got {seed!r}, expected a non-negative integer.",
                                   f"Pass e.g. {words().setting(argument, 0)}.")
    return int(seed)


def _is_positive_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value)) and value > 0)


def validate_options(*, mode, eps, rtol, atol, samples, seed, method, directions, batch_size,
                     progress=None, max_seconds=None) -> None:
    say = words()
    if mode not in MODES:
        raise InvalidArgumentError("mode", f"got {mode!r}, expected one of {MODES}.")
    if method not in METHODS:
        raise InvalidArgumentError("method", f"got {method!r}, expected one of {METHODS}.")
    for arg, value in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        positive_number(value, arg, or_none=True, fix=f"For the default, {say.unset(arg)}.")
    if eps is not None and eps >= 1:
        raise InvalidArgumentError(
            "eps", f"got {eps!r}; it is a relative step (x moves by eps * max(1, |x|)), expected "
            "a small number below 1.", f"For the default (6.1e-6 for float64), {say.unset('eps')}.")
    positive_int(samples, "samples", or_none=True)
    validate_seed(seed)
    positive_int(directions, "directions")
    positive_int(batch_size, "batch_size", or_none=True)
    if progress is not None and not callable(progress):
        raise InvalidArgumentError("progress", f"got {type(progress).__name__}, expected a function "
                                   "progress(done, total) or None.")
    positive_number(max_seconds, "max_seconds", or_none=True, unit="seconds",
                    fix=f"To turn the time guard off, use {say.setting('max_seconds', None)}.")


def validate_step(eps, dtype) -> None:
    """A step that survives rounding in ``dtype``: x + eps*max(1,|x|) must differ from x, also at eps/10."""
    if eps is None:
        return
    smallest = smallest_step(dtype)
    if eps < smallest:
        raise InvalidArgumentError(
            "eps",
            f"got {eps!r}, below {smallest:.2g} (32 machine epsilons of {np.dtype(dtype).name}): "
            "the perturbed entries would round back to their old values and every difference "
            "would be 0/0.",
            f"For the default, cbrt of the machine epsilon, {words().unset('eps')}.",
        )


def require_callable(value, argument: str) -> Callable:
    if not callable(value):
        raise InvalidArgumentError(
            argument,
            f"got {type(value).__name__}, expected a zero-argument function.",
            f"Wrap it, e.g. {argument}=lambda: my_loss(X, y).",
        )
    return value


def validate_entries(entries, params: dict[str, np.ndarray], mode: str) -> dict[str, np.ndarray]:
    """``entries`` as ``{name: flat int indices}`` (empty when None), each name a parameter's and
    each index within it; only for the entry-wise modes."""
    if entries is None:
        return {}
    if mode == "directional":
        raise InvalidArgumentError("entries", "was given with mode='directional', which checks "
                                   "directions, not entries.", "Use mode='full' with entries.")
    if not isinstance(entries, Mapping):
        raise InvalidArgumentError("entries", f"got {type(entries).__name__}, expected a dict "
                                   "name -> flat indices.", "Pass e.g. entries={'W1': [0, 5, 9]}.")
    checked = {}
    for name, indices in entries.items():
        if name not in params:
            raise InvalidArgumentError("entries", f"names {name!r}, which is not a parameter "
                                       f"(parameters: {list(params)}).", "Use the names in params.")
        flat = np.asarray(indices)
        if flat.ndim != 1 or (flat.size and not np.issubdtype(flat.dtype, np.integer)):
            raise InvalidArgumentError("entries", f"[{name!r}] is not a 1-D array of integers.",
                                       "Pass flat indices, e.g. np.flatnonzero(mask).")
        if flat.size and (flat.min() < 0 or flat.max() >= params[name].size):
            raise InvalidArgumentError("entries", f"[{name!r}] has indices outside 0..{params[name].size - 1}.",
                                       f"{name} has {params[name].size} entries.")
        checked[name] = flat.astype(np.intp)
    return checked
