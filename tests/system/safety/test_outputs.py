"""Output paths are written, not replaced: devices, FIFOs, /dev/stdout and symlinks survive."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from gradcheck.errors import InvalidArgumentError, ReportWriteError
from gradcheck.render import atomic
from gradcheck.render.atomic import check_writable, refuse_protected, resolve_output, write_text_atomic

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX files")


@posix
def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader waiting, as `cat pipe` would
    try:
        write_text_atomic(fifo, '{"passed": true}\n')
        assert os.read(reader, 1000) == b'{"passed": true}\n'
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


@posix
def test_a_character_device_is_written_through_and_stays_a_device(tmp_path):
    node = tmp_path / "null"
    try:  # a private copy of /dev/null: the real one is never put at risk by a test
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    try:
        with open(node, "w"):
            pass
    except OSError as exc:
        pytest.skip(f"device nodes are not usable in {tmp_path}: {exc}")
    write_text_atomic(node, "report\n")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert check_writable(node) == node
    assert sorted(os.listdir(tmp_path)) == ["null"]


@posix
def test_a_symlink_stays_a_link_and_its_target_gets_the_report(tmp_path):
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "latest.json"
    target.write_text("old")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path / "reports")) == ["latest.json"]


@posix
def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "made.json")
    write_text_atomic(link, "new")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "new"


WRITE_TO_STDOUT = (
    "import sys; from gradcheck.render.atomic import write_text_atomic; "
    "print('before', flush=True); write_text_atomic('/dev/stdout', 'REPORT\\n'); print('after')"
)


@posix
@pytest.mark.parametrize("into", ["pipe", "file"])
def test_dev_stdout_writes_into_standard_output_in_order(tmp_path, into):
    if into == "pipe":
        out = subprocess.run([sys.executable, "-c", WRITE_TO_STDOUT], capture_output=True, text=True,
                             check=True).stdout
    else:  # `gradcheck ... --json /dev/stdout > out.txt`: the redirect file is appended to, not replaced
        path = tmp_path / "out.txt"
        with open(path, "w") as handle:
            inode = os.fstat(handle.fileno()).st_ino
            subprocess.run([sys.executable, "-c", WRITE_TO_STDOUT], stdout=handle, check=True)
        assert os.stat(path).st_ino == inode
        out = path.read_text()
    assert out == "before\nREPORT\nafter\n"


@pytest.mark.parametrize("call", [write_text_atomic, check_writable], ids=["write", "check"])
def test_an_empty_path_is_an_error_naming_the_option(call):
    with pytest.raises(InvalidArgumentError, match=r"^--json: received an empty path ''.*--json report.json"):
        if call is write_text_atomic:
            call("", "x", argument="--json")
        else:
            call("", argument="--json")


def test_resolve_output_keeps_none_and_refuses_empty():
    assert resolve_output(None, argument="--html") is None
    with pytest.raises(InvalidArgumentError, match="^--html: "):
        resolve_output("", argument="--html")


def test_relative_output_resolved_at_start_up_ignores_a_later_chdir(tmp_path, monkeypatch):
    start = tmp_path / "start"
    elsewhere = tmp_path / "model_dir"
    start.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(start)
    out = resolve_output("out.json", argument="--json")
    os.chdir(elsewhere)  # what a target may do when imported
    write_text_atomic(out, "{}")
    assert (start / "out.json").read_text() == "{}"
    assert os.listdir(elsewhere) == []


@pytest.mark.parametrize("how", ["same", "relative", "symlink"])
def test_the_target_source_file_is_refused(tmp_path, monkeypatch, how):
    model = tmp_path / "model.py"
    model.write_text("W = 1\n")
    monkeypatch.chdir(tmp_path)
    path = {"same": model, "relative": "model.py", "symlink": tmp_path / "link.py"}[how]
    if how == "symlink":
        (tmp_path / "link.py").symlink_to(model)
    for call in (lambda: check_writable(path, argument="--json", protected=[model]),
                 lambda: write_text_atomic(path, "{}", argument="--json", protected=[str(model)])):
        with pytest.raises(InvalidArgumentError, match=r"^--json: .*a source file being checked.*another"):
            call()
    assert model.read_text() == "W = 1\n"


def test_refuse_protected_lets_other_files_through(tmp_path):
    refuse_protected(tmp_path / "report.json", [tmp_path / "model.py"], argument="--json")


def test_check_writable_creates_no_directories(tmp_path):
    assert check_writable(tmp_path / "a" / "b" / "r.json") == tmp_path / "a" / "b" / "r.json"
    assert os.listdir(tmp_path) == []


def test_check_writable_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportWriteError, match="choose a writable directory"):
        check_writable(tmp_path / "file" / "sub" / "r.json")


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk_full", "interrupted"])
def test_a_failed_write_removes_the_directories_it_created(tmp_path, monkeypatch, exc):
    (tmp_path / "kept").mkdir()

    def fail(src, dst):
        raise exc

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(ReportWriteError if isinstance(exc, OSError) else KeyboardInterrupt):
        write_text_atomic(tmp_path / "kept" / "new" / "deeper" / "r.json", "x")
    assert os.listdir(tmp_path) == ["kept"]
    assert os.listdir(tmp_path / "kept") == []
