"""Load a target from ``package.module:attr`` or ``path/to/file.py:attr``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from gradcheck.errors import TargetLoadError


def load_object(spec: str):
    """Import the object named by ``spec``; every failure is one TargetLoadError line."""
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
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _load_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise TargetLoadError(
                f"no module named {exc.name!r} (from target {spec!r}); check the spelling, install "
                "the package, or give a file path such as path/to/file.py:attr"
            ) from exc
        except SyntaxError as exc:
            raise TargetLoadError(_syntax_message(exc)) from exc
        except Exception as exc:
            raise TargetLoadError(f"importing {where} raised {type(exc).__name__}: {exc}") from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            available = sorted(n for n in dir(module) if not n.startswith("_"))[:12]
            raise TargetLoadError(
                f"{where} has no attribute {attr!r}; define it there, or pick one of {available}"
            ) from None
    return obj


def _load_file(path: Path):
    if path.is_dir():
        raise TargetLoadError(f"{path} is a directory; give the path of a Python file in it, e.g. "
                              f"{path / 'model.py'}:target")
    if not path.is_file():
        raise TargetLoadError(f"no such file: {path}; give the path of your Python script")
    name = "gradcheck_target_" + path.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    directory = str(path.resolve().parent)
    sys.path.insert(0, directory)  # let the script import its neighbours
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise TargetLoadError(_syntax_message(exc)) from exc
    except Exception as exc:
        raise TargetLoadError(f"running {path} raised {type(exc).__name__}: {exc}") from exc
    finally:
        if sys.path and sys.path[0] == directory:
            sys.path.pop(0)
    return module


def _syntax_message(exc: SyntaxError) -> str:
    return f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}; fix the file and run again"
