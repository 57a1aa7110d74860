"""The plugin costs nothing until used: pytest loads its entry point in every run of an
environment where gradcheck is installed, and that must import almost nothing of gradcheck."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # nested pytest runs in subprocesses

RECORDER = '''
import json, sys

def pytest_sessionfinish(session):
    with open("modules.json", "w") as out:
        json.dump(sorted(m for m in sys.modules if m == "gradcheck" or m.startswith("gradcheck.")), out)
'''


def _modules_after(tmp_path, *args, env_extra=None) -> list[str]:
    import json

    (tmp_path / "conftest.py").write_text(RECORDER)
    (tmp_path / "test_plain.py").write_text("def test_nothing_to_do_with_gradcheck():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADCHECK_TARGET"}
    env.update(env_extra or {})
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "modules.json").read_text())


def test_a_run_that_does_not_use_gradcheck_imports_at_most_three_of_its_modules(tmp_path):
    modules = _modules_after(tmp_path)
    assert "gradcheck.pytest_plugin" in modules  # the entry point is loaded by pytest
    assert len(modules) <= 3, modules
    assert not [m for m in modules if m.startswith(("gradcheck.engine", "gradcheck.checks"))]


def test_the_options_are_there_without_loading_the_library(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert "--gradcheck-target" in run.stdout and "--gradcheck-batch-size" in run.stdout


def test_the_gradcheck_target_fixture_skips_without_a_target(tmp_path):
    (tmp_path / "test_fixture.py").write_text(
        "def test_uses_the_fixture(gradcheck_target):\n    assert gradcheck_target is not None\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADCHECK_TARGET"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "no --gradcheck-target given" in run.stdout, run.stdout
