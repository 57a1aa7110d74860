"""Render a before/after comparison of two benchmark runs as the README's speed-up table.

    python scripts/render_speedups.py BEFORE.json AFTER.json [docs/benchmarks.md] [BEFORE_LABEL]

Both files are pytest-benchmark JSON from the same benchmark tests (``scripts/compare_speedups.sh``
runs them on the old and the new code in one go). Rewrites only the text between
``<!-- speedups:start -->`` and ``<!-- speedups:end -->``. A benchmark present in only one file is
left out; every number comes from the two files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START = "<!-- speedups:start -->"
END = "<!-- speedups:end -->"
_HERE = Path(__file__).resolve().parent


if str(_HERE) not in sys.path:  # the shared table helpers live beside this script
    sys.path.insert(0, str(_HERE))
import render_benchmarks as _RB  # noqa: E402


def _batch(batch) -> str:
    return f"full batch ({_RB.batch_label(batch).split('(')[1]}" if str(batch) == "full" else f"batch {batch}"


def describe(bench: dict) -> str:
    """What a benchmark measures, in words: "training 784-128-10 float64, batch 64 (1 thread)"."""
    test, params = _RB._test(bench), bench["name"].split("[", 1)[-1].rstrip("]")
    info = bench.get("extra_info", {})
    if test == "test_train_numpy":
        threads = int(info.get("blas_threads", 1))
        return (f"10 epochs of SGD, {info['network']} {info['dtype']}, {_batch(info['batch_size'])}"
                + (f" ({threads} threads)" if threads > 1 else ""))
    if test == "test_time_to_85":
        run, batch = params.split("-", 1)
        return f"to 85 % held out: {_RB.RUN_LABELS.get(run, run)}, {_batch(batch)}"
    if test == "test_check_cost":
        mode, batch = params.split("-", 1)
        return f"gradient check of 784-10-10, {_RB.MODE_LABELS.get(mode, mode)} mode, batch {batch}"
    return bench["name"]


def rows(before: dict, after: dict) -> list[tuple[str, float, float]]:
    """``(description, before median s, after median s)`` for benchmarks in both runs, in
    the after run's order."""
    old = {b["name"]: b for b in before.get("benchmarks", [])}
    out = []
    for bench in after.get("benchmarks", []):
        match = old.get(bench["name"])
        if match is not None:
            out.append((describe(bench), match["stats"]["median"], bench["stats"]["median"]))
    return out


def render(before: dict, after: dict, before_label: str) -> str:
    table = [[what, _RB.fmt_seconds(b), _RB.fmt_seconds(a), f"{b / a:.2f}×"]
             for what, b, a in rows(before, after)]
    if not table:
        raise ValueError("the two benchmark files have no benchmark in common")
    machine = _RB.machine_line(after).split(", PyTorch")[0].replace(
        "Measured by the benchmark suite (`tox -e bench`)", "Measured by `tox -e speedups`")
    lines = [
        f"{machine}: the same benchmarks on the code before the speed-ups ({before_label}) and on "
        "this code, one after the other, BLAS on 1 thread; medians.",
        "",
        *_RB._table(["benchmark", "before", "after", "speed-up"], table),
    ]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    return _RB.replace_section(text, section, START, END)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in argv[:2])
    readme = Path(argv[2] if len(argv) > 2 else "docs/benchmarks.md")
    label = argv[3] if len(argv) > 3 else "the previous commit"
    readme.write_text(replace_section(readme.read_text(encoding="utf-8"), render(before, after, label)),
                      encoding="utf-8")
    print(f"{readme}: speed-up table rewritten from {argv[0]} and {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
