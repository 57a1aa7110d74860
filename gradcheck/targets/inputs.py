"""What a target reads as its input X, when it says so: an input spec.

Without one, gradcheck takes the input width from the first 2-D parameter and draws X uniform in
[0, 1]. A model whose first 2-D parameter is not its input layer (a captioning model whose first
weight projects image features, an embedding whose inputs are token indices) declares instead::

    input_spec = {"shape": (20,)}                                  # 20 float features per example
    input_spec = {"shape": (1, 28, 28)}                            # one-channel images (n, c, h, w)
    input_spec = {"shape": (28, 28)}                               # one image (h, w) per example
    input_spec = {"shape": (16,), "dtype": "int", "vocab": 30}     # 16 tokens in 0..29
    input_spec = {"shape": (25,), "dtype": "int", "vocab": 65, "sequence": True}   # 25 time steps
    input_spec = {"shape": (65,), "ordered": True}                 # rows of X are time steps

``shape`` is one example's shape, ``dtype`` is ``"float"`` (uniform in [0, 1), in the run's
dtype) or ``"int"`` (indices ``0 .. vocab - 1``, never differenced), ``vocab`` the number of
tokens of an integer input. Examples are rows of X (the first axis); a columns-layout target's
one-dimensional examples are its columns.

``sequence`` says an example's first axis is time: gradcheck may give the network fewer steps
(one, then several) to tell an error through time from one within a step. ``ordered`` says the
examples themselves are ordered, the steps of one sequence rather than exchangeable examples: the
probes never reorder them, nor take the batch twice over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from gradcheck.errors import ProtocolError
from gradcheck.validation import is_count

#: The kinds of input an input spec may declare.
INPUT_DTYPES = ("float", "int")
#: The keys an input spec may have.
SPEC_KEYS = ("shape", "dtype", "vocab", "sequence", "ordered")


@dataclass(frozen=True)
class InputSpec:
    """One example's input: ``shape``, ``dtype`` ("float" or "int") and, for ints, ``vocab``."""

    shape: tuple[int, ...]
    dtype: str = "float"
    vocab: int | None = None
    sequence: bool = False
    ordered: bool = False

    @property
    def width(self) -> int:
        """Numbers per example."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def is_int(self) -> bool:
        return self.dtype == "int"

    @property
    def steps(self) -> int | None:
        """The time steps of one example (a sequence), else None."""
        return self.shape[0] if self.sequence else None

    def with_steps(self, steps: int) -> InputSpec:
        """The same spec with ``steps`` time steps (a sequence spec only)."""
        return replace(self, shape=(int(steps), *self.shape[1:]))

    def describe(self) -> str:
        """``X (n, 16) integers 0..29`` or ``X (n, 20) floats``."""
        shape = ", ".join(str(s) for s in self.shape)
        if self.is_int:
            return f"X (n, {shape}) integers 0..{self.vocab - 1}"
        return f"X (n, {shape}) floats"

    def to_dict(self) -> dict:
        """The spec as a target would declare it."""
        out: dict = {"shape": tuple(self.shape)}
        if self.is_int:
            out.update(dtype="int", vocab=self.vocab)
        out.update({key: True for key in ("sequence", "ordered") if getattr(self, key)})
        return out

    def batch(self, n: int, rng: np.random.Generator, *, layout: str = "rows", dtype=np.float64) -> np.ndarray:
        """``n`` examples drawn from ``rng``: floats in [0, 1) of ``dtype``, or int64 indices."""
        if self.is_int:
            X = rng.integers(0, self.vocab, size=(n, *self.shape)).astype(np.int64)
        else:
            X = rng.uniform(0, 1, size=(n, *self.shape)).astype(dtype)
        if layout == "columns" and X.ndim == 2:
            return np.ascontiguousarray(X.T)
        return X


def input_spec(target, *, label: str = "target") -> InputSpec | None:
    """The target's declared ``input_spec`` (a mapping or an :class:`InputSpec`), checked; None
    when it declares none."""
    spec = getattr(target, "input_spec", None)
    if spec is None or isinstance(spec, InputSpec):
        return spec
    if not isinstance(spec, Mapping):
        raise ProtocolError(f"{label}.input_spec is {type(spec).__name__}, expected a dict such as "
                            "{'shape': (20,)} or {'shape': (16,), 'dtype': 'int', 'vocab': 30}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ProtocolError(f"{label}.input_spec has unknown keys {unknown}; it takes "
                            f"{', '.join(SPEC_KEYS)}")
    shape = spec.get("shape")
    shape = (shape,) if is_count(shape) else shape
    if not isinstance(shape, (tuple, list)) or not shape or not all(is_count(s) for s in shape):
        raise ProtocolError(f"{label}.input_spec['shape'] is {shape!r}, expected one example's "
                            "shape, a tuple of positive integers such as (20,)")
    dtype = spec.get("dtype", "float")
    if dtype not in INPUT_DTYPES:
        raise ProtocolError(f"{label}.input_spec['dtype'] is {dtype!r}, expected 'float' or 'int'")
    vocab = spec.get("vocab")
    if dtype == "int" and not is_count(vocab, minimum=2):
        raise ProtocolError(f"{label}.input_spec['vocab'] is {vocab!r}, expected the number of "
                            "tokens (at least 2) of an integer input")
    if dtype == "float" and vocab is not None:
        raise ProtocolError(f"{label}.input_spec has a vocab but dtype 'float'; give dtype 'int' "
                            "for token inputs")
    flags = {}
    for key in ("sequence", "ordered"):
        value = spec.get(key, False)
        if not isinstance(value, (bool, np.bool_)):
            raise ProtocolError(f"{label}.input_spec[{key!r}] is {value!r}, expected True or False")
        flags[key] = bool(value)
    return InputSpec(tuple(int(s) for s in shape), dtype, None if vocab is None else int(vocab),
                     **flags)
