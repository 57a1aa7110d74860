"""Output paths given to the command line and the plugin are written, never replaced."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from tests.system.frontends.helpers import gradcheck, network

pytestmark = pytest.mark.slow  # subprocesses and nested pytest runs

pytest_plugins = ["pytester"]

posix = pytest.mark.skipif(os.name != "posix", reason="device nodes, FIFOs and symlinks")


@posix
def test_json_to_dev_null_leaves_the_device(tmp_path):
    target = network(tmp_path)
    run = gradcheck("check", target, "--mode", "directional", "--json", "/dev/null", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix
def test_json_to_a_fifo_is_streamed_to_its_reader(tmp_path):
    target = network(tmp_path)
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    run = gradcheck("check", target, "--mode", "directional", "--json", str(fifo), cwd=tmp_path)
    reader.join(timeout=60)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received[0])["passed"] is True


@posix
def test_json_through_a_symlink_keeps_the_link(tmp_path):
    target = network(tmp_path)
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    run = gradcheck("check", target, "--mode", "directional", "--json", "link.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "real.json").read_text())["passed"] is True


@pytest.mark.parametrize("flag", ["--json", "--html"])
def test_the_targets_own_source_is_refused_and_unchanged(tmp_path, flag):
    target = network(tmp_path)
    before = (tmp_path / "model.py").read_bytes()
    run = gradcheck("check", target, flag, "model.py", cwd=tmp_path)
    assert run.returncode == 2
    assert f"{flag}:" in run.stderr and "source file being checked" in run.stderr
    assert (tmp_path / "model.py").read_bytes() == before


def test_empty_json_path_is_an_error_naming_json(tmp_path):
    run = gradcheck("check", network(tmp_path), "--json", "", cwd=tmp_path)
    assert run.returncode == 2
    assert "--json: received an empty path" in run.stderr


def test_relative_output_stays_in_the_starting_directory_after_an_import_chdir(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = network(tmp_path / "net", prelude=f"import os; os.chdir({str(elsewhere)!r})")
    run = gradcheck("check", target, "--mode", "directional", "--json", "out.json",
                    "--html", "pages/out.html", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "out.json").read_text())["passed"] is True
    assert (tmp_path / "pages" / "out.html").is_file()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("hooks", [{"prelude": "raise ImportError('no')"},
                                   {"loss_hook": "import sys; sys.exit(0)"}], ids=["load", "exit"])
def test_a_failed_run_leaves_no_directories(tmp_path, hooks):
    target = network(tmp_path / "net", **hooks)
    run = gradcheck("check", target, "--json", "new/deeper/out.json", "--html", "pages/a.html",
                    cwd=tmp_path)
    assert run.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net"]


def test_plugin_html_resolved_before_the_import_chdir(pytester, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = network(pytester.path / "net", prelude=f"import os; os.chdir({str(elsewhere)!r})")
    result = pytester.runpytest("--gradcheck-target", target, "--gradcheck-mode", "directional",
                                "--gradcheck-html", "page.html", "-k", "check_gradients_batch1")
    assert result.ret == 0
    assert (pytester.path / "page.html").is_file()
    assert list(elsewhere.iterdir()) == []


def test_plugin_refuses_the_targets_source(pytester):
    target = network(pytester.path / "net")
    result = pytester.runpytest("--gradcheck-target", target, "--gradcheck-html", "net/model.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gradcheck-html*source file being checked*"])
