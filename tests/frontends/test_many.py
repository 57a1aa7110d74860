"""Several targets in one command: each in its own worker, one table, one exit code, one JSON."""

from __future__ import annotations

import json
import sys

import pytest

from gradcheck.many import DEFAULT_ATTR, expand_targets
from tests.frontends.helpers import gradcheck
from tests.safety.submissions import KINDS, write_submission

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
    "large_allocation": ("not checked", "MemoryError"),
}


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
    data = json.loads((tmp_path / "all.json").read_text())
    assert data["exit_code"] == 2
    rows = {row["target"]: row for row in data["targets"]}
    assert len(rows) == len(KINDS)
    for target, kind in kinds.items():
        row = rows[f"subs/{target.rsplit('/', 1)[-1]}"]
        verdict, words = EXPECTED[kind]
        assert row["verdict"] == verdict, (kind, row["reason"])
        assert words in row["reason"], (kind, row["reason"])
        assert (row["suite"] is not None) == (row["outcome"]["status"] == "ok")
    table = run.stdout[run.stdout.index("target  "):]
    assert "10 targets: 1 passed, 2 failed, 7 could not be checked" in table
    index = (tmp_path / "pages" / "index.html").read_text()
    pages = sorted(p.name for p in (tmp_path / "pages").iterdir() if p.name != "index.html")
    assert len(pages) == sum(row["suite"] is not None for row in data["targets"]) >= 3
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
    rows = {r["target"]: r for r in json.loads((tmp_path / "out.json").read_text())["targets"]}
    assert rows["a/model.py:build"]["verdict"] == "passed"
    assert rows["b/model.py:build"]["verdict"] == "failed"  # b's helper triples db2
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
