"""No module imports a stage after its own: the folders show the flow, and it only runs forward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradcheck"

#: The stages in flow order; a module may import its own stage and the ones before it.
STAGES = (
    ("errors", "wording", "text", "threads", "validation", "options", "numeric"),
    ("results", "config", "targets", "adapters", "strategies"),
    ("checks",),
    ("probes",),
    ("engine",),
    ("report", "render"),
    ("frontends", "pytest_plugin", "__main__", "__init__"),
)
STAGE = {name: i for i, names in enumerate(STAGES) for name in names}


def _stage(module: str) -> int:
    """``gradcheck.render.terminal`` -> the stage of ``render``."""
    return STAGE[module.split(".")[1]]


def _module_level_imports(path: Path) -> list[str]:
    """gradcheck modules imported at module level (imports inside functions are lazy, by design)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gradcheck"):
            if node.module == "gradcheck":
                names += [f"gradcheck.{alias.name}" for alias in node.names]
            else:
                names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("gradcheck.")]
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts if parts[-1] != "__init__" or len(parts) == 2 else parts[:-1])


def test_every_module_has_a_stage():
    missing = {_name(p).split(".")[1] for p in MODULES if _name(p) != "gradcheck"} - set(STAGE)
    assert not missing


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_imports_only_run_forward(path):
    name = _name(path)
    own = _stage(name) if name.count(".") >= 1 else _stage("gradcheck.__init__")
    upward = [m for m in _module_level_imports(path) if m != "gradcheck" and _stage(m) > own]
    assert not upward, f"{name} (stage {own}) imports later stages: {upward}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "results").glob("*.py")), ids=lambda p: p.stem)
def test_results_import_no_renderer(path):
    imports = _module_level_imports(path)
    assert not [m for m in imports if m.startswith("gradcheck.render")]
