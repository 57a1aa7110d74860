"""The one Jinja2 environment of every HTML view: the report page and the notebook tables.

Autoescape is on; user-supplied text (parameter names, messages) is never marked safe.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from gradcheck.render.terminal import rel_error_text
from gradcheck.results.findings import format_shape
from gradcheck.text import printable


def _num(value: Any, digits: int = 3) -> str:
    """``1.2345e-07 -> "1.23e-07"``; None (NaN/inf in JSON) -> ``"—"``."""
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}" if math.isfinite(value) else "—"


def _sortkey(value: Any) -> str:
    """A ``data-sort`` value: numbers as repr, missing numbers last."""
    if value is None:
        return "Infinity"
    return repr(float(value)) if isinstance(value, (int, float)) else str(value)


def _index(index: Any) -> str:
    """``[3, 7]`` for a worst entry's index; "" for none (a scalar, or directional mode)."""
    return "" if index is None else "[" + ", ".join(str(int(i)) for i in index) + "]"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("gradcheck.render", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["sortkey"] = _sortkey
    env.filters["shape"] = format_shape
    env.filters["printable"] = printable  # a name from user code, as the terminal shows it
    env.filters["index"] = _index
    env.filters["rel_error"] = rel_error_text
    return env
