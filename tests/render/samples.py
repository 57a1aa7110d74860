"""Fixed report data for the render tests: no randomness, no clock, no environment probing."""

from __future__ import annotations

import math

from gradcheck.report import Report

CREATED = "2026-01-01T00:00:00+00:00"
ENVIRONMENT = {"python": "CPython 3.11.7", "numpy": "2.1.0", "blas": "openblas 0.3.27",
               "platform": "Linux", "gradcheck": "0.1.0", "seed": "0", "dtype": "float64",
               "command": "gradcheck report examples/buggy.py:net"}


def param(name, shape, *, passed, rel=1e-9, error_map=None, findings=(), n_checked=None):
    n = math.prod(shape)
    return {"name": name, "shape": list(shape), "dtype": "float64", "mode": "full",
            "n_checked": n if n_checked is None else n_checked, "max_abs_error": rel / 10,
            "max_rel_error": rel, "worst_index": [0] * len(shape), "worst_analytic": 0.25,
            "worst_numeric": 0.125 if not passed else 0.25,
            "tier": "excellent" if passed else "wrong",
            "passed": passed, "verdict": "pass" if passed else "FAIL", "n_kinks": 0,
            "findings": list(findings), "error_map": error_map, "n_loss_evals": 2 * n}


def finding(subject, message, hint, kind="scale"):
    return {"kind": kind, "subject": subject, "message": message, "hint": hint,
            "severity": "error", "data": {}}


def gradients(params):
    failed = [p["name"] for p in params if not p["passed"]]
    return {"format_version": 1, "kind": "gradient_check", "passed": not failed, "failed": failed,
            "mode": "full", "method": "central", "seed": 0, "rtol": 1e-4, "atol": 1e-8,
            "dtype": "float64", "n_loss_evals": 100, "params": params,
            "findings": [f for p in params for f in p["findings"]], "notes": []}


def failing_gradients(name_w2="W2", message=None):
    scale = finding(name_w2, message or f"{name_w2}[2, 1]: analytic 0.25, numeric 0.125, ratio 2 "
                    "— gradient is 2x too large (scale)",
                    "A factor 2 is counted twice: the L2 term's 2*lambda*W.")
    error_map = [[abs(r - c) / 7 for c in range(3)] for r in range(8)]
    reduction = finding("b1", "b1[1]: analytic 0.445, numeric -0.0765 — one value repeated for "
                        "every entry (reduction)", "Sum over the examples axis only: "
                        "np.sum(dZ, axis=0).", kind="reduction")
    return gradients([
        param("W1", (20, 8), passed=True, rel=6.9e-9),
        param("b1", (8,), passed=False, rel=1.17, findings=[reduction],
              error_map=[[0.5, 0.52, 0.1, 0.45, 0.44, 0.34, 0.32, 0.46]]),
        param(name_w2, (8, 3), passed=False, rel=0.5, findings=[scale], error_map=error_map),
        param("b2", (3,), passed=True, rel=1.5e-10),
    ])


def softmax_probe(subject="naive_softmax", passed=False):
    magnitudes = [1.0, 10.0, 100.0, 709.0, 711.0, 1000.0]
    errors = [0.0, 2e-16, 1e-16, 0.0, None, None] if not passed else [0.0, 2e-16, 1e-16, 0, 0, 0]
    findings = [] if passed else [{
        "kind": "nonfinite", "subject": subject, "severity": "error",
        "message": f"{subject}: logits of magnitude 711 (float64) — overflow encountered in exp "
                   "(nonfinite)",
        "hint": "Subtract the max along the class axis before np.exp.", "data": {}}]
    return {"name": "softmax", "subject": subject, "passed": passed, "findings": findings,
            "series": {"magnitude": magnitudes, "max_abs_row_sum_error": errors},
            "breaking_magnitude": None if passed else 711.0}


def layer_probe():
    return {"name": "activation_statistics", "subject": "network", "passed": True, "findings": [],
            "series": {"layer": ["dense1", "relu1", "dense2"], "dead_fraction": [0.0, 0.125, 0.0],
                       "grad_norm": [0.5, 0.25, 0.125]}}


def scale_probe():
    steps = list(range(10))
    return {"name": "input_scale", "subject": "network", "passed": True, "findings": [],
            "series": {f"scale {s:g}": {"step": steps, "loss": [2.3 / (1 + i * s) for i in steps]}
                       for s in (0.1, 1.0, 255.0)}}


def training():
    steps = list(range(1, 21))
    return {"full batch": {"step": steps, "loss": [2.3 / (1 + 0.1 * s) for s in steps],
                           "train_acc": [s / 25 for s in steps]},
            "mini-batch 64": {"step": steps, "loss": [2.3 / (1 + 0.3 * s) for s in steps],
                              "train_acc": [s / 21 for s in steps],
                              "val_acc": [s / 22 for s in steps]}}


def failing_report(**overrides) -> Report:
    """A report of a network with two wrong gradients and a softmax that overflows."""
    kwargs = {"gradients": failing_gradients(),
              "probes": [softmax_probe(), softmax_probe("softmax", passed=True), layer_probe(),
                         scale_probe()],
              "training": training(), "environment": ENVIRONMENT, "created": CREATED}
    kwargs.update(overrides)
    return Report.build(kwargs.pop("title", "buggy 20-8-3 network"), **kwargs)


def passing_report() -> Report:
    return Report.build("reference network 784-10-10",
                        gradients=gradients([param("W1", (784, 10), passed=True),
                                             param("b1", (10,), passed=True)]),
                        environment=ENVIRONMENT, created=CREATED)


def contract_probes():
    """Shapes per batch size (pass/fail), and the loss under reordering against its tolerance."""
    shapes = {"name": "shapes", "subject": "shapes", "passed": False, "findings": [{
        "kind": "shape", "subject": "forward, batch of 5", "severity": "error",
        "message": "forward, batch of 5: returned shape (4, 3) for 5 examples (shape)",
        "hint": "Keep the examples axis through every layer.", "data": {}}],
        "series": {"batch_size": [1, 2, 3, 5], "passed": [True, True, True, False]}}
    order = {"name": "example order", "subject": "example order", "passed": True, "findings": [],
             "series": {"permutation": [1, 2, 3], "loss_difference": [4.4e-16, 0.0, 2.2e-16],
                        "loss_difference_tolerance": [1e-12, 1e-12, 1e-12]}}
    dead = {"name": "activations", "subject": "activations", "passed": True, "findings": [],
            "series": {"layer": ["dense1", "relu1", "dense2"], "dead_after_training": [0.0, 0.0, 0.0],
                       "std": [0.5, 0.3, 0.4]}}
    return [shapes, order, dead]


def probe_failing_report() -> Report:
    """Every gradient right; one probe (shapes) fails."""
    return Report.build("network with a shape bug", gradients=gradients([
        param("W1", [20, 8], passed=True), param("b1", [8], passed=True)]),
        probes=contract_probes(), environment=ENVIRONMENT, created=CREATED)


def report_with_payload(payload: str) -> Report:
    """A failing report with ``payload`` in every place user text can reach."""
    grads = failing_gradients(name_w2=payload, message=f"ValueError: {payload}")
    probe = softmax_probe(subject=payload)
    env = {**ENVIRONMENT, "command": f"gradcheck report {payload}"}
    return failing_report(title=payload, gradients=grads, probes=[probe],
                          training={payload: training()["full batch"]}, environment=env)
