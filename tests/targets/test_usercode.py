"""A user's gradients() raising is a failed check that points at the user's own line."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_gradients, check_layer
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target
from gradcheck.targets.usercode import UserCodeCrash, call_user, describe
from tests.system.reliability.helpers import TARGET_SOURCE, run_cli, run_pytest

TRANSPOSED = '''

class TransposedNet(Net):
    """dW computed as dZ.T @ X: (n_out, n_in), which meets W's (n_in, n_out) in a broadcast."""

    def gradients(self, X, y):
        dZ = self._probabilities(X)
        dZ[np.arange(len(y)), y] -= 1
        dZ /= len(y)
        dW = dZ.T @ X
        dW = dW + 0.01 * self.params["W"]
        return {"W": dW, "b": dZ.sum(axis=0)}


target = TransposedNet()
'''
BROKEN_LINE = 'dW = dW + 0.01 * self.params["W"]'


@pytest.fixture
def student(tmp_path):
    path = tmp_path / "student.py"
    source = TARGET_SOURCE + TRANSPOSED
    path.write_text(source, encoding="utf-8")
    line = next(i for i, text in enumerate(source.splitlines(), 1) if BROKEN_LINE in text)
    return path, line


def _finding(result):
    [finding] = [f for f in result.findings if f.kind == "exception"]
    return finding


def test_transposed_dw_meeting_a_broadcast_fails_with_file_line_and_shapes(student):
    path, line = student
    target = as_target(load_object(f"{path}:target"))
    X = np.random.default_rng(1).normal(size=(5, 4))
    y = np.array([0, 1, 2, 0, 1])
    before = {k: v.copy() for k, v in target.params.items()}
    result = check_gradients(lambda: target.loss(X, y), target.params,
                             lambda: target.gradients(X, y))
    assert not result.passed
    finding = _finding(result)
    assert finding.is_failure and finding.subject == "gradients"
    assert finding.data["error_type"] == "ValueError"
    assert "could not be broadcast" in finding.data["error"]
    assert finding.data["file"] == str(path) and finding.data["line"] == line
    assert finding.data["function"] == "gradients"
    assert finding.data["shapes"] == {"dW": [3, 4]}
    assert f"student.py:{line} (exception)" in finding.message
    assert BROKEN_LINE in finding.hint and "dW (3, 4)" in finding.hint
    assert all(np.array_equal(before[k], target.params[k]) for k in before)


def test_cli_exits_1_with_the_users_line(student):
    path, line = student
    outcome = run_cli(["check", f"{path}:target", "--batch-size", "6"])
    assert outcome.code == 1, outcome.stderr
    assert f"student.py:{line}" in outcome.stdout and BROKEN_LINE in outcome.stdout
    assert outcome.stderr == ""


@pytest.mark.slow
def test_plugin_reports_a_failed_item_not_a_load_failure(student):
    path, line = student
    outcome = run_pytest(path.parent, [f"--gradcheck-target={path}:target", "-k", "check_gradients"])
    assert outcome.code == 1
    assert "could not be loaded" not in outcome.output
    assert f"student.py:{line} (exception)" in outcome.output
    assert "3 failed" in outcome.output


def test_layer_backward_raising_fails_the_layer_check():
    W = np.ones((3, 2))

    def backward(dY):
        return dY @ W  # (n, 2) @ (3, 2): W should have been transposed

    result = check_layer(lambda X: X @ W, backward, np.ones((4, 3)), {"W": W},
                         param_grads=lambda: {"W": np.zeros_like(W)})
    finding = _finding(result)
    assert not result.passed and finding.subject == "backward"
    assert finding.data["file"] == __file__
    assert finding.data["shapes"] == {"dY": [4, 2], "W": [3, 2]}


def _inverse_of_singular(A):
    return np.linalg.inv(A)


def test_innermost_user_frame_skips_numpy():
    with pytest.raises(UserCodeCrash) as info:
        call_user(_inverse_of_singular, np.zeros((2, 2)), call="gradients")
    crash = info.value.crash
    assert crash.error_type == "LinAlgError"
    assert crash.file == __file__ and crash.function == "_inverse_of_singular"
    assert crash.shapes == {"A": (2, 2)}
    assert isinstance(info.value.__cause__, np.linalg.LinAlgError)


def test_no_user_frame_gives_no_location():
    with pytest.raises(UserCodeCrash) as info:
        call_user(int, "seven", call="loss")
    crash = info.value.crash
    assert crash.file is None and crash.line is None
    assert crash.finding("loss").message == (
        "loss: raised ValueError: invalid literal for int() with base 10: 'seven' (exception)")


def test_interrupts_are_not_caught():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call_user(interrupted, call="gradients")


def test_describe_of_an_exception_raised_here_points_here():
    try:
        {}["missing"]
    except KeyError as exc:
        crash = describe(exc, "gradients")
    assert crash.file == __file__ and crash.code == '{}["missing"]'


def test_running_out_of_memory_while_finding_the_layout_is_not_a_layout_error(tmp_path, capsys):
    """The first calls of the loss find the layout of X; a MemoryError there says so, with the
    user's line, instead of 'could not call loss(X, y) with examples as rows or as columns'."""
    from gradcheck.frontends.cli import main

    path = tmp_path / "hungry.py"
    path.write_text(
        "import numpy as np\n\n\n"
        "class Net:\n"
        "    params = {'W': np.zeros((4, 3)), 'b': np.zeros(3)}\n\n"
        "    def loss(self, X, y):\n"
        "        raise MemoryError('Unable to allocate 20.0 GiB for an array')\n\n"
        "    def gradients(self, X, y):\n"
        "        return {k: np.zeros_like(v) for k, v in self.params.items()}\n\n\n"
        "target = Net()\n")
    assert main(["check", f"{path}:target", "--mode", "directional"]) == 2
    err = capsys.readouterr().err
    assert "the loss function raised MemoryError: Unable to allocate 20.0 GiB" in err
    assert "hungry.py:8" in err and "finding the layout of X" in err
    assert "with examples as rows or as columns" not in err
