"""The README's and docs/' pasted outputs and numbers against fresh runs of the commands they name.

Each test runs what the README says it ran and compares the parts that do not depend on the
machine: verdict lines, finding texts, loss-evaluation counts, exit codes, breaking magnitudes.
Timings are masked. When one of these fails, the product's output changed: re-run the command
and paste its output (or fix the code, if the README says what it should print).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.frontends.cli import main

ROOT = Path(__file__).resolve().parents[3]
FRONT = (ROOT / "README.md").read_text(encoding="utf-8")
#: The README and every page of docs/ it links: a pasted output is checked wherever it is.
README = "\n\n".join([FRONT, *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))])
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def code_block(first_line: str) -> str:
    """The fenced block (README or docs/) whose first line is ``first_line`` (without the fences)."""
    match = re.search(r"```\n(" + re.escape(first_line) + r"\n.*?)```", README, re.S)
    assert match, f"the README has no block starting {first_line!r}"
    return match.group(1)


#: A number in scientific notation, as the tables and findings print them.
SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?e[-+]\d+")


def without_rounding_noise(text: str) -> str:
    """``text`` with numbers below 1e-6 in size written ``<noise>``: differences of that size
    are rounding, and NumPy 1.26 rounds some products differently from NumPy 2."""
    return SCIENTIFIC.sub(lambda m: "<noise>" if abs(float(m.group())) < 1e-6 else m.group(), text)


#: A check's count of loss evaluations: a busy machine makes the time guard time a few more calls.
EVALUATIONS = re.compile(r"\b\d+ loss evaluations\b")


def matches_with_elisions(pasted: str, fresh: str) -> bool:
    """``fresh`` line for line, except that a pasted ``[...]`` line stands for any lines,
    numbers at rounding-noise level (:func:`without_rounding_noise`) only need to be there, and
    a count of loss evaluations only needs to be a count (the time guard may retime a busy machine)."""
    pasted, fresh = (EVALUATIONS.sub("<n> loss evaluations", without_rounding_noise(text))
                     for text in (pasted, fresh))
    parts = []
    for line in pasted.strip("\n").splitlines():
        bracketed = line.strip().startswith("[") and line.strip().endswith("]")
        parts.append(r"(?:[^\n]*\n)*?" if bracketed else re.escape(line) + r"\n")
    return re.fullmatch("".join(parts), fresh.strip("\n") + "\n") is not None


@pytest.fixture
def at_root(monkeypatch):
    """Run as the README does: from the repository's root, BLAS threads left to the command line."""
    monkeypatch.chdir(ROOT)
    for name in BLAS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys, command: str) -> tuple[int, str, str]:
    code = main(command.split()[1:])
    out, err = capsys.readouterr()
    return code, out, err


def _python_prints(snippet: str) -> str:
    run = subprocess.run([sys.executable, "-"], input=snippet, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_readmes_python_example_prints_the_pasted_result():
    snippet, pasted = re.search(r"```python\n(import numpy as np\nfrom gradcheck import check_gradients\n"
                                r".*?)```\n\nprints:\n\n```\n(.*?)```", FRONT, re.S).groups()
    assert without_rounding_noise(_python_prints(snippet).strip("\n")) == \
        without_rounding_noise(pasted.strip("\n"))


def test_the_readmes_example_network_is_the_file_it_names():
    shown = re.search(r"```python\n(import numpy as np\n\n\nclass Network:.*?)```", FRONT, re.S).group(1)
    assert shown == (ROOT / "examples" / "my_network.py").read_text(encoding="utf-8")


def test_the_first_screen_shows_the_two_commands_and_a_whole_example():
    first_screen = "\n".join(FRONT.splitlines()[:70])
    assert "<!-- main-command -->" in first_screen and "<!-- test-command -->" in first_screen
    assert "def gradients(self, X, y):" in first_screen and "$ gradcheck check examples/my_network.py" in first_screen
    assert len(FRONT.splitlines()) < 400


def test_the_python_snippet_prints_the_pasted_result():
    snippet = re.search(r"```python\n(import numpy as np\nimport gradcheck\n.*?)```", README, re.S).group(1)
    pasted = re.search(r"imported\):\n\n```\n(.*?)```", README, re.S).group(1)
    run = subprocess.run([sys.executable, "-"], input=snippet, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert without_rounding_noise(run.stdout.strip("\n")) == without_rounding_noise(pasted.strip("\n"))


@pytest.mark.parametrize(("command", "exit_code"), [
    ("gradcheck check examples/my_network.py", 1),
    ("gradcheck check", 0),
    ("gradcheck check examples/blog_buggy.py:target", 1),
    ("gradcheck probe examples/blog_buggy.py:target", 1),
])
def test_a_pasted_terminal_session_is_what_the_command_prints(capsys, at_root, command, exit_code):
    pasted = code_block(f"$ {command}")
    code, out, _ = run_cli(capsys, command)
    assert code == exit_code
    assert matches_with_elisions(pasted.split("\n", 1)[1], out), out


def example_quotes(table_heading: str) -> list[tuple[str, str]]:
    """(example, quoted finding) from the third column of the table under ``table_heading``."""
    section = README[README.index(table_heading):]
    separator = section.index("\n|---") + 1
    end = section.find("\n\n", separator)
    table = section[separator:end if end > 0 else len(section)].rstrip("\n")
    pairs = []
    for row in table.splitlines()[1:]:
        cell = row.strip("|").split(" | ")[-1].strip()
        for piece in re.split(r";\s*(?=`\w+_buggy`)", cell):
            name = re.match(r"`(\w+_buggy)`", piece)
            pairs += [(name.group(1), quote) for quote in re.findall(r'"([^"]+)"', piece)]
    return pairs


EXAMPLE_QUOTES = (example_quotes("# Coding styles, tasks and the glue they need")
                  + example_quotes("## Binary, multi-label and regression networks"))


def test_every_buggy_example_in_the_tables_is_quoted():
    assert {name for name, _ in EXAMPLE_QUOTES} == {
        "blog_buggy", "layer_objects_buggy", "cache_pairs_buggy", "per_sample_buggy",
        "model_object_buggy", "layer_library_buggy", "per_sample_cost_buggy",
        "per_sample_shapes_buggy", "binary_buggy", "multilabel_buggy", "regression_buggy"}


@pytest.mark.parametrize(("example", "quote"), EXAMPLE_QUOTES,
                         ids=[f"{name}-{k}" for k, (name, _) in enumerate(EXAMPLE_QUOTES)])
def test_a_quoted_finding_is_what_the_check_of_its_example_says(capsys, at_root, example, quote):
    code, out, _ = run_cli(capsys, f"gradcheck check examples/{example}.py:target")
    assert code == 1
    findings = [line.strip()[3:] for line in out.splitlines() if line.strip().startswith("!! ")]
    assert any(quote in finding for finding in findings), "\n".join(findings)


def glue_lines(example: str) -> tuple[bool, int]:
    """Whether ``examples/<example>.py`` imports gradcheck, and the lines of its ``target`` statement."""
    tree = ast.parse((ROOT / "examples" / f"{example}.py").read_text(encoding="utf-8"))
    imports = any(isinstance(node, ast.Import) and any(a.name == "gradcheck" for a in node.names)
                  for node in tree.body)
    for node in tree.body:
        names = ([node.name] if isinstance(node, ast.FunctionDef)
                 else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)])
        if "target" in names:
            return imports, node.end_lineno - node.lineno + 1
    raise AssertionError(f"examples/{example}.py defines no target")


@pytest.mark.parametrize(("phrase", "example", "extra"), [
    ("2 lines: `import gradcheck`, `target = gradcheck.adapters.layer_objects(layers, loss)`",
     "layer_objects_buggy", 0),
    ("2 lines: `import gradcheck`, `target = gradcheck.adapters.cache_model(model)`", "cache_pairs_buggy", 0),
    ("2 lines: `import gradcheck`, `target = gradcheck.adapters.per_sample(net)`", "per_sample_buggy", 0),
    ("2 lines: `import gradcheck`, `target = gradcheck.adapters.model(model)`", "model_object_buggy", 0),
    ("2 lines: `import gradcheck`, `target = gradcheck.adapters.per_sample(net)`", "per_sample_cost_buggy", 0),
    ("4 as a factory taking `dtype` (`examples/layer_library_correct.py`)", "layer_library_correct", 0),
    ("10 lines: `import gradcheck`, one naming the parameters, and the 8-line call", "blog_buggy", 1),
])
def test_the_glue_counts_are_the_examples_lines(phrase, example, extra):
    assert phrase in README
    imports, statement = glue_lines(example)
    counts = [int(n) for n in re.findall(r"\b(\d+)(?:-line| lines| as)", phrase)]
    assert imports
    assert counts[0] == 1 + extra + statement
    if len(counts) > 1:  # "10 lines: ..., and the 8-line call"
        assert counts[1] == statement


def test_the_command_lines_messages_are_the_quoted_ones(capsys, at_root, tmp_path):
    code, _, err = run_cli(capsys, "gradcheck check examples/blog_buggy.py:targt")
    quoted = re.search(r"misspelt target lists what in the file could be one: `(.*?)`", README, re.S)
    assert code == 2 and " ".join(quoted.group(1).split()) in err

    np.savez(tmp_path / "short.npz", X=np.zeros((10, 784)), y=np.zeros(7, dtype=int))
    code, _, err = run_cli(capsys, f"gradcheck check --data {tmp_path / 'short.npz'}")
    quoted = re.search(r"one line naming the flag, e\.g\. `(.*?)`", README, re.S)
    assert code == 2 and err.startswith(" ".join(quoted.group(1).split()))

    code, out, err = run_cli(capsys, "gradcheck check examples/blog_fixed.py:target --max-seconds 1e-6")
    quoted = " ".join(re.search(r"the guard says\n`(.*?)`", README, re.S).group(1).split())
    quoted = re.sub(r"about [\d.]+ m?s", "about TIME", quoted).replace("(...)", "ELIDED")
    pattern = re.escape(quoted).replace("TIME", r"[\d.]+ [µm]?s").replace("ELIDED", r"\(.*?\)")
    assert code == 2 and re.search(pattern, err)

    code, out, _ = run_cli(capsys, "gradcheck check examples/binary_correct.py:target")
    quoted = re.search(r"the\nrun's first line says which \(`(.*?)`\)", README, re.S).group(1)
    assert code == 0 and out.splitlines()[0] == " ".join(quoted.split())


def test_the_unstable_functions_break_where_the_readme_says(capsys, at_root):
    sentence = " ".join(README[README.index("`gradcheck probe examples/unstable_functions.py:target` fails"):]
                        .split(".\n\n")[0].split())
    code, out, _ = run_cli(capsys, "gradcheck probe examples/unstable_functions.py:target")
    assert code == 1
    found = dict(re.findall(r"!! (\w+): (?:logits|inputs|probabilities from logits) of magnitude "
                            r"(\d+) \(float64\)", out))
    said = {"softmax": r"softmax at (\d+)", "log_softmax": r"np\.log\(softmax\(Z\)\)` at (\d+)",
            "sigmoid": r"sigmoid at (\d+)", "cross_entropy": r"unclipped\ncross-entropy at (\d+)",
            "binary_cross_entropy": r"binary cross-entropy at (\d+)"}
    for name, pattern in said.items():
        number = re.search(pattern.replace(r"\n", " "), sentence).group(1)
        assert found[name] == number, (name, found)


def test_the_catalogue_counts_its_rows_and_every_row_is_a_test():
    from tests.system.reliability.test_bad_inputs import ROWS

    section = README[README.index("<summary>Bad-input catalogue"):README.index("</details>")]
    rows = [line.split(" | ")[0][2:] for line in section.splitlines() if line.startswith("| ")][1:]
    stated = int(re.search(r"Bad-input catalogue \((\d+) rows\)", section).group(1))
    assert stated == len(rows) == len(ROWS)
    assert set(rows) == {row.line for row in ROWS}


def test_every_file_the_readme_names_exists():
    named = set(re.findall(r"\b((?:tests|scripts|examples|docs|reference_net|gradcheck)/[\w./-]+"
                           r"\.(?:py|md|sh|npz|png|html))", README))
    missing = sorted(p for p in named if not (ROOT / p).exists() and p != "examples/X.py")
    assert not missing


@pytest.mark.slow
def test_the_reference_experiments_output_is_pasted_except_its_wall_times():
    from reference_net.experiment import format_result, run_experiment

    pasted = code_block("784-10-10 ReLU/softmax, full-batch gradient descent, alpha 0.1, 750 iterations")
    fresh = format_result(run_experiment())

    def without_times(text):
        # The padding goes with the time: a 5 s run and a 50 s run differ in width, not content.
        return re.sub(r" *\d+\.\d+s", " <time>", text.strip("\n"))

    assert without_times(fresh) == without_times(pasted)


def _log_of_softmax(Z):
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return np.log(E / E.sum(axis=-1, keepdims=True))


def _log_softmax_without_shift(Z):
    return Z - np.log(np.exp(Z).sum(axis=-1, keepdims=True))


def _sigmoid_of_minus_z(z):
    return 1 / (1 + np.exp(-z))


def _sigmoid_as_a_ratio(z):
    return np.exp(z) / (1 + np.exp(z))


def _function_probe_rows():
    from gradcheck import probes
    from tests.probes import broken
    from tests.probes import test_loss_probes as losses

    return [  # (what the README's table says, probe, float64 and float32 breaking magnitudes)
        ("naive `exp(Z)/sum` (711 / 90, nonfinite)",
         lambda dtype: probes.probe_softmax(broken.naive_softmax, axis=-1, dtype=dtype), (711, 90)),
        ("normalised over the whole batch (1, not_normalized)",
         lambda dtype: probes.probe_softmax(broken.batch_normalised_softmax, axis=-1, dtype=dtype), (1, 1)),
        ("over the wrong axis (1, wrong_axis)",
         lambda dtype: probes.probe_softmax(broken.wrong_axis_softmax, axis=-1, dtype=dtype), (1, 1)),
        ("`np.log(softmax(Z))` (500 / 88: divide by zero in log)",
         lambda dtype: probes.probe_log_softmax(_log_of_softmax, axis=-1, dtype=dtype), (500, 88)),
        ("no max shift (711 / 90)",
         lambda dtype: probes.probe_log_softmax(_log_softmax_without_shift, axis=-1, dtype=dtype), (711, 90)),
        ("`1/(1+np.exp(-z))` (711 / 90: overflow warning)",
         lambda dtype: probes.probe_sigmoid(_sigmoid_of_minus_z, dtype=dtype), (711, 90)),
        ("`exp(z)/(1+exp(z))` (711 / 90, nonfinite)",
         lambda dtype: probes.probe_sigmoid(_sigmoid_as_a_ratio, dtype=dtype), (711, 90)),
        ("unclipped `-log(p)` (500 / 88)",
         lambda dtype: probes.probe_cross_entropy(losses.unclipped_cross_entropy, dtype=dtype), (500, 88)),
        ("clipped loss with an unclipped gradient (500 / 50)",
         lambda dtype: probes.probe_cross_entropy(losses.clipped_cross_entropy,
                                                  gradient=losses.unclipped_cross_entropy_gradient,
                                                  dtype=dtype), (500, 50)),
        ("unclipped BCE (50 / 50, where p rounds to exactly 1)",
         lambda dtype: probes.probe_binary_cross_entropy(losses.unclipped_binary_cross_entropy, dtype=dtype),
         (50, 50)),
    ]


def test_the_function_probes_table_gives_each_broken_versions_breaking_magnitudes():
    for phrase, probe, magnitudes in _function_probe_rows():
        assert phrase in README
        found = tuple(probe(dtype).breaking_magnitude for dtype in (np.float64, np.float32))
        assert found == magnitudes, phrase
