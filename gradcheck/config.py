"""The options of a check run, validated once, and the table front ends build their flags from.

:class:`CheckConfig` is what the engine (:mod:`gradcheck.engine`) takes; the command line
and the pytest plugin both read their options from :data:`OPTIONS`, so they offer the same
options with the same defaults and the same help, and give the same verdicts.

To add an option: add a field to :class:`CheckConfig` (with its check in
``__post_init__``) and an :class:`Option` row to :data:`OPTIONS`; the CLI gains
``--name`` and the plugin ``--gradcheck-name``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.parallel import validate_jobs
from gradcheck.options import OPTIONS, flag
from gradcheck.validation import float_dtype, validate_options
from gradcheck.wording import FlagWords


@dataclass(frozen=True)
class CheckConfig:
    """How the checks of one run are done; every field is checked when the config is made.

    Attributes
    ----------
    mode : {"full", "sample", "directional"}
        Finite-difference mode of the gradient checks (see :func:`gradcheck.check_gradients`).
    method : {"central", "richardson"}
    eps, rtol, atol : float or None
        Step and tolerances; None for the defaults of the dtype.
    samples : int or None
        Entries per parameter in "sample" mode (default 16).
    seed : int
        Seeds the synthetic data, the sampled entries and the directions.
    directions : int
        Random directions per parameter in "directional" mode.
    batch_size : int or None
        Examples in the main gradient check's batch; None chooses max(8, 2 x classes), so
        every class is present.
    dtype : {"float64", "float32"}
        dtype of the synthetic data.
    max_seconds : float or None
        Refuse a gradient check estimated to take longer; None turns the guard off.
    jobs : int
        Worker processes for the finite differences of every gradient check: 1 runs them in
        this process, N >= 2 on N processes, -1 on one per core (see
        :mod:`gradcheck.numeric.parallel`); the verdicts are the same, bit for bit.
    data : str or None
        A file of the user's examples (``.npz``, ``X.npy,y.npy``, a directory, ``.csv`` with
        the label first; see :mod:`gradcheck.targets.data`): every batch is drawn from it.
        None: the target's ``example_batch()``, else synthetic batches.
    """

    mode: str = "full"
    method: str = "central"
    eps: float | None = None
    rtol: float | None = None
    atol: float | None = None
    samples: int | None = None
    seed: int = 0
    directions: int = 3
    batch_size: int | None = None
    dtype: str = "float64"
    max_seconds: float | None = 300.0
    jobs: int = 1
    data: str | None = None

    def __post_init__(self) -> None:
        validate_options(mode=self.mode, eps=self.eps, rtol=self.rtol, atol=self.atol,
                         samples=self.samples, seed=self.seed, method=self.method,
                         directions=self.directions, batch_size=self.batch_size,
                         max_seconds=self.max_seconds)
        if isinstance(self.jobs, Executor):
            raise InvalidArgumentError("jobs", "got an Executor; a config holds a number of worker "
                                       "processes.", "Pass the executor to check_gradients(..., "
                                       "jobs=executor) directly, or jobs=N here.")
        object.__setattr__(self, "jobs", validate_jobs(self.jobs))
        if self.data is not None and (not isinstance(self.data, (str, os.PathLike)) or not str(self.data)):
            raise InvalidArgumentError("data", f"got {self.data!r}, expected a path",
                                       "Pass e.g. data='train.npz' (arrays X and y).")
        if self.data is not None:
            object.__setattr__(self, "data", os.fspath(self.data))
        object.__setattr__(self, "dtype", float_dtype(self.dtype).name)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, **more: Any) -> CheckConfig:
        """A config from keyword options; unknown names are an error that lists the known ones."""
        values = {**(options or {}), **more}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidArgumentError("options", f"got unknown options {unknown}.",
                                       f"The options are {sorted(known)}.")
        return cls(**values)

    def replace(self, **changes: Any) -> CheckConfig:
        """A copy with ``changes``, validated again."""
        return dataclasses.replace(self, **changes)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def gradient_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`gradcheck.check_gradients` (all but batch_size and dtype)."""
        return {"mode": self.mode, "method": self.method, "eps": self.eps, "rtol": self.rtol,
                "atol": self.atol, "samples": self.samples, "seed": self.seed,
                "directions": self.directions, "max_seconds": self.max_seconds,
                "jobs": self.jobs}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_from(values: Mapping[str, Any]) -> CheckConfig:
    """A config from front-end values keyed by option name (None or missing = the default)."""
    chosen = {}
    for option in OPTIONS:
        raw = values.get(option.name)
        if raw is not None:
            chosen[option.name] = option.value(raw)
    return CheckConfig(**chosen)


def flag_words(prefix: str = "--") -> FlagWords:
    """Messages in flags: ``--mode sample`` (CLI), ``--gradcheck-mode sample`` (pytest plugin)."""
    flags = {option.name: flag(option.name, prefix) for option in OPTIONS}
    return FlagWords(flags, frozenset(o.name for o in OPTIONS if o.zero_is_none))
