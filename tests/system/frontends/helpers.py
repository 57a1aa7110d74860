"""Target files for the end-to-end tests of the command line and the plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.system.safety.submissions import write_submission

ROOT = Path(__file__).resolve().parents[3]


def network(folder: Path, name: str = "model", **hooks: str) -> str:
    """A two-layer network file ``folder/name.py`` with ``build()``; hooks as in submissions."""
    from tests.system.safety import submissions

    kind = f"_custom_{name}"
    submissions.KINDS[kind] = (hooks, "ok", None)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return write_submission(folder, name, kind)
    finally:
        del submissions.KINDS[kind]


def gradcheck(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m gradcheck ARGS`` in ``cwd``, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "gradcheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
