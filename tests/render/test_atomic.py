"""Atomic writes: whole file or nothing, directories created, clear errors."""

from __future__ import annotations

import os

import pytest

from gradcheck.errors import ReportWriteError
from gradcheck.render import atomic
from gradcheck.render.atomic import write_text_atomic


def test_creates_missing_directories_and_writes_utf8(tmp_path):
    path = write_text_atomic(tmp_path / "a" / "b" / "r.html", "analytic − numeric\n")
    assert path.read_text(encoding="utf-8") == "analytic − numeric\n"
    assert os.listdir(path.parent) == ["r.html"]


def test_new_file_is_readable_by_others_like_any_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "r.html", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_unwritable_directory_raises_report_write_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ReportWriteError, match="cannot write a report in .*choose a writable"):
        write_text_atomic(blocker / "r.html", "x")


def test_directory_as_path_raises_report_write_error(tmp_path):
    with pytest.raises(ReportWriteError, match="is a directory"):
        write_text_atomic(tmp_path, "x")


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk_full", "interrupted"])
def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, exc):
    path = tmp_path / "r.html"
    path.write_text("old report")

    def fail(src, dst):
        raise exc

    monkeypatch.setattr(atomic.os, "replace", fail)
    expected = ReportWriteError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_text_atomic(path, "new report")
    assert path.read_text() == "old report"
    assert os.listdir(tmp_path) == ["r.html"]
