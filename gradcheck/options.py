"""The options of a check run as the front ends spell them: names, flags, help and choices.

Pure data, with no import of the rest of gradcheck: the pytest plugin reads this table in every
pytest run of an environment where gradcheck is installed, and must cost nothing until used.
:class:`gradcheck.config.CheckConfig` validates the values; the command line's ``--name`` and
the plugin's ``--gradcheck-name`` are both made from :data:`OPTIONS` by :func:`flag`, the one
spelling of a flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Finite-difference modes: every entry, a sample of entries, random directions.
MODES = ("full", "sample", "directional")
#: Finite-difference methods.
METHODS = ("central", "richardson")
#: The dtypes a run can use for its data (and for the reference network).
DTYPES = ("float64", "float32")
#: Where the examples are in X.
LAYOUTS = ("rows", "columns")
#: The prefix of the pytest plugin's options.
PLUGIN_PREFIX = "--gradcheck-"
#: The environment variable that names a target for the pytest plugin, like ``--gradcheck-target``.
TARGET_VARIABLE = "GRADCHECK_TARGET"


def flag(name: str, prefix: str = "--") -> str:
    """The flag of option ``name``: ``--batch-size`` (command line), ``--gradcheck-batch-size``
    with ``prefix="--gradcheck-"`` (pytest plugin)."""
    return prefix + name.replace("_", "-")


@dataclass(frozen=True)
class Option:
    """One option as a front end shows it: a CLI flag and a pytest plugin option.

    ``parse`` turns the command-line text into the field's value; ``zero_is_none`` makes 0
    mean "off" (``--max-seconds 0``).
    """

    name: str
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    zero_is_none: bool = False

    @property
    def flag(self) -> str:
        """The command line's flag, e.g. ``--batch-size``."""
        return flag(self.name)

    def value(self, raw: Any) -> Any:
        """The config value of what the user typed (already parsed by argparse/pytest)."""
        if self.zero_is_none and raw == 0:
            return None
        return raw


#: Every option of :class:`CheckConfig`, in the order ``--help`` lists them.
OPTIONS: tuple[Option, ...] = (
    Option("mode", "finite-difference mode of the gradient checks: full checks every entry, "
           "sample --samples entries per parameter, directional --directions random directions "
           "per parameter (fastest) (default: full)", choices=MODES),
    Option("method", "central differences (2 loss calls per entry), or richardson extrapolation "
           "(4 calls per entry, for rough losses) (default: central)", choices=METHODS),
    Option("eps", "relative step of the finite differences (default: cube root of the machine "
           "epsilon, 6.1e-6 in float64)", parse=float),
    Option("rtol", "relative tolerance per entry (default by dtype: 1e-4 in float64)",
           parse=float),
    Option("atol", "absolute tolerance per entry (default by dtype and by the loss's rounding "
           "noise)", parse=float),
    Option("samples", "entries per parameter in sample mode (default 16)", parse=int),
    Option("seed", "seed of the synthetic data, the sampled entries and the directions "
           "(default 0)", parse=int),
    Option("directions", "random directions per parameter in directional mode (default 3)",
           parse=int),
    Option("batch_size", "examples in the main gradient check's batch (default: max(8, 2 x "
           "classes), so every class is present; 64 for the reference network)", parse=int),
    Option("dtype", "dtype of the data, and of the network where the target is a factory taking "
           "dtype= (and of the reference network) (default: float64)",
           choices=DTYPES),
    Option("max_seconds", "refuse a gradient check estimated to take longer than this many "
           "seconds (default 300; 0 turns the guard off)", parse=float, zero_is_none=True),
    Option("jobs", "worker processes for the finite differences (default 1; -1 = one per core); "
           "the verdicts are the same as with 1", parse=int),
    Option("data", "your examples: a .npz with arrays X and y, X.npy,y.npy, a directory holding "
           "them, or a .csv with the label in the first column; batches of --batch-size rows "
           "(default 64) are drawn from it by --seed (default: the target's example_batch(), "
           "else synthetic data)"),
)


