"""The command line: verdicts, exit codes, and one-line load errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.frontends.cli import main
from gradcheck.results import SuiteResult

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.slow
def test_reference_network_passes(capsys):
    assert main(["check", "--batch-size", "16"]) == 0
    out = capsys.readouterr().out
    assert "reference network 784-10-10 on real MNIST" in out
    assert "PASSED" in out


@pytest.mark.slow
def test_blog_article_fails_with_reduction_diagnosis(capsys, tmp_path):
    json_path = tmp_path / "r" / "blog.json"
    code = main(["check", f"{EXAMPLES / 'blog_buggy.py'}:target", "--batch-size", "20",
                 "--json", str(json_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "examples as columns" in out
    assert "(reduction)" in out and "FAILED: wrong gradient for b1, b2" in out
    suite = SuiteResult.from_dict(json.loads(json_path.read_text()))
    assert suite["check_gradients_batch20"].result.failed == ["b1", "b2"]
    assert suite.failed == ["check_gradients_batch1", "check_gradients_batch20",
                            "check_gradients_batch_missing_classes"]


def test_fixed_blog_passes_in_directional_mode(capsys):
    assert main(["check", f"{EXAMPLES / 'blog_fixed.py'}:target", "--mode", "directional"]) == 0


BAD_TARGETS = [
    ("no_colon", "not of the form"),
    ("nonexistent_module_xyz:target", "no module named 'nonexistent_module_xyz'"),
    ("{dir}/missing.py:target", "no such file"),
    ("{dir}/syntax.py:target", "syntax error in"),
    ("{dir}/raises.py:target", "raised ZeroDivisionError"),
    ("{dir}/ok.py:nothing_here", "has no attribute 'nothing_here'"),
    ("{dir}/ok.py:no_gradients", "lacks gradients"),
    ("{dir}/ok.py:Sized", "return Sized(sizes=...)"),
    ("{dir}/ok.py:bad_params", "expected a non-empty dict"),
    ("{dir}/ok.py:bad_loss", "loss"),
]


@pytest.fixture
def script_dir(tmp_path):
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    (tmp_path / "raises.py").write_text("x = 1 / 0\n")
    (tmp_path / "ok.py").write_text(
        "import numpy as np\n"
        "class NoGradients:\n"
        "    params = {'W': np.ones((3, 2))}\n"
        "    def loss(self, X, y): return 0.0\n"
        "no_gradients = NoGradients()\n"
        "class Klass(NoGradients):\n"
        "    def gradients(self, X, y): return {'W': np.zeros((3, 2))}\n"
        "class Sized(Klass):\n"
        "    def __init__(self, sizes): pass\n"
        "class BadParams(Klass):\n"
        "    params = [1, 2]\n"
        "bad_params = BadParams()\n"
        "class BadLoss(Klass):\n"
        "    def loss(self, X, y): return 'high'\n"
        "bad_loss = BadLoss()\n"
    )
    return tmp_path


@pytest.mark.parametrize(("spec", "words"), BAD_TARGETS, ids=[w for _, w in BAD_TARGETS])
def test_load_errors_are_one_line_and_exit_2(capsys, script_dir, spec, words):
    code = main(["check", spec.format(dir=script_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert err.startswith("gradcheck: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_verbose_shows_the_traceback(capsys, script_dir):
    assert main(["check", f"{script_dir}/raises.py:target", "--verbose"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_installed_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "gradcheck", "check", "--mode", "directional"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "PASSED" in proc.stdout
