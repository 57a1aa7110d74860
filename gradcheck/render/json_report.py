"""JSON rendering of any result with ``to_dict()``, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gradcheck.render.atomic import write_text_atomic


def to_json(result) -> str:
    """``result.to_dict()`` as indented JSON; NaN and inf are already ``None`` there."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=False, allow_nan=False)


def write_json(result, path: str | os.PathLike, **write_options) -> Path:
    """Write ``to_json(result)`` to ``path`` atomically (see :func:`write_text_atomic`, which
    takes ``write_options``: ``argument=``, ``protected=``)."""
    return write_text_atomic(path, to_json(result) + "\n", **write_options)
