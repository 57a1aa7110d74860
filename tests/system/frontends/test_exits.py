"""A network that calls sys.exit() during a run: never a pass, never mistaken for a wrong gradient."""

from __future__ import annotations

import pytest

from tests.system.frontends.helpers import gradcheck, network

pytestmark = pytest.mark.slow  # subprocesses and nested pytest runs

pytest_plugins = ["pytester"]

EXIT_IN_LOSS = {"loss_hook": "import sys; sys.exit(0)"}
EXIT_IN_GRADIENTS = {"gradients_hook": "import sys; sys.exit(0)"}


@pytest.mark.parametrize("command", ["check", "probe"])
def test_exit_in_loss_is_an_unusable_target_exit_2(tmp_path, command):
    target = network(tmp_path, **EXIT_IN_LOSS)
    run = gradcheck(command, target, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "called sys.exit(0) in" in run.stderr and "model.py line" in run.stderr


def test_exit_in_gradients_is_a_failed_check_exit_1(tmp_path):
    target = network(tmp_path, **EXIT_IN_GRADIENTS)
    run = gradcheck("check", target, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "called sys.exit(0) in gradients" in run.stdout
    assert "FAILED" in run.stdout


def test_exit_in_the_factory_is_a_load_error(tmp_path):
    target = network(tmp_path, build_hook="import sys; sys.exit(0)")
    run = gradcheck("check", target, cwd=tmp_path)
    assert run.returncode == 2
    assert "called sys.exit(0) in the factory" in run.stderr


@pytest.mark.parametrize("hooks", [EXIT_IN_LOSS, EXIT_IN_GRADIENTS], ids=["loss", "gradients"])
def test_exit_under_the_plugin_is_a_failed_item_not_internalerror(pytester, hooks):
    target = network(pytester.path / "net", **hooks)
    result = pytester.runpytest("--gradcheck-target", target, "--gradcheck-mode", "directional",
                                "-k", "check_gradients_batch1 or check_target_loads")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and "passed" not in outcomes, outcomes
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*called sys.exit(0) in*model.py line*"])


def test_keyboard_interrupt_still_propagates():
    from gradcheck.targets.usercode import call_user

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call_user(interrupted, call="loss")
