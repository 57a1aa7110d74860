"""What every adapter lets its user declare about the network: the task, the inputs, the outputs.

An adapter passes its keywords to :func:`declare`, which checks them and sets the protocol's
attributes on the target (``task``, ``input_spec``, ``n_classes``, ``sequence_length``,
``null_token``), so nothing about X and y is guessed from a weight's shape. Two shorthands:

- ``vocab=V, steps=T``: a model reading sequences of ``T`` tokens (of ``V``) and predicting the
  next token at every step, as a character RNN or a language model does: token inputs
  ``(n, T)``, sequence labels ``(n, T)``, ``V`` outputs;
- ``input_shape=(1, 28, 28)``: float inputs of that shape per example (images ``(c, h, w)``, or
  one image ``(h, w)``). ``input_shape=(T, d)`` with ``sequence_length=T`` is a sequence of
  ``T`` steps of ``d`` floats with a label at every step: its first axis is time.
"""

from __future__ import annotations

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.inputs import input_spec as read_input_spec
from gradcheck.targets.tasks import declared_task
from gradcheck.validation import is_count


def declare(target, *, task=None, input_spec=None, n_classes=None, sequence_length=None,
            null_token=None, vocab=None, steps=None, input_shape=None) -> None:
    """Check the declarations and set them on ``target`` (leaving undeclared ones unset)."""
    if vocab is not None or steps is not None:
        if not (is_count(vocab, minimum=2) and is_count(steps)):
            raise InvalidArgumentError(
                "vocab" if not is_count(vocab, minimum=2) else "steps",
                f"got vocab={vocab!r}, steps={steps!r}; they declare token sequences together.",
                "Pass both, e.g. vocab=65, steps=25: sequences of 25 tokens of 65.")
        if input_spec is not None or input_shape is not None:
            raise InvalidArgumentError("input_spec", "vocab and steps already declare the inputs.",
                                       "Pass either vocab=, steps= or input_spec=.")
        input_spec = {"shape": (int(steps),), "dtype": "int", "vocab": int(vocab), "sequence": True}
        task = task or "sequence"
        n_classes = n_classes if n_classes is not None else int(vocab)
        sequence_length = sequence_length if sequence_length is not None else int(steps)
    if input_shape is not None:
        if input_spec is not None:
            raise InvalidArgumentError("input_shape", "input_spec already declares the inputs.",
                                       "Pass one of input_shape= and input_spec=.")
        shape = (input_shape,) if is_count(input_shape) else input_shape
        input_spec = {"shape": tuple(shape) if isinstance(shape, (tuple, list)) else shape}
        if isinstance(shape, (tuple, list)) and len(shape) >= 2 and sequence_length is not None \
                and shape[0] == sequence_length:
            input_spec["sequence"] = True  # (T, d) with a label at each of T steps: time first
    if declared_task(task) is not None:
        target.task = task
    if input_spec is not None:
        target.input_spec = input_spec
        try:
            spec = read_input_spec(target, label="input_spec")
        except ProtocolError as exc:
            del target.input_spec
            problem = str(exc).replace("input_spec.input_spec", "input_spec")
            raise InvalidArgumentError("input_spec", problem.removeprefix("input_spec "),
                                       "See docs/protocol.md for its keys.") from None
        target.input_spec = spec
    if n_classes is not None:
        if not is_count(n_classes, minimum=1):
            raise InvalidArgumentError("n_classes", f"got {n_classes!r}, expected the number of "
                                       "outputs (classes, or the vocabulary).")
        target.n_classes = int(n_classes)
    spec = getattr(target, "input_spec", None)
    if task == "sequence" and sequence_length is None and getattr(spec, "sequence", False):
        sequence_length = spec.steps  # labels as long as the inputs
    if task == "regression" and sequence_length is not None and null_token is None:
        if not is_count(sequence_length):
            raise InvalidArgumentError("sequence_length", f"got {sequence_length!r}, expected the "
                                       "steps T of a label (N, T, k).")
        target.sequence_length = int(sequence_length)  # a regression at every step
        return
    if sequence_length is not None or null_token is not None:
        if task != "sequence":
            raise InvalidArgumentError(
                "sequence_length", "a sequence length and a null token describe sequence labels.",
                "Pass task='sequence' with them (labels (N, T) of integers), or "
                "task='regression' with a sequence length alone (labels (N, T, k) of floats).")
        if not is_count(sequence_length):
            raise InvalidArgumentError("sequence_length", f"got {sequence_length!r}, expected the "
                                       "steps T of a label (N, T).")
        target.sequence_length, target.null_token = int(sequence_length), null_token
