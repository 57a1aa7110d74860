"""Checks run against a target: the one engine behind the Python API and the command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from gradcheck.api import check_gradients
from gradcheck.errors import GradcheckError, InvalidArgumentError
from gradcheck.findings import Finding
from gradcheck.layer_check import check_layer
from gradcheck.probes.base import ProbeResult
from gradcheck.probes.contracts import BATCH_SIZES, probe_example_order, probe_shapes
from gradcheck.probes.functions import function_probe_calls
from gradcheck.probes.suite import ProbeSuiteResult
from gradcheck.probes.training import (
    probe_activations,
    probe_gradient_flow,
    probe_input_scale,
    probe_learning_rate,
    probe_precision,
)
from gradcheck.results import GradientCheckResult
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.layers import layer_inputs, layer_views
from gradcheck.targets.protocol import infer_n_classes, target_params


def check_target_gradients(target, X, y, **options) -> GradientCheckResult:
    """Check every parameter of a protocol target on one batch (X, y).

    ``options`` go to :func:`gradcheck.check_gradients`; the batch size is taken from y so a
    gradient off by exactly that factor is named as a missing 1/m.
    """
    params = target_params(target)
    options.setdefault("batch_size", int(np.asarray(y).shape[0]))
    return check_gradients(
        lambda: target.loss(X, y),
        params,
        lambda: target.gradients(X, y),
        **options,
    )


class ConformanceFailure(AssertionError):
    """A conformance check failed; its text is the diagnosis (what pytest shows).

    ``result`` is the failing check's result object, or None when the check could not run.
    """

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Check:
    """One named check of a target. Calling it runs the check and raises on failure.

    ``name`` is the pytest id (``check_gradients_batch1``), so ``pytest -k`` selects one.
    """

    name: str
    description: str
    run: Callable[[], object]

    def __call__(self):
        """Run the check; return its result (with ``passed``), or raise ConformanceFailure."""
        try:
            result = self.run()
        except GradcheckError as exc:
            raise ConformanceFailure(f"{self.name}: {exc}") from exc
        if not result.passed:
            body = str(result) if hasattr(result, "params") else "\n".join(
                str(f) for f in result.findings)
            raise ConformanceFailure(f"{self.name} ({self.description})\n{body}", result)
        return result


#: What iter_checks can yield; the command line runs one group, the plugin both.
GROUPS = ("gradients", "probes")


def iter_checks(target, *, seed: int = 0, mode: str = "full", dtype=np.float64,
                groups: tuple[str, ...] = GROUPS, batch=None, build=None) -> Iterator[Check]:
    """The conformance suite for a protocol target, chosen by what the target can do.

    Gradients: checks on a batch of 1, a small batch with every class, and a batch that lacks
    the top classes (the first article's ``y.max() + 1`` one-hot fails there); then, for
    targets that expose ``layers`` (examples as rows), one ``check_layer`` per layer.

    Probes: a stability probe for each function the target exposes (``softmax``, ``sigmoid``,
    ...); shape contracts at batch sizes from 1 to 64 and the loss's independence of example
    order; training probes (input scale, learning rate, activations, gradient flow) on ``batch``
    (an ``(X, y)`` pair in the target's layout, default a synthetic one); float32 against
    float64 when ``build(dtype)`` can make the same network in float32.
    """
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise InvalidArgumentError("groups", f"got {sorted(unknown)}, expected a subset of {GROUPS}",
                                   "Pass groups=('gradients',) or groups=('probes',).")
    params = target_params(target)
    n_classes = infer_n_classes(target, params)
    small = max(8, 2 * n_classes)
    X, _, layout = synthetic_batch(target, small, seed=seed, dtype=dtype)
    if "gradients" in groups:
        yield from _gradient_checks(target, n_classes, small, X, layout, seed=seed, mode=mode,
                                    dtype=dtype)
    if "probes" in groups:
        yield from _probe_checks(target, layout, seed=seed, dtype=dtype, batch=batch, build=build,
                                 size=small)


def _gradient_checks(target, n_classes, small, X, layout, *, seed, mode, dtype) -> Iterator[Check]:
    batches = [
        ("check_gradients_batch1", "one example", 1, 0),
        (f"check_gradients_batch{small}", f"{small} examples, every class", small, 0),
    ]
    if n_classes >= 3:
        batches.append(("check_gradients_batch_missing_classes",
                        f"{small} examples, the top 2 of {n_classes} classes absent", small, 2))
    for name, description, size, missing in batches:
        def run(size=size, missing=missing):
            Xb, yb, _ = synthetic_batch(target, size, seed=seed, dtype=dtype, missing_classes=missing)
            return check_target_gradients(target, Xb, yb, mode=mode, seed=seed)

        yield Check(name, description, run)
    views = layer_views(target) if layout == "rows" else []
    for view, X_layer in zip(views, layer_inputs(views, X)):
        def run_layer(view=view, X_layer=X_layer):
            return check_layer(view.forward, view.backward, X_layer, view.params,
                               param_grads=view.param_grads, seed=seed, mode=mode)

        yield Check(f"check_{view.name}", f"{type(view.layer).__name__} on its own, "
                    "input and parameter gradients", run_layer)


def _probe_checks(target, layout, *, seed, dtype, batch, build, size) -> Iterator[Check]:
    for attr, takes, run in function_probe_calls(target, dtype=dtype, seed=seed, layout=layout):
        over = "logits" if takes == "logits" else f"{takes} from logits"
        yield Check(f"check_{attr}_stable", f"{attr} over {over} of growing magnitude, up to 1e4",
                    run)
    sizes = tuple(sorted({*BATCH_SIZES, size}))
    yield Check("check_shapes_any_batch_size",
                f"forward, loss and gradient shapes for batches of {', '.join(map(str, sizes))}",
                lambda: probe_shapes(target, batch_sizes=sizes, seed=seed, dtype=dtype))
    yield Check("check_loss_example_order", "the loss of a batch against the same examples reordered",
                lambda: probe_example_order(target, batch_size=max(size, 16), seed=seed, dtype=dtype))

    def data():
        if batch is not None:
            return batch
        Xb, yb, _ = synthetic_batch(target, max(size, 32), seed=seed, dtype=dtype)
        return Xb, yb

    training = [
        ("check_training_input_scale", "a few steps on inputs x1, x255, x1e4", probe_input_scale),
        ("check_training_learning_rate", "learning rates 1e-3 to 100, with and without clipping",
         probe_learning_rate),
        ("check_training_activations", "per-layer statistics and dead units", probe_activations),
        ("check_training_gradient_flow", "gradient size from first to last layer",
         probe_gradient_flow),
    ]
    for name, description, probe in training:
        def run_training(probe=probe):
            return probe(target, *data())

        yield Check(name, description, run_training)
    if build is not None:
        def run_precision():
            Xb, yb = data()
            return probe_precision(build(np.float64), build(np.float32), Xb, yb)

        yield Check("check_precision_float32", "float32 against float64 loss and gradients",
                    run_precision)


def probe_target(target, **options) -> ProbeSuiteResult:
    """Run every probe check of :func:`iter_checks` on ``target`` and collect the results.

    ``options`` go to :func:`iter_checks` (``seed``, ``dtype``, ``batch``, ``build``). A check
    whose run raises a gradcheck error becomes a failed result carrying the message.
    """
    results = []
    for check in iter_checks(target, groups=("probes",), **options):
        try:
            result = check.run()
        except GradcheckError as exc:
            result = ProbeResult(check.name, check.name, False, [Finding(
                "exception", check.name, f"{check.name}: {exc}",
                "Fix the error above; the probe could not run.")])
        results.append((check.name, check.description, result))
    return ProbeSuiteResult(results)
