"""What a newcomer's install costs: the README's first command, measured in a new virtualenv.

    python3 scripts/measure_install.py [checkout]      (default: this checkout)

Prints the time of ``pip install -q --no-compile .``, the virtualenv's size on disk when empty,
after the install, and after ``gradcheck report`` has run once (Python then writes bytecode for
the modules it imported), and five timings of ``gradcheck check --mode directional`` on the
default target: wall time with the interpreter's start, the imports and the data included.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def size_mib(folder: Path) -> float:
    """Disk usage as ``du`` counts it (allocated blocks), in MiB."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_blocks * 512
    return total / 2 ** 20


#: As on a user's machine: Python may write bytecode next to the modules it imports.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=ENVIRONMENT)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    checkout = Path(argv[0] if argv else Path(__file__).resolve().parent.parent).resolve()
    with tempfile.TemporaryDirectory() as work:
        venv, run = Path(work) / "venv", Path(work) / "run"
        run.mkdir()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        empty = size_mib(venv)
        install = timed([str(venv / "bin" / "pip"), "install", "-q", "--no-compile", str(checkout)], run)
        installed = size_mib(venv)
        timed([str(venv / "bin" / "gradcheck"), "report"], run)
        after = size_mib(venv)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average {load:.1f}")
        print(f"pip install -q --no-compile .: {install:.1f} s")
        print(f"virtualenv on disk: {empty:.0f} MiB empty, {installed:.0f} MiB installed, "
              f"{after:.0f} MiB after gradcheck report")
        runs = [timed([str(venv / "bin" / "gradcheck"), "check", "--mode", "directional"], run)
                for _ in range(5)]
        print("gradcheck check --mode directional: " + ", ".join(f"{t:.2f}" for t in runs) + " s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
