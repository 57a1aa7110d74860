"""Reports on disk: a clear ReportWriteError where the path cannot be written, and nothing
written anywhere but the requested path."""

from __future__ import annotations

import json
import os
from unittest import mock

import numpy as np
import pytest

from gradcheck import ReportWriteError, check_gradients
from gradcheck.render import atomic
from gradcheck.render.json_report import write_json


@pytest.fixture
def result():
    x = np.linspace(-1.0, 1.0, 4)
    return check_gradients(lambda: float(np.sum(x**2)), {"x": x}, {"x": 2 * x})


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_json_under_a_regular_file_is_a_clear_error(tmp_path, result):
    (tmp_path / "file.txt").write_text("a file, not a directory", encoding="utf-8")
    before = _tree(tmp_path)
    target = tmp_path / "file.txt" / "sub" / "report.json"
    with pytest.raises(ReportWriteError, match=r"report\.json: cannot write") as info:
        write_json(result, target)
    assert str(target) in str(info.value) and isinstance(info.value, OSError)
    assert _tree(tmp_path) == before
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "a file, not a directory"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write into a read-only directory")
def test_json_in_a_read_only_directory_is_a_clear_error(tmp_path, result):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ReportWriteError, match="cannot write"):
            write_json(result, locked / "report.json")
        assert _tree(locked) == []
    finally:
        locked.chmod(0o755)


def test_json_written_creates_only_the_requested_file(tmp_path, result):
    path = write_json(result, tmp_path / "reports" / "check.json")
    assert _tree(tmp_path) == ["reports", "reports/check.json"]
    assert json.loads(path.read_text(encoding="utf-8")) == result.to_dict()


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, result):
    path = tmp_path / "check.json"
    path.write_text("old", encoding="utf-8")
    with mock.patch("os.replace", side_effect=KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        write_json(result, path)
    assert _tree(tmp_path) == ["check.json"] and path.read_text(encoding="utf-8") == "old"


def test_atomic_writer_refuses_a_directory_path(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(ReportWriteError, match="is a directory"):
        atomic.write_text_atomic(tmp_path / "out", "text")
    assert _tree(tmp_path) == ["out"]


def test_atomic_writer_under_a_regular_file_is_a_clear_error(tmp_path):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ReportWriteError, match="choose a writable directory"):
        atomic.write_text_atomic(tmp_path / "file.txt" / "report.html", "text")
    assert _tree(tmp_path) == ["file.txt"]


def test_json_to_a_directory_path_is_a_clear_error(tmp_path, result):
    (tmp_path / "out").mkdir()
    with pytest.raises(ReportWriteError, match="is a directory"):
        write_json(result, tmp_path / "out")
    assert _tree(tmp_path) == ["out"]
