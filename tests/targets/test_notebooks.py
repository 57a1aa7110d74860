"""A notebook is a target file: its code cells run in order in a fresh module, IPython's own lines
left out with every other line keeping its number, and a cell that fails is named with its line."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from gradcheck.errors import TargetLoadError
from gradcheck.targets.loading import load_namespace, load_object, with_default_attr
from gradcheck.targets.notebooks import code_cells, python_source
from gradcheck.targets.usercode import UserCodeCrash, call_user
from tests.corpus.layers import make_notebooks


def write_notebook(path, *cells):
    """A notebook of ``cells``: source strings are code cells, ``("md", text)`` markdown."""
    def cell(source):
        if isinstance(source, tuple):
            return {"cell_type": "markdown", "metadata": {}, "source": source[1]}
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                "source": source.splitlines(keepends=True)}

    path.write_text(json.dumps({"cells": [cell(c) for c in cells], "metadata": {},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("cell", "python"), [
    ("%matplotlib inline\nx = 1\n", "pass\nx = 1\n"),
    ("!ls\n  !pip install numpy\nx = 1\n", "pass\n  pass\nx = 1\n"),
    ("np.sum?\nx = 1\n", "pass\nx = 1\n"),
    ("files = !ls\n", "files = None\n"),
    ("%time out = f(x)\n", "out = f(x)\n"),
    ("%timeit -n 10 f(x)\n", "f(x)\n"),
    ("if True:\n    %load_ext autoreload\n", "if True:\n    pass\n"),
    ("%%time\nx = 1\n", "pass\nx = 1\n"),
    ("%%bash\nls -l\n", ""),
    ("%%writefile helper.py\nx = 1\n", ""),
    ("y = 10 % 3\n", "y = 10 % 3\n"),
])
def test_ipythons_own_lines_are_left_out_and_the_line_numbers_kept(cell, python):
    assert python_source(cell) == python


def test_only_code_cells_are_read_numbered_among_all_cells(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", ("md", "# title"), "x = 1\n", ("md", "text"), "y = 2\n")
    assert [(c.number, c.source) for c in code_cells(path)] == [(2, "x = 1\n"), (4, "y = 2\n")]


def test_the_course_notebook_defines_its_layers_in_a_module_of_its_own():
    spec = f"{make_notebooks.COURSE_NOTEBOOK}:conv_forward_naive"
    forward = load_object(spec)
    module, _, _ = load_namespace(spec)
    assert forward.__module__ == module.__name__ and module.__name__ in sys.modules
    assert " cell " in forward.__code__.co_filename
    assert module.rel_error_tolerance == 1e-8  # the cell with a shell line ran, minus that line


def test_a_cell_that_raises_is_named_with_its_line():
    with pytest.raises(TargetLoadError) as raised:
        load_object(f"{make_notebooks.BROKEN_NOTEBOOK}:affine_forward")
    text = str(raised.value)
    assert f"cell {make_notebooks.BROKEN_CELL} raised NameError" in text
    assert f"at line {make_notebooks.BROKEN_LINE}: out, cache = relu_fowrard(x)" in text
    assert text.startswith(f"running {make_notebooks.BROKEN_NOTEBOOK}")


def test_a_function_of_another_cell_that_raises_is_named_too(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "def f():\n    return 1 / 0\n", ("md", "run it"),
                          "x = 1\ny = f()\n")
    with pytest.raises(TargetLoadError, match=r"cell 3 raised ZeroDivisionError: division by zero, "
                       r"at line 2: y = f\(\) \(in f, cell 1 line 2\)"):
        load_object(f"{path}:x")


def test_a_syntax_error_names_the_cell_and_line(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "x = 1\n", "y = 2\ndef broken(:\n")
    with pytest.raises(TargetLoadError, match=r"syntax error in .*nb.ipynb, cell 2, line 2"):
        load_object(f"{path}:x")


@pytest.mark.parametrize(("text", "said"), [
    ("not json", "it is not JSON"),
    ('{"worksheets": []}', "has no list of cells"),
])
def test_a_file_that_is_not_a_notebook_says_what_it_is(tmp_path, text, said):
    path = tmp_path / "nb.ipynb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TargetLoadError, match=said):
        load_object(f"{path}:x")


def test_a_cell_calling_sys_exit_is_a_load_error_naming_the_cell(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "import sys\n", "sys.exit(3)\n")
    with pytest.raises(TargetLoadError, match=r"sys.exit\(3\) at import, in nb.ipynb cell 2 line 1"):
        load_object(f"{path}:x")


def test_a_crash_in_a_notebook_function_points_at_the_cell_and_its_line(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "import numpy as np\n",
                          "def backward(dout, cache):\n    x = cache\n    return dout @ x\n")
    backward = load_object(f"{path}:backward")
    with pytest.raises(UserCodeCrash) as raised:
        call_user(backward, np.ones((2, 3)), np.ones((2, 3)), call="backward")
    crash = raised.value.crash
    assert crash.file.endswith("nb.ipynb cell 2") and crash.line == 3
    assert crash.code == "return dout @ x" and crash.shapes == {"dout": (2, 3), "x": (2, 3)}


def test_a_notebook_named_alone_names_its_target_attribute():
    assert with_default_attr("assignment.ipynb") == "assignment.ipynb:target"
