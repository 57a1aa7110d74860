"""A Jupyter notebook's code, as the Python its cells run: read from the ``.ipynb`` JSON itself.

Only the code cells' sources are read (never their outputs). IPython's own lines are not
Python and are left out, each replaced by ``pass`` at its indentation so every other line keeps
its number: line magics (``%matplotlib inline``), shell lines (``!ls``), help lines (``np.sum?``)
and a whole cell under a cell magic (``%%bash``). ``%time``, ``%timeit`` and the cell magics
``%%time``, ``%%timeit`` and ``%%capture`` run their statement, so the statement is kept.

Cells are numbered as the notebook shows them: every cell counts, markdown too, from 1.
:func:`gradcheck.targets.loading.load_object` runs them in order in a fresh module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from gradcheck.errors import TargetLoadError

#: Cell magics whose body is Python that runs as written.
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")
#: Line magics that run the statement after them: ``%time out = f(x)`` runs ``out = f(x)``.
_TIMING = re.compile(r"^(\s*)%{1,2}(?:time|timeit)\b((?:\s+-\S+(?:\s+\d+)?)*)\s+(.*)$")
#: ``files = !ls`` or ``x = %who_ls``: the name is bound (to None), the command is not run.
_CAPTURED = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[!%]")
#: ``np.sum?``, ``??obj``: IPython's help.
_HELP = re.compile(r"^\s*(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


@dataclass(frozen=True)
class Cell:
    """One code cell: its number among all the notebook's cells (from 1) and its Python."""

    number: int
    source: str


def _text(source) -> str:
    """A cell's source: nbformat stores a string or a list of lines."""
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source or "")


def python_source(text: str) -> str:
    """The cell's text as Python, IPython's lines replaced by ``pass`` (line numbers kept)."""
    lines = text.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return ""  # %%bash, %%writefile, %%html...: not Python
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        timing = _TIMING.match(line)
        captured = _CAPTURED.match(line)
        if timing:
            out.append(timing.group(1) + timing.group(3))
        elif stripped.startswith(("%", "!")) or _HELP.match(line):
            out.append(indent + "pass")
        elif captured:
            out.append(f"{captured.group(1)}{captured.group(2)} = None")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def code_cells(path: Path) -> list[Cell]:
    """The notebook's code cells, in order, as Python; a file that is not a notebook is a
    TargetLoadError saying what it is instead."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetLoadError(f"cannot read the notebook {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TargetLoadError(f"{path} is not a Jupyter notebook: it is not JSON ({exc}); save it "
                              "from Jupyter again, or give the .py file it was exported to") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise TargetLoadError(f"{path} is not a Jupyter notebook: it has no list of cells (an old "
                              "nbformat 3 file? open and save it in Jupyter to convert it)")
    return [Cell(number, python_source(_text(cell.get("source"))))
            for number, cell in enumerate(cells, 1)
            if isinstance(cell, dict) and cell.get("cell_type") == "code"]


def cell_filename(path, number: int) -> str:
    """The file name a cell's code runs under, as tracebacks and findings show it:
    ``/abs/assignment.ipynb cell 4`` (line numbers are the cell's own)."""
    return f"{path} cell {number}"


CELL_FILENAME = re.compile(r"^(?P<path>.*\.ipynb) cell (?P<number>\d+)$")
