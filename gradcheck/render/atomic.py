"""Writing output files: a report is either the old file, the new file, or absent — never half.

An output path is *written*, never replaced:

- a regular file, or a path that does not exist yet, is written through a temporary file in
  the same directory and renamed into place once complete (a symlink is followed, so the
  link stays a link and its target gets the report);
- anything else that exists (``/dev/null``, ``/dev/stdout``, a FIFO, a terminal) is opened
  and written directly, as ``cat > path`` would, so a device node is never replaced;
- an empty path is an error naming the option, and a path among ``protected`` (the source
  files being checked) is refused before anything runs.

Front ends resolve relative output paths with :func:`resolve_output` at start-up, before the
target is imported (a target may ``chdir`` at import), and call :func:`check_writable` before
the long work, :func:`write_text_atomic` after it.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gradcheck.errors import InvalidArgumentError, ReportWriteError

#: Names of this process's open files: written at the descriptor's offset, never reopened.
_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")
_STANDARD = {"/dev/stdout": 1, "/dev/stderr": 2}


def resolve_output(path: str | os.PathLike | None, *, argument: str = "path",
                   cwd: str | os.PathLike | None = None) -> Path | None:
    """``path`` made absolute against ``cwd`` (default: the working directory now).

    Call it for every output option at start-up, before the target is imported, so a target
    that changes directory at import cannot move the report. ``None`` stays ``None`` (the
    option was not given); an empty string is an :class:`InvalidArgumentError` naming
    ``argument``. Symlinks are not resolved here: they are followed when writing.
    """
    if path is None:
        return None
    if str(path) == "":
        raise InvalidArgumentError(
            argument, "received an empty path '', expected a file name.",
            f"Pass a file name such as {argument} report{_suffix(argument)}, or leave the option out.")
    base = os.getcwd() if cwd is None else os.fspath(cwd)
    return Path(os.path.join(base, os.fspath(path)))


def _suffix(argument: str) -> str:
    return ".html" if "html" in argument else ".json" if "json" in argument else ".txt"


def refuse_protected(path: str | os.PathLike, protected: Iterable[str | os.PathLike] = (), *,
                     argument: str = "path") -> None:
    """Raise InvalidArgumentError when ``path`` is (or links to) one of the ``protected`` files.

    ``protected`` lists the files a run must never overwrite: the target's source file and
    every other ``.py`` file being checked.
    """
    real = os.path.realpath(path)
    for source in protected:
        same = real == os.path.realpath(source)
        if not same:
            try:
                same = os.path.samefile(path, source)
            except OSError:
                same = False
        if same:
            raise InvalidArgumentError(
                argument, f"{os.fspath(path)!r} is {os.fspath(source)!r}, a source file being checked; "
                "writing the report there would overwrite it.",
                f"Choose another file name, e.g. {argument} report{_suffix(argument)}.")


def _descriptor(path: Path) -> int | None:
    """The file descriptor ``path`` names (``/dev/stdout`` is 1), or None."""
    text = os.path.abspath(path)
    if text in _STANDARD:
        return _STANDARD[text]
    match = _DESCRIPTOR.fullmatch(text)
    return int(match.group(1)) if match else None


def _is_stream(path: Path) -> bool:
    """True when ``path`` must be written in place: one of this process's open descriptors
    (``/dev/stdout`` may be the shell's redirect file), or an existing non-regular file."""
    if _descriptor(path) is not None:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


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


def _missing_parents(directory: Path) -> list[Path]:
    """The ancestors of ``directory`` (itself included) that do not exist, outermost first."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing[::-1]


def _remove_directories(created: list[Path]) -> None:
    for directory in reversed(created):
        try:
            directory.rmdir()
        except OSError:
            break  # no longer empty, or already gone: leave it and its parents


def _cannot_write(path: Path, directory: Path, exc: BaseException) -> ReportWriteError:
    reason = getattr(exc, "strerror", None) or exc
    return ReportWriteError(
        f"{path}: cannot write a report in {directory} ({reason}); "
        "choose a writable directory, e.g. reports/report.html")


def _checked_path(path, argument: str, protected) -> Path:
    """``path`` as a Path, once it is not empty, not protected and not a directory."""
    if str(path) == "":
        resolve_output(path, argument=argument)  # raises, naming the argument
    path = Path(path)
    refuse_protected(path, protected, argument=argument)
    if path.is_dir():
        raise ReportWriteError(
            f"{path}: is a directory, expected a file path; pass a file name such as "
            f"{path / 'report.html'}")
    return path


def check_writable(path: str | os.PathLike, *, argument: str = "path",
                   protected: Iterable[str | os.PathLike] = ()) -> Path:
    """Raise now where :func:`write_text_atomic` would fail, so a long run is not wasted.

    Checks: an empty path, a protected source file, a directory in the way, a file where a
    directory should be, no permission. Creates nothing (missing directories are made when
    the report is written, and removed again if that fails).
    """
    path = _checked_path(path, argument, protected)
    if _is_stream(path):
        if not os.access(path, os.W_OK) and os.path.exists(path):
            raise ReportWriteError(f"{path}: not writable; choose another path")
        return path
    target = Path(os.path.realpath(path))
    directory = target.parent
    ancestor = directory
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _cannot_write(path, directory, NotADirectoryError(20, "Not a directory"))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _cannot_write(path, directory, PermissionError(13, "Permission denied"))
    return path


def write_text_atomic(path: str | os.PathLike, text: str, *, argument: str = "path",
                      protected: Iterable[str | os.PathLike] = ()) -> Path:
    """Write ``text`` (UTF-8) to ``path``; see the module docstring for the rules.

    A regular file goes through a temporary file beside it, renamed over it only once fully
    written and flushed; on any failure (KeyboardInterrupt included) the temporary file and
    any directory created for it are removed and the old file is untouched. A device, FIFO
    or ``/dev/stdout`` is written directly.

    Returns
    -------
    Path
        The path written (as given).

    Raises
    ------
    InvalidArgumentError
        An empty path, or a protected source file (named by ``argument``).
    ReportWriteError
        When the path cannot be written (permissions, a file in the way, a full disk); the
        message names the path and says what to do.
    """
    path = _checked_path(path, argument, protected)
    if _is_stream(path):
        _write_stream(path, text)
    else:
        _write_replacing(path, Path(os.path.realpath(path)), text)
    return path


def _write_stream(path: Path, text: str) -> None:
    fd = _descriptor(path)
    try:
        if fd is None:
            handle = open(path, "w", encoding="utf-8", newline="\n")
        else:  # append at the descriptor's offset, after what was already printed there
            for stream in (sys.stdout, sys.stderr):
                try:
                    if stream is not None and stream.fileno() == fd:
                        stream.flush()
                except (AttributeError, OSError, ValueError):
                    pass
            handle = os.fdopen(os.dup(fd), "w", encoding="utf-8", newline="\n")
        with handle:
            handle.write(text)
    except OSError as exc:
        raise ReportWriteError(
            f"{path}: writing the report failed ({exc.strerror or exc}); choose another path") from exc


def _write_replacing(path: Path, target: Path, text: str) -> None:
    """Temporary file beside ``target`` (the symlink-resolved ``path``), then rename."""
    created = _missing_parents(target.parent)
    tmp = None
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise _cannot_write(path, target.parent, exc) from exc
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; a report should be as readable as any other file
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        # KeyboardInterrupt included: never leave the temporary file or new directories behind
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        _remove_directories(created)
        if isinstance(exc, OSError) and not isinstance(exc, ReportWriteError):
            raise ReportWriteError(
                f"{path}: writing the report failed ({exc.strerror or exc}); nothing was "
                "written; check free space and permissions, or choose another path") from exc
        raise
