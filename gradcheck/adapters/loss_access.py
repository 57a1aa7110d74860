"""One user loss object behind a uniform face: value(output, y) and gradient(output, y).

Loss objects in published code take their arguments in either order (``forward(y_pred, y_true)``,
``loss(y, y_pred)``), return a mean, a sum or one loss per example, store the gradient in
``dinputs`` or return it, and want integer labels or one-hot rows. The order is read from the
parameter names; the label format is found by trying (see :meth:`LossAccess.calibrate`).
"""

from __future__ import annotations

import inspect

import numpy as np

from gradcheck.errors import ProtocolError

VALUE_METHODS = ("calculate", "forward", "loss", "__call__")
GRADIENT_METHODS = ("backward", "grad", "gradient", "derivative")
LABEL_NAMES = ("y", "y_true", "labels", "label", "target", "targets", "t", "Y", "y_onehot")


def labels_first(method) -> bool:
    """Whether ``method`` takes the labels first (``loss(y, y_pred)``), read from its parameter names."""
    try:
        names = [p.name for p in inspect.signature(method).parameters.values()]
    except (TypeError, ValueError):
        return False
    return bool(names) and names[0] in LABEL_NAMES


def _required_count(method) -> int | None:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(1 for p in parameters if p.default is p.empty
               and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def one_hot(y: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    Y = np.zeros((len(y), n_classes), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


class LossAccess:
    """A loss object with a value method (optional) and a gradient method.

    A loss object that has a gradient method and no value method (a combined softmax and
    cross-entropy whose backward is written for the softmax output) is ``gradient_only``: its
    value must come from elsewhere.
    """

    def __init__(self, loss, label: str = "loss"):
        self.loss = loss
        self.label = label
        self._value = next((getattr(loss, m) for m in VALUE_METHODS
                            if m != "__call__" and callable(getattr(loss, m, None))), None)
        if self._value is None and callable(loss) and not isinstance(loss, type) and not hasattr(loss, "backward"):
            self._value = loss
        self._gradient = next((getattr(loss, m) for m in GRADIENT_METHODS if callable(getattr(loss, m, None))), None)
        self.one_hot = False
        #: Whether each method takes the labels first, read from its signature once (a loss is
        #: evaluated thousands of times in a check).
        self._labels_first = {id(m): labels_first(m) for m in (self._value, self._gradient) if m is not None}

    @property
    def has_gradient(self) -> bool:
        return self._gradient is not None

    @property
    def gradient_only(self) -> bool:
        return self._value is None

    def _args(self, method, output, y, n_classes: int):
        labels = one_hot(y, n_classes, output.dtype) if self.one_hot else y
        first = self._labels_first.get(id(method))
        return (labels, output) if (labels_first(method) if first is None else first) else (output, labels)

    def value(self, output: np.ndarray, y: np.ndarray) -> float:
        """The loss object's value; one loss per example is averaged, as the books do."""
        if self._value is None:
            raise ProtocolError(
                f"{self.label} ({type(self.loss).__name__}) has a backward but no way to compute the loss "
                "(calculate, forward or loss); pass the loss object that computes it, or wrap the model "
                "with gradcheck.adapters.model(model)")
        result = self._value(*self._args(self._value, output, y, output.shape[-1]))
        if isinstance(result, tuple):  # (data loss, regularisation loss)
            result = sum(float(np.mean(part)) for part in result)
        value = np.asarray(result, dtype=np.float64)
        if value.size == 0:
            raise ProtocolError(f"{self.label} returned an empty value; return the scalar loss")
        return float(np.mean(value))

    def gradient(self, output: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The gradient method's result: its return value, or what it stored in ``dinputs``. A
        gradient method taking no arguments (``criterion.backward()``) uses what the value
        method kept, so the value is computed first."""
        if _required_count(self._gradient) == 0:
            if self._value is not None:
                self.value(output, y)
            result = self._gradient()
        else:
            result = self._gradient(*self._args(self._gradient, output, y, output.shape[-1]))
        if result is None:
            result = getattr(self.loss, "dinputs", None)
        if result is None:
            raise ProtocolError(f"{self.label}'s gradient method returned None and stored no `dinputs`; "
                                "return the gradient or store it in self.dinputs")
        return np.asarray(result)

    def calibrate(self, output: np.ndarray, y: np.ndarray) -> None:
        """Choose integer labels or one-hot rows: integers first, one-hot if integers fail.

        ``output`` should have a batch size different from its class count, so that one-hot
        rows and integer labels cannot broadcast into each other silently.
        """
        if self._value is None:
            return
        try:
            self.value(output, y)
            return
        except Exception as first:
            self.one_hot = True
            try:
                self.value(output, y)
            except Exception:
                self.one_hot = False
                raise ProtocolError(
                    f"{self.label} could not compute the loss of an output of shape {output.shape} with "
                    f"integer labels ({type(first).__name__}: {first}) nor with one-hot rows"
                ) from first
