"""Do the gradients point downhill? An exact test, independent of data, initialisation and rates.

For a small enough step ``eta`` along ``-g`` the loss of any correct network falls by about
``eta |g|^2``. :func:`descent_test` measures the change over the change the gradients predict,
``(L(x - eta g) - L(x + eta g)) / (g . (x_minus - x_plus))``, at steps shrinking tenfold down to
the loss's rounding floor, and asks whether that ratio tends to 1 (see
:mod:`gradcheck.numeric.taylor`). A sign error gives -1, a gradient c times too large 1/c, a
gradient that is not the loss's at all something else again; a curved or kinked loss only moves
the ratio at large steps. The predicted change is computed from the parameters actually written
(rounded to their dtype), so float32 parameters are judged as exactly as float64 ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gradcheck.numeric.model import least_precise
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.numeric.taylor import RatioSweep, judge_ratios, loss_rounding
from gradcheck.results.findings import Finding
from gradcheck.targets.protocol import target_params
from gradcheck.targets.usercode import Crash, UserCodeCrash, call_user

#: Predicted relative decreases tried: eta = q |L| / |g|^2 for q = 10^-1 ... 10^-14.
FRACTIONS = tuple(10.0 ** -k for k in range(1, 15))


@dataclass
class Descent:
    """What :func:`descent_test` saw.

    verdict : ``"downhill"`` (the ratio tends to 1), ``"wrong"`` (it settles elsewhere),
        ``"not_read"`` (the loss did not change at all: the parameters are not what it reads),
        ``"undecided"`` (rounding or curvature hid the limit), or a reason the test could not
        run: ``"zero_gradient"``, ``"nonfinite"``, ``"nondeterministic"``, ``"shape"``, ``"raised"``.
    sweep : the ratios (None unless the test ran).
    loss, grad_norm : at the unperturbed parameters.
    detail : the exception or shape mismatch, in words, when there was one.
    """

    verdict: str
    sweep: RatioSweep | None = None
    loss: float = math.nan
    grad_norm: float = math.nan
    detail: str = ""
    #: Where the user's code raised (verdict "raised").
    crash: Crash | None = None
    #: The least precise dtype of the parameters moved.
    dtype: str = "float64"


def _float_loss(target, X, y) -> float:
    return float(np.asarray(call_user(target.loss, X, y, call="loss"), dtype=np.float64).reshape(-1)[0])


def _raised(crash: UserCodeCrash) -> Descent:
    return Descent("raised", detail=f"{crash.crash.error_type}: {crash.crash.message}", crash=crash.crash)


def _steps(params: Mapping[str, np.ndarray], grads: Mapping) -> dict[str, np.ndarray] | None:
    """Gradients as float64 arrays shaped like their parameters (copied), None if one cannot be."""
    out = {}
    for name, arr in params.items():
        if name not in grads:
            continue
        g = np.array(grads[name], dtype=np.float64)
        if g.shape != arr.shape:
            if g.size == arr.size:
                g = g.reshape(arr.shape)
            else:
                try:
                    g = np.broadcast_to(g, arr.shape).copy()
                except ValueError:
                    return None
        out[name] = g
    return out


def descent_test(target, X, y) -> Descent:
    """Measure whether ``target.gradients(X, y)`` points downhill on ``target.loss(X, y)``.

    The parameters are moved in place and restored bit for bit before returning. Exceptions
    raised by the user's code are returned as verdict ``"raised"``.
    """
    params = target_params(target)
    snapshot = Snapshot(params)
    try:
        with np.errstate(all="ignore"):
            try:
                f0 = _float_loss(target, X, y)
                grads = _steps(params, call_user(target.gradients, X, y, call="gradients"))
                f0_again = _float_loss(target, X, y)
            except UserCodeCrash as crash:  # the user's code: reported by the caller as a finding
                return _raised(crash)
            if grads is None:
                return Descent("shape", loss=f0, detail="a gradient cannot be shaped like its parameter")
            norm2 = sum(float(np.sum(g * g)) for g in grads.values())
            if not (math.isfinite(f0) and math.isfinite(norm2)):
                return Descent("nonfinite", loss=f0, grad_norm=math.sqrt(norm2) if norm2 >= 0 else math.nan)
            if f0 != f0_again:
                return Descent("nondeterministic", loss=f0, grad_norm=math.sqrt(norm2),
                               detail=f"loss {f0!r} then {f0_again!r} at the same parameters")
            if norm2 == 0.0:
                return Descent("zero_gradient", loss=f0, grad_norm=0.0)
            dtype = least_precise(a.dtype for a in params.values())
            floor = loss_rounding(f0, dtype)
            scale = max(abs(f0), floor)
            steps, ratios, noise = [], [], []
            for q in FRACTIONS:
                eta = q * scale / norm2
                f_minus, moved_minus = _moved(target, X, y, params, grads, snapshot, -eta)
                f_plus, moved_plus = _moved(target, X, y, params, grads, snapshot, eta)
                predicted = moved_minus - moved_plus  # g . (x_minus - x_plus), about -2 eta |g|^2
                if predicted == 0.0:
                    break  # the step no longer moves any parameter in this dtype
                steps.append(eta)
                ratios.append((f_minus - f_plus) / predicted)
                noise.append(2 * floor / abs(predicted))
                if noise[-1] > 1.0:
                    break  # below the rounding floor: smaller steps only give noise
    except UserCodeCrash as crash:  # a loss that raises at a moved point
        return _raised(crash)
    finally:
        snapshot.restore()
    sweep = judge_ratios(steps, ratios, noise)
    verdict = {"agrees": "downhill", "disagrees": "wrong"}.get(sweep.verdict, "undecided")
    if ratios and all(r == 0.0 for r in ratios):
        verdict = "not_read"  # the parameters moved and the loss did not change at all
    return Descent(verdict, sweep, f0, math.sqrt(norm2), dtype=np.dtype(dtype).name)


def descent_finding(subject: str, descent: Descent, *, decisive: bool = False) -> Finding:
    """The descent test in words: an error only when the ratio settles away from 1 or code raised.

    ``decisive``: nothing else judged the gradients (no gradient check ran and passed), so a test
    that could not decide in a precision below float64 leaves the gradients unjudged: an
    inconclusive finding that says what would decide it.
    """
    sweep = descent.sweep
    data = {"verdict": descent.verdict, "loss": descent.loss, "grad_norm": descent.grad_norm,
            "dtype": descent.dtype}
    if sweep is not None:
        data.update(limit=sweep.limit, ratios=sweep.ratios, steps=sweep.steps)
    where = f"{subject}: at loss {descent.loss:.6g}, gradient norm {descent.grad_norm:.3g}"
    if descent.verdict == "downhill":
        best = min(range(len(sweep.ratios)), key=lambda k: abs(sweep.ratios[k] - 1.0)
                   if math.isfinite(sweep.ratios[k]) and sweep.noise[k] <= 0.05 else math.inf)
        return Finding("divergence", subject,
                       f"{where}: a step of {sweep.steps[best]:.3g} along -g changes the loss by "
                       f"{sweep.ratios[best]:.6g} times what the gradients predict — they point "
                       "downhill", severity="info", data=data)
    if descent.verdict == "not_read":
        return Finding("divergence", subject,
                       f"{where}: the loss did not change at all when the parameters moved along "
                       "-g — these are not the arrays your loss reads",
                       "Expose the live arrays the forward pass uses as params (not copies, and "
                       "not arrays a later assignment replaces).", data=data)
    if descent.verdict == "wrong":
        r = sweep.limit
        if r < 0:
            meaning = (f"the loss rises along -g: it changes by {r:.3g} times the predicted "
                       "decrease however small the step — the gradients point uphill")
            hint = ("The gradients have the wrong sign somewhere: a difference written y - p "
                    "instead of p - y, or a minus sign missing or doubled.")
        else:
            meaning = (f"as the step along -g shrinks, the loss changes by {r:.3g} times what the "
                       "gradients predict, not 1 — they are not the loss's gradients")
            hint = ("Run the gradient check: it names the parameters and the factor (a missing 1/m, "
                    "a doubled term, a gradient of another loss).")
        return Finding("divergence", subject, f"{where}: {meaning}", hint, data=data)
    reasons = {
        "zero_gradient": ("every gradient is exactly zero, so there is no direction to test",
                          "If the loss does depend on the parameters, the gradients are never "
                          "written: run the gradient check."),
        "nonfinite": ("the loss or the gradients are NaN or inf on this batch",
                      "See the input-scale probe, which traces the first non-finite value."),
        "nondeterministic": (f"the loss is not repeatable at the same parameters ({descent.detail}), "
                             "so a change of loss cannot be attributed to a step",
                             "Fix the random state inside the loss (a dropout mask drawn on every "
                             "call, say) to test descent."),
        "shape": ("a gradient cannot be shaped like its parameter",
                  "See the shapes probe."),
        "raised": (f"the network raised {descent.detail}",
                   descent.crash.finding(subject).hint if descent.crash is not None
                   else "Run the same call yourself on this batch to see the traceback."),
        "undecided": ("rounding and curvature hide whether the loss falls by eta |g|^2 for small "
                      "steps; the descent test is not conclusive here",
                      "In float32, run it in float64 for a conclusive test; in float64, run the "
                      "gradient check, which compares the gradients entry by entry."),
    }
    words, hint = reasons[descent.verdict]
    severity = "error" if descent.verdict == "raised" else "warning"
    if decisive and descent.verdict == "undecided" and descent.dtype != "float64":
        data["inconclusive"] = ("float64 would decide it (the network built with float64 "
                                "parameters), as would the gradient check (gradcheck check)")
    return Finding("exception" if descent.verdict == "raised" else "divergence", subject,
                   f"{subject}: descent test "
                   f"{'inconclusive' if descent.verdict == 'undecided' else 'skipped'} — {words}",
                   hint, severity=severity,
                   data={**data, "skipped": descent.verdict != "undecided", "reason": words})


def _moved(target, X, y, params, grads, snapshot, eta) -> tuple[float, float]:
    """Loss at x + eta g (written in the parameters' dtype), and g . (x_written - x)."""
    moved = 0.0
    for name, arr in params.items():
        if name not in grads:
            continue
        original = snapshot.original(name)
        np.copyto(arr, (original.astype(np.float64) + eta * grads[name]).astype(arr.dtype))
        moved += float(np.sum(grads[name] * (arr.astype(np.float64) - original.astype(np.float64))))
    try:
        return _float_loss(target, X, y), moved
    finally:
        snapshot.restore()


__all__ = ["Descent", "descent_test"]
