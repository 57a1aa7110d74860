"""Fixed suites for the render tests: no randomness, no clock, no environment probing."""

from __future__ import annotations

import math

from gradcheck.results import CheckOutcome, GradientCheckResult, ParamReport, ProbeResult, SuiteResult
from gradcheck.results.findings import Finding

CREATED = "2026-01-01T00:00:00+00:00"
ENVIRONMENT = {"python": "CPython 3.11.7", "numpy": "2.1.0", "blas": "openblas 0.3.27",
               "platform": "Linux", "gradcheck": "0.1.0", "seed": "0", "dtype": "float64",
               "command": "gradcheck report examples/buggy.py:net", "created": CREATED}


def finding(subject, text, hint, kind="scale", severity="error"):
    return Finding(kind=kind, subject=subject, text=text, hint=hint, severity=severity)


def param(name, shape, *, rel=1e-9, error_map=None, findings=(), n_checked=None, tier=None):
    n = math.prod(shape)
    failing = any(f.is_failure for f in findings)
    return ParamReport(
        name=name, shape=tuple(shape), dtype="float64", mode="full",
        n_checked=n if n_checked is None else n_checked, max_abs_error=rel / 10,
        max_rel_error=rel, worst_index=(0,) * len(shape), worst_analytic=0.25,
        worst_numeric=0.125 if failing else 0.25,
        tier=tier or ("wrong" if failing else "excellent"),
        findings=list(findings), error_map=error_map, n_loss_evals=2 * n)


def gradients(params) -> GradientCheckResult:
    return GradientCheckResult(params=list(params), mode="full", method="central", seed=0,
                               rtol=1e-4, atol=1e-8, dtype="float64", n_loss_evals=100)


def failing_gradients(name_w2="W2", message=None) -> GradientCheckResult:
    scale = finding(name_w2, message or f"{name_w2}[2, 1]: analytic 0.25, numeric 0.125, ratio 2 "
                    "— gradient is 2x too large",
                    "A factor 2 is counted twice: the L2 term's 2*lambda*W.")
    error_map = [[abs(r - c) / 7 for c in range(3)] for r in range(8)]
    reduction = finding("b1", "b1[1]: analytic 0.445, numeric -0.0765 — one value repeated for "
                        "every entry", "Sum over the examples axis only: "
                        "np.sum(dZ, axis=0).", kind="reduction")
    kink = finding("W1", "W1[3, 2]: 2 entries sit on a kink where the left and right derivatives "
                   "differ (e.g. ReLU at 0); the analytic value is one of them — not a bug",
                   "Nothing to fix; a finite difference cannot see a derivative at a kink.",
                   kind="kink", severity="info")
    return gradients([
        param("W1", (20, 8), rel=6.9e-9, findings=[kink]),
        param("b1", (8,), rel=1.17, findings=[reduction],
              error_map=[[0.5, 0.52, 0.1, 0.45, 0.44, 0.34, 0.32, 0.46]]),
        param(name_w2, (8, 3), rel=0.5, findings=[scale], error_map=error_map),
        param("b2", (3,), rel=1.5e-10),
    ])


def softmax_probe(subject="naive_softmax", passed=False) -> ProbeResult:
    magnitudes = [1.0, 10.0, 100.0, 709.0, 711.0, 1000.0]
    errors = [0.0, 2e-16, 1e-16, 0.0, None, None] if not passed else [0.0, 2e-16, 1e-16, 0, 0, 0]
    findings = [] if passed else [finding(
        subject, f"{subject}: logits of magnitude 711 (float64) — overflow encountered in exp "
        "(nonfinite)", "Subtract the max along the class axis before np.exp.", kind="nonfinite")]
    return ProbeResult("softmax", subject, findings,
                       {"magnitude": magnitudes, "max_abs_row_sum_error": errors},
                       None if passed else 711.0)


def layer_probe() -> ProbeResult:
    return ProbeResult("activation_statistics", "network", [], {
        "layer": ["dense1", "relu1", "dense2"], "dead_fraction": [0.0, 0.125, 0.0],
        "grad_norm": [0.5, 0.25, 0.125]})


def scale_probe() -> ProbeResult:
    steps = list(range(10))
    warning = finding("input scale", "input scale[255]: training stays finite but ends at loss 2.1 "
                      "— inputs 255x larger spoil training",
                      "Divide the inputs by 255 before training.", kind="divergence",
                      severity="warning")
    return ProbeResult("input_scale", "input scale", [warning], {
        f"scale {s:g}": {"step": steps, "loss": [2.3 / (1 + i * s) for i in steps]}
        for s in (0.1, 1.0, 255.0)})


def training():
    steps = list(range(1, 21))
    return {"full batch": {"step": steps, "loss": [2.3 / (1 + 0.1 * s) for s in steps],
                           "train_acc": [s / 25 for s in steps]},
            "mini-batch 64": {"step": steps, "loss": [2.3 / (1 + 0.3 * s) for s in steps],
                              "train_acc": [s / 21 for s in steps],
                              "val_acc": [s / 22 for s in steps]}}


def outcome(name, result, *, group=None, subject="", description="") -> CheckOutcome:
    group = group or ("gradients" if isinstance(result, GradientCheckResult) else "probes")
    return CheckOutcome.of(name, group, description or name.replace("_", " "), result,
                           subject=subject or ("network" if group == "gradients" else ""))


def suite(title, outcomes, *, training_curves=None, environment=ENVIRONMENT) -> SuiteResult:
    return SuiteResult(target=title, outcomes=list(outcomes), environment=dict(environment),
                       training=dict(training_curves or {}))


def failing_suite(*, title="buggy 20-8-3 network", gradient_checks=None, probes=None,
                  training_curves=None, environment=ENVIRONMENT) -> SuiteResult:
    """Two wrong gradients (in two gradient checks), a softmax that overflows, a warning."""
    if gradient_checks is None:
        gradient_checks = [("check_gradients_batch1", gradients([
            param("W1", (20, 8)), param("b1", (8,)), param("W2", (8, 3)), param("b2", (3,))])),
            ("check_gradients_batch20", failing_gradients()),
            ("check_gradients_batch_missing_classes", failing_gradients())]
    if probes is None:
        probes = [("check_softmax_stable", softmax_probe()),
                  ("check_sigmoid_stable", softmax_probe("softmax", passed=True)),
                  ("check_training_activations", layer_probe()),
                  ("check_training_input_scale", scale_probe())]
    return suite(title, [outcome(n, r) for n, r in gradient_checks] + [outcome(n, r) for n, r in probes],
                 training_curves=training() if training_curves is None else training_curves,
                 environment=environment)


def passing_suite() -> SuiteResult:
    return suite("reference network 784-10-10", [outcome("check_gradients_batch64", gradients(
        [param("W1", (784, 10)), param("b1", (10,))]))])


def contract_probes():
    """Shapes per batch size (pass/fail), and the loss under reordering against its tolerance."""
    shapes = ProbeResult("shapes", "shapes", [finding(
        "forward, batch of 5", "forward, batch of 5: returned shape (4, 3) for 5 examples",
        "Keep the examples axis through every layer.", kind="shape")],
        {"batch_size": [1, 2, 3, 5], "passed": [True, True, True, False]})
    order = ProbeResult("example order", "example order", [], {
        "permutation": [1, 2, 3], "loss_difference": [4.4e-16, 0.0, 2.2e-16],
        "loss_difference_tolerance": [1e-12, 1e-12, 1e-12]})
    dead = ProbeResult("activations", "activations", [], {
        "layer": ["dense1", "relu1", "dense2"], "dead_after_training": [0.0, 0.0, 0.0],
        "std": [0.5, 0.3, 0.4]})
    return [("check_shapes_any_batch_size", shapes), ("check_loss_example_order", order),
            ("check_training_activations", dead)]


def probe_failing_suite() -> SuiteResult:
    """Every gradient right; one probe (shapes) fails."""
    return suite("network with a shape bug", [
        outcome("check_gradients_batch8", gradients([param("W1", [20, 8]), param("b1", [8])])),
        *(outcome(n, r) for n, r in contract_probes())])


def suite_with_payload(payload: str) -> SuiteResult:
    """A failing suite with ``payload`` in every place user text can reach."""
    grads = failing_gradients(name_w2=payload, message=f"ValueError: {payload}")
    env = {**ENVIRONMENT, "command": f"gradcheck report {payload}"}
    return failing_suite(title=payload, gradient_checks=[("check_gradients_batch8", grads)],
                         probes=[("check_softmax_stable", softmax_probe(subject=payload))],
                         training_curves={payload: training()["full batch"]}, environment=env)


def undecided_finding(name="W1") -> Finding:
    """What float32 could not judge: every entry of ``name`` below the loss's rounding."""
    return Finding(kind="precision", subject=name, severity="warning",
                   text=f"{name}: none of its 160 entries could be judged in float32: their "
                   "gradients (up to 2e-05) are too small against the loss's rounding (5e-05 at "
                   "this step)", hint="Check in float64 to judge them.",
                   data={"hidden": True, "count": 160,
                         "inconclusive": "float64 would judge them (dtype='float64')"})


def inconclusive_suite() -> SuiteResult:
    """One gradient check that could not judge W1; everything else passed."""
    return suite("tiny float32 network", [
        outcome("check_gradients_batch1", gradients([param("W1", (20, 8)), param("b1", (8,))])),
        outcome("check_gradients_batch8", gradients([
            param("W1", (20, 8), findings=[undecided_finding()]), param("b1", (8,))])),
        outcome("check_softmax_stable", softmax_probe(passed=True))])
