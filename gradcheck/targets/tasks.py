"""What a target predicts: the task, and the labels a batch for it carries.

=============  ==============================  ==========================================
task           outputs                         labels ``y`` (rows layout; columns: transposed)
=============  ==============================  ==========================================
multiclass     k >= 2 class scores (softmax)   integers ``(n,)`` in ``0 .. k-1``
binary         1 probability (sigmoid)         0.0 / 1.0, ``(n, 1)`` or ``(n,)``
multilabel     k independent probabilities     0.0 / 1.0, ``(n, k)``
regression     k real values (MSE)             floats, ``(n, k)``, or ``(n,)`` when k = 1;
               k per step of a sequence        floats ``(n, T, k)`` with a ``sequence_length`` T
sequence       k scores per step (a vocabulary) integers ``(n, T)`` in ``0 .. k-1``, the ends
                                               padded with the ``null_token``
=============  ==============================  ==========================================

A target declares its task with a ``task`` attribute (adapters take ``task=``). Without one
it is inferred from the output width and from which labels the loss accepts, trying the forms
in order: one output is binary ``(n, 1)``, then ``(n,)``; k outputs are multiclass integer
labels, then multi-label 0/1 rows (multi-label first when the target exposes a ``sigmoid``
and no ``softmax``). 0/1 targets are valid regression targets too, so a regression network
that does not declare itself is still checked correctly, as binary or multi-label.

A sequence task (a captioning model's captions, a language model's next tokens) is never
inferred: the target declares ``task = "sequence"`` and ``sequence_length = T``, and may declare
``null_token``, the word that pads a caption's end and that the loss leaves out (a mask). A
regression at every step of a sequence (a squared error per step) declares ``task = "regression"``
with ``sequence_length = T``: its labels are real values ``(n, T, k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.protocol import TASKS, infer_n_classes, target_params
from gradcheck.validation import is_count

#: Human names of the tasks, for descriptions and reasons.
TASK_NAMES = {"multiclass": "multi-class classification", "binary": "binary classification",
              "multilabel": "multi-label classification", "regression": "regression",
              "sequence": "sequence labels"}


@dataclass(frozen=True)
class Task:
    """The task of a target and the form of its labels.

    Attributes
    ----------
    name : one of :data:`~gradcheck.targets.protocol.TASKS`.
    n_outputs : k, the width of the output (classes for multiclass).
    flat : labels are ``(n,)`` (always for multiclass; for one output when the loss takes them so).
    declared : the target said so (a ``task`` attribute), rather than it being inferred.
    length : T, the steps of a sequence label (sequence, and regression at every step).
    null_token : the word that pads a sequence's end, or None (sequence only).
    """

    name: str
    n_outputs: int
    flat: bool
    declared: bool = False
    length: int | None = None
    null_token: int | None = None

    @property
    def has_classes(self) -> bool:
        """Integer class labels, so a batch can leave classes out."""
        return self.name == "multiclass"

    def describe(self) -> str:
        """E.g. ``"binary classification, labels (n, 1) in {0, 1} (inferred)"``."""
        how = "declared" if self.declared else "inferred"
        return f"{TASK_NAMES[self.name]}, labels {self.label_text()} ({how})"

    def label_text(self, layout: str = "rows") -> str:
        k = self.n_outputs
        if self.name == "multiclass":
            return f"(n,) integers 0..{k - 1}"
        if self.name == "sequence":
            shape = f"(n, {self.length})" if layout == "rows" else f"({self.length}, n)"
            pad = "" if self.null_token is None else f", ends padded with {self.null_token}"
            return f"{shape} integers 0..{k - 1}{pad}"
        if self.length is not None:  # a regression at every step
            return f"(n, {self.length}, {k}) floats"
        shape = "(n,)" if self.flat else (f"(n, {k})" if layout == "rows" else f"({k}, n)")
        return shape + (" floats" if self.name == "regression" else " in {0, 1}")

    def labels(self, n: int, rng: np.random.Generator, *, layout: str = "rows", dtype=np.float64,
               missing: int = 0) -> np.ndarray:
        """``n`` labels of this task's kind, shape and dtype, drawn from ``rng``.

        Class labels cycle through every class (the top ``missing`` classes left out); 0/1
        labels alternate per output, shuffled, so both values are present from n = 2.
        """
        k = self.n_outputs
        if self.name == "multiclass":
            present = max(1, k - missing)
            return rng.permutation(np.arange(n) % present).astype(np.int64)
        if self.name == "sequence":
            Y = self._sequences(n, rng)
            return np.ascontiguousarray(Y.T) if layout == "columns" else Y
        if self.name == "regression" and self.length is not None:
            return rng.standard_normal((n, self.length, k)).astype(dtype)
        if self.name == "regression":
            Y = rng.standard_normal((n, k))
        else:
            Y = np.stack([rng.permutation(np.arange(i, i + n) % 2) for i in range(k)], axis=1)
        Y = Y.astype(dtype)
        if self.flat:
            return Y[:, 0].copy()
        return np.ascontiguousarray(Y.T) if layout == "columns" else Y


    def _sequences(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, T)`` words other than the null token; with one, every sequence keeps at least
        its first two words and the rest of its end is padding (the first one always padded)."""
        words = np.array([w for w in range(self.n_outputs) if w != self.null_token])
        Y = rng.choice(words, size=(n, self.length)).astype(np.int64)
        if self.null_token is not None and self.length > 2:
            kept = rng.integers(2, self.length + 1, size=n)
            kept[0] = self.length - 1  # at least one padded step
            Y[np.arange(self.length)[None, :] >= kept[:, None]] = self.null_token
        return Y


def declared_task(task, argument: str = "task") -> str | None:
    """``task`` when it is None or one of the tasks, else InvalidArgumentError (for adapters)."""
    if task is None or task in TASKS:
        return task
    raise InvalidArgumentError(argument, f"got {task!r}, expected one of {', '.join(map(repr, TASKS))} "
                               "or None.", "Pass task='binary' for one sigmoid output, say, or leave "
                               "it out to have it inferred.")


def n_outputs(target, params: dict[str, np.ndarray] | None = None) -> int:
    """The output width: declared ``n_classes``, else the size of the last parameter."""
    return infer_n_classes(target, target_params(target) if params is None else params)


def candidate_tasks(target, params: dict[str, np.ndarray] | None = None) -> list[Task]:
    """The tasks ``target`` could be, most likely first (one when it declares its task)."""
    k = n_outputs(target, params)
    declared = getattr(target, "task", None)
    if declared is not None:
        if declared in ("multiclass",) and k < 2:
            raise ProtocolError(f"the target declares task 'multiclass' but has {k} output; give it "
                                "n_classes, or declare task = 'binary' for one sigmoid output")
        if declared == "binary" and k != 1:
            raise ProtocolError(f"the target declares task 'binary' but has {k} outputs; binary "
                                "classification has one sigmoid output (two softmax outputs are "
                                "task = 'multiclass' with n_classes = 2)")
        if declared == "multiclass":
            return [Task("multiclass", k, True, True)]
        if declared == "sequence":
            return [sequence_task(target, k)]
        steps = getattr(target, "sequence_length", None)
        if declared == "regression" and steps is not None:
            if not is_count(steps, minimum=1):
                raise ProtocolError(f"the target's sequence_length is {steps!r}; give it the number "
                                    "of steps T of a label (n, T, k), e.g. sequence_length = 17")
            return [Task("regression", k, False, True, int(steps))]
        if k == 1:
            return [Task(declared, 1, False, True), Task(declared, 1, True, True)]
        return [Task(declared, k, False, True)]
    if k == 1:
        return [Task("binary", 1, False), Task("binary", 1, True)]
    both = [Task("multiclass", k, True), Task("multilabel", k, False)]
    sigmoid_only = callable(getattr(target, "sigmoid", None)) and not callable(getattr(target, "softmax", None))
    return both[::-1] if sigmoid_only else both


def sequence_task(target, k: int) -> Task:
    """The declared sequence task: its ``sequence_length`` and ``null_token``, checked."""
    length = getattr(target, "sequence_length", None)
    null = getattr(target, "null_token", None)
    if not is_count(length, minimum=1):
        raise ProtocolError(f"the target declares task 'sequence' but its sequence_length is "
                            f"{length!r}; give it the number of steps T of a label (n, T), e.g. "
                            "sequence_length = 17")
    if null is not None and not (is_count(null, minimum=0) and null < k):
        raise ProtocolError(f"the target's null_token is {null!r}, expected a word 0..{k - 1} of "
                            "its vocabulary (or leave it out)")
    if k < 2 or (null is not None and k < 3):
        raise ProtocolError(f"the target declares task 'sequence' with a vocabulary of {k} words; "
                            "give it n_classes, the size of its vocabulary")
    return Task("sequence", k, False, True, int(length), None if null is None else int(null))


def take_examples(y: np.ndarray, order, layout: str) -> np.ndarray:
    """``y`` with its examples in ``order``: the columns of 2-D labels in the columns layout."""
    y = np.asarray(y)
    return y[:, order] if (y.ndim == 2 and layout == "columns") else y[order]


def count_examples(X: np.ndarray, layout: str) -> int:
    """Examples in a batch ``X`` of this layout."""
    return int(X.shape[1] if layout == "columns" else X.shape[0])
