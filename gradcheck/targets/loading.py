"""Load a target from ``package.module:attr``, ``path/to/file.py:attr`` or ``notebook.ipynb:attr``.

A target file is imported under a name of its own, derived from its resolved path, so
``a/model.py`` and ``b/model.py`` are two modules, and each is registered in ``sys.modules``
(objects defined in it pickle). While a file runs, the modules other target files imported
from their own folders (a sibling ``helper.py``) are set aside, so each file imports its own
neighbours. A target that exits (``sys.exit``, ``raise SystemExit``) while it is imported or
built is a :class:`TargetLoadError` naming the file and line, never the end of the run.

A notebook (``.ipynb``) is read as JSON and its code cells run in order in a fresh module of its
own, the same way (:mod:`gradcheck.targets.notebooks` says which lines are left out); a cell that
raises is a TargetLoadError naming the cell's number and line.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import importlib
import importlib.util
import inspect
import linecache
import os
import re
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path

from gradcheck.errors import TargetLoadError
from gradcheck.targets.notebooks import CELL_FILENAME, Cell, cell_filename, code_cells

#: Modules each target folder brought in from itself: folder -> {module name: module}.
_NEIGHBOURS: dict[str, dict[str, object]] = {}


#: The attribute a target given as a file alone names: ``net.py`` is ``net.py:target``.
DEFAULT_ATTR = "target"
#: What a target file may be: a script, or a notebook whose code cells are run.
SOURCE_SUFFIXES = (".py", ".ipynb")


def is_source_file(where: str) -> bool:
    """Whether the part of a spec before ``:`` names a file (a path, a ``.py`` or ``.ipynb``)."""
    return where.endswith(SOURCE_SUFFIXES) or "/" in where or "\\" in where


def split_spec(spec: str) -> tuple[str, str]:
    """``("path/net.py", "build")`` from ``"path/net.py:build"``; a spec without ``:attr`` (a
    file, a glob) names :data:`DEFAULT_ATTR`. A colon inside a Windows drive is not the split."""
    where, colon, attr = spec.rpartition(":")
    if colon and attr and not attr.startswith(("/", "\\")) and where:
        return where, attr
    return spec, DEFAULT_ATTR


def with_default_attr(spec):
    """``spec``, with ``:target`` added when it names a ``.py`` or ``.ipynb`` file and no attribute."""
    if isinstance(spec, str) and spec.endswith(SOURCE_SUFFIXES) and ":" not in spec.replace(":\\", ""):
        return f"{spec}:{DEFAULT_ATTR}"
    return spec


def load_object(spec: str):
    """Import the object named by ``spec``; every failure is one TargetLoadError line.

    ``net.py`` alone names ``net.py:target``; ``net:attr`` is the module ``net`` if Python can
    import it, else the file ``net.py`` in the current folder."""
    module, where, attr = load_namespace(spec)
    return attribute(module, where, attr)


def load_namespace(spec: str):
    """``(module, where, attr)``: the module, file or notebook ``spec`` names, loaded (once per
    file, as :func:`load_object` does), and the attribute it asks for, not yet looked up."""
    spec = with_default_attr(spec)
    if not isinstance(spec, str) or ":" not in spec:
        raise TargetLoadError(
            f"target {spec!r} is not of the form 'package.module:attr' or 'path/to/file.py:attr'; "
            "add ':' and the name of the object (or factory) to check"
        )
    where, _, attr = spec.rpartition(":")
    if not attr:
        raise TargetLoadError(f"target {spec!r} names no attribute after ':'; add the name of the "
                              f"object (or factory) to check, e.g. {where}:target")
    if not where:
        raise TargetLoadError(f"target {spec!r} names no module or file before ':'; write e.g. "
                              f"mypackage.mymodule:{attr} or path/to/file.py:{attr}")
    if is_source_file(where):
        module = _load_file(Path(where))
    else:
        try:
            with no_exit("at import"):
                module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            beside = Path(f"{where.replace('.', os.sep)}.py")
            if exc.name == where.split(".")[0] and beside.is_file():
                return load_namespace(f"{beside}:{attr}")  # a file in this folder, named as a module
            raise TargetLoadError(
                f"no module named {exc.name!r} (from target {spec!r}); check the spelling, install "
                "the package, or give a file path such as path/to/file.py:attr"
            ) from exc
        except SyntaxError as exc:
            raise TargetLoadError(_syntax_message(exc)) from exc
        except TargetLoadError:
            raise
        except Exception as exc:
            raise TargetLoadError(f"importing {where} raised {type(exc).__name__}: {exc}") from exc
    return module, where, attr


def attribute(module, where: str, attr: str):
    """``module.attr`` (dotted), or a TargetLoadError listing what could be a target there."""
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetLoadError(_missing_attribute(where, attr, obj)) from None
    return obj


def module_name(path: str | os.PathLike) -> str:
    """The ``sys.modules`` name a target file is imported under: its stem and a hash of its
    resolved path, e.g. ``gradcheck_target_model_1a2b3c4d5e``; the same file, the same name."""
    resolved = os.path.realpath(path)
    stem = re.sub(r"\W", "_", Path(resolved).stem)
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"gradcheck_target_{stem}_{digest}"


def candidate_names(namespace) -> list[str]:
    """Public names in ``namespace`` that could be a target: objects and factories defined there.

    Modules, names imported from elsewhere (``np``, ``exp``) and plain data (arrays, numbers,
    strings) are left out.
    """
    home = getattr(namespace, "__name__", None)
    names = []
    for name, value in vars(namespace).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if callable(value):
            if getattr(value, "__module__", home) != home:
                continue
        elif not hasattr(value, "loss") and not hasattr(value, "forward"):
            continue
        names.append(name)
    return sorted(names)


def _missing_attribute(where: str, attr: str, namespace) -> str:
    """What to say when ``attr`` is not in ``namespace``: the candidates, and the closest one."""
    part = attr.rsplit(".", 1)[-1]
    candidates = candidate_names(namespace)
    text = f"{where} has no attribute {attr!r}"
    close = difflib.get_close_matches(part, candidates, n=1)
    if close:
        text += f"; did you mean {close[0]!r}?"
    elif not candidates:
        return text + "; define the network object (or a function that builds it) there"
    else:
        text += "."
    shown = ", ".join(candidates[:20]) + (f" and {len(candidates) - 20} more"
                                         if len(candidates) > 20 else "")
    text += f" Names there that could be a target: {shown}."
    return text


def _load_file(path: Path):
    try:
        path.stat()
    except FileNotFoundError:
        pass
    except OSError as exc:  # a name too long, a loop of links, a folder it may not enter
        shown = str(path) if len(str(path)) <= 120 else str(path)[:60] + "..." + str(path)[-40:]
        raise TargetLoadError(f"cannot use the path {shown} ({exc.strerror or exc}); give the path of "
                              "your Python script, e.g. relative to the folder you run gradcheck in") from None
    if path.is_dir():
        raise TargetLoadError(f"{path} is a directory; give the path of a Python file in it, e.g. "
                              f"{path / 'model.py'}:target")
    if not path.is_file():
        raise TargetLoadError(f"no such file: {path}; give the path of your Python script")
    if path.suffix == ".ipynb":
        return _load_notebook(path)
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    directory = os.path.dirname(os.path.realpath(path))
    sys.modules[name] = module
    try:
        with _own_neighbours(directory, name), no_exit("at import"):
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise TargetLoadError(_syntax_message(exc)) from exc
    except TargetLoadError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise TargetLoadError(f"running {path} raised {type(exc).__name__}: {exc}") from exc
    return module


def _load_notebook(path: Path):
    """Run the notebook's code cells in order in a fresh module registered like a script's."""
    cells = code_cells(path)
    name = module_name(path)
    resolved = os.path.realpath(path)
    module = types.ModuleType(name)
    module.__file__ = resolved
    directory = os.path.dirname(resolved)
    sys.modules[name] = module
    try:
        with _own_neighbours(directory, name), no_exit("at import"):
            for cell in cells:
                _run_cell(module, resolved, cell, shown=str(path))
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _run_cell(module, path: str, cell: Cell, *, shown: str) -> None:
    filename = cell_filename(path, cell.number)
    lines = cell.source.splitlines(keepends=True)
    # tracebacks and crash findings show the cell's own lines, as for a file
    linecache.cache[filename] = (len(cell.source), None, lines, filename)
    try:
        code = compile(cell.source, filename, "exec")
    except SyntaxError as exc:
        raise TargetLoadError(f"syntax error in {shown}, cell {cell.number}, line {exc.lineno}: "
                              f"{exc.msg}; fix the cell and run again") from exc
    try:
        exec(code, module.__dict__)  # noqa: S102 - the user's own notebook, as Jupyter runs it
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise TargetLoadError(_cell_error(path, cell, exc, shown)) from exc


def _cell_error(path: str, cell: Cell, exc: Exception, shown: str) -> str:
    """``running a.ipynb: cell 4 raised NameError: ... at line 3: out = relu_fowrard(x)``, and the
    cell and line of a function it called when that is where it raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == cell_filename(path, cell.number)]
    line = own[0] if own else None
    text = f"running {shown}: cell {cell.number} raised {type(exc).__name__}: {exc}"
    if line is not None:
        text += f", at line {line.lineno}" + (f": {line.line.strip()}" if line.line else "")
    inner = next((f for f in reversed(frames) if CELL_FILENAME.match(f.filename)), None)
    if inner is not None and inner is not line and inner.filename != cell_filename(path, cell.number):
        where = CELL_FILENAME.match(inner.filename)
        text += f" (in {inner.name}, cell {where['number']} line {inner.lineno})"
    return text + "; fix the cell (run the notebook from the top to see it fail), then check again"


def _inside(module, directory: str) -> bool:
    file = getattr(module, "__file__", None)
    if not file:
        return False
    return os.path.realpath(file).startswith(directory + os.sep)


@contextlib.contextmanager
def _own_neighbours(directory: str, target: str) -> Iterator[None]:
    """While a target file runs: its folder first on sys.path, other target folders' modules
    out of sys.modules (so ``import helper`` finds this folder's helper), then put back."""
    set_aside = {}
    for folder, modules in _NEIGHBOURS.items():
        if folder == directory:
            continue
        for name, module in modules.items():
            if sys.modules.get(name) is module:
                set_aside[name] = sys.modules.pop(name)
    before = set(sys.modules)
    sys.path.insert(0, directory)  # let the script import its neighbours
    try:
        yield
    finally:
        if directory in sys.path:
            sys.path.remove(directory)
        mine = _NEIGHBOURS.setdefault(directory, {})
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if name != target and _inside(module, directory):
                mine[name] = module
        for name, module in set_aside.items():
            sys.modules.setdefault(name, module)  # this file's own neighbour keeps the name


def exit_call(exc: SystemExit) -> str:
    """The call that raised ``exc`` as a user would write it: ``sys.exit(0)``, ``sys.exit('bye')``."""
    return "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"


def exit_site(exc: BaseException) -> str:
    """``model.py line 12``: the innermost frame of ``exc``'s traceback (where it was raised), or
    where a target in another process raised it (``remote_site``)."""
    remote = getattr(exc, "remote_site", None)
    if isinstance(remote, str):
        return remote
    tb = exc.__traceback__
    if tb is None:
        return "an unknown place"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{os.path.basename(tb.tb_frame.f_code.co_filename)} line {tb.tb_lineno}"


def exit_error(exc: SystemExit, when: str) -> TargetLoadError:
    """The TargetLoadError for a SystemExit raised by user code ``when`` ("at import", "in the
    factory model.py:build"): names the call, the file and the line."""
    return TargetLoadError(
        f"the target called {exit_call(exc)} {when}, in {exit_site(exc)}; a target must not "
        "end the process: remove the call, or put the script part under "
        "`if __name__ == \"__main__\":`")


@contextlib.contextmanager
def no_exit(when: str) -> Iterator[None]:
    """Turn a SystemExit raised by user code inside the block into :func:`exit_error`.

    KeyboardInterrupt and every other exception pass through unchanged. Front ends wrap
    calls of a target's factory in it, e.g. ``with no_exit("in the factory model.py:build"):
    obj = factory()``.
    """
    try:
        yield
    except SystemExit as exc:
        raise exit_error(exc, when) from exc


def _syntax_message(exc: SyntaxError) -> str:
    return f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}; fix the file and run again"
