"""How a message names an option: Python keywords for the API, flags for a command line.

Messages raised deep in the checker (a bad value, a check refused by the time guard) say what
to do in the words of the front end the user typed into: the Python API reads ``samples=64``
and ``max_seconds=None``, the command line ``--samples 64`` and ``--max-seconds 0``. A front
end picks its words once, with :func:`spoken_as`; everything else asks :func:`words`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any


def _value(value: Any) -> Any:
    """Whole floats print as integers (60, not 60.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PythonWords:
    """Options as keyword arguments: ``mode='sample'``, ``max_seconds=None``."""

    def argument(self, name: str) -> str:
        return name

    def setting(self, name: str, value: Any) -> str:
        """How to ask for ``value``: ``mode='sample'``, ``max_seconds=60``."""
        return f"{name}={_value(value)!r}"

    def unset(self, name: str) -> str:
        """How to ask for the default: ``pass eps=None``."""
        return f"pass {name}=None"

    def or_none(self, name: str) -> str:
        """What "expected a positive integer" adds when None is allowed."""
        return " or None"

    def offers(self, name: str) -> bool:
        """Whether this front end has the option at all."""
        return True


class FlagWords(PythonWords):
    """Options as flags: ``--mode sample``, ``--max-seconds 0``.

    ``flags`` maps option names to flags; ``zero_is_none`` names the options whose 0 means
    "off" (None in Python). Names without a flag (``params['W1']``) keep their Python spelling.
    """

    def __init__(self, flags: Mapping[str, str], zero_is_none: frozenset[str] = frozenset()):
        self.flags = dict(flags)
        self.zero_is_none = frozenset(zero_is_none)

    def argument(self, name: str) -> str:
        return self.flags.get(name, name)

    def setting(self, name: str, value: Any) -> str:
        if name not in self.flags:
            return super().setting(name, value)
        if value is None:
            return f"{self.flags[name]} 0" if name in self.zero_is_none else f"no {self.flags[name]}"
        return f"{self.flags[name]} {_value(value)}"

    def unset(self, name: str) -> str:
        if name not in self.flags:
            return super().unset(name)
        return f"leave out {self.flags[name]}"

    def or_none(self, name: str) -> str:
        return " (0 for none)" if name in self.zero_is_none else ""

    def offers(self, name: str) -> bool:
        return name in self.flags


#: The words in use; the default instance is stateless, so sharing it is safe.
_WORDS: ContextVar[PythonWords] = ContextVar("gradcheck_words", default=PythonWords())  # noqa: B039


def words() -> PythonWords:
    """The words of the front end running now (Python unless one chose otherwise)."""
    return _WORDS.get()


@contextlib.contextmanager
def spoken_as(chosen: PythonWords) -> Iterator[PythonWords]:
    """Within the block, messages name options as ``chosen`` does."""
    token = _WORDS.set(chosen)
    try:
        yield chosen
    finally:
        _WORDS.reset(token)
