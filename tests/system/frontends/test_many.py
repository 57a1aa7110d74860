"""Several targets in one command: each in its own worker, one table, one exit code, one JSON."""

from __future__ import annotations

import json
import sys

import pytest

from gradcheck.frontends.many import expand_targets
from gradcheck.results import SuiteResult
from gradcheck.targets.loading import DEFAULT_ATTR
from tests.system.frontends.helpers import gradcheck
from tests.system.safety.submissions import KINDS, write_submission

pytestmark = pytest.mark.slow  # subprocesses and nested pytest runs

#: kind -> the verdict its row must show and words its reason must contain
EXPECTED = {
    "correct": ("passed", ""),
    "buggy": ("failed", "check_gradients"),
    "raises": ("failed", "check_gradients"),
    "infinite_loop": ("not checked", "timeout: timed out after"),
    "os_exit": ("not checked", "exited: exited with code 3"),
    "segfault": ("not checked", "SIGSEGV"),
    "sys_exit_in_loss": ("not checked", "called sys.exit(0)"),
    "sys_exit_at_import": ("not checked", "called sys.exit('bye') at import"),
    "sys_exit_in_factory": ("not checked", "sys.exit(0) in the factory"),
    "large_allocation": ("not checked", "memory: exceeded the memory limit of 1024 MiB in "
                                        "s03_large_allocation.py line "),
}


def _targets(path) -> dict[str, SuiteResult]:
    """target -> its suite, from the JSON of a run over several targets (loaded by the model)."""
    run = SuiteResult.from_dict(json.loads(path.read_text()))
    return {suite.target: suite for suite in run.targets}


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and a ctypes segfault")
def test_a_folder_of_submissions_in_one_command(tmp_path):
    assert set(EXPECTED) == set(KINDS)
    subs = tmp_path / "subs"
    subs.mkdir()
    kinds = {write_submission(subs, f"s{i:02d}_{kind}", kind, i): kind
             for i, kind in enumerate(sorted(KINDS))}
    run = gradcheck("check", "subs/*.py:build", "--mode", "directional", "--timeout", "8",
                    "--memory", "1024", "--workers", "2", "--json", "all.json", "--html", "pages",
                    cwd=tmp_path, timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr  # some could not be checked
    assert json.loads((tmp_path / "all.json").read_text())["verdict"]["exit_code"] == 2
    rows = _targets(tmp_path / "all.json")
    assert len(rows) == len(KINDS)
    for target, kind in kinds.items():
        suite = rows[f"subs/{target.rsplit('/', 1)[-1]}"]
        verdict, words = EXPECTED[kind]
        assert suite.verdict.label == verdict, (kind, suite.verdict.headline)
        assert words in suite.verdict.reason, (kind, suite.verdict.headline)
        ran = any(o.group != "target" for o in suite.outcomes)
        assert ran == (suite.worker["status"] == "ok")
    table = run.stdout[run.stdout.index("target  "):]
    assert "10 targets: 1 passed, 2 failed, 7 could not be checked" in table
    index = (tmp_path / "pages" / "index.html").read_text()
    pages = sorted(p.name for p in (tmp_path / "pages").iterdir() if p.name != "index.html")
    assert len(pages) == sum(s.worker["status"] == "ok" for s in rows.values()) >= 3
    assert all(f'href="{page}"' in index for page in pages)


def _two_networks_with_own_helpers(tmp_path):
    for folder, scale in (("a", "1.0"), ("b", "3.0")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "helper.py").write_text(f"SCALE = {scale}\n")
        write_submission(tmp_path / folder, "model", "correct")
        source = (tmp_path / folder / "model.py").read_text()
        (tmp_path / folder / "model.py").write_text(
            "import helper\n" + source.replace('"b2": dZ.sum(axis=0)}', '"b2": dZ.sum(axis=0) * helper.SCALE}'))


def test_same_basename_targets_each_import_their_own_helper(tmp_path):
    _two_networks_with_own_helpers(tmp_path)
    (tmp_path / "list.txt").write_text("# two submissions\na/model.py:build\n\nb/model.py:build\n")
    run = gradcheck("check", "@list.txt", "--mode", "directional", "--workers", "1",
                    "--json", "out.json", cwd=tmp_path, timeout=200)
    rows = _targets(tmp_path / "out.json")
    assert rows["a/model.py:build"].verdict.status == "passed"
    assert rows["b/model.py:build"].verdict.status == "failed"  # b's helper triples db2
    assert run.returncode == 1


def test_targets_expand_from_globs_and_list_files(tmp_path):
    for name in ("b.py", "a.py", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "list.txt").write_text("a.py:net\n# comment\n\nb.py\n")
    assert expand_targets([f"{tmp_path}/*.py"]) == [f"{tmp_path}/a.py:{DEFAULT_ATTR}",
                                                   f"{tmp_path}/b.py:{DEFAULT_ATTR}"]
    assert expand_targets([f"{tmp_path}/*.py:build"])[0] == f"{tmp_path}/a.py:build"
    assert expand_targets([f"@{tmp_path}/list.txt"]) == [f"{tmp_path}/a.py:net",
                                                        f"{tmp_path}/b.py:{DEFAULT_ATTR}"]
    assert expand_targets(["pkg.mod:target"]) == ["pkg.mod:target"]


@pytest.mark.parametrize(("entry", "words"), [("nothing/*.py", "matches no file"),
                                              ("@missing.txt", "cannot read the list file")])
def test_an_empty_glob_or_missing_list_is_an_error(tmp_path, entry, words):
    run = gradcheck("check", entry, cwd=tmp_path)
    assert run.returncode == 2
    assert "target:" in run.stderr and words in run.stderr


def _correct_and_buggy(tmp_path):
    """``good.py:build`` (correct) and ``bad.py:build`` (its dW1 doubled) in ``tmp_path``."""
    write_submission(tmp_path, "good", "correct")
    write_submission(tmp_path, "bad", "buggy")
    return "good.py:build", "bad.py:build"


def _row_lines(stdout):
    """target -> verdict, from the lines printed as each target finishes."""
    lines = [line.split() for line in stdout.splitlines() if line.startswith("  ")]
    return {words[-1]: " ".join(words[:-1]) for words in lines}


def test_probe_of_several_targets(tmp_path):
    good, bad = _correct_and_buggy(tmp_path)
    run = gradcheck("probe", good, bad, "--workers", "2", "--json", "p.json", "--html", "pages",
                    cwd=tmp_path, timeout=200)
    assert run.returncode == 1, run.stdout + run.stderr  # one failed, none unchecked
    assert _row_lines(run.stdout) == {good: "passed", bad: "failed"}
    assert "2 targets: 1 passed, 1 failed, 0 could not be checked" in run.stdout
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["environment"]["command"].startswith("gradcheck probe ")
    assert data["verdict"]["exit_code"] == 1
    rows = _targets(tmp_path / "p.json")
    # a probe's doubled gradient shows as a step that does not change the loss as predicted
    assert rows[bad].verdict.label == "failed"
    assert rows[bad].verdict.reason == "1 of 6 stability probes failed: learning rate"
    for target, suite in rows.items():
        names = [o.name for o in suite.outcomes]
        assert "check_training_input_scale" in names
        assert not [n for n in names if n.startswith("check_gradients")]  # probes only
        # each page and JSON says how to repeat that one target's run
        assert suite.environment["command"] == f"gradcheck probe {target}"
    index = (tmp_path / "pages" / "index.html").read_text()
    assert 'href="001-good.html"' in index and 'href="002-bad.html"' in index
    assert "1 passed, 1 failed, 0 could not be checked (exit code 1)" in index


def test_report_of_several_targets_writes_an_index_and_a_page_each(tmp_path):
    good, bad = _correct_and_buggy(tmp_path)
    run = gradcheck("report", good, bad, "--mode", "directional", "--workers", "2",
                    "--json", "r.json", cwd=tmp_path, timeout=200)
    assert run.returncode == 1, run.stdout + run.stderr
    assert _row_lines(run.stdout) == {good: "passed", bad: "failed"}
    # by default into reports/ of the folder the command ran in, said as a full path
    assert f"HTML index written to {tmp_path / 'reports' / 'index.html'}" in run.stdout
    rows = _targets(tmp_path / "r.json")
    reason = rows[bad].verdict.reason  # gradients and probes
    assert reason.startswith("wrong gradient for W1 (check_gradients_batch1, ")
    assert "stability probes failed: learning rate" in reason
    pages = tmp_path / "reports"
    index = (pages / "index.html").read_text()
    assert 'href="001-good.html"' in index and 'href="002-bad.html"' in index
    good_page = (pages / "001-good.html").read_text(encoding="utf-8")
    bad_page = (pages / "002-bad.html").read_text(encoding="utf-8")
    assert '<span class="word">PASSED</span>' in good_page
    assert '<span class="word">FAILED</span>' in bad_page and "W1" in bad_page
    assert "Stability probes" in bad_page
    assert f"gradcheck report {bad} --mode directional</dd>" in bad_page
    assert "Not recorded." not in bad_page


def test_the_summary_table_keeps_its_time_column_aligned():
    from gradcheck.frontends.many import not_checked
    from gradcheck.render.terminal import format_targets
    from gradcheck.results import CheckOutcome

    good = SuiteResult("good.py:build", outcomes=[CheckOutcome("check_x", "probes", "x", "passed")],
                       worker={"seconds": 1.0, "status": "ok"})
    bad = SuiteResult("bad.py:build", outcomes=[CheckOutcome.could_not_run("check_x", "probes", "x", "boom")],
                      worker={"seconds": 12.5, "status": "ok"})
    late = not_checked("x.py:build", "timeout", "a\x1b[2J" + "long " * 40, seconds=3.0)
    header, *lines = format_targets(SuiteResult("3 targets", targets=[good, bad, late]),
                                    width=80).splitlines()[:4]
    starts = {header.rindex("time")} | {line.rindex(f"{s:.1f} s") for s, line in zip((1.0, 12.5, 3.0), lines)}
    assert len(starts) == 1, [header, *lines]
    assert "\x1b" not in lines[2] and "long long" in lines[2] and "...  3.0 s" in lines[2]


@pytest.mark.parametrize(("command", "flag"), [("report", "-o"), ("check", "--html")])
def test_several_targets_write_into_a_folder_not_a_page(tmp_path, capsys, command, flag):
    from gradcheck.frontends.cli import main

    good, bad = _correct_and_buggy(tmp_path)
    code = main([command, str(tmp_path / good), str(tmp_path / bad), flag, str(tmp_path / "out.html")])
    assert code == 2
    err = capsys.readouterr().err
    assert "a page; with several targets it names a folder" in err and "pages" in err
    assert not (tmp_path / "out.html").exists()


def _line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS")
def test_running_out_of_memory_reads_the_same_wherever_it_happens(tmp_path):
    """A 20 GB allocation in the loss, met while detecting the layout of X or inside a check,
    is the memory outcome naming the user's line, not a layout error or a check's error."""
    write_submission(tmp_path, "detect", "large_allocation")
    write_submission(tmp_path, "declared", "large_allocation")
    source = (tmp_path / "declared.py").read_text()
    (tmp_path / "declared.py").write_text(
        source.replace("class Net:", "class Net:\n    layout = 'rows'\n    task = 'multiclass'"))
    run = gradcheck("check", "detect.py:build", "declared.py:build", "--mode", "directional",
                    "--memory", "1024", "--json", "m.json", cwd=tmp_path, timeout=200)
    assert run.returncode == 2, run.stdout + run.stderr
    rows = _targets(tmp_path / "m.json")
    for name in ("detect", "declared"):
        line = _line_of(tmp_path / f"{name}.py", "np.ones(20")
        suite = rows[f"{name}.py:build"]
        assert suite.worker["status"] == "memory", suite.verdict.reason
        assert suite.verdict.reason == f"memory: exceeded the memory limit of 1024 MiB in {name}.py line {line}"


def test_each_worker_runs_one_blas_thread_unless_the_environment_sets_a_count(tmp_path):
    import os
    import subprocess

    from threadpoolctl import threadpool_info

    from tests.system.frontends.helpers import ROOT

    if not [i for i in threadpool_info() if i.get("user_api") == "blas"]:
        pytest.skip("no BLAS found by threadpoolctl")
    good, bad = _correct_and_buggy(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run([sys.executable, "-m", "gradcheck", "probe", good, bad, "--json", "p.json"],
                   cwd=tmp_path, env=env, capture_output=True, text=True, timeout=200)
    for suite in _targets(tmp_path / "p.json").values():
        assert "(1 threads)" in suite.environment["blas"], suite.environment
