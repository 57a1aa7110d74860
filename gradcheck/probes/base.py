"""What every stability probe shares: the result type, the magnitude sweep, guarded calls.

A probe calls a user's function on inputs of growing magnitude and reports the smallest
magnitude at which it breaks. A user function that raises is a finding (``exception``), never
a crash; a RuntimeWarning it emits is a finding too (``overflow`` or ``warning``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gradcheck.checks.integrity import ArrayGuard
from gradcheck.checks.properties import shift_what
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.model import rounding as numeric_rounding
from gradcheck.numeric.model import value_tolerance
from gradcheck.results import ProbeResult
from gradcheck.results.findings import Finding
from gradcheck.targets import usercode
from gradcheck.targets.protocol import target_params
from gradcheck.targets.usercode import UserCodeCrash
from gradcheck.validation import float_dtype, validate_seed

#: Logit magnitudes swept; naive exp overflows past ~88.7 (float32) and ~709.8 (float64).
MAGNITUDES = (1.0, 10.0, 50.0, 88.0, 90.0, 100.0, 500.0, 709.0, 711.0, 1000.0, 1e4)

#: The dtypes a probe runs in.
FLOAT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Outcome:
    """One guarded call: the output as float64 (None if it raised), the error, the first warning,
    and the dtype the function returned (None when it returned no array)."""

    value: np.ndarray | None
    error: str | None = None
    warning: str | None = None
    dtype: np.dtype | None = None


def call_guarded(fn: Callable, *args: Any, call: str = "fn") -> Outcome:
    """Call ``fn`` on copies of ``args``; record an exception or the first RuntimeWarning."""
    # underflow to 0 is harmless in exp; overflow, 0/0 and log(0) are not
    quiet_underflow = np.errstate(over="warn", invalid="warn", divide="warn", under="ignore")
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings(record=True) as caught, quiet_underflow:
        warnings.simplefilter("always")
        try:
            returned = usercode.call_user(fn, *copies, call=call)
        except UserCodeCrash as crash:  # a broken user function is a finding, not a crash
            return Outcome(None, f"{crash.crash.error_type}: {crash.crash.message}")
        if returned is None:
            return Outcome(None, "returned None, expected an array (a missing return statement?)")
        try:
            out = np.asarray(returned, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            return Outcome(None, f"returned {type(returned).__name__}, not an array of numbers ({exc})")
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return Outcome(out, None, runtime[0] if runtime else None, getattr(returned, "dtype", None))


def warning_kind(warning: str | None) -> str | None:
    """``overflow`` for an overflow warning, ``warning`` for any other, None without one."""
    if warning is None:
        return None
    return "overflow" if "overflow" in warning else "warning"


def check_dtype(dtype: Any) -> np.dtype:
    """The dtype as np.dtype, or InvalidArgumentError unless it is float32 or float64."""
    return float_dtype(dtype)


def check_function(name: str, value: Any, optional: bool = False) -> None:
    """InvalidArgumentError naming ``name`` unless ``value`` is callable (or None if optional)."""
    if (value is None and optional) or callable(value):
        return
    raise InvalidArgumentError(name, f"got {type(value).__name__}, expected a function.",
                               f"Pass the function itself, e.g. {name}=my_function rather than "
                               f"{name}=my_function(...).")


def check_axis(axis: int) -> int:
    """A class axis of a 2-D array, as 0 or 1."""
    if not isinstance(axis, (int, np.integer)) or not -2 <= axis <= 1:
        raise InvalidArgumentError("axis", f"got {axis!r}, expected 0, 1 or -1.",
                                   "Use axis=0 when examples are columns, -1 when they are rows.")
    return int(axis) % 2


def rounding(dtype: np.dtype, scale: float) -> float:
    """Absolute rounding a correct implementation may show on values of size ``scale`` (the
    numeric model's :func:`~gradcheck.numeric.model.rounding`)."""
    return float(numeric_rounding(scale, dtype))


def allowed_error(dtype: np.dtype, magnitude: float, exact: np.ndarray | float) -> np.ndarray:
    """Error a value computed in ``dtype`` from inputs of size ``magnitude`` may show
    (:func:`~gradcheck.numeric.model.value_tolerance`): a function that loses more than that
    (or returns something else) is ``inaccurate``."""
    return value_tolerance(magnitude, exact, dtype)


def sweep_base(shape: tuple[int, int], axis: int, seed: int) -> np.ndarray:
    """Uniform(-1, 1) logits whose first example spans exactly [-1, 1] along the class axis.

    Scaled by a magnitude m, the first example's largest logit is m and its smallest is -m,
    so the thresholds of exp (overflow past m ~ 709.8, underflow past 2m ~ 745 in float64)
    are crossed at magnitudes a reader can work out.
    """
    validate_seed(seed)
    base = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)
    first = base[(slice(None), 0)] if axis == 0 else base[0]
    first[0], first[-1] = 1.0, -1.0
    return base


def logit_sweep(axis: int, dtype: np.dtype, seed: int) -> Iterator[tuple[float, np.ndarray, np.ndarray]]:
    """``(m, Z, shifted)`` for each m in :data:`MAGNITUDES`: logits (3, 5) for axis 1, (5, 3)
    for axis 0, scaled to magnitude m, and the same logits plus one constant per example."""
    rng = np.random.default_rng(seed)
    base = sweep_base((3, 5) if axis == 1 else (5, 3), axis, seed)
    for m in MAGNITUDES:
        Z = (base * m).astype(dtype)
        yield m, Z, (Z.astype(np.float64) + per_example_shift(Z, axis, rng, m)).astype(dtype)


def per_example_shift(Z: np.ndarray, axis: int, rng: np.random.Generator, magnitude: float) -> np.ndarray:
    """Constants, one per example, that move each example's largest logit into [-m/2, 0].

    The shifted logits never exceed the unshifted ones' magnitude, so a function that only
    overflows is not reported as shift-variant before it overflows.
    """
    row_max = np.max(Z.astype(np.float64), axis=axis, keepdims=True)
    return -row_max - rng.uniform(0.0, magnitude / 2, size=row_max.shape)


def shift_check(fn: Callable, shifted: np.ndarray, reference: np.ndarray, tolerance: float,
                quantity: str) -> tuple[float, str | None, str | None]:
    """Call ``fn`` on the per-example-shifted logits and compare with ``reference``.

    Returns ``(max |fn(shifted) - reference|, kind, message)``: kind is None when the output
    moved by at most ``tolerance``; else ``shift_variance``, the kind of NumPy's warning, or
    ``exception`` / ``shape`` when the shifted call raised or changed the shape. ``quantity``
    names the output in the message ("the probabilities", "the log-probabilities").
    """
    moved = call_guarded(fn, shifted)
    after = "after adding one constant per example"
    if moved.value is None or moved.value.shape != reference.shape:
        return float("nan"), "exception" if moved.error else "shape", \
            f"{after}, {moved.error or 'the shape changed'}"
    with np.errstate(all="ignore"):
        error = max_abs(moved.value - reference)
    if moved.warning is not None:
        return error, warning_kind(moved.warning), f"{after}, {moved.warning}"
    if not error <= tolerance:
        return error, "shift_variance", shift_what(quantity, error)
    return error, None, None


def open_logit_sweep(name: str, fn: Any, axis: int, dtype: Any, subject: str) -> tuple[int, np.dtype, Sweep]:
    """Validate a logit probe's arguments and open its sweep: (class axis as 0 or 1, dtype, sweep)."""
    check_function("fn", fn)
    axis = check_axis(axis)
    dt = check_dtype(dtype)
    return axis, dt, Sweep(name, subject, dt)


def logsumexp(Z: np.ndarray, axis: int | None) -> np.ndarray:
    """log(sum(exp(Z))) along ``axis`` (keepdims), computed in float64 without overflow."""
    Z = np.asarray(Z, dtype=np.float64)
    top = np.max(Z, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(all="ignore"):
        return top + np.log(np.sum(np.exp(Z - top), axis=axis, keepdims=True))


def stable_log_softmax(Z: np.ndarray, axis: int) -> np.ndarray:
    """The exact log-softmax of Z along ``axis``, in float64 (the probes' reference)."""
    return np.asarray(Z, dtype=np.float64) - logsumexp(Z, axis)


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) in float64, exp only ever taken of -|z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def max_abs(a: np.ndarray) -> float:
    """Largest |entry| as a float; NaN when any entry is NaN or the array is empty."""
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(a))) if a.size else float("nan")


class Sweep:
    """Collects one probe's findings over the sweep: the first finding of each kind.

    ``breaking_magnitude`` is the magnitude of the first finding of any kind.
    """

    def __init__(self, name: str, subject: str, dtype: np.dtype):
        self.name, self.subject, self.dtype = name, subject, np.dtype(dtype)
        self.findings: list[Finding] = []
        self.breaking: float | None = None

    def report(self, kind: str | None, magnitude: float, what: str, hint: str, *,
               where: str = "logits", **data: Any) -> None:
        """Record ``kind`` at ``magnitude`` unless that kind was already reported.

        Findings about different parts of one subject (``part="loss"``, ``part="gradient"``)
        are kept apart.
        """
        part = data.get("part")
        if kind is None or any(f.kind == kind and f.data.get("part") == part for f in self.findings):
            return
        if self.breaking is None:
            self.breaking = magnitude
        self.findings.append(Finding(
            kind, self.subject,
            f"{self.subject}: {where} of magnitude {magnitude:g} ({self.dtype.name}) — {what}",
            hint=hint, data={"magnitude": magnitude, "dtype": self.dtype.name, **data}))

    def result(self, series: dict[str, list[float]]) -> ProbeResult:
        return ProbeResult(self.name, self.subject, self.findings,
                           series, self.breaking)


@contextmanager
def parameters_kept(target, subject: str, findings: list[Finding]) -> Iterator[None]:
    """Restore the target's parameters afterwards; a change is a ``mutation`` finding."""
    with ArrayGuard(target_params(target)) as guard:
        try:
            yield
        finally:
            changed = guard.changed()
            if changed:
                findings.append(Finding(
                    "mutation", subject,
                    f"{subject}: calling the network changed the parameters {', '.join(changed)} "
                    "(they have been restored)",
                    "loss, gradients and forward must not update the parameters; keep the update "
                    "in the training loop."))


class UserCodeRaised(Exception):
    """The network under probe raised; ``finding`` (kind ``exception``) says where."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def call_network(subject: str, call: str, fn: Callable, *args: Any) -> Any:
    """``fn(*args)`` through the one guarded call, or UserCodeRaised with a finding naming
    ``call``, the exception and the user's line."""
    try:
        return usercode.call_user(fn, *args, call=call)
    except UserCodeCrash as raised:  # a broken network is a finding, never a crash
        crash = raised.crash
        at = f" at {crash.where}" if crash.file else ""
        finding = crash.finding(subject)
        raise UserCodeRaised(replace(
            finding, text=f"{subject}: {call} raised {crash.error_type}: {crash.message}{at}"
        )) from raised.__cause__


def call_gradients(subject: str, call: str, target: Any, X: Any, y: Any) -> Mapping:
    """``target.gradients(X, y)``, or UserCodeRaised when it raises or returns no mapping."""
    grads = call_network(subject, call, target.gradients, X, y)
    if not isinstance(grads, Mapping):
        raise UserCodeRaised(Finding(
            "shape", subject, f"{subject}: {call} returned {type(grads).__name__}, expected a dict "
            "name -> gradient array", "Return {name: gradient} with the names of params."))
    return grads


def skipped_probe(subject: str, reason: str) -> ProbeResult:
    """A check that does not apply to this target: skipped, with one ``skipped`` info finding."""
    return ProbeResult(subject, subject, [Finding(
        "skipped", subject, f"{subject}: skipped — {reason}", severity="info",
        data={"skipped": True, "reason": reason})], skipped=reason)

