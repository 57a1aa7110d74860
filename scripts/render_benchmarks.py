"""Render the benchmark JSON (pytest-benchmark) as the README's benchmark section.

    python scripts/render_benchmarks.py [reports/benchmarks.json] [docs/benchmarks.md]

Rewrites only the text between ``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->``.
Every number in that section comes from the JSON; the prose is written from the same numbers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START = "<!-- benchmarks:start -->"
END = "<!-- benchmarks:end -->"
BATCH_ORDER = ["full", "32", "64", "128", "256"]
MODE_LABELS = {"full": "full", "sample": "sample (64 per parameter)", "directional": "directional"}
RUN_LABELS = {"gd": "full-batch gradient descent", "sgd": "mini-batch SGD", "adam": "mini-batch Adam"}


# -- formatting ------------------------------------------------------------------------------
def fmt_seconds(seconds: float) -> str:
    """0.91 s, 18 ms, 2.4 ms, 45 us: three significant digits at most."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:,.0f} {unit}"
    return f"{seconds:.3g} s"


def fmt_range(median: float, low: float, high: float, fmt) -> str:
    """Median, then min-max in brackets."""
    return f"{fmt(median)} ({fmt(low)}–{fmt(high)})"


def fmt_rate(value: float) -> str:
    """Examples per second to three significant digits: 143,000 or 1.23 M."""
    if value >= 1e6:
        return f"{value / 1e6:.3g} M"
    if value >= 1000:
        return f"{float(f'{value:.3g}'):,.0f}"
    return f"{value:.3g}"


def fmt_ratio(value: float) -> str:
    """2.0×, 0.46×, 38×."""
    return f"{value:#.2g}×" if value < 10 else f"{value:.0f}×"


def fmt_span(low: float, high: float, fmt) -> str:
    """low–high, or one number when both print the same."""
    a, b = fmt(low), fmt(high)
    return a if a == b else f"{a}–{b}"


def fmt_percent(fraction: float) -> str:
    return f"{100 * fraction:.2g} %" if fraction < 0.1 else f"{100 * fraction:.0f} %"


def fmt_count(n) -> str:
    return f"{int(n):,}"


def batch_label(batch) -> str:
    return "full (4,000)" if str(batch) == "full" else str(batch)


# -- reading -------------------------------------------------------------------------------
def _test(bench: dict) -> str:
    return bench["name"].split("[", 1)[0]


def _by_test(data: dict, name: str) -> list[dict]:
    return [b for b in data.get("benchmarks", []) if _test(b) == name]


def _stats(bench: dict) -> tuple[float, float, float]:
    stats = bench["stats"]
    return stats["median"], stats["min"], stats["max"]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _training_rows(data: dict) -> dict:
    """{(framework, network, dtype, batch, threads): benchmark}."""
    rows = {}
    for name in ("test_train_numpy", "test_train_plain_loop", "test_train_torch"):
        for bench in _by_test(data, name):
            info = bench["extra_info"]
            key = (info["framework"], info["network"], info["dtype"], str(info["batch_size"]),
                   int(info["blas_threads"]))
            rows[key] = bench
    return rows


def _sort_key(key):
    framework, network, dtype, batch, threads = key
    return (int(network.split("-")[1]), dtype, BATCH_ORDER.index(batch) if batch in BATCH_ORDER else 99, threads)


# -- sections ------------------------------------------------------------------------------
def machine_line(data: dict) -> str:
    info = data.get("machine_info", {}).get("bench", {})
    torch = info.get("torch") or "not installed (its rows are skipped)"
    date = str(data.get("datetime", ""))[:10]
    return (
        f"Measured by the benchmark suite (`tox -e bench`) on {date}: {info.get('cpu_model', '?')}, "
        f"{info.get('cores', '?')} cores, "
        f"Python {info.get('python', '?')}, NumPy {info.get('numpy', '?')} (BLAS: {info.get('blas', '?')}), "
        f"PyTorch {torch}. BLAS (and PyTorch) run on 1 thread unless a column says 2; "
        "times are medians with the minimum and maximum in brackets."
    )


def training_table(data: dict) -> list[str]:
    rows = _training_rows(data)
    numpy_keys = sorted((k for k in rows if k[0] == "numpy" and k[4] == 1), key=_sort_key)
    if not numpy_keys:
        return []
    out = []
    for key in numpy_keys:
        _, network, dtype, batch, _ = key
        one = rows[key]["extra_info"]
        two = rows.get(("numpy", network, dtype, batch, 2))
        torch_one = rows.get(("torch", network, dtype, batch, 1))
        torch_two = rows.get(("torch", network, dtype, batch, 2))
        plain = rows.get(("plain", network, dtype, batch, 1))
        out.append([
            network, dtype, batch_label(batch),
            fmt_range(one["examples_per_s_median"], one["examples_per_s_min"], one["examples_per_s_max"], fmt_rate),
            fmt_rate(two["extra_info"]["examples_per_s_median"]) if two else "—",
            fmt_ratio(one["examples_per_s_median"] / plain["extra_info"]["examples_per_s_median"]) if plain else "—",
            fmt_percent(one["matmul_fraction"]),
            fmt_ratio(torch_one["extra_info"]["examples_per_s_median"] / one["examples_per_s_median"])
            if torch_one else "—",
            fmt_ratio(torch_two["extra_info"]["examples_per_s_median"] / two["extra_info"]["examples_per_s_median"])
            if torch_two and two else "—",
        ])
    header = ["network", "dtype", "batch", "examples/s, 1 thread", "2 threads", "of plain loop", "of matmul limit",
              "PyTorch / NumPy", "PyTorch / NumPy, 2 threads"]
    return _table(header, out)


def matmul_table(data: dict) -> list[str]:
    out = []
    for bench in sorted(_by_test(data, "test_matmul_peak"),
                        key=lambda b: (b["extra_info"]["shape"] != "1024x1024x1024", b["extra_info"]["dtype"],
                                       b["extra_info"]["blas_threads"])):
        info = bench["extra_info"]
        m, k, n = info["shape"].split("x")
        out.append([f"({m}, {k}) @ ({k}, {n})", info["dtype"], str(info["blas_threads"]),
                    f"{info['flops_per_s_median'] / 1e9:.1f}"])
    return _table(["np.matmul", "dtype", "threads", "GFLOP/s (median)"], out) if out else []


def time_to_accuracy_table(data: dict) -> list[str]:
    benches = _by_test(data, "test_time_to_85")
    order = {"gd": 0, "sgd": 1, "adam": 2}
    out = []
    for bench in sorted(benches, key=lambda b: (order.get(b["extra_info"]["optimizer"], 9),
                                                BATCH_ORDER.index(str(b["extra_info"]["batch_size"])))):
        info = bench["extra_info"]
        out.append([
            RUN_LABELS.get(info["optimizer"], info["optimizer"]), f"{info['lr']:g}",
            batch_label(info["batch_size"]), fmt_count(info["epochs"]), fmt_count(info["steps"]),
            fmt_range(*_stats(bench), fmt_seconds), f"{100 * info['val_accuracy']:.1f} %",
        ])
    header = ["run", "lr", "batch", "epochs", "steps (loss evaluations)", "wall time", "held-out accuracy"]
    return _table(header, out) if out else []


def checker_table(data: dict) -> list[str]:
    ours = {b["params"]["mode"]: {} for b in _by_test(data, "test_check_cost")}
    for bench in _by_test(data, "test_check_cost"):
        ours[bench["params"]["mode"]][int(bench["params"]["batch_size"])] = bench
    theirs = {}
    for bench in _by_test(data, "test_torch_gradcheck_cost"):
        theirs[(bench["extra_info"]["compare_to"], int(bench["params"]["batch_size"]))] = bench
    out = []
    for mode in [m for m in MODE_LABELS if m in ours]:
        for batch in sorted(ours[mode]):
            bench = ours[mode][batch]
            info = bench["extra_info"]
            torch = theirs.get((mode, batch))
            torch_cell = "—"
            if torch:
                ratio = torch["stats"]["median"] / bench["stats"]["median"]
                torch_cell = f"{fmt_seconds(torch['stats']['median'])} ({fmt_ratio(ratio)})"
            out.append([
                MODE_LABELS[mode], str(batch), fmt_count(info["loss_evals"]),
                fmt_percent(info["evals_fraction_of_full"]), fmt_range(*_stats(bench), fmt_seconds),
                f"{info['ratio_to_eval_floor']:.2f}",
                torch_cell,
            ])
    header = ["mode", "batch", "loss calls", "share of full mode's calls", "time", "time / floor",
              "torch.autograd.gradcheck (× ours)"]
    return _table(header, out) if out else []


def _load_cell(info: dict) -> str:
    return f"{info['load_before']:.1f}" if "load_before" in info else "—"


def parallel_table(data: dict) -> list[str]:
    """A full 784-10-10 check on 1 and on N worker processes, against the serial floor."""
    out = []
    for bench in sorted(_by_test(data, "test_parallel_check_cost"), key=lambda b: b["extra_info"]["jobs"]):
        info = bench["extra_info"]
        out.append([
            str(info["jobs"]), fmt_range(*_stats(bench), fmt_seconds), fmt_seconds(info["serial_floor_s"]),
            f"{info['ratio_to_serial_floor']:.2f}", _load_cell(info),
        ])
    header = ["jobs", "time", "serial floor (2n + 2 calls)", "time / serial floor", "load average"]
    return _table(header, out) if out else []


def guard_table(data: dict) -> list[str]:
    """The time guard's estimate of each benchmark network's full check, and the time it took."""
    out = []
    runs = _by_test(data, "test_time_guard_estimate")
    for bench in sorted(runs, key=lambda b: (b["extra_info"]["parameters"], b["extra_info"]["jobs"])):
        info = bench["extra_info"]
        out.append([
            info["network"], fmt_count(info["parameters"]), str(info["jobs"]), fmt_count(info["loss_evals"]),
            fmt_seconds(info["estimate_s"]), fmt_seconds(bench["stats"]["median"]),
            f"{info['time_over_estimate']:.2f}",
            f"{info['cpu_per_worker_over_estimate']:.2f}" if "cpu_per_worker_over_estimate" in info else "—",
            _load_cell(info),
        ])
    header = ["network", "parameters", "jobs", "loss calls", "estimate", "time", "time / estimate",
              "CPU time per worker / estimate", "load average"]
    return _table(header, out) if out else []


# -- prose ---------------------------------------------------------------------------------
def summary(data: dict) -> list[str]:
    """A paragraph answering the usual questions, from the same numbers as the tables."""
    text = _throughput_sentences(data) + _time_to_accuracy_sentences(data) + _checker_sentences(data)
    return [" ".join(text)] if text else []


def _throughput_sentences(data: dict) -> list[str]:
    text = []
    rows = _training_rows(data)
    numpy_one = {k: b["extra_info"] for k, b in rows.items() if k[0] == "numpy" and k[4] == 1}
    if numpy_one:
        best = []
        for network in sorted({k[1] for k in numpy_one}, key=lambda s: int(s.split("-")[1])):
            for dtype in sorted({k[2] for k in numpy_one if k[1] == network}):
                cands = {k[3]: v for k, v in numpy_one.items() if k[1] == network and k[2] == dtype}
                batch = max(cands, key=lambda b: cands[b]["examples_per_s_median"])
                slow = min(cands, key=lambda b: cands[b]["examples_per_s_median"])
                best.append((network, dtype, batch, cands[batch]["examples_per_s_median"], slow,
                             cands[slow]["examples_per_s_median"]))
        parts = [f"{n} {d}: {batch_label(b)}, {fmt_rate(r)} examples/s, against {fmt_rate(sr)} at batch "
                 f"{batch_label(s)}" for n, d, b, r, s, sr in best]
        text.append("**Per example**, the fastest batch size on 1 thread is " + "; ".join(parts) + ".")
        fractions = [v["matmul_fraction"] for v in numpy_one.values()]
        per_net = {}
        for k, v in numpy_one.items():
            per_net.setdefault(k[1], []).append(v["matmul_fraction"])
        net_parts = [f"{net} {fmt_span(min(f), max(f), fmt_percent)}" for net, f in
                     sorted(per_net.items(), key=lambda item: int(item[0].split("-")[1]))]
        skinny = [b["extra_info"] for b in _by_test(data, "test_matmul_peak")
                  if b["extra_info"]["shape"] == "4000x784x10" and b["extra_info"]["blas_threads"] == 1]
        peaks = {b["extra_info"]["dtype"]: b["extra_info"]["flops_per_s_median"]
                 for b in _by_test(data, "test_matmul_peak")
                 if b["extra_info"]["shape"] == "1024x1024x1024" and b["extra_info"]["blas_threads"] == 1}
        sentence = (f"**Matrix-multiply limit:** a training step's multiplies run at {fmt_percent(min(fractions))} "
                    f"to {fmt_percent(max(fractions))} of a large np.matmul's FLOP rate ({'; '.join(net_parts)})")
        if skinny and peaks:
            ratios = [s["flops_per_s_median"] / peaks[s["dtype"]] for s in skinny if s["dtype"] in peaks]
            if ratios:
                sentence += (f"; a single (4000, 784) @ (784, 10) product, the largest in a 784-10-10 step, "
                             f"reaches only {fmt_span(min(ratios), max(ratios), fmt_percent)} by itself, so the "
                             "narrow network cannot get near the limit")
        text.append(sentence + ".")
        plain_ratios = {k: v["examples_per_s_median"] / rows[("plain",) + k[1:]]["extra_info"]["examples_per_s_median"]
                        for k, v in numpy_one.items() if ("plain",) + k[1:] in rows}
        if plain_ratios:
            small = [r for k, r in plain_ratios.items() if k[3] in ("32", "64", "256")]
            sentence = (f"**Against a plain NumPy loop** doing the same arithmetic (it ends on the same weights, "
                        f"bit for bit), reference_net runs at "
                        f"{fmt_span(min(plain_ratios.values()), max(plain_ratios.values()), fmt_ratio)} its speed")
            if small:
                sentence += f" ({fmt_span(min(small), max(small), fmt_ratio)} at batches 32, 64 and 256)"
            text.append(sentence + ".")
        torch_ratios = {k: rows[("torch",) + k[1:]]["extra_info"]["examples_per_s_median"] / v["examples_per_s_median"]
                        for k, v in numpy_one.items() if ("torch",) + k[1:] in rows}
        if torch_ratios:
            small = [r for k, r in torch_ratios.items() if k[3] in ("32", "64")]
            large = [r for k, r in torch_ratios.items() if k[3] in ("full", "256")]
            sentence = (f"**PyTorch** on the CPU runs the same loop at {fmt_ratio(min(torch_ratios.values()))} to "
                        f"{fmt_ratio(max(torch_ratios.values()))} NumPy's examples/s")
            if small and large:
                sentence += (f" ({fmt_span(min(small), max(small), fmt_ratio)} at batches 32 and 64, "
                             f"{fmt_span(min(large), max(large), fmt_ratio)} at 256 and full batch)")
            text.append(sentence + ".")
    return text


def _time_to_accuracy_sentences(data: dict) -> list[str]:
    text = []
    runs = _by_test(data, "test_time_to_85")
    if runs:
        soonest = min(runs, key=lambda b: b["stats"]["median"])
        info = soonest["extra_info"]
        sentence = (f"**To 85 % held out**, {RUN_LABELS[info['optimizer']]} at batch {batch_label(info['batch_size'])} "
                    f"is soonest: {fmt_seconds(soonest['stats']['median'])}, {info['epochs']} epochs, "
                    f"{fmt_count(info['steps'])} steps")
        full = [b for b in runs if str(b["extra_info"]["batch_size"]) == "full"]
        if full:
            f = full[0]
            sentence += (f"; the articles' full-batch gradient descent needs {fmt_count(f['extra_info']['steps'])} "
                         f"steps and {fmt_seconds(f['stats']['median'])} "
                         f"({fmt_ratio(f['stats']['median'] / soonest['stats']['median'])} as long)")
        text.append(sentence + ".")
    return text


def _checker_sentences(data: dict) -> list[str]:
    text = []
    checks = {(b["params"]["mode"], int(b["params"]["batch_size"])): b for b in _by_test(data, "test_check_cost")}
    if checks:
        parts = []
        for mode in MODE_LABELS:
            batches = sorted(batch for m, batch in checks if m == mode)
            if batches:
                times = ", ".join(f"{fmt_seconds(checks[(mode, b)]['stats']['median'])} at batch {b}" for b in batches)
                calls = fmt_count(checks[(mode, batches[0])]["extra_info"]["loss_evals"])
                parts.append(f"{mode} mode {calls} loss calls, {times}")
        floors = [b["extra_info"]["ratio_to_eval_floor"] for b in checks.values()]
        sentence = (f"**A gradient check** of 784-10-10 costs: {'; '.join(parts)}; that is {min(floors):.2f} to "
                    f"{max(floors):.2f} times the loss calls' own time")
        torch_full = [b for b in _by_test(data, "test_torch_gradcheck_cost") if b["extra_info"]["compare_to"] == "full"]
        ratios = [t["stats"]["median"] / checks[("full", int(t["params"]["batch_size"]))]["stats"]["median"]
                  for t in torch_full if ("full", int(t["params"]["batch_size"])) in checks]
        if ratios:
            sentence += (f"; torch.autograd.gradcheck on the same network takes "
                         f"{fmt_span(min(ratios), max(ratios), fmt_ratio)} our full mode's time")
        text.append(sentence + ".")
    return text


def render(data: dict) -> str:
    """The whole README section (without the markers)."""
    lines = ["## Benchmarks", "", machine_line(data), ""]
    lines += summary(data) + [""]
    sections = [
        ("### Training throughput",
         "SGD on the 4,000 training images, 10 epochs per round; examples/s is a median (min–max). "
         "\"Of plain loop\" is reference_net's examples/s over those of the same arithmetic written as a "
         "plain NumPy loop (`tests/benchmarks/workloads.py`), measured right after it. "
         "\"Of matmul limit\" is the FLOP rate of the step's matrix multiplies (forward, dW, and dX "
         "except for the first layer) over that of a (1024, 1024) @ (1024, 1024) np.matmul, same dtype "
         "and threads. PyTorch runs the same network, initial weights and loop.", training_table(data)),
        ("### The matrix-multiply limit", "", matmul_table(data)),
        ("### Time to 85 % held-out accuracy",
         "784-10-10, ReLU/softmax, the articles' uniform(-0.5, 0.5) weights, seed 0, float64, 1,000 "
         "held-out images; epochs and steps are exact for the seed, wall time includes one held-out "
         "evaluation per epoch.", time_to_accuracy_table(data)),
        ("### What a check costs",
         "784-10-10 (7,960 parameters) on real MNIST, float64; the floor is the number of loss calls "
         "times one call's time. torch.autograd.gradcheck runs on the same weights and batch "
         "(fast_mode for the directional row).", checker_table(data)),
        ("### Checks on several cores",
         "The same full check at batch 64 with `jobs` worker processes; the serial floor is 2n + 2 "
         "loss calls at one call's time, which only workers can beat. The load average (1 minute, "
         "at the start) tells a quiet machine's numbers from a busy one's.", parallel_table(data)),
        ("### The time guard's estimate",
         "Full checks at batch 64: the time guard's estimate, made before the first difference, "
         "against the time the check then took (one run each; with 2 jobs under the default "
         "max_seconds=60). Other processes on the machine stretch the time but not the CPU time "
         "the check's processes use, shown per worker.", guard_table(data)),
    ]
    for title, note, table in sections:
        if table:
            lines += [title, ""] + ([note, ""] if note else []) + table + [""]
    return "\n".join(lines).rstrip() + "\n"


def replace_section(text: str, section: str, start_marker: str = START, end_marker: str = END) -> str:
    """``text`` with everything between the two markers replaced by ``section``."""
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"README: expected the markers {start_marker} and {end_marker}, in that order")
    return text[: start + len(start_marker)] + "\n" + section + text[end:]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    json_path = Path(argv[0] if argv else "reports/benchmarks.json")
    readme_path = Path(argv[1] if len(argv) > 1 else "docs/benchmarks.md")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    readme_path.write_text(replace_section(readme_path.read_text(encoding="utf-8"), render(data)), encoding="utf-8")
    print(f"{readme_path}: benchmark section rewritten from {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
