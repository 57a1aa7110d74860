"""The command line for a newcomer: version, help, flag wording, BLAS threads, quiet output, progress."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from gradcheck import __version__, check_gradients
from gradcheck.checks.budget import format_duration
from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.cli import _parser, main
from gradcheck.options import OPTIONS
from gradcheck.render.progress import SuiteProgress
from gradcheck.threads import blas_line, pin_blas

FIXED = "examples/blog_fixed.py:target"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradcheck {__version__}"


@pytest.mark.parametrize("command", ["check", "probe", "report"])
def test_every_option_of_every_command_has_help(command):
    sub = next(a for a in _parser()._actions if a.dest == "command").choices[command]
    undocumented = [a.option_strings for a in sub._actions if a.option_strings and not a.help]
    assert not undocumented
    flags = {s for a in sub._actions for s in a.option_strings}
    assert {o.flag for o in OPTIONS} <= flags and {"-v", "--verbose"} <= flags


@pytest.mark.parametrize(("argv", "cli_words", "python_words", "python_kwargs"), [
    (["--samples", "0"], "--samples: got 0, expected a positive integer.",
     "samples: got 0, expected a positive integer or None.", {"samples": 0}),
    (["--max-seconds", "-1"], "use --max-seconds 0.", "use max_seconds=None.", {"max_seconds": -1.0}),
    (["--eps", "2"], "leave out --eps.", "pass eps=None.", {"eps": 2.0}),
    (["--seed", "-1"], "Pass e.g. --seed 0.", "Pass e.g. seed=0.", {"seed": -1}),
])
def test_the_cli_names_flags_and_the_api_keeps_python_words(capsys, argv, cli_words, python_words,
                                                           python_kwargs):
    assert main(["check", FIXED, *argv]) == 2
    assert cli_words in capsys.readouterr().err
    W = np.ones(3)
    with pytest.raises(InvalidArgumentError) as exc:
        check_gradients(lambda: float(W.sum()), {"W": W}, {"W": np.ones(3)}, **python_kwargs)
    assert python_words in str(exc.value)


def test_the_time_guard_speaks_flags_on_the_cli_and_python_in_the_api(capsys):
    assert main(["check", FIXED, "--max-seconds", "1e-6"]) == 2
    err = capsys.readouterr().err
    assert "Use --mode sample (with --samples 64:" in err and "or --max-seconds 0 to run" in err
    W = np.ones((40, 40))
    with pytest.raises(InvalidArgumentError) as exc:
        check_gradients(lambda: float(W.sum()), {"W": W}, {"W": np.ones((40, 40))},
                        max_seconds=1e-6)
    assert "Use mode='sample' (with samples=64:" in str(exc.value)
    assert "or max_seconds=None to run it anyway" in str(exc.value)


@pytest.mark.parametrize(("seconds", "text"), [
    (2.2e-5, "22 µs"), (3.5e-4, "350 µs"), (0.00152, "1.5 ms"), (0.15, "150 ms"),
    (2.5, "2.5 s"), (42.4, "42 s"), (150, "2.5 min"), (1080, "18 min"), (8280, "2.3 h"),
])
def test_durations_read_as_a_person_would_say_them(seconds, text):
    assert format_duration(seconds) == text


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_blas_is_pinned_to_one_thread_unless_the_user_set_a_count():
    if not _blas_threads():
        pytest.skip("no BLAS found by threadpoolctl")
    with pin_blas({}) as line:
        assert _blas_threads() == {1}
    assert line == "BLAS: 1 thread (set OPENBLAS_NUM_THREADS to change)"
    before = _blas_threads()
    with pin_blas({"OPENBLAS_NUM_THREADS": "3"}) as line:
        assert _blas_threads() == before  # left as the user set it
    assert line == "BLAS: threads as set by OPENBLAS_NUM_THREADS=3"
    assert blas_line({"OMP_NUM_THREADS": " "}) == "BLAS: 1 thread (set OPENBLAS_NUM_THREADS to change)"


def test_the_header_says_how_many_blas_threads(capsys, monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["check", FIXED, "--mode", "directional"]) == 0
    assert "BLAS: 1 thread (set OPENBLAS_NUM_THREADS to change)" in capsys.readouterr().out
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    assert main(["check", FIXED, "--mode", "directional"]) == 0
    assert "BLAS: threads as set by MKL_NUM_THREADS=2" in capsys.readouterr().out


NOISY = '''
import warnings
import numpy as np

class Net:
    def __init__(self):
        self.params = {"W": np.linspace(-1, 1, 12).reshape(4, 3)}
    def loss(self, X, y):
        warnings.warn("a warning from the user's loss", RuntimeWarning)
        np.log(np.zeros(1))  # NumPy's divide-by-zero RuntimeWarning
        z = X @ self.params["W"]
        return float(np.mean((z - np.eye(3)[y]) ** 2)) / 2
    def gradients(self, X, y):
        z = X @ self.params["W"]
        return {"W": X.T @ (z - np.eye(3)[y]) / (len(y) * 3)}

target = Net()
'''


def test_warnings_stay_off_the_terminal_unless_verbose(capsys, tmp_path):
    (tmp_path / "noisy.py").write_text(NOISY)
    spec = f"{tmp_path / 'noisy.py'}:target"
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        assert main(["check", spec, "--mode", "directional"]) == 0
        quiet = capsys.readouterr()
        assert main(["check", spec, "--mode", "directional", "-v"]) == 0
        loud = capsys.readouterr()
    assert quiet.err == ""
    assert "Warning" not in quiet.out
    assert "warnings captured during the run" in loud.err
    assert "RuntimeWarning: a warning from the user's loss" in loud.err
    assert "divide by zero" in loud.err


def test_verbose_shows_passing_tables(capsys):
    assert main(["check", FIXED, "--mode", "directional"]) == 0
    quiet = capsys.readouterr().out
    assert main(["check", FIXED, "--mode", "directional", "--verbose"]) == 0
    loud = capsys.readouterr().out
    assert "max rel err" not in quiet and "max rel err" in loud
    assert "options: mode directional" in loud


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class _Check:
    name = "check_gradients_batch64"


@pytest.mark.parametrize("tty", [True, False])
def test_progress_is_drawn_only_on_a_terminal(tty):
    stream = _Stream(tty)
    with SuiteProgress(None, stream=stream) as progress:
        progress.on_plan([_Check(), _Check(), _Check()])
        progress.on_start(_Check())
        progress.progress(256, 1024)
        progress.progress(1024, 1024)
        progress.on_outcome(None)
    text = stream.getvalue()
    if tty:
        assert "check_gradients_batch64" in text and "entries" in text and "/1024" in text
        assert "/3" in text  # the checks' bar knows its total: no bare "0check"
    else:
        assert text == ""


def test_a_file_alone_names_its_target_and_a_module_name_finds_the_file_beside(capsys, monkeypatch):
    """``gradcheck check net.py`` is ``net.py:target``; ``net:target`` from net.py's own folder
    finds the file, as ``python net.py`` would."""
    monkeypatch.chdir(Path(FIXED.rsplit(":", 1)[0]).parent)
    assert main(["check", "blog_fixed.py", "--mode", "directional"]) == 0
    assert "PASSED: all 3 checks of blog_fixed.py:target" in capsys.readouterr().out
    assert main(["check", "blog_fixed:target", "--mode", "directional"]) == 0
    assert "PASSED: all 3 checks of blog_fixed:target" in capsys.readouterr().out
    assert main(["check", "no_such_file:target"]) == 2
    assert "no module named 'no_such_file'" in capsys.readouterr().err


def test_the_cli_draws_no_progress_into_a_pipe(capsys):
    assert main(["check", FIXED, "--batch-size", "8"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("environ", "said", "not_said"), [
    ({}, None, "OPENBLAS_NUM_THREADS"),  # pinned to one thread by the command line itself
    ({"OPENBLAS_NUM_THREADS": "1"}, None, "OPENBLAS_NUM_THREADS"),  # the user chose one
    ({"OPENBLAS_NUM_THREADS": "4"}, "BLAS runs the threads your environment sets "
     "(OPENBLAS_NUM_THREADS=4). If other processes share these cores", None),
    ({"MKL_NUM_THREADS": "2"}, "(MKL_NUM_THREADS=2)", "OPENBLAS_NUM_THREADS"),
], ids=["pinned", "user_one", "user_four", "user_mkl"])
def test_the_time_guard_speaks_of_blas_threads_as_the_run_has_them(capsys, monkeypatch, environ,
                                                                    said, not_said):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(["check", FIXED, "--max-seconds", "1e-6"]) == 2
    err = capsys.readouterr().err
    assert "would take about" in err
    if said:
        assert said in err
    if not_said:
        assert not_said not in err


def test_the_python_api_runs_one_blas_thread_so_its_refusal_gives_no_thread_advice(monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    W = np.ones((40, 40))
    with pytest.raises(InvalidArgumentError) as exc:
        check_gradients(lambda: float(W.sum()), {"W": W}, {"W": np.ones((40, 40))}, max_seconds=1e-6)
    assert "would take about" in str(exc.value) and "BLAS" not in str(exc.value)


@pytest.mark.parametrize("tty", [True, False])
def test_drawing_a_report_shows_progress_on_a_terminal_only(tty):
    from gradcheck.render.html_report import chart_sections, render_html
    from gradcheck.render.progress import StepProgress
    from tests.render import samples

    report = samples.probe_failing_suite()
    stream, calls = _Stream(tty), []
    with StepProgress("drawing the report's charts", "section", stream=stream) as bar:
        render_html(report, lambda done, total: (calls.append((done, total)), bar.update(done, total)))
        counted = None if bar.bar is None else (bar.bar.n, bar.bar.total)
    total = chart_sections(report)
    assert total > 1 and calls == [(k, total) for k in range(1, total + 1)]
    text = stream.getvalue()
    if tty:  # tqdm redraws at most every 0.1 s: the count is read from the bar, not the text
        assert "drawing the report's charts" in text and counted == (total, total)
    else:
        assert text == "" and counted is None
