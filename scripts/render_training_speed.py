"""Render reference_net's training speed against a plain NumPy loop, and its time to 85 % held out,
as the training-speed section of docs/reference-network.md.

    python scripts/render_training_speed.py [reports/benchmarks.json] [docs/reference-network.md]

Reads pytest-benchmark JSON holding test_train_numpy and test_train_plain_loop (1 BLAS thread) and
test_time_to_85 from tests/benchmarks; a run of only those benchmarks will do. Rewrites only the
text between ``<!-- training-speed:start -->`` and ``<!-- training-speed:end -->``; every number
comes from the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START = "<!-- training-speed:start -->"
END = "<!-- training-speed:end -->"
_HERE = Path(__file__).resolve().parent


if str(_HERE) not in sys.path:  # the shared table helpers live beside this script
    sys.path.insert(0, str(_HERE))
import render_benchmarks as _RB  # noqa: E402


def plain_loop_table(data: dict) -> list[str]:
    """One row per network, dtype and batch measured both ways on 1 thread."""
    rows = _RB._training_rows(data)
    out = []
    for key in sorted((k for k in rows if k[0] == "numpy" and k[4] == 1 and ("plain",) + k[1:] in rows),
                      key=_RB._sort_key):
        ours, plain = rows[key]["extra_info"], rows[("plain",) + key[1:]]["extra_info"]
        out.append([key[1], key[2], _RB.batch_label(key[3]),
                    _RB.fmt_range(ours["examples_per_s_median"], ours["examples_per_s_min"],
                                  ours["examples_per_s_max"], _RB.fmt_rate),
                    _RB.fmt_range(plain["examples_per_s_median"], plain["examples_per_s_min"],
                                  plain["examples_per_s_max"], _RB.fmt_rate),
                    _RB.fmt_ratio(ours["examples_per_s_median"] / plain["examples_per_s_median"])])
    header = ["network", "dtype", "batch", "reference_net, examples/s", "plain NumPy loop, examples/s",
              "reference_net / plain loop"]
    return _RB._table(header, out) if out else []


def render(data: dict) -> str:
    machine = _RB.machine_line(data).split(", PyTorch")[0].replace(
        "Measured by the benchmark suite (`tox -e bench`)", "Measured by the training benchmarks")
    timers = {b.get("options", {}).get("timer", "perf_counter") for b in data.get("benchmarks", [])}
    cpu = all("process_time" in str(timer) for timer in timers)
    clock = "CPU time of the process (`--benchmark-timer time.process_time`)" if cpu else "wall time"
    lines = [f"{machine}; BLAS on 1 thread (threadpoolctl); {clock}, medians of 5 rounds with the minimum "
             "and maximum in brackets, each plain-loop benchmark run right after reference_net's.", ""]
    plain = plain_loop_table(data)
    if plain:
        lines += ["SGD (lr 0.1) on the 4,000 training images, 10 epochs per round, the same initial weights "
                  "and shuffles; the plain loop ends on the same weights, bit for bit.", ""] + plain + [""]
    reach = _RB.time_to_accuracy_table(data)
    if reach and cpu:
        reach[0] = reach[0].replace("| wall time |", "| CPU time |")
    if reach:
        lines += ["Time to 85 % held-out accuracy: 784-10-10, ReLU/softmax, uniform(-0.5, 0.5) weights, "
                  "seed 0, float64; the time includes one held-out evaluation per epoch.", ""] + reach + [""]
    if not plain and not reach:
        raise ValueError("the benchmark file has neither plain-loop pairs nor time-to-85 % runs")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    json_path = Path(argv[0] if argv else "reports/benchmarks.json")
    readme = Path(argv[1] if len(argv) > 1 else "docs/reference-network.md")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    readme.write_text(_RB.replace_section(readme.read_text(encoding="utf-8"), render(data), START, END),
                      encoding="utf-8")
    print(f"{readme}: training-speed section rewritten from {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
