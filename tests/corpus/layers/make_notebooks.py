"""Writes the two corpus notebooks from the layer modules' own source.

``course_layers.ipynb`` holds the correct layers of ``course_layers.py`` and ``dict_style.py`` a
few per code cell, with markdown between, as an assignment notebook does; its set-up cell has
IPython magics and another cell a shell line, which a loader must skip.

``broken_cell.ipynb`` has three good code cells and then a fourth (the notebook's fourth cell,
``In [4]``) that raises NameError on its line 3: a typo in a function's name.

Run ``python -m tests.corpus.layers.make_notebooks`` to rewrite both; the test checks that the
stored files are what this writes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
COURSE_NOTEBOOK = HERE / "course_layers.ipynb"
BROKEN_NOTEBOOK = HERE / "broken_cell.ipynb"

#: the broken notebook's failing cell (1-based, counting every cell; all before it are code) and line
BROKEN_CELL, BROKEN_LINE = 4, 3

_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

SETUP = """\
# As usual, a bit of setup
import numpy as np

%matplotlib inline
%load_ext autoreload
%autoreload 2
"""

SHELL = """\
# the data lives next to the notebook
!ls
rel_error_tolerance = 1e-8
"""

#: (markdown before the cell, the functions the cell defines), in notebook order
SECTIONS = [
    ("## Affine layer and ReLU\nImplement the forward and backward passes of a fully connected "
     "layer and of the ReLU nonlinearity.",
     ["affine_forward", "affine_backward", "relu_forward", "relu_backward"]),
    ("## Convolution: naive forward and backward\n`conv_param` holds the stride and the zero "
     "padding.", ["conv_forward_naive", "conv_backward_naive"]),
    ("## Max pooling", ["max_pool_forward_naive", "max_pool_backward_naive"]),
    ("## Batch normalization\nTraining mode uses the batch statistics and updates the running "
     "mean and variance in `bn_param`.",
     ["batchnorm_forward", "batchnorm_backward", "spatial_batchnorm_forward",
      "spatial_batchnorm_backward"]),
    ("## Layer normalization", ["layernorm_forward", "layernorm_backward"]),
    ("## Dropout\n`p` is the probability of keeping a unit (inverted dropout).",
     ["dropout_forward", "dropout_backward"]),
    ("## Loss functions", ["softmax_loss", "svm_loss"]),
    ("## Recurrent networks: vanilla RNN",
     ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]),
    ("## LSTM", ["_sigmoid", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
                 "lstm_backward"]),
    ("## Captioning layers: word embedding, temporal affine, temporal softmax loss",
     ["word_embedding_forward", "word_embedding_backward", "temporal_affine_forward",
      "temporal_affine_backward", "temporal_softmax_loss"]),
]

DICT_SECTIONS = [
    ("## Building a recurrent network step by step\nHere examples are columns and the weights "
     "come in a `parameters` dict; the backward returns a dict of gradients.",
     ["_softmax_columns", "_sigmoid", "rnn_cell_forward", "rnn_cell_backward"]),
    ("## LSTM cell", ["lstm_cell_forward", "lstm_cell_backward"]),
]


def function_sources(path: Path) -> dict[str, str]:
    """Every top-level function of a module, by name, as its source text."""
    text = path.read_text()
    return {node.name: ast.get_source_segment(text, node)
            for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}


def _cells(sections, sources):
    cells = []
    for markdown, names in sections:
        cells.append(new_markdown_cell(markdown))
        cells.append(new_code_cell("\n\n\n".join(sources[name] for name in names)))
    return cells


def course_notebook():
    course = function_sources(HERE / "course_layers.py")
    dict_style = function_sources(HERE / "dict_style.py")
    cells = [new_markdown_cell("# Layers\nEach layer is a pair of functions: the forward returns "
                               "its output and a cache, the backward takes the upstream gradient "
                               "and the cache."),
             new_code_cell(SETUP),
             new_code_cell(SHELL)]
    for sections, sources in ((SECTIONS, course), (DICT_SECTIONS, dict_style)):
        left_out = set(sources) - {name for _, names in sections for name in names}
        if left_out:
            raise ValueError(f"no notebook cell defines {sorted(left_out)}")
        cells += _cells(sections, sources)
    return _finish(cells)


def broken_notebook():
    course = function_sources(HERE / "course_layers.py")
    cells = [
        new_code_cell("import numpy as np\n"),
        new_code_cell("\n\n\n".join(course[n] for n in ("affine_forward", "affine_backward"))),
        new_code_cell("\n\n\n".join(course[n] for n in ("relu_forward", "relu_backward"))),
        new_code_cell("# try the layers on a small batch\n"
                      "x = np.linspace(-1, 1, 12).reshape(3, 4)\n"
                      "out, cache = relu_fowrard(x)\n"
                      "print(out.shape)\n"),
        new_markdown_cell("## Max pooling"),
        new_code_cell("\n\n\n".join(course[n] for n in ("max_pool_forward_naive",
                                                       "max_pool_backward_naive"))),
    ]
    return _finish(cells)


def _finish(cells):
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number}"  # fixed ids: the files come out the same on every run
    notebook = new_notebook(cells=cells, metadata=_METADATA)
    nbformat.validate(notebook)
    return notebook


def render(notebook) -> str:
    return nbformat.writes(notebook) + "\n"


def main() -> None:
    COURSE_NOTEBOOK.write_text(render(course_notebook()))
    BROKEN_NOTEBOOK.write_text(render(broken_notebook()))


if __name__ == "__main__":
    main()
