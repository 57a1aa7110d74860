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

from gradcheck.numeric.perturbation import Snapshot
from gradcheck.probes.base import ProbeResult, UserCodeRaised, call_gradients, call_network, parameters_kept
from gradcheck.probes.descent import descent_finding, descent_test
from gradcheck.probes.inputs import positive, positive_list, precision_pair, probe_batch, target_and_batch
from gradcheck.probes.runs import RunRecord, apply_step, first_nonfinite_layer, global_norm, sgd_run
from gradcheck.results.findings import Finding
from gradcheck.targets.protocol import target_params
from gradcheck.targets.usercode import UserCodeCrash, call_user

#: Input scales swept: as given, pixels never divided by 255, and far beyond.
INPUT_SCALES = (1.0, 255.0, 1e4)
#: Learning rates swept, a decade apart.
LEARNING_RATES = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
#: A gradient-norm growth beyond this factor within one run counts as exploding.
EXPLODING_GROWTH = 1e3
#: First-to-last weight gradient RMS ratio below this counts as vanishing.
VANISHING_RATIO = 1e-3
#: Fraction of dead units in a layer that makes a finding (an error only for a whole layer).
DEAD_WARNING, DEAD_ERROR = 0.1, 1.0
#: A whole layer dead fails only on a batch of at least this many examples.
DEAD_EVIDENCE = 16


def _run_error_finding(subject: str, run: RunRecord, also: list[str] = ()) -> Finding:
    """The target's code raised during a run (``also``: the other settings it raised at too)."""
    hint = (run.crash.finding(subject).hint if run.crash is not None
            else "Run the same call yourself with this batch to see the traceback.")
    more = f" (and the same at {', '.join(also)})" if also else ""
    return Finding("exception", subject, f"{subject}: the target raised at {run.error}{more}",
                   hint, data={"lr": run.lr, "scale": run.scale})


def _crash_key(crash) -> tuple:
    return (crash.error_type, crash.message, crash.file, crash.line)


def _by_error(runs: Sequence[RunRecord]) -> dict[tuple, list[RunRecord]]:
    """Runs that raised, grouped by the error they met (its type, text and line)."""
    grouped: dict[tuple, list[RunRecord]] = {}
    for run in runs:
        key = _crash_key(run.crash) if run.crash is not None else (run.error,)
        grouped.setdefault(key, []).append(run)
    return grouped


def probe_input_scale(target, X, y, *, scales: Sequence[float] = INPUT_SCALES, lr: float = 0.1,
                      steps: int = 10, subject: str = "input scale") -> ProbeResult:
    """Train a few steps on ``scale * X`` for each scale; find the first non-finite value.

    Parameters
    ----------
    X : the batch as the network should see it (pixels in [0, 1]).
    scales : factors applied to X; 255 is what a network sees when the division by 255 is
        forgotten. A non-finite loss, gradient or activation from the *untrained* network at
        a scale up to 255 fails the probe: that is the network's own arithmetic. Values that
        go non-finite only after some training steps (that depends on ``lr``), or only beyond
        255, warn; so does a NumPy warning (an exp overflowing) while every value stays finite.
    lr, steps : plain gradient descent settings.

    Series: one group per scale, ``{"step", "loss", "grad_norm"}``.
    ``breaking_magnitude``: the smallest scale at which training went non-finite.
    """
    target, X, y = target_and_batch(target, X, y)
    scales = positive_list("scales", scales)
    positive("lr", lr)
    positive("steps", steps, integer=True)
    result = ProbeResult(name="input_scale", subject=subject)
    baseline: RunRecord | None = None  # the smallest scale that stayed finite
    for scale in sorted(scales):
        run = sgd_run(target, X, y, lr=lr, steps=steps, scale=scale)
        result.series[f"scale {scale:g}"] = run.series()
        if run.error is not None:
            result.findings.append(_run_error_finding(subject, run))
            continue
        if run.breakage is None and run.warning is not None:
            result.findings.append(_warning_finding(subject, run, steps, lr))
            if result.breaking_magnitude is None and result.findings[-1].is_failure:
                result.breaking_magnitude = scale
        if run.breakage is None:
            if baseline is None:
                baseline = run
            elif run.loss[-1] > 1.5 * baseline.loss[-1]:
                result.findings.append(Finding(
                    "divergence", subject,
                    f"{subject}[{scale:g}]: training stays finite but ends at loss "
                    f"{run.loss[-1]:.3g} after {steps} steps, against {baseline.loss[-1]:.3g} at "
                    f"scale {baseline.scale:g} — inputs {scale:g}x larger spoil training",
                    "Divide the inputs by 255 (or standardise them) before training; huge first "
                    "steps can also kill ReLU units for good.",
                    severity="warning", data={"scale": scale, "loss": run.loss[-1]}))
            continue
        if result.breaking_magnitude is None:
            result.breaking_magnitude = scale
        result.findings.append(_breakage_finding(subject, run, steps, lr))
    return result


#: Input scales up to this one are ones a real pipeline produces (pixels never divided by 255).
SEVERE_SCALE = 255.0


def _at_start(step: int) -> bool:
    """True when the event happened before any update: the code's own arithmetic on these inputs,
    not where a training run at some rate wandered."""
    return step == 0


def _hint_for(warning: str | None, quantity: str) -> str:
    """A hint that fits what went non-finite: exp overflowing, log of 0, or something else."""
    text = (warning or "").lower()
    if "exp" in text or "overflow" in text:
        return ("An exp overflows on large inputs: compute softmax from Z - Z.max(axis) and "
                "sigmoid from exp(-|z|) (or divide the inputs by 255 first).")
    if "divide by zero" in text and "log" not in text:
        return ("A division by zero: a derivative written as a quotient, such as 1/(1 - p) or "
                "y/p, meets a saturated output (p exactly 1 or 0 on large inputs). Compute the "
                "gradient from the pre-activation instead (sigmoid or softmax with cross-entropy: "
                "dZ = p - y), or clip p before dividing.")
    if "log" in text or "divide by zero" in text or quantity == "loss":
        return ("A log of 0: the probabilities reach exactly 0 on large inputs; clip them "
                "(np.clip(P, 1e-12, 1)) or take the loss as log-softmax Z - logsumexp(Z).")
    return ("Look at the layer named above; inputs of this size push it past what its "
            "arithmetic can hold.")


def _warning_finding(subject: str, run: RunRecord, steps: int, lr: float) -> Finding:
    """NumPy warned (overflow, log of 0...) though every loss and gradient stayed finite: a
    warning, never a failure. An exp that overflows to inf inside ``1/(1+exp(-z))`` gives
    exactly the right 0, and a wrong value would show in the gradient check, not here; what
    fails is a NaN or inf reaching the loss or the gradients (:func:`_breakage_finding`)."""
    step, text = run.warning
    when = ("on the first call, before any update" if _at_start(step) else
            f"at step {step} of plain gradient descent at lr {lr:g} (depends on the rate)")
    example = " (1/(1+exp(1000)) is 1/(1+inf) = 0)" if "exp" in text else ""
    return Finding(
        "overflow" if "overflow" in text else "warning", subject,
        f"{subject}[{run.scale:g}]: NumPy warned \"{text}\" {when}, but every loss and gradient "
        f"stayed finite; taken as an intermediate saturating to its right limit{example}, not a "
        f"bug — inputs {run.scale:g}x larger sit at the edge of the network's arithmetic",
        _hint_for(text, ""), severity="warning",
        data={"scale": run.scale, "step": step, "warning": text})


def _breakage_finding(subject: str, run: RunRecord, steps: int, lr: float) -> Finding:
    """The first non-finite value: a failure when the untrained network already produces it on
    inputs of a realistic scale; a warning when it appears only after training steps."""
    warned = f"; NumPy warned \"{run.warning[1]}\" at step {run.warning[0]}" if run.warning else ""
    at_start = _at_start(run.breakage.step)
    severe = at_start and run.scale <= SEVERE_SCALE
    if at_start:
        assumption = ""
        hint = _hint_for(run.warning[1] if run.warning else None, run.breakage.quantity)
    else:
        assumption = (f", after {run.breakage.step} steps of plain gradient descent at lr {lr:g}: "
                      "this depends on the rate, the untrained network stays finite")
        hint = ("Divide the inputs by 255 (or standardise them); a smaller learning rate keeps "
                "training on large inputs finite.")
    return Finding(
        "nonfinite", subject,
        f"{subject}[{run.scale:g}]: first non-finite value is {run.breakage.describe()}{warned}"
        f"{assumption} — inputs {run.scale:g}x larger break {'the network' if at_start else 'training'}",
        hint, severity="error" if severe else "warning",
        data={"scale": run.scale, "step": run.breakage.step, "quantity": run.breakage.quantity,
              "where": run.breakage.where})


def probe_learning_rate(target, X, y, *, rates: Sequence[float] = LEARNING_RATES,
                        steps: int = 20, clip_norm: float = 1.0,
                        subject: str = "learning rate", gradients_judged: bool = False) -> ProbeResult:
    """Do the gradients point downhill (the verdict), and how does training respond to the rate
    (information)?

    The verdict is :func:`~gradcheck.probes.descent.descent_test`: for a small enough step eta
    along -g the loss of any correct network falls by eta |g|^2, whatever the data, the
    initialisation or the rates. The probe fails when that ratio settles away from 1 as eta
    shrinks (a wrong sign or scale in backprop), or when the network's code raises.

    Then plain gradient descent runs ``steps`` steps at each rate. Whether some rate lowers the
    loss by 10% says how the network trains on this batch, not whether its backprop is right: a
    network that cannot fit the batch in ``steps`` steps gets a warning that says so, never a
    failure. The smallest diverging rate is reported with the effect of clipping the global
    gradient norm to ``clip_norm``.

    Series: ``"descent"`` ``{"eta", "ratio", "noise"}`` and one group per rate (``"lr 0.1"``)
    and per clipped rerun (``"lr 10 clipped"``), each ``{"step", "loss", "grad_norm"}``.
    ``breaking_magnitude``: the smallest diverging rate. ``gradients_judged``: a gradient check
    of the same run judged the gradients; otherwise a descent test that cannot decide below
    float64 makes the probe inconclusive.
    """
    target, X, y = target_and_batch(target, X, y)
    rates = sorted(positive_list("rates", rates))
    positive("steps", steps, integer=True)
    positive("clip_norm", clip_norm)
    result = ProbeResult(name="learning_rate", subject=subject)
    descent = descent_test(target, X, y)
    finding = descent_finding(subject, descent, decisive=not gradients_judged)
    result.findings.append(finding)
    if finding.data.get("skipped"):  # nothing tested whether the gradients point downhill
        result.skipped = finding.data["reason"]
    trained = []
    raised: list[RunRecord] = []
    for lr in rates:
        run = sgd_run(target, X, y, lr=lr, steps=steps)
        result.series[f"lr {lr:g}"] = run.series()
        if run.error is not None:
            raised.append(run)  # a failure at any rate: said once, below
            continue
        if not run.diverged():
            if run.loss[-1] <= 0.9 * run.loss[0]:
                trained.append(lr)
            continue
        if result.breaking_magnitude is None:
            result.breaking_magnitude = lr
            result.findings.append(_divergence_finding(subject, run, target, X, y, clip_norm,
                                                       result.series))
    # the code raising is a failure at any rate, but one error is said once, with every rate it
    # met (and not again when the descent test met it first)
    said = {_crash_key(descent.crash)} if descent.crash is not None else set()
    for key, runs in _by_error(raised).items():
        if key not in said:
            result.findings.append(_run_error_finding(subject, runs[0],
                                                      [f"lr {r.lr:g}" for r in runs[1:]]))
    if descent.sweep is not None:  # after the training runs: reports plot those by step
        result.series["descent"] = {"eta": descent.sweep.steps, "ratio": descent.sweep.ratios,
                                    "noise": descent.sweep.noise}
    if trained:
        result.findings.append(Finding(
            "divergence", subject, f"{subject}: the loss falls by 10% or more in {steps} steps at "
            f"lr {', '.join(f'{r:g}' for r in trained)}", severity="info",
            data={"trained": trained, "diverges_from": result.breaking_magnitude}))
    elif not any(f.kind == "exception" for f in result.findings):
        downhill = descent.verdict == "downhill"
        result.findings.append(Finding(
            "divergence", subject,
            f"{subject}: no rate from {rates[0]:g} to {rates[-1]:g} lowers the loss by 10% in "
            f"{steps} steps of plain gradient descent on this batch of {_batch_count(target, X)} "
            f"examples — this assumes the network can fit the batch that fast"
            + ("; the descent test shows its gradients do point downhill" if downhill else ""),
            "Not a backprop bug by itself: small initial weights, a batch the network cannot fit "
            "or a loss already near its floor all train slowly; try more steps or other data.",
            severity="warning", data={"trained": [], "steps": steps}))
    return result


def _batch_count(target, X) -> int:
    return int(X.shape[1] if getattr(target, "layout", "rows") == "columns" else X.shape[0])


def _divergence_finding(subject, run: RunRecord, target, X, y, clip_norm, series) -> Finding:
    norms = [n for n in run.grad_norm if math.isfinite(n)]
    first, last = (norms[0], norms[-1]) if norms else (math.nan, math.nan)
    growth = last / first if len(norms) > 1 and first > 0 else 1.0
    how = f"goes non-finite ({run.breakage.describe()})" if run.breakage else (
        f"ends at loss {run.loss[-1]:.3g} from {run.loss[0]:.3g}")
    exploding = growth > EXPLODING_GROWTH
    clipped = sgd_run(target, X, y, lr=run.lr, steps=len(run.grad_norm) and max(
        len(run.loss) - 1, 1), clip_norm=clip_norm)
    series[f"lr {run.lr:g} clipped"] = clipped.series()
    saved = not clipped.diverged()
    if len(norms) < 2:
        norm_words = "the gradient norm was measured once"
    elif growth >= 1:
        norm_words = f"the gradient norm grows {growth:.3g}x ({first:.3g} to {last:.3g})"
    else:
        norm_words = f"the gradient norm shrinks from {first:.3g} to {last:.3g}"
    text = (f"{subject}[{run.lr:g}]: training diverges from this rate, it {how}; {norm_words}; "
            f"clipping the global norm to {clip_norm:g} {'keeps it stable' if saved else 'does not save it'}")
    return Finding("exploding" if exploding else "divergence", subject, text,
                   "Use a smaller rate" + (", or clip gradients by global norm." if saved else "."),
                   severity="info",
                   data={"lr": run.lr, "growth": growth, "clipping_saves": saved})


def _activation_items(target, X) -> list[tuple[str, np.ndarray]]:
    outputs = call_user(target.activations, X, call="activations")
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

    Fails only when every unit of a layer is dead at initialisation on a batch of at least
    :data:`DEAD_EVIDENCE` examples (no gradient reaches the layers below: nothing can train).
    Fewer dead units, dead units on a smaller batch, and units that die during training give a
    warning that names the batch: they depend on the data, the initialisation and the rate.

    A unit is dead when it outputs exactly 0 for every example of the batch (a ReLU whose
    input is negative everywhere: it gets no gradient and never recovers). Needs the
    optional ``activations(X)`` method; without it the probe passes with an info finding.

    Series: ``{"layer", "mean", "std", "dead_at_init", "dead_after_training"}``.
    """
    target, X, y = target_and_batch(target, X, y)
    positive("lr", lr)
    positive("steps", steps, integer=True)
    result = ProbeResult(name="activations", subject=subject)
    if not callable(getattr(target, "activations", None)):
        result.findings.append(Finding(
            "warning", subject, f"{subject}: the target has no activations(X) method; skipped",
            "Add activations(X) returning each layer's output to get per-layer statistics.",
            severity="info"))
        return result
    example_axis = 1 if getattr(target, "layout", "rows") == "columns" else 0
    n_examples = int(X.shape[example_axis])
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
        # a whole layer dead on a real batch stops all learning below it; anything less depends
        # on the batch, the initialisation draw or the rate, so it warns
        severe = initial >= DEAD_ERROR and n_examples >= DEAD_EVIDENCE
        when = ("at initialisation" if initial >= later else
                f"after {steps} steps at lr {lr:g} ({initial:.0%} at initialisation)")
        result.findings.append(Finding(
            "dead_relu", subject,
            f"{name}: {max(initial, later):.0%} of units output 0 for every one of the "
            f"{n_examples} examples of this batch {when} — they get no gradient on it"
            f"{' and nothing below them can learn' if severe else ''}",
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
                grads = call_user(target.gradients, X, y, call="gradients")
                if not math.isfinite(global_norm(grads)):
                    return []
                apply_step(params, grads, lr)
            return _activation_items(target, X)
    except UserCodeCrash:  # the run probes report user errors; this one only adds a column
        return []
    finally:
        snapshot.restore()


def probe_gradient_flow(target, X, y, *, subject: str = "gradient flow") -> ProbeResult:
    """Root-mean-square gradient of each weight matrix, from the input layer to the output.

    Warns when the first layer's RMS gradient is below :data:`VANISHING_RATIO` times the last
    one's (vanishing: the first layers barely learn, e.g. a deep sigmoid stack) or above its
    inverse (exploding). That is a property of the architecture and the initialisation on this
    batch, not a bug, so it never fails; the network's code raising does.
    Series: ``{"layer": weight names, "grad_rms": [...]}``.
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
        return ProbeResult(name="gradient_flow", subject=subject, findings=findings)
    # weight matrices only: a column-layout bias is 2-D too, but one of its sides is 1
    weights = [name for name, arr in params.items() if arr.ndim >= 2 and min(arr.shape) > 1 and name in grads]
    rms = [float(np.sqrt(np.mean(np.square(np.asarray(grads[n], dtype=np.float64)))))
           for n in weights]
    result = ProbeResult(name="gradient_flow", subject=subject,
                         series={"layer": weights, "grad_rms": rms})
    if len(weights) < 2 or not all(math.isfinite(r) for r in rms) or rms[-1] == 0:
        return result
    ratio = rms[0] / rms[-1]
    if VANISHING_RATIO <= ratio <= 1 / VANISHING_RATIO:
        return result
    vanishing = ratio < VANISHING_RATIO
    kind = "vanishing" if vanishing else "exploding"
    result.breaking_magnitude = ratio
    result.findings.append(Finding(
        kind, subject,
        f"{weights[0]}: RMS gradient {rms[0]:.3g}, {weights[-1]}: {rms[-1]:.3g}, ratio {ratio:.3g} "
        f"— the first layer's gradient is {'vanishingly small' if vanishing else 'huge'} "
        f"next to the last one's at these initial weights, on this batch",
        "Use ReLU with He initialisation instead of sigmoid/tanh in deep stacks, or fewer layers."
        if vanishing else "Scale the initial weights down (He or Xavier initialisation).",
        severity="warning", data={"ratio": ratio, "first": weights[0], "last": weights[-1]}))
    return result


def probe_precision(target64, target32, X, y, *, rtol: float = 1e-3,
                    subject: str = "float32 vs float64") -> ProbeResult:
    """Compare the loss and gradients of the same network built in float64 and float32.

    ``target32`` must hold the same parameter values rounded to float32. Fails when float32
    gives NaN or inf where float64 is finite, or when the code raises; warns when the loss or a
    gradient differs by more than ``rtol`` (relative, in the L2 norm: that depends on the batch,
    tiny gradients lose relative precision by cancellation) and when float32 parameters give
    gradients of another dtype (something upcasts to float64).

    Series: ``{"param": names, "rel_difference": [...]}``.
    """
    target64, target32 = precision_pair(target64, target32)
    X, y = probe_batch(target64, X, y)
    positive("rtol", rtol)
    result = ProbeResult(name="precision", subject=subject)
    X32 = np.asarray(X, dtype=np.float32)
    X64 = np.asarray(X, dtype=np.float64)
    try:
        with parameters_kept(target64, subject, result.findings), \
                parameters_kept(target32, subject, result.findings), np.errstate(all="ignore"):
            loss64 = call_network(subject, "target64.loss(X, y)", lambda: float(target64.loss(X64, y)))
            loss32 = call_network(subject, "target32.loss(X, y)", lambda: float(target32.loss(X32, y)))
            g64 = call_gradients(subject, "target64.gradients(X, y)", target64, X64, y)
            g32 = call_gradients(subject, "target32.gradients(X, y)", target32, X32, y)
    except UserCodeRaised as raised:
        result.findings.insert(0, raised.finding)
    if result.findings:
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
        if value <= rtol:
            continue
        # float32 breaking where float64 holds is the code's arithmetic; a larger difference
        # that stays finite depends on the batch (cancellation in tiny gradients), so it warns
        broken = not math.isfinite(value)
        result.findings.append(Finding(
            "nonfinite" if broken else "precision", subject,
            f"{name}: float32 and float64 differ by {value:.3g} (relative) — more than "
            f"{rtol:g} on this batch; float32 rounding alone gives about 1e-6"
            if not broken else f"{name}: NaN or inf in float32 where float64 is finite — the "
            "float32 arithmetic overflows or divides by zero on this batch",
            "Look for a subtraction of nearly equal numbers or an exp/log without the "
            "max-subtraction trick; they lose all precision in float32.",
            severity="error" if broken else "warning", data={"param": name, "rel_difference": value}))
    upcast = sorted(n for n in names if np.asarray(g32[n]).dtype != np.float32)
    if upcast:
        result.findings.append(Finding(
            "dtype_mismatch", subject,
            f"{', '.join(upcast)}: float32 parameters give {np.asarray(g32[upcast[0]]).dtype} "
            "gradients — something upcasts to float64",
            "A float64 constant or array (np.zeros without dtype=) mixes in; float32 runs get "
            "twice the memory traffic.", severity="warning", data={"params": upcast}))
    return result


__all__ = ["INPUT_SCALES", "LEARNING_RATES", "first_nonfinite_layer", "probe_activations",
           "probe_gradient_flow", "probe_input_scale", "probe_learning_rate", "probe_precision"]
