"""A few steps of plain gradient descent on a target, watched for the first non-finite value.

The training probes are built on :func:`sgd_run`. It trains the target's live parameters in
place (that is the only way to train an arbitrary network through the protocol) and restores
every one of them, bit for bit, before it returns or raises.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck.errors import UserCodeError
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.targets.protocol import target_params
from gradcheck.targets.usercode import Crash, UserCodeCrash, call_user


@dataclass
class Breakage:
    """Where a run first went non-finite.

    step : int
        Optimiser step (0 = before any update) at which it was seen.
    quantity : str
        ``"activation"``, ``"loss"``, ``"gradient"`` or ``"parameter"``.
    where : str
        The layer or parameter name, e.g. ``"relu1"`` or ``"W2"``; ``""`` for the loss.
    """

    step: int
    quantity: str
    where: str

    def describe(self) -> str:
        place = f" of {self.where}" if self.where else ""
        return f"the {self.quantity}{place} at step {self.step}"


@dataclass
class RunRecord:
    """What one short training run did; lists have one entry per step that was evaluated.

    loss : mean loss per step (NaN where non-finite).
    grad_norm : global L2 norm of all gradients per step, before any clipping.
    breakage : first non-finite value, or None if the run stayed finite.
    warning : the first RuntimeWarning NumPy emitted (e.g. ``"overflow encountered in exp"``)
        and its step, or None.
    error : message of an exception raised by the target's code, or None.
    """

    lr: float
    scale: float
    clip_norm: float | None
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    breakage: Breakage | None = None
    warning: tuple[int, str] | None = None
    error: str | None = None
    #: Where the user's code raised, when it did.
    crash: Crash | None = None

    @property
    def finite(self) -> bool:
        return self.breakage is None and self.error is None

    @property
    def steps(self) -> list[int]:
        return list(range(len(self.loss)))

    def diverged(self, growth: float = 1.5) -> bool:
        """Non-finite, an error, or a final loss above ``growth`` times the first."""
        if not self.finite:
            return True
        return len(self.loss) > 1 and self.loss[-1] > growth * self.loss[0]

    def series(self) -> dict[str, list[float]]:
        return {"step": self.steps, "loss": list(self.loss), "grad_norm": list(self.grad_norm)}


def _nonfinite(arr) -> bool:
    return not np.all(np.isfinite(np.asarray(arr, dtype=np.float64)))


def first_nonfinite_layer(target, X) -> str | None:
    """Name of the first layer whose output is non-finite, when the target has ``activations``.

    ``activations(X)`` may return a mapping name -> array (in layer order) or a sequence.
    """
    activations = getattr(target, "activations", None)
    if not callable(activations):
        return None
    try:
        outputs = activations(X)
    except Exception:  # a probe helper: the run itself reports the user's exceptions
        return None
    items = outputs.items() if isinstance(outputs, Mapping) else (
        (f"layer {i}", a) for i, a in enumerate(outputs, start=1))
    for name, values in items:
        if _nonfinite(values):
            return str(name)
    return None


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """sqrt of the sum of squares of every gradient entry (float64 accumulation)."""
    total = sum(float(np.sum(np.square(np.asarray(g, dtype=np.float64)))) for g in grads.values())
    return math.sqrt(total) if math.isfinite(total) else math.inf


def _locate(target, X, params, grads, loss: float, step: int) -> Breakage | None:
    for name, arr in params.items():
        if _nonfinite(arr):
            return Breakage(step, "parameter", name)
    if math.isfinite(loss) and not any(_nonfinite(g) for g in grads.values()):
        return None
    layer = first_nonfinite_layer(target, X)
    if layer is not None:
        return Breakage(step, "activation", layer)
    if not math.isfinite(loss):
        return Breakage(step, "loss", "")
    name = next(n for n, g in grads.items() if _nonfinite(g))
    return Breakage(step, "gradient", name)


def sgd_run(target, X, y, *, lr: float, steps: int, scale: float = 1.0,
            clip_norm: float | None = None) -> RunRecord:
    """Train ``target`` for ``steps`` plain gradient-descent updates on ``(scale * X, y)``.

    Parameters
    ----------
    target : object following the target protocol (``params``, ``loss``, ``gradients``).
    X, y : one batch in the target's layout; X is not modified.
    lr : learning rate, > 0.
    steps : number of updates, >= 1; the loss is evaluated ``steps + 1`` times.
    scale : factor applied to X (1 = as given; 255 = pixels never divided by 255).
    clip_norm : rescale the gradients to this global norm when it is exceeded; None = off.

    The target's parameters are restored to their original bits before returning, and a
    KeyboardInterrupt still restores them first.
    """
    params = target_params(target)
    record = RunRecord(lr=lr, scale=scale, clip_norm=clip_norm)
    Xs = np.asarray(X) if scale == 1 else np.asarray(X) * scale  # token indices stay integers
    snapshot = Snapshot(params)
    try:
        with warnings.catch_warnings(record=True) as caught, \
                np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            warnings.simplefilter("always")
            for step in range(steps + 1):
                seen = len(caught)
                try:
                    loss = float(np.asarray(call_user(target.loss, Xs, y, call="loss"),
                                            dtype=np.float64).reshape(-1)[0])
                    grads = dict(call_user(target.gradients, Xs, y, call="gradients"))
                except UserCodeCrash as raised:  # the user's code broke: a finding, not a crash
                    crash = raised.crash
                    at = f" at {crash.where}" if crash.file else ""
                    record.error = f"step {step}: {crash.error_type}: {crash.message}{at}"
                    record.crash = crash
                    break
                if record.warning is None:
                    runtime = [w for w in caught[seen:] if issubclass(w.category, RuntimeWarning)]
                    if runtime:
                        record.warning = (step, str(runtime[0].message))
                norm = global_norm(grads)
                record.loss.append(loss if math.isfinite(loss) else math.nan)
                record.grad_norm.append(norm if math.isfinite(norm) else math.nan)
                record.breakage = _locate(target, Xs, params, grads, loss, step)
                if record.breakage is not None or step == steps:
                    break
                factor = clip_norm / norm if clip_norm is not None and norm > clip_norm else 1.0
                apply_step(params, grads, lr * factor)
    finally:
        snapshot.restore()
    return record


def apply_step(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float) -> None:
    """``param -= lr * grad`` in place for every parameter that has a gradient.

    A gradient of another shape is used the way the user's own update line would use it:
    reshaped when it has as many entries, else broadcast (a scalar bias gradient, say).
    """
    for name, arr in params.items():
        if name not in grads:
            continue
        grad = np.asarray(grads[name])
        try:
            if grad.shape != arr.shape:
                grad = grad.reshape(arr.shape) if grad.size == arr.size else np.broadcast_to(grad, arr.shape)
            arr -= (lr * grad).astype(arr.dtype, copy=False)
        except ValueError as exc:
            raise UserCodeError(
                f"cannot apply a gradient step to {name} ({exc}): its gradient has shape "
                f"{grad.shape} and the parameter {arr.shape}; return gradients shaped like their "
                "parameters, and keep parameters writeable") from exc
