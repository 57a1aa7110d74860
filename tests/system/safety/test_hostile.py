"""Submissions that attack the grader: the verdict, the other submissions and the grader's files hold.

Every kind of :data:`tests.system.safety.submissions.HOSTILE` is checked in one command beside a
correct and a buggy neighbour; then each of the one-target attacks (forging the verdict of the
command line and of the pytest plugin, ending the process with status 0, rewriting the JSON after
the verdict), the malformed results a worker could send, and the malformed inputs of the command
line, each held to one clear outcome.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

import gradcheck
from gradcheck.results import SuiteResult
from tests.system.frontends.helpers import gradcheck as run_gradcheck
from tests.system.safety.submissions import HOSTILE, STRAY, write_hostile, write_submission

linux = pytest.mark.skipif(sys.platform != "linux", reason="namespaces, cgroups and /proc are Linux's")


def _confined() -> bool:
    """Whether this machine gives a target's process namespaces of its own."""
    from gradcheck.frontends.isolation import Child, Limits

    with Child(Limits(seconds=30, memory_mb=None), adopt=False) as child:
        return child.containment == ""


needs_namespaces = pytest.mark.skipif(sys.platform != "linux" or not _confined(),
                                      reason="the kernel gives no namespaces here: run targets in a container")


def _digests(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*.py"))}


def _processes_in(folder: Path) -> list[str]:
    """Processes still running whose working folder is ``folder`` (or under it), or named STRAY."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            name = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if cwd == str(folder) or cwd.startswith(f"{folder}/") or name == STRAY:
            found.append(f"{entry} {name} {cwd}")
    return found


def _rows(path: Path) -> dict[str, SuiteResult]:
    run = SuiteResult.from_dict(json.loads(path.read_text()))
    return {suite.target: suite for suite in run.targets}


@needs_namespaces
@pytest.mark.slow
def test_hostile_submissions_change_nothing_but_their_own_row(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    kinds = {write_submission(subs, "a_correct", "correct"): ("passed", ""),
             write_submission(subs, "b_buggy", "buggy"): ("failed", "wrong gradient for W1")}
    for i, kind in enumerate(HOSTILE):
        kinds[write_hostile(subs, f"h{i:02d}_{kind}", kind)] = HOSTILE[kind][2:]
    package = Path(gradcheck.__file__).parent
    before = _digests(subs, package)
    run = run_gradcheck("check", "subs/*.py:build", "--mode", "directional", "--timeout", "60",
                        "--memory", "1024", "--workers", "2", "--json", "all.json", "--html", "pages",
                        cwd=tmp_path, timeout=600)
    assert run.returncode == 2, run.stdout + run.stderr
    rows = _rows(tmp_path / "all.json")
    for target, (label, words) in kinds.items():
        row = rows[f"subs/{target.rsplit('/', 1)[-1]}"]
        assert row.verdict.label == label, (target, row.verdict.headline, row.worker)
        assert words in row.verdict.reason, (target, row.verdict.headline)
    assert _digests(subs, package) == before  # no submission, no file of gradcheck written
    assert _processes_in(tmp_path) == []  # nothing left running, detached or not
    pages = {p.name for p in (tmp_path / "pages").iterdir()}
    assert "index.html" in pages and all(p.endswith(".html") for p in pages)
    assert "\x1b" not in run.stdout


@needs_namespaces
def test_a_target_that_forges_its_verdict_in_its_own_process_still_fails(tmp_path):
    target = write_hostile(tmp_path, "forger", "patches_gradcheck_at_import")
    run = run_gradcheck("check", target, "--mode", "directional", "--json", "v.json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("FAILED: wrong gradient for W1")
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is False


@needs_namespaces
def test_the_plugin_fails_a_target_that_forges_its_verdict_at_import(tmp_path):
    from tests.system.reliability.helpers import run_pytest

    write_hostile(tmp_path, "forger", "patches_gradcheck_at_import")
    outcome = run_pytest(tmp_path, ["--gradcheck-target=forger.py:build", "--gradcheck-mode=directional"])
    assert outcome.code == 1, outcome.output
    assert "gradcheck: FAILED: wrong gradient for W1" in outcome.output


@linux
@pytest.mark.parametrize("where", ["loss", "gradients"])
def test_os_exit_0_in_the_network_is_not_checked_never_a_pass(tmp_path, where):
    from tests.system.frontends.helpers import network

    target = network(tmp_path, **{f"{where}_hook": "import os; os._exit(0)"})
    run = run_gradcheck("check", target.rsplit("/", 1)[-1], "--mode", "directional", "--json", "x.json",
                        cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "exited with code 0" in run.stdout + run.stderr
    assert "PASSED" not in run.stdout
    assert not (tmp_path / "x.json").exists() or json.loads((tmp_path / "x.json").read_text())["passed"] is False


REWRITER = '''
import atexit, os

JSON = {json!r}


def _rewrite():
    with open(JSON, "w") as out:
        out.write('{{"passed": true}}')


atexit.register(_rewrite)
if os.fork() == 0:  # a detached grandchild that keeps rewriting it
    os.setsid()
    if os.fork() == 0:
        while True:
            try:
                _rewrite()
            except OSError:
                pass
    os._exit(0)
os.wait()
'''


@needs_namespaces
def test_nothing_a_target_leaves_behind_rewrites_the_json_after_the_verdict(tmp_path):
    from tests.system.frontends.helpers import network

    target = network(tmp_path, "rewriter", scale="2.0")
    path = Path(target.rsplit(":", 1)[0])
    path.write_text(REWRITER.format(json=str(tmp_path / "v.json")) + path.read_text())
    run = run_gradcheck("check", "rewriter.py:build", "--mode", "directional", "--json", "v.json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert json.loads((tmp_path / "v.json").read_text())["verdict"]["status"] == "failed"
    assert _processes_in(tmp_path) == []


# -- what a worker could send ------------------------------------------------------------------------

def _suite_text(**changes) -> str:
    from gradcheck.results import CheckOutcome, ProbeResult

    passed = CheckOutcome.of("check_x", "probes", "x", ProbeResult(name="x", subject="x"))
    suite = SuiteResult("good.py:build", outcomes=[passed],
                        worker={"status": "ok", "message": "ok", "seconds": 1.0, "exit_code": None,
                                "signal": None, "output": "", "peak_mb": 1.0, "containment": ""})
    data = suite.to_dict()
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(("text", "words"), [
    ("not json", "not a suite"),
    ("[1, 2]", "not a suite"),
    ('"passed"', "not a suite"),
    (json.dumps({"kind": "suite", "checks": "string indices"}), "not a suite"),
    (_suite_text(checks=[{"name": 1}]), "not a suite"),
    (_suite_text(worker={"status": ["set"]}), "not a suite"),
    (_suite_text(targets=[json.loads(_suite_text())]), "not a suite"),
    (json.dumps({"worker_error": "the worker process ended (signal 9) without a result"}), "signal 9"),
])
def test_a_malformed_result_makes_that_target_not_checked(text, words):
    from gradcheck.frontends.many import target_suite

    suite = target_suite("good.py:build", text)
    assert suite.target == "good.py:build"
    assert suite.verdict.label == "not checked" and words in suite.verdict.reason
    json.dumps(suite.to_dict(), allow_nan=False)


def test_a_result_names_its_target_as_given_and_its_page_stays_in_the_folder(tmp_path):
    from gradcheck.frontends.many import target_suite, write_pages

    text = _suite_text(target="../../outside")
    suite = target_suite("subs/../evil.py:build", text)
    assert suite.target == "subs/../evil.py:build"
    run = SuiteResult("1 targets", targets=[suite])
    write_pages(run, tmp_path / "pages")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["001-evil.html", "index.html"]
    assert all(p.parent == tmp_path / "pages" for p in tmp_path.rglob("*.html"))


# -- the command line's inputs ---------------------------------------------------------------------------

def _long(tmp_path):
    return "x" * 5000 + ".py:build"


#: name -> (arguments, words of the one error line); nothing is written, exit status 2
BAD_INPUTS = {
    "memory over the machine's": (["a.py", "b.py", "--memory", "99999999999999"],
                                  "--memory: got 99,999,999,999,999 MiB"),
    "an infinite list file": (["@/dev/zero"], "the list file '/dev/zero' holds more than 16 MiB"),
    "a list file that is not UTF-8": (["@latin1.txt"], "the list file 'latin1.txt' is not UTF-8"),
    "a 5,000-character path": ([_long], "got a name of 5,009 characters"),
    "a 300-character file name": (["y" * 300 + ".py:build"], "(File name too long)"),
    "the same file for --json and --html": (["good.py:build", "--json", "out/x", "--html", "out/x"],
                                             "--json and --html: both name"),
    "the JSON as the index of several targets": (["good.py:build", "bad.py:build", "--json", "pages/index.html",
                                                  "--html", "pages"], "--json and --html: both name"),
    "a timeout of a hundred years": (["a.py", "b.py", "--timeout", "3e9"], "--timeout: got 3e+09 seconds"),
}


@linux
@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_a_bad_input_is_one_message_naming_it_and_nothing_written(tmp_path, name, capsys):
    from gradcheck.frontends.cli import main

    write_submission(tmp_path, "good", "correct")
    write_submission(tmp_path, "bad", "buggy")
    (tmp_path / "latin1.txt").write_bytes("élève.py:build\n".encode("latin-1"))
    arguments, words = BAD_INPUTS[name]
    arguments = [a(tmp_path) if callable(a) else a for a in arguments]
    before = sorted(p.name for p in tmp_path.iterdir())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["check", *arguments])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert words in err and err.startswith("gradcheck: error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_more_jobs_and_workers_than_cores_are_capped_and_said(tmp_path, capsys, monkeypatch):
    from gradcheck.frontends import cli
    from gradcheck.numeric import parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    assert cli._capped(200, "--jobs") == 2
    assert cli._capped(None, "--workers") == 2 and cli._capped(1, "--workers") == 1
    assert "--jobs 200: this machine runs 2 at once; using 2" in capsys.readouterr().out


@linux
def test_names_with_newlines_and_escapes_print_as_one_escaped_token(tmp_path):
    name = "evil\n\x1b[2Jname"
    folder = tmp_path / "subs"
    folder.mkdir()
    write_submission(folder, name, "correct")
    write_submission(folder, "plain", "correct")
    run = run_gradcheck("check", "subs/*.py:build", "--mode", "directional", cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "\x1b" not in run.stdout
    assert "'subs/evil\\n\\x1b[2Jname.py:build'" in run.stdout
    single = run_gradcheck("check", f"subs/{name}.py:build", "--mode", "directional", cwd=tmp_path)
    assert "\x1b" not in single.stdout and single.stdout.startswith("checking 'subs/evil\\n")
