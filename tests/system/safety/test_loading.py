"""Target files load as modules of their own, with their own neighbours, and never exit."""

from __future__ import annotations

import pickle
import sys

import pytest

from gradcheck.errors import TargetLoadError
from gradcheck.targets.loading import load_object, module_name, no_exit

MODEL = '''
import helper


class Net:
    def __init__(self):
        self.kind = helper.KIND


def build():
    return Net()
'''


@pytest.fixture
def two_folders(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "model.py").write_text(MODEL)
        (tmp_path / folder / "helper.py").write_text(f"KIND = {folder!r}\n")
    yield tmp_path
    sys.modules.pop("helper", None)


def test_same_basename_loads_two_modules_each_with_its_own_helper(two_folders):
    build_a = load_object(f"{two_folders}/a/model.py:build")
    build_b = load_object(f"{two_folders}/b/model.py:build")
    assert build_a().kind == "a"
    assert build_b().kind == "b"
    assert build_a.__module__ != build_b.__module__
    assert sys.modules[build_a.__module__].__file__.endswith("a/model.py")
    # loading a again after b still gives a's helper
    assert load_object(f"{two_folders}/a/model.py:build")().kind == "a"


def test_loaded_objects_pickle(two_folders):
    build = load_object(f"{two_folders}/a/model.py:build")
    net = build()
    load_object(f"{two_folders}/b/model.py:build")  # a second model.py does not take a's name
    assert pickle.loads(pickle.dumps(net)).kind == "a"
    assert pickle.loads(pickle.dumps(build)) is build


def test_module_name_is_stable_per_file_and_differs_across_folders(two_folders):
    a, b = two_folders / "a" / "model.py", two_folders / "b" / "model.py"
    assert module_name(a) == module_name(str(a)) != module_name(b)
    assert module_name(a).isidentifier() and "model" in module_name(a)


@pytest.mark.parametrize("code, shown", [("0", "sys.exit(0)"), ("'bye'", "sys.exit('bye')"),
                                         ("", "sys.exit()"), ("3", "sys.exit(3)")])
def test_sys_exit_at_import_is_a_load_error_naming_file_and_line(tmp_path, code, shown):
    (tmp_path / "model.py").write_text(f"import sys\n\nW = 1\nsys.exit({code})\n")
    with pytest.raises(TargetLoadError) as info:
        load_object(f"{tmp_path}/model.py:W")
    assert str(info.value).startswith(f"the target called {shown} at import, in model.py line 4;")
    assert "__main__" in str(info.value)


def test_raise_systemexit_in_an_imported_module_names_that_module(tmp_path, monkeypatch):
    (tmp_path / "exiting_pkg_mod.py").write_text("x = 1\nraise SystemExit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TargetLoadError, match=r"sys.exit\(0\) at import, in exiting_pkg_mod.py line 2"):
        load_object("exiting_pkg_mod:x")
    assert "exiting_pkg_mod" not in sys.modules


def test_sys_exit_in_a_factory_is_a_load_error(tmp_path):
    (tmp_path / "model.py").write_text("import sys\n\n\ndef build():\n    sys.exit('bye')\n")
    build = load_object(f"{tmp_path}/model.py:build")
    with pytest.raises(TargetLoadError, match=r"sys.exit\('bye'\) in the factory build\(\), in model.py line 5"):
        with no_exit("in the factory build()"):
            build()


def test_keyboard_interrupt_at_import_still_propagates(tmp_path):
    (tmp_path / "model.py").write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_object(f"{tmp_path}/model.py:W")
