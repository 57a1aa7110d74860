"""The user's own examples: read from a file (``--data``) or a target's ``example_batch()``.

Files (examples are rows; a file whose X has one column per label is read as columns):

- ``.npz``: arrays ``X`` and ``y``, else ``x`` and ``y``, else exactly two arrays, the first
  being X (in the order they were saved);
- a ``.npy`` pair: ``X.npy,y.npy`` (comma-separated), or a directory holding ``X.npy`` (or
  ``x.npy``) and ``y.npy``;
- ``.csv``: one example per line, the label in the **first** column (the Kaggle MNIST CSV
  layout), the features after it; a first line that is not numbers is a header and skipped.

Every batch of a run is drawn from these examples by the seed, laid out for the target, with
labels in the form of the target's task (:mod:`gradcheck.targets.tasks`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.inputs import input_spec
from gradcheck.targets.protocol import first_weight, target_params
from gradcheck.targets.tasks import TASK_NAMES, Task

#: What ``--data`` accepts, for error messages.
FORMATS = ("a .npz with arrays X and y", "X.npy,y.npy", "a directory with X.npy and y.npy",
           "a .csv with the label in the first column")


@dataclass(frozen=True)
class DataSet:
    """Examples as rows: X ``(n, n_features)`` float64, y ``(n,)`` or ``(n, k)``.

    ``argument`` names where they came from in error messages (``--data``, ``example_batch()``).
    """

    X: np.ndarray
    y: np.ndarray
    argument: str = "data"
    #: One example's shape, when the target's input spec gives one (images (28, 28), say): the
    #: rows of X are reshaped to it in every batch.
    shape: tuple[int, ...] | None = None

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[0])

    @classmethod
    def from_arrays(cls, X, y, *, argument: str = "data", layout: str = "rows") -> DataSet:
        """Check and copy ``(X, y)``; ``layout="columns"`` means X is (n_features, n)."""
        X = _numeric(X, argument, "X")
        y = _numeric(y, argument, "y")
        if X.ndim > 2 and layout == "rows" and y.ndim >= 1 and X.shape[0] == y.shape[0]:
            X = X.reshape(X.shape[0], -1)  # images (n, 28, 28) or (n, c, h, w): one row each
        if X.ndim != 2:
            raise InvalidArgumentError(argument, f"X has shape {X.shape}, expected 2-D: one example per "
                                       "row (n_examples, n_features)",
                                       "Reshape the inputs, e.g. X.reshape(len(X), -1).")
        if y.ndim == 3 and layout == "rows" and y.shape[0] == X.shape[0]:
            y = y.reshape(len(y), -1)  # k values at each of T steps: the task reshapes them back
        if y.ndim not in (1, 2):
            raise InvalidArgumentError(argument, f"y has shape {y.shape}, expected (n,) or (n, k)",
                                       "Save one label (or one row of targets) per example.")
        if layout == "columns":
            X = X.T
            if y.ndim == 2 and y.shape[0] != X.shape[0] and y.shape[1] == X.shape[0]:
                y = y.T  # (k, n) labels of a columns-layout batch
        n = y.shape[0]
        if X.shape[0] != n:
            if layout == "rows" and X.shape[1] == n:  # the file keeps examples as columns
                X = X.T
            else:
                raise InvalidArgumentError(
                    argument, f"X has shape {X.shape} and y {y.shape}: not one label per example",
                    "Save X and y of the same examples, one row (or one label) per example.")
        return cls(np.ascontiguousarray(X, dtype=np.float64), np.array(y, copy=True), argument)

    @classmethod
    def for_target(cls, data, target, *, layout: str, task: Task) -> DataSet | None:
        """The examples a run uses: ``data`` (a DataSet or ``(X, y)`` as rows), else the target's
        ``example_batch()`` (in its layout), else None; checked against the network and task."""
        if data is None:
            example_batch = getattr(target, "example_batch", None)
            if not callable(example_batch):
                return None
            try:
                returned = example_batch()
                X, y = returned
            except Exception as exc:
                raise ProtocolError(f"example_batch() raised {type(exc).__name__}: {exc}; it must "
                                    "return (X, y), one batch in the target's layout") from exc
            data = cls.from_arrays(X, y, argument="example_batch()", layout=layout)
        elif not isinstance(data, DataSet):
            try:
                X, y = data
            except (TypeError, ValueError):
                raise InvalidArgumentError("data", f"got {type(data).__name__}, expected a DataSet "
                                           "or a pair (X, y)", "Pass data=(X, y).") from None
            data = cls.from_arrays(X, y)
        return data.fitted(target, layout, task)

    def fitted(self, target, layout: str, task: Task) -> DataSet:
        """This data with labels in the task's form; an error naming :attr:`argument` if unfit."""
        spec = input_spec(target)
        if spec is not None:
            if self.X.shape[1] != spec.width:
                raise InvalidArgumentError(
                    self.argument, f"the examples have {self.X.shape[1]} numbers, the target's "
                    f"input_spec {spec.shape} takes {spec.width}", "Pass data of the inputs this "
                    "network reads.")
            if spec.sequence and task.name == "sequence" and task.length != spec.steps:
                raise InvalidArgumentError(
                    self.argument, f"the labels are sequences of {task.length} steps, the inputs "
                    f"of {spec.steps}", "Pass inputs and labels of the same steps.")
            X = self.X
            if spec.is_int:  # token indices: integers, within the vocabulary, kept as such
                if not np.all(np.mod(X, 1) == 0) or X.min() < 0 or X.max() >= spec.vocab:
                    raise InvalidArgumentError(self.argument, f"the inputs are not token indices "
                                               f"0..{spec.vocab - 1}, as the target's input_spec says",
                                               "Save X as integer word indices.")
                X = X.astype(np.int64)
            shape = spec.shape if len(spec.shape) > 1 else None
            return DataSet(X, _labels_for(self.y, task, self.argument), self.argument, shape)
        W = first_weight(target_params(target))
        n_in = W.shape[0] if layout == "rows" else W.shape[1]
        if self.X.shape[1] != n_in:
            raise InvalidArgumentError(
                self.argument, f"the examples have {self.X.shape[1]} features, the network's first "
                f"weight matrix {W.shape} takes {n_in}", "Pass data of the inputs this network reads.")
        return DataSet(self.X, _labels_for(self.y, task, self.argument), self.argument)

    def batch(self, size: int, *, seed: int, layout: str, task: Task, dtype,
              missing_classes: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``size`` examples chosen by ``seed`` (in file order; repeated only when there are
        fewer), as ``(X, y)`` in ``layout`` and ``dtype``; ``missing_classes`` leaves out the
        examples of the top classes."""
        rows = np.arange(self.n_examples)
        if missing_classes and task.has_classes:
            rows = rows[self.y < task.n_outputs - missing_classes]
            if rows.size == 0:
                rows = np.arange(self.n_examples)
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(rows, size=size, replace=size > rows.size))
        X, y = self.X[chosen], self.y[chosen]
        X = X if np.issubdtype(X.dtype, np.integer) else X.astype(dtype)
        if self.shape is not None:
            X = X.reshape(len(chosen), *self.shape)
        if task.name == "sequence":
            if layout == "columns":
                y = np.ascontiguousarray(y.T)
        elif task.name != "multiclass":
            y = y.astype(dtype)
            y = y.reshape(-1) if task.flat else y.reshape(len(chosen), *(
                (task.length, -1) if task.length is not None else (-1,)))
            if layout == "columns" and y.ndim == 2:
                y = np.ascontiguousarray(y.T)
        if layout == "columns":
            X = np.ascontiguousarray(X.T)
        return X, y


def _numeric(a, argument: str, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise InvalidArgumentError(argument, f"{name} is not an array of numbers ({exc})") from None
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InvalidArgumentError(argument, f"{name} has dtype {arr.dtype}, expected numbers",
                                   f"Save {name} as a float or integer array.")
    if arr.size == 0:
        raise InvalidArgumentError(argument, f"{name} is empty", "Save at least one example.")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise InvalidArgumentError(argument, f"{name} has {bad} NaN or inf value{'s' * (bad > 1)}",
                                   "Remove or fill those examples first (np.nan_to_num, or drop the rows).")
    return arr


def _labels_for(y: np.ndarray, task: Task, argument: str) -> np.ndarray:
    """The labels as the task needs them: class integers (n,), or floats (n,) / (n, k)."""
    k = task.n_outputs
    what = TASK_NAMES[task.name]
    if task.name == "sequence":
        if y.ndim != 2 or not np.all(np.mod(y, 1) == 0) or y.min() < 0 or y.max() >= k:
            shown = f"shape {y.shape}" if y.ndim != 2 else f"values from {y.min()} to {y.max()}"
            raise InvalidArgumentError(
                argument, f"the labels have {shown}, expected integer sequences (n, T) of words "
                f"0..{k - 1}", "Save y as integer sequences, one row per example.")
        return y.astype(np.int64)
    if task.name == "multiclass":
        if y.ndim == 2 and y.shape[1] == k and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
            y = y.argmax(axis=1)  # one-hot rows
        elif y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or not np.all(np.mod(y, 1) == 0) or y.min() < 0 or y.max() >= k:
            shown = f"shape {y.shape}" if y.ndim != 1 else f"values {np.unique(y)[:8].tolist()}"
            raise InvalidArgumentError(
                argument, f"the labels have {shown}, expected integer classes 0..{k - 1} for this "
                f"{k}-output {what} network", "Save y as integer class labels (n,).")
        return y.astype(np.int64)
    if task.name == "regression" and task.length is not None:  # k values at each of T steps
        steps = task.length
        if y.ndim == 2 and y.shape[1] == steps * k:
            y = y.reshape(len(y), steps, k)
        if y.shape[1:] != (steps, k):
            raise InvalidArgumentError(argument, f"the labels have shape {y.shape}, expected "
                                       f"(n, {steps}, {k}): {k} values at each of {steps} steps",
                                       f"Save y as (n, {steps}, {k}) floats.")
        return y.astype(np.float64)
    width = 1 if y.ndim == 1 else y.shape[1]
    if width != k:
        raise InvalidArgumentError(argument, f"the labels have shape {y.shape}, expected {k} per "
                                   f"example for this {k}-output {what} network",
                                   f"Save y as (n, {k})" + (" or (n,)." if k == 1 else "."))
    if task.name != "regression" and not np.all((y == 0) | (y == 1)):
        raise InvalidArgumentError(argument, f"the labels have values {np.unique(y)[:8].tolist()}, "
                                   f"expected 0 and 1 for {what}",
                                   "Save 0/1 labels, or declare task = 'regression' on the target.")
    return y.astype(np.float64)


def load_data(path: str, *, argument: str = "data") -> DataSet:
    """The examples in ``path`` (see the module docstring for the formats)."""
    text = str(path)
    if "," in text and not Path(text).exists():
        parts = [Path(p.strip()) for p in text.split(",")]
        if len(parts) != 2:
            raise InvalidArgumentError(argument, f"got {text!r}, expected two files X.npy,y.npy",
                                       "Pass --data X.npy,y.npy")
        return DataSet.from_arrays(*(_npy(p, argument) for p in parts), argument=argument)
    where = Path(text)
    if not where.exists():
        raise InvalidArgumentError(argument, f"no such file or directory: {text}",
                                   f"Pass {' , '.join(FORMATS[:1])}; or {'; or '.join(FORMATS[1:])}.")
    if where.is_dir():
        found = {p.name: p for p in where.glob("*.npy")}
        x = found.get("X.npy") or found.get("x.npy")
        if x is None or "y.npy" not in found:
            raise InvalidArgumentError(argument, f"the directory {text} has {sorted(found) or 'no .npy files'}, "
                                       "expected X.npy and y.npy", "Save the arrays as X.npy and y.npy there.")
        return DataSet.from_arrays(_npy(x, argument), _npy(found["y.npy"], argument), argument=argument)
    suffix = where.suffix.lower()
    if suffix == ".npz":
        return _npz(where, argument)
    if suffix == ".csv":
        return _csv(where, argument)
    raise InvalidArgumentError(argument, f"got {text!r}, of a kind gradcheck does not read",
                               f"Pass {'; or '.join(FORMATS)}.")


def _npy(path: Path, argument: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InvalidArgumentError(argument, f"no such file: {path}", "Pass X.npy,y.npy of files "
                                   "that exist.") from None
    except (ValueError, OSError) as exc:
        raise InvalidArgumentError(argument, f"{path} is not a NumPy array of numbers ({exc})",
                                   "Save it with np.save(path, array) from a numeric array.") from None


def _npz(path: Path, argument: str) -> DataSet:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            for x, y in (("X", "y"), ("x", "y")):
                if x in keys and y in keys:
                    return DataSet.from_arrays(archive[x], archive[y], argument=argument)
            if len(keys) != 2:
                raise InvalidArgumentError(
                    argument, f"{path.name} has arrays {keys}, expected X and y (or exactly two "
                    "arrays, inputs first)", "Save it with np.savez(path, X=X, y=y).")
            return DataSet.from_arrays(archive[keys[0]], archive[keys[1]], argument=argument)
    except InvalidArgumentError:  # the file was read; its arrays are what is wrong
        raise
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InvalidArgumentError(argument, f"{path} is not a readable .npz of numeric arrays ({exc})",
                                   "Save it with np.savez(path, X=X, y=y).") from None


def _csv(path: Path, argument: str) -> DataSet:
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        [float(v) for v in first.strip().split(",")]
        header = 0
    except ValueError:
        header = 1
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=header, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise InvalidArgumentError(argument, f"{path.name} has a value that is not a number ({exc})",
                                   "Keep only numbers after the header line: the label first, then "
                                   "the features.") from None
    if table.size == 0 or table.shape[1] < 2:
        raise InvalidArgumentError(argument, f"{path.name} has {table.shape[1] if table.size else 0} "
                                   "columns, expected the label then at least one feature",
                                   "Put the label in the first column.")
    return DataSet.from_arrays(table[:, 1:], table[:, 0], argument=argument)
