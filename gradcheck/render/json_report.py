"""JSON rendering of any result with ``to_dict()``, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from gradcheck.errors import ReportWriteError


def to_json(result) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=False, allow_nan=False)


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportWriteError(f"{path}: cannot write here ({exc.strerror}); choose another path") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(result, path) -> Path:
    return write_text_atomic(path, to_json(result) + "\n")
