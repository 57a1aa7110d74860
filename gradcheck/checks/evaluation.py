"""Calling the user's loss: count calls, insist on a finite-or-NaN scalar, name failing calls."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from time import perf_counter

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.differences import stencil_values
from gradcheck.numeric.model import NOISE_MARGIN, LossPrecision, eps_of, least_precise, measured_precision
from gradcheck.targets.usercode import call_user


def as_scalar(value, *, argument: str = "loss") -> float:
    """Turn a loss value into a Python float, or explain what was returned instead."""
    if isinstance(value, float):
        return value
    if isinstance(value, (Real, np.floating, np.integer)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int such as 10**400: no float holds it
            raise InvalidArgumentError(
                argument, f"returned an integer of {len(str(abs(int(value))))} digits, too large "
                "for a float (the largest is about 1.8e308).",
                "Return the loss as a float, e.g. float(np.mean(losses)).") from None
    if isinstance(value, np.ndarray):
        if value.size == 1 and np.issubdtype(value.dtype, np.complexfloating):
            raise InvalidArgumentError(
                argument, f"returned a 1-element {value.dtype} array {value.reshape(-1)[0]!r}, "
                "expected a real scalar loss.",
                "A loss is real: return e.g. float(np.real(loss)), and look for where the "
                "complex numbers came from (np.sqrt or np.log of a negative complex input).")
        if value.size == 1 and np.issubdtype(value.dtype, np.number):
            return float(value.reshape(()))
        raise InvalidArgumentError(
            argument,
            f"returned an array of shape {value.shape}, expected a scalar loss.",
            "Return the mean (or sum) over examples, e.g. float(np.mean(losses)).",
        )
    if isinstance(value, (tuple, list)) and value and not isinstance(value[0], (tuple, list)):
        raise InvalidArgumentError(
            argument,
            f"returned a {type(value).__name__} of length {len(value)}, expected a scalar loss.",
            "If your function returns (loss, grads), wrap it: loss=lambda: f()[0].",
        )
    raise InvalidArgumentError(
        argument,
        f"returned {type(value).__name__} {value!r:.60}, expected a scalar float loss.",
        "Make the zero-argument loss function return a number.",
    )


def returned_dtype(value) -> np.dtype | None:
    """The float dtype of a loss value when it is a NumPy float (scalar or array), else None."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return np.dtype(dtype)
    return None


#: Entries of each parameter sampled to measure the loss's rounding (6 calls each).
ROUNDING_SAMPLES = 2
#: Epsilons of the parameters' dtype the sampled loss values should span (so their rounding shows).
SPAN_UNITS = 2048


#: The spacing's mantissa: not a power of two, so the sampled points round as the steps do.
_MANTISSA = 0.7071


def _spacing(x: float, gradient: float, loss_value: float, dtype) -> float:
    """The spacing of the 7 samples around x: wide enough that the loss moves by
    :data:`SPAN_UNITS` epsilons of ``dtype`` over them (for a slope ``gradient``), from 2^-14 to
    2^-8 of max(1, |x|), so a smooth loss stays smooth to its 6th difference."""
    scale = max(1.0, abs(x))
    wanted = SPAN_UNITS * eps_of(dtype) * max(abs(loss_value), 1.0) / (6 * max(abs(gradient), 1e-30))
    relative = min(max(wanted / scale, 2.0 ** -14), 2.0 ** -8)
    return _MANTISSA * float(2.0 ** np.ceil(np.log2(relative * scale)))


#: The first calls are timed, to estimate what a whole check will cost before starting it.
TIMED_CALLS = 2
#: Extra timed calls made before refusing a check as too slow: one slow call (a busy machine,
#: a garbage collection, BLAS threads waking up) must not refuse a check that would be quick.
RETIMED_CALLS = 5
UNPERTURBED = "the unperturbed parameters"
#: Entries a loss in another process evaluates in its first round trip (progress is told in
#: between); later round trips are sized to take about ENTRY_BATCH_SECONDS each, from the time per
#: entry the previous one took, so a cheap loss pays the crossing rarely and an expensive one
#: still reports progress (and stops on Ctrl-C) within about that time.
ENTRY_BATCH = 256
ENTRY_BATCH_SECONDS = 0.5
ENTRY_BATCH_LIMITS = (16, 16384)


class LossEvaluator:
    """Wraps the user's zero-argument loss: counts calls and converts results to float.

    ``where`` describes the current perturbation (e.g. ``"W1[3, 7] + h"``) so an exception
    from the user's code can be reported with the call that triggered it. The first
    ``TIMED_CALLS`` calls are timed (``seconds_per_call``), and every NaN/inf the loss returns
    is counted (``nonfinite_calls``, ``first_nonfinite``) so a result can say it happened.
    """

    def __init__(self, loss: Callable[[], object]):
        self._loss = loss
        #: How messages name the function: "loss", or the name a Named function carries.
        self.call_name = getattr(loss, "call_name", "loss")
        self.calls = 0
        self.where = UNPERTURBED
        self.shape: tuple | None = None
        self.entry: int | None = None
        self.seconds_per_call: float | None = None
        self._timed_until = TIMED_CALLS
        self.nonfinite_calls = 0
        self.first_nonfinite: str | None = None
        #: The least precise float dtype among the NumPy values the loss returned (None while it
        #: returned only Python floats).
        self.returned: np.dtype | None = None

    def at(self, where: str, shape: tuple | None = None) -> None:
        """Describe what is being perturbed: a parameter (and, via ``entry``, which entry)."""
        self.where, self.shape, self.entry = where, shape, None

    def locate(self, flat_index: int) -> None:
        self.entry = flat_index

    def _location(self) -> str:
        if self.shape is None or self.entry is None:
            return self.where
        index = np.unravel_index(self.entry, self.shape) if self.shape else ()
        return f"{self.where}[{', '.join(str(int(i)) for i in index)}]"

    def describe(self) -> str:
        """Where the current call happens, in words: "at ..." or "while perturbing ..."."""
        where = self._location()
        return f"at {where}" if where == UNPERTURBED else f"while perturbing {where}"

    def retime(self, calls: int = RETIMED_CALLS) -> float | None:
        """Time ``calls`` more loss evaluations; ``seconds_per_call`` becomes the fastest seen."""
        self._timed_until = self.calls + calls
        for _ in range(calls):
            self()
        return self.seconds_per_call

    def entry_values(self, array: np.ndarray, indices: np.ndarray, plus: np.ndarray, minus: np.ndarray,
                     on_entry: Callable[[int], None] | None = None):
        """``(f_plus, f_minus)`` at each entry of ``array`` set to ``plus`` and ``minus`` in turn,
        from a loss that evaluates them where it runs (``loss.entry_values``, a target in another
        process), or None when the loss cannot.

        Counted, located and reported as the calls of the loop in
        :func:`gradcheck.numeric.differences.entry_differences` are: the same call numbers, the same
        NaN/inf count, and an error of the loss at an entry raised as that call's error.
        """
        remote = getattr(self._loss, "entry_values", None)
        if remote is None:
            return None
        n = indices.size
        f_plus, f_minus = np.empty(n), np.empty(n)
        start, size = 0, ENTRY_BATCH
        while start < n:
            end = min(n, start + size)
            began = perf_counter()
            got = remote(array, indices[start:end], plus[start:end], minus[start:end])
            size = _next_batch(size, end - start, perf_counter() - began)
            if got is None:
                if start == 0:
                    return None
                raise RuntimeError("a remote loss stopped evaluating entries half way")
            done_plus, done_minus, stop = got
            k_plus, k_minus = len(done_plus), len(done_minus)
            f_plus[start:start + k_plus] = done_plus
            f_minus[start:start + k_minus] = done_minus
            self._count_batch(indices[start:end], done_plus, done_minus)
            if on_entry is not None:
                for k in range(start, start + k_minus):
                    on_entry(k)
            if stop is not None:
                self.entry = int(indices[start + stop.k])
                self.calls += 1  # the call that failed, numbered as in the loop
                stop.raise_for(self)
            start = end
        return f_plus, f_minus

    def _count_batch(self, indices, f_plus, f_minus) -> None:
        """Count the batch's calls in loop order (plus, minus, plus, ...) and its NaN/inf values."""
        values = np.empty(len(f_plus) + len(f_minus))
        values[0::2][:len(f_plus)] = f_plus
        values[1::2][:len(f_minus)] = f_minus
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            self.nonfinite_calls += int(bad.size)
            if self.first_nonfinite is None:
                self.entry = int(indices[bad[0] // 2])
                self.first_nonfinite = f"call {self.calls + int(bad[0]) + 1}, {self.describe()}"
        self.calls += values.size

    def __call__(self) -> float:
        self.calls += 1
        timed = self.calls <= self._timed_until
        start = perf_counter() if timed else 0.0
        # the loss is the user's code: through the one guarded call, saying which call it was
        value = call_user(self._loss, call=self.call_name,
                          during=lambda: f"call {self.calls}, {self.describe()}")
        if timed:
            # The fastest of the timed calls: a first call may pay for imports and caches.
            elapsed = max(perf_counter() - start, 0.0)
            overhead = getattr(getattr(self._loss, "entry_values", None), "overhead", None)
            if overhead is not None:
                # a loss in another process: its entries, in batches, do not pay the round trip
                elapsed = max(elapsed - overhead(), 0.0)
            if self.seconds_per_call is None or elapsed < self.seconds_per_call:
                self.seconds_per_call = elapsed
        dtype = returned_dtype(value)
        if dtype is not None:
            self.returned = dtype if self.returned is None else least_precise([self.returned, dtype])
        result = as_scalar(value)
        if not math.isfinite(result):
            self.nonfinite_calls += 1
            if self.first_nonfinite is None:
                self.first_nonfinite = f"call {self.calls}, {self.describe()}"
        return result


    def precisions(self, params: dict[str, np.ndarray], analytic: dict[str, np.ndarray],
                   f0: float) -> dict[str, LossPrecision]:
        """Parameter name -> the precision the loss computes in along it, measured
        (:func:`measured_precision`) for parameters narrower than float64; float64's model for
        the others.

        Each parameter is measured on its own, since a loss may compute in float64 along one
        parameter and in float32 along another (a float32 product on one path, an upcast on
        the rest): the loss is sampled around its :data:`ROUNDING_SAMPLES` entries with the
        largest analytic gradients (the loss moves the most there), each restored bit for bit.
        """
        out = {}
        for name, array in params.items():
            if array.dtype == np.float64 or array.size == 0:
                out[name] = LossPrecision.modelled(f0, np.float64, self.returned)
                continue
            grad = np.asarray(analytic.get(name, np.zeros(0)), dtype=np.float64)
            flat = np.where(np.isfinite(grad), np.abs(grad), 0.0).reshape(-1) \
                if grad.shape == array.shape else np.zeros(array.size)
            samples = []
            self.at(f"{name} (measuring the loss's rounding)", array.shape)
            for index in np.argsort(flat, kind="stable")[::-1][:ROUNDING_SAMPLES]:
                index = int(index)
                x = float(array[np.unravel_index(index, array.shape)])
                spacing = _spacing(x, float(flat[index]), f0, array.dtype)
                samples.append(stencil_values(self, array, index, spacing, f0, self.locate))
            out[name] = measured_precision(samples, f0, array.dtype, self.returned,
                                           needed=min(ROUNDING_SAMPLES, array.size))
        self.at(UNPERTURBED)
        return _unmeasured_from_the_rest(out, params, f0)


def _unmeasured_from_the_rest(found: dict[str, LossPrecision], params, f0: float) -> dict[str, LossPrecision]:
    """A parameter whose samples could not measure the rounding (its gradients too small to move
    the loss enough) takes the largest rounding measured along the others, in its own dtype:
    the rounding is mostly the loss's own, and its own dtype keeps the tolerance it would have."""
    measured = [p.sigma for p in found.values() if p.sigma is not None]
    if not measured:
        return found
    sigma = max(measured)
    out = dict(found)
    for name, precision in found.items():
        dtype = params[name].dtype
        if precision.sigma is None and dtype != np.float64:
            scale = max(abs(f0), 1.0)
            out[name] = LossPrecision(np.dtype(dtype), max(NOISE_MARGIN * sigma, 4 * eps_of(dtype) * scale),
                                      sigma, precision.returned)
    return out


def _next_batch(size: int, done: int, seconds: float) -> int:
    """Entries for the next round trip: about :data:`ENTRY_BATCH_SECONDS` at the pace of the last
    one (``done`` entries in ``seconds``), at most four times as many, within the limits."""
    low, high = ENTRY_BATCH_LIMITS
    if done <= 0 or seconds <= 0:
        return size
    wanted = int(ENTRY_BATCH_SECONDS * done / seconds)
    return max(low, min(high, 4 * size, wanted))
