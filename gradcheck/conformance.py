"""Checks run against a target: the one engine behind the Python API and the command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from gradcheck.api import check_gradients, check_layer
from gradcheck.errors import GradcheckError
from gradcheck.probes import probe_softmax
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
    """A conformance check failed; its text is the diagnosis (what pytest shows)."""


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
            raise ConformanceFailure(f"{self.name} ({self.description})\n{body}")
        return result


def iter_checks(target, *, seed: int = 0, mode: str = "full", dtype=np.float64) -> Iterator[Check]:
    """The conformance suite for a protocol target, chosen by what the target can do.

    Gradient checks on a batch of 1, a small batch with every class, and a batch that lacks
    the top classes (the first article's ``y.max() + 1`` one-hot fails there); then, for
    targets that expose ``layers`` (examples as rows), one ``check_layer`` per layer.
    """
    params = target_params(target)
    n_classes = infer_n_classes(target, params)
    small = max(8, 2 * n_classes)
    batches = [
        ("check_gradients_batch1", "one example", 1, 0),
        (f"check_gradients_batch{small}", f"{small} examples, every class", small, 0),
    ]
    if n_classes >= 3:
        batches.append(("check_gradients_batch_missing_classes",
                        f"{small} examples, the top 2 of {n_classes} classes absent", small, 2))
    for name, description, size, missing in batches:
        def run(size=size, missing=missing):
            X, y, _ = synthetic_batch(target, size, seed=seed, dtype=dtype, missing_classes=missing)
            return check_target_gradients(target, X, y, mode=mode, seed=seed)

        yield Check(name, description, run)

    X, _, layout = synthetic_batch(target, small, seed=seed, dtype=dtype)
    if callable(getattr(target, "softmax", None)):
        axis = 0 if layout == "columns" else -1

        def run_softmax(axis=axis):
            return probe_softmax(target.softmax, axis=axis, dtype=dtype, seed=seed)

        yield Check("check_softmax_stable", f"softmax over logits up to 1e4, class axis {axis}",
                    run_softmax)
    views = layer_views(target) if layout == "rows" else []
    for view, X_layer in zip(views, layer_inputs(views, X)):
        def run_layer(view=view, X_layer=X_layer):
            return check_layer(view.forward, view.backward, X_layer, view.params,
                               param_grads=view.param_grads, seed=seed, mode=mode)

        yield Check(f"check_{view.name}", f"{type(view.layer).__name__} on its own, "
                    "input and parameter gradients", run_layer)
