"""Training probes: short runs of gradient descent that show where a network stops being finite.

Each probe takes a target (see docs/protocol.md) and one batch ``X, y`` in its layout, with
X scaled like the real data (pixels in [0, 1]). Every probe restores the target's parameters
bit for bit. Each returns a :class:`~gradcheck.probes.softmax.ProbeResult`: a verdict,
findings in plain words, and the series a report plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from gradcheck.findings import Finding
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.probes.base import ProbeResult, UserCodeRaised, call_gradients, call_user, parameters_kept
from gradcheck.probes.inputs import positive, positive_list, precision_pair, probe_batch, target_and_batch
from gradcheck.probes.runs import RunRecord, apply_step, first_nonfinite_layer, global_norm, sgd_run
from gradcheck.targets.protocol import target_params

#: Input scales swept: as given, pixels never divided by 255, and far beyond.
INPUT_SCALES = (1.0, 255.0, 1e4)
#: Learning rates swept, a decade apart.
LEARNING_RATES = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
#: A gradient-norm growth beyond this factor within one run counts as exploding.
EXPLODING_GROWTH = 1e3
#: First-to-last weight gradient RMS ratio below this counts as vanishing.
VANISHING_RATIO = 1e-3
#: Fraction of dead units in a layer that makes a finding (error at or above 0.5).
DEAD_WARNING, DEAD_ERROR = 0.1, 0.5


def _run_error_finding(subject: str, run: RunRecord) -> Finding:
    return Finding("exception", subject, f"{subject}: the target raised at {run.error}",
                   "Run the same call yourself with this batch; the traceback shows the line.",
                   data={"lr": run.lr, "scale": run.scale})


def probe_input_scale(target, X, y, *, scales: Sequence[float] = INPUT_SCALES, lr: float = 0.1,
                      steps: int = 10, subject: str = "input scale") -> ProbeResult:
    """Train a few steps on ``scale * X`` for each scale; find the first non-finite value.

    Parameters
    ----------
    X : the batch as the network should see it (pixels in [0, 1]).
    scales : factors applied to X; 255 is what a network sees when the division by 255 is
        forgotten. Non-finite values at a scale up to 255 fail the probe; beyond, they warn.
    lr, steps : plain gradient descent settings.

    Series: one group per scale, ``{"step", "loss", "grad_norm"}``.
    ``breaking_magnitude``: the smallest scale at which training went non-finite.
    """
    target, X, y = target_and_batch(target, X, y)
    scales = positive_list("scales", scales)
    positive("lr", lr)
    positive("steps", steps, integer=True)
    result = ProbeResult(name="input_scale", subject=subject, passed=True)
    baseline: RunRecord | None = None  # the smallest scale that stayed finite
    for scale in sorted(scales):
        run = sgd_run(target, X, y, lr=lr, steps=steps, scale=scale)
        result.series[f"scale {scale:g}"] = run.series()
        if run.error is not None:
            result.findings.append(_run_error_finding(subject, run))
            result.passed = False
            continue
        if run.breakage is None:
            if baseline is None:
                baseline = run
            elif run.loss[-1] > 1.5 * baseline.loss[-1]:
                result.findings.append(Finding(
                    "divergence", subject,
                    f"{subject}[{scale:g}]: training stays finite but ends at loss "
                    f"{run.loss[-1]:.3g} after {steps} steps, against {baseline.loss[-1]:.3g} at "
                    f"scale {baseline.scale:g} — inputs {scale:g}x larger spoil training (divergence)",
                    "Divide the inputs by 255 (or standardise them) before training; huge first "
                    "steps can also kill ReLU units for good.",
                    severity="warning", data={"scale": scale, "loss": run.loss[-1]}))
            continue
        if result.breaking_magnitude is None:
            result.breaking_magnitude = scale
        warned = f"; NumPy warned \"{run.warning[1]}\" at step {run.warning[0]}" if run.warning else ""
        severe = scale <= 255
        hint = ("Divide the inputs by 255 (or standardise them), and compute softmax from "
                "Z - Z.max(axis) so that large logits cannot overflow." if scale > 1 else
                "Training on correctly scaled data goes non-finite: look at the layer named "
                "above, and at the learning rate.")
        result.findings.append(Finding(
            "nonfinite", subject,
            f"{subject}[{scale:g}]: first non-finite value is {run.breakage.describe()}{warned} "
            f"— inputs {scale:g}x larger break training (nonfinite)",
            hint, severity="error" if severe else "warning",
            data={"scale": scale, "step": run.breakage.step, "quantity": run.breakage.quantity,
                  "where": run.breakage.where}))
        result.passed = result.passed and not severe
    return result


def probe_learning_rate(target, X, y, *, rates: Sequence[float] = LEARNING_RATES,
                        steps: int = 20, clip_norm: float = 1.0,
                        subject: str = "learning rate") -> ProbeResult:
    """Sweep learning rates: where training diverges, whether gradients explode, whether
    clipping the global gradient norm to ``clip_norm`` saves the diverging rates.

    Passes when at least one rate lowers the loss by 10% or more while staying finite and the
    network's code raises at none: a network that no rate can train (a wrong sign, a gradient
    1000x too large) fails.

    Series: one group per rate (``"lr 0.1"``) and per clipped rerun (``"lr 10 clipped"``),
    each ``{"step", "loss", "grad_norm"}``. ``breaking_magnitude``: the smallest diverging rate.
    """
    target, X, y = target_and_batch(target, X, y)
    rates = sorted(positive_list("rates", rates))
    positive("steps", steps, integer=True)
    positive("clip_norm", clip_norm)
    result = ProbeResult(name="learning_rate", subject=subject, passed=False)
    trained = []
    for lr in rates:
        run = sgd_run(target, X, y, lr=lr, steps=steps)
        result.series[f"lr {lr:g}"] = run.series()
        if run.error is not None:
            result.findings.append(_run_error_finding(subject, run))
            continue
        if not run.diverged():
            if run.loss[-1] <= 0.9 * run.loss[0]:
                trained.append(lr)
            continue
        if result.breaking_magnitude is None:
            result.breaking_magnitude = lr
            result.findings.append(_divergence_finding(subject, run, target, X, y, clip_norm,
                                                       result.series))
    raised = any(f.kind == "exception" for f in result.findings)
    if trained:
        result.passed = not raised  # the network's code raising is a failure at any rate
        result.findings.append(Finding(
            "divergence", subject, f"{subject}: the loss falls by 10% or more in {steps} steps at "
            f"lr {', '.join(f'{r:g}' for r in trained)}", severity="info",
            data={"trained": trained, "diverges_from": result.breaking_magnitude}))
    elif not raised:
        result.findings.append(Finding(
            "divergence", subject,
            f"{subject}: no rate from {rates[0]:g} to {rates[-1]:g} lowers the loss by 10% in "
            f"{steps} steps — the gradients do not point downhill (divergence)",
            "Run the gradient check: a wrong sign or scale in backprop makes every rate fail."))
    return result


def _divergence_finding(subject, run: RunRecord, target, X, y, clip_norm, series) -> Finding:
    norms = [n for n in run.grad_norm if math.isfinite(n)]
    growth = norms[-1] / norms[0] if len(norms) > 1 and norms[0] > 0 else 1.0
    how = f"goes non-finite ({run.breakage.describe()})" if run.breakage else (
        f"ends at loss {run.loss[-1]:.3g} from {run.loss[0]:.3g}")
    exploding = growth > EXPLODING_GROWTH
    clipped = sgd_run(target, X, y, lr=run.lr, steps=len(run.grad_norm) and max(
        len(run.loss) - 1, 1), clip_norm=clip_norm)
    series[f"lr {run.lr:g} clipped"] = clipped.series()
    saved = not clipped.diverged()
    message = (f"{subject}[{run.lr:g}]: training diverges from this rate, it {how}; gradient norm "
               f"grows {growth:.3g}x{' (exploding)' if exploding else ''}; clipping the global "
               f"norm to {clip_norm:g} {'keeps it stable' if saved else 'does not save it'} (divergence)")
    return Finding("exploding" if exploding else "divergence", subject, message,
                   "Use a smaller rate" + (", or clip gradients by global norm." if saved else "."),
                   severity="info",
                   data={"lr": run.lr, "growth": growth, "clipping_saves": saved})


def _activation_items(target, X) -> list[tuple[str, np.ndarray]]:
    outputs = target.activations(X)
    items = outputs.items() if isinstance(outputs, Mapping) else (
        (f"layer {i}", a) for i, a in enumerate(outputs, start=1))
    return [(str(k), np.asarray(v, dtype=np.float64)) for k, v in items]


def _dead_fraction(A: np.ndarray, example_axis: int) -> float:
    """Fraction of units that output exactly 0 for every example of the batch."""
    units_alive = np.any(A != 0, axis=example_axis)
    return float(1.0 - np.mean(units_alive)) if units_alive.size else 0.0


def probe_activations(target, X, y, *, lr: float = 0.1, steps: int = 20,
                      subject: str = "activations") -> ProbeResult:
    """Per-layer activation mean and standard deviation, and dead units at initialisation
    and after ``steps`` of gradient descent at ``lr``.

    Fails when half or more of a layer's units are dead at initialisation; units that die
    during training give a warning (that depends on the rate and the data).

    A unit is dead when it outputs exactly 0 for every example of the batch (a ReLU whose
    input is negative everywhere: it gets no gradient and never recovers). Needs the
    optional ``activations(X)`` method; without it the probe passes with an info finding.

    Series: ``{"layer", "mean", "std", "dead_at_init", "dead_after_training"}``.
    """
    target, X, y = target_and_batch(target, X, y)
    positive("lr", lr)
    positive("steps", steps, integer=True)
    result = ProbeResult(name="activations", subject=subject, passed=True)
    if not callable(getattr(target, "activations", None)):
        result.findings.append(Finding(
            "warning", subject, f"{subject}: the target has no activations(X) method; skipped",
            "Add activations(X) returning each layer's output to get per-layer statistics.",
            severity="info"))
        return result
    example_axis = 1 if getattr(target, "layout", "rows") == "columns" else 0
    with np.errstate(all="ignore"):
        before = _activation_items(target, X)
    after = _after_training(target, X, y, lr=lr, steps=steps)
    names = [name for name, _ in before]
    dead_init = [_dead_fraction(A, example_axis) for _, A in before]
    dead_after = [_dead_fraction(A, example_axis) for _, A in after] if after else []
    result.series = {"layer": names,
                     "mean": [float(np.mean(A)) for _, A in before],
                     "std": [float(np.std(A)) for _, A in before],
                     "dead_at_init": dead_init}
    if dead_after:
        result.series["dead_after_training"] = dead_after
    for i, (name, initial) in enumerate(zip(names, dead_init)):
        later = dead_after[i] if dead_after else initial
        if max(initial, later) < DEAD_WARNING:
            continue
        # dead at initialisation is a property of the code (init, bias, data scale): it fails;
        # dying during training depends on the rate and the data, so it warns
        severe = initial >= DEAD_ERROR
        result.passed = result.passed and not severe
        when = ("at initialisation" if initial >= later else
                f"after {steps} steps at lr {lr:g} ({initial:.0%} at initialisation)")
        result.findings.append(Finding(
            "dead_relu", subject,
            f"{name}: {max(initial, later):.0%} of units output 0 for every example {when} "
            "— they get no gradient and stop learning (dead_relu)",
            "Use He initialisation and inputs scaled to [0, 1]; check the bias initialisation; "
            "a smaller learning rate or leaky ReLU keeps units alive during training.",
            severity="error" if severe else "warning",
            data={"layer": name, "dead": later, "dead_at_init": initial}))
    return result


def _after_training(target, X, y, *, lr, steps) -> list[tuple[str, np.ndarray]]:
    """Activations after ``steps`` updates; the parameters are restored afterwards."""
    params = target_params(target)
    snapshot = Snapshot(params)
    try:
        with np.errstate(all="ignore"):
            for _ in range(steps):
                grads = target.gradients(X, y)
                if not math.isfinite(global_norm(grads)):
                    return []
                apply_step(params, grads, lr)
            return _activation_items(target, X)
    except Exception:  # the run probes report user errors; this one only adds a column
        return []
    finally:
        snapshot.restore()


def probe_gradient_flow(target, X, y, *, subject: str = "gradient flow") -> ProbeResult:
    """Root-mean-square gradient of each weight matrix, from the input layer to the output.

    Fails when the first layer's RMS gradient is below :data:`VANISHING_RATIO` times the last
    one's (vanishing: the first layers barely learn, e.g. a deep sigmoid stack) or above its
    inverse (exploding). Series: ``{"layer": weight names, "grad_rms": [...]}``.
    """
    target, X, y = target_and_batch(target, X, y)
    params = target_params(target)
    findings: list[Finding] = []
    try:
        with parameters_kept(target, subject, findings), np.errstate(all="ignore"):
            grads = call_gradients(subject, "gradients(X, y)", target, X, y)
    except UserCodeRaised as raised:
        findings.insert(0, raised.finding)
    if findings:
        return ProbeResult(name="gradient_flow", subject=subject, passed=False, findings=findings)
    # weight matrices only: a column-layout bias is 2-D too, but one of its sides is 1
    weights = [name for name, arr in params.items() if arr.ndim >= 2 and min(arr.shape) > 1 and name in grads]
    rms = [float(np.sqrt(np.mean(np.square(np.asarray(grads[n], dtype=np.float64)))))
           for n in weights]
    result = ProbeResult(name="gradient_flow", subject=subject, passed=True,
                         series={"layer": weights, "grad_rms": rms})
    if len(weights) < 2 or not all(math.isfinite(r) for r in rms) or rms[-1] == 0:
        return result
    ratio = rms[0] / rms[-1]
    if VANISHING_RATIO <= ratio <= 1 / VANISHING_RATIO:
        return result
    vanishing = ratio < VANISHING_RATIO
    kind = "vanishing" if vanishing else "exploding"
    result.passed = False
    result.breaking_magnitude = ratio
    result.findings.append(Finding(
        kind, subject,
        f"{weights[0]}: RMS gradient {rms[0]:.3g}, {weights[-1]}: {rms[-1]:.3g}, ratio {ratio:.3g} "
        f"— the first layer's gradient is {'vanishingly small' if vanishing else 'huge'} "
        f"next to the last one's ({kind})",
        "Use ReLU with He initialisation instead of sigmoid/tanh in deep stacks, or fewer layers."
        if vanishing else "Scale the initial weights down (He or Xavier initialisation).",
        data={"ratio": ratio, "first": weights[0], "last": weights[-1]}))
    return result


def probe_precision(target64, target32, X, y, *, rtol: float = 1e-3,
                    subject: str = "float32 vs float64") -> ProbeResult:
    """Compare the loss and gradients of the same network built in float64 and float32.

    ``target32`` must hold the same parameter values rounded to float32. Fails when the
    loss or any gradient differs by more than ``rtol`` (relative, in the L2 norm); warns when
    float32 parameters give gradients of another dtype (something upcasts to float64).

    Series: ``{"param": names, "rel_difference": [...]}``.
    """
    target64, target32 = precision_pair(target64, target32)
    X, y = probe_batch(target64, X, y)
    positive("rtol", rtol)
    result = ProbeResult(name="precision", subject=subject, passed=True)
    X32 = np.asarray(X, dtype=np.float32)
    X64 = np.asarray(X, dtype=np.float64)
    try:
        with parameters_kept(target64, subject, result.findings), \
                parameters_kept(target32, subject, result.findings), np.errstate(all="ignore"):
            loss64 = call_user(subject, "target64.loss(X, y)", lambda: float(target64.loss(X64, y)))
            loss32 = call_user(subject, "target32.loss(X, y)", lambda: float(target32.loss(X32, y)))
            g64 = call_gradients(subject, "target64.gradients(X, y)", target64, X64, y)
            g32 = call_gradients(subject, "target32.gradients(X, y)", target32, X32, y)
    except UserCodeRaised as raised:
        result.findings.insert(0, raised.finding)
    if result.findings:
        result.passed = False
        return result
    names = [n for n in g64 if n in g32]
    rel = []
    for n in names:
        a, b = np.asarray(g64[n], dtype=np.float64), np.asarray(g32[n], dtype=np.float64)
        scale = np.linalg.norm(a)
        rel.append(float(np.linalg.norm(a - b) / scale) if scale > 0 else float(np.linalg.norm(b)))
    loss_rel = abs(loss32 - loss64) / max(abs(loss64), 1e-300)
    result.series = {"param": ["loss", *names], "rel_difference": [loss_rel, *rel]}
    for name, value in zip(["loss", *names], [loss_rel, *rel]):
        if not (value <= rtol):
            result.passed = False
            result.findings.append(Finding(
                "nonfinite" if not math.isfinite(value) else "precision", subject,
                f"{name}: float32 and float64 differ by {value:.3g} (relative) — more than "
                f"{rtol:g}, float32 rounding alone gives about 1e-6 (precision)",
                "Look for a subtraction of nearly equal numbers or an exp/log without the "
                "max-subtraction trick; they lose all precision in float32."))
    upcast = sorted(n for n in names if np.asarray(g32[n]).dtype != np.float32)
    if upcast:
        result.findings.append(Finding(
            "dtype_mismatch", subject,
            f"{', '.join(upcast)}: float32 parameters give {np.asarray(g32[upcast[0]]).dtype} "
            "gradients — something upcasts to float64 (dtype_mismatch)",
            "A float64 constant or array (np.zeros without dtype=) mixes in; float32 runs get "
            "twice the memory traffic.", severity="warning", data={"params": upcast}))
    return result


__all__ = ["INPUT_SCALES", "LEARNING_RATES", "first_nonfinite_layer", "probe_activations",
           "probe_gradient_flow", "probe_input_scale", "probe_learning_rate", "probe_precision"]
