"""Atomic file writing: a report is either the old file, the new file, or absent — never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradcheck.errors import ReportWriteError


def _file_mode(path: Path) -> int:
    """The mode a new file would get (0o666 minus umask), or the existing file's mode."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        pass
    try:  # Linux reports the umask without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s directory (created if missing): ``(fd, name)``."""
    if path.is_dir():
        raise ReportWriteError(
            f"{path}: is a directory, expected a file path; pass a file name such as "
            f"{path / 'report.html'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportWriteError(
            f"{path}: cannot write a report in {path.parent} ({exc.strerror or exc}); "
            "choose a writable directory, e.g. reports/report.html") from exc


def check_writable(path: str | os.PathLike) -> Path:
    """Raise ReportWriteError now where :func:`write_text_atomic` would fail for want of a
    place to write (a directory in the way, a file where a directory should be, no
    permission), so a long run is not wasted. Creates missing parent directories."""
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    os.close(fd)
    os.unlink(tmp)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same directory.

    Missing parent directories are created. The temporary file is renamed over ``path``
    with :func:`os.replace` only once fully written and flushed, so an interrupted run
    leaves no partial report; on any failure the temporary file is removed.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ReportWriteError
        When the directory cannot be created or written (permissions, a file in the way,
        a full disk); the message names the path and says what to do.
    """
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; a report should be as readable as any other file
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        # KeyboardInterrupt included: never leave the temporary file behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ReportWriteError(
                f"{path}: writing the report failed ({exc.strerror or exc}); nothing was "
                "written; check free space and permissions, or choose another path") from exc
        raise
    return path
