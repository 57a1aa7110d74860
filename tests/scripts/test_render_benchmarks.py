"""The README benchmark renderer, on a small fake pytest-benchmark JSON."""

import json

import pytest


@pytest.fixture(scope="module")
def render(load_script):
    return load_script("render_benchmarks")


def _stats(median, low, high):
    return {"median": median, "min": low, "max": high, "mean": median}


def _train(framework, batch, threads, rate, fraction=0.25):
    test = {"plain": "plain_loop"}.get(framework, framework)
    return {
        "name": f"test_train_{test}[784-10-10-float64-{batch}-{threads}]",
        "params": {"network": "784-10-10", "dtype": "float64", "batch_size": batch, "threads": threads},
        "stats": _stats(40_000 / rate, 40_000 / rate / 1.1, 40_000 / rate * 1.2),
        "extra_info": {
            "framework": framework, "network": "784-10-10", "dtype": "float64", "batch_size": batch,
            "blas_threads": threads, "examples_per_s_median": rate, "examples_per_s_min": rate / 1.2,
            "examples_per_s_max": rate * 1.1, "matmul_fraction": fraction,
        },
    }


FAKE = {
    "datetime": "2030-01-02T03:04:05",
    "machine_info": {"bench": {"cpu_model": "Test CPU 9000", "cores": 2, "python": "3.11.7",
                               "numpy": "2.4.6", "blas": "openblas 0.3.31 (Haswell)", "torch": "2.13.0+cpu"}},
    "benchmarks": [
        _train("numpy", "full", 1, 400_000, 0.30),
        _train("numpy", "full", 2, 600_000),
        _train("numpy", "32", 1, 150_000, 0.08),
        _train("plain", "32", 1, 160_000),
        _train("torch", "full", 1, 800_000),
        _train("torch", "32", 1, 75_000),
        {"name": "test_matmul_peak[float64-1024x1024x1024-1]", "params": {}, "stats": _stats(0.05, 0.049, 0.06),
         "extra_info": {"dtype": "float64", "shape": "1024x1024x1024", "blas_threads": 1,
                        "flops_per_s_median": 43.0e9}},
        {"name": "test_matmul_peak[float64-4000x784x10-1]", "params": {}, "stats": _stats(0.004, 0.0039, 0.0041),
         "extra_info": {"dtype": "float64", "shape": "4000x784x10", "blas_threads": 1,
                        "flops_per_s_median": 17.2e9}},
        {"name": "test_time_to_85[gd-full]", "params": {}, "stats": _stats(9.5, 9.4, 9.9),
         "extra_info": {"optimizer": "gd", "batch_size": "full", "lr": 0.1, "epochs": 865, "steps": 865,
                        "val_accuracy": 0.85}},
        {"name": "test_time_to_85[sgd-32]", "params": {}, "stats": _stats(0.25, 0.24, 0.3),
         "extra_info": {"optimizer": "sgd", "batch_size": 32, "lr": 0.1, "epochs": 8, "steps": 1000,
                        "val_accuracy": 0.852}},
        {"name": "test_check_cost[full-64]", "params": {"mode": "full", "batch_size": 64},
         "stats": _stats(1.5, 1.4, 1.6),
         "extra_info": {"loss_evals": 15922, "evals_fraction_of_full": 1.0, "ratio_to_eval_floor": 1.02}},
        {"name": "test_check_cost[directional-64]", "params": {"mode": "directional", "batch_size": 64},
         "stats": _stats(0.0054, 0.005, 0.006),
         "extra_info": {"loss_evals": 26, "evals_fraction_of_full": 26 / 15922, "ratio_to_eval_floor": 1.3}},
        {"name": "test_torch_gradcheck_cost[full-64]", "params": {"fast_mode": False, "batch_size": 64},
         "stats": _stats(6.0, 5.9, 6.1), "extra_info": {"compare_to": "full", "loss_evals": 15922}},
    ],
}

README = "# title\n\nintro\n\n<!-- benchmarks:start -->\nold table\n<!-- benchmarks:end -->\n\nafter\n"


def test_section_has_machine_tables_and_prose_from_the_numbers(render):
    text = render.render(FAKE)
    assert "Test CPU 9000, 2 cores, Python 3.11.7, NumPy 2.4.6" in text
    assert "PyTorch 2.13.0+cpu" in text and "2030-01-02" in text
    assert "| 784-10-10 | float64 | full (4,000) | 400,000 (333,000–440,000) | 600,000 | — | 30 % | 2.0× | — |" in text
    assert "| 784-10-10 | float64 | 32 | 150,000 (125,000–165,000) | — | 0.94× | 8 % | 0.50× | — |" in text
    assert "reference_net runs at 0.94× its speed (0.94× at batches 32, 64 and 256)" in text
    assert "| full-batch gradient descent | 0.1 | full (4,000) | 865 | 865 | 9.5 s (9.4 s–9.9 s) | 85.0 % |" in text
    assert "| full | 64 | 15,922 | 100 % | 1.5 s (1.4 s–1.6 s) | 1.02 | 6 s (4.0×) |" in text
    assert "| directional | 64 | 26 | 0.16 % | 5.4 ms (5 ms–6 ms) | 1.30 | — |" in text
    assert "| (1024, 1024) @ (1024, 1024) | float64 | 1 | 43.0 |" in text
    assert "fastest batch size on 1 thread is 784-10-10 float64: full (4,000), 400,000 examples/s" in text
    assert "mini-batch SGD at batch 32 is soonest: 250 ms, 8 epochs, 1,000 steps" in text
    assert "full-batch gradient descent needs 865 steps and 9.5 s (38× as long)" in text
    assert "reaches only 40 %" in text
    assert "torch.autograd.gradcheck on the same network takes 4.0×" in text


def test_missing_torch_is_said_and_its_columns_are_dashes(render):
    data = json.loads(json.dumps(FAKE))
    data["machine_info"]["bench"]["torch"] = None
    data["benchmarks"] = [b for b in data["benchmarks"] if "torch" not in b["name"]]
    text = render.render(data)
    assert "PyTorch not installed (its rows are skipped)" in text
    assert "| 784-10-10 | float64 | 32 | 150,000 (125,000–165,000) | — | 0.94× | 8 % | — | — |" in text
    assert "PyTorch** on the CPU" not in text


def test_only_the_marked_section_is_rewritten(render, tmp_path):
    json_path, readme = tmp_path / "benchmarks.json", tmp_path / "README.md"
    json_path.write_text(json.dumps(FAKE), encoding="utf-8")
    readme.write_text(README, encoding="utf-8")
    assert render.main([str(json_path), str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# title\n\nintro\n\n<!-- benchmarks:start -->\n## Benchmarks\n")
    assert text.endswith("<!-- benchmarks:end -->\n\nafter\n")
    assert "old table" not in text
    assert render.main([str(json_path), str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("readme", ["no markers\n", "<!-- benchmarks:end -->\n<!-- benchmarks:start -->\n"])
def test_missing_or_reversed_markers_are_an_error(render, readme):
    with pytest.raises(ValueError, match="benchmarks:start"):
        render.replace_section(readme, "section\n")


PARALLEL = [
    {"name": "test_parallel_check_cost[1]", "params": {"jobs": 1}, "stats": _stats(1.6, 1.55, 1.7),
     "extra_info": {"jobs": 1, "serial_floor_s": 1.5, "ratio_to_serial_floor": 1.07, "load_before": 0.4}},
    {"name": "test_parallel_check_cost[2]", "params": {"jobs": 2}, "stats": _stats(0.85, 0.8, 0.9),
     "extra_info": {"jobs": 2, "serial_floor_s": 1.5, "ratio_to_serial_floor": 0.57, "load_before": 0.5}},
    {"name": "test_time_guard_estimate[128-2]", "params": {"hidden": 128, "jobs": 2}, "stats": _stats(36.0, 36.0, 36.0),
     "extra_info": {"network": "784-128-10", "parameters": 101770, "jobs": 2, "loss_evals": 203542,
                    "estimate_s": 30.0, "time_over_estimate": 1.2}},
    {"name": "test_time_guard_estimate[10-1]", "params": {"hidden": 10, "jobs": 1}, "stats": _stats(1.6, 1.6, 1.6),
     "extra_info": {"network": "784-10-10", "parameters": 7960, "jobs": 1, "loss_evals": 15922,
                    "estimate_s": 1.5, "time_over_estimate": 1.07, "load_before": 0.3,
                    "cpu_per_worker_over_estimate": 1.04}},
]


def test_parallel_checks_and_the_guard_estimate_get_their_tables(render):
    data = json.loads(json.dumps(FAKE))
    data["benchmarks"] += PARALLEL
    text = render.render(data)
    assert "| 1 | 1.6 s (1.55 s–1.7 s) | 1.5 s | 1.07 | 0.4 |" in text
    assert "| 2 | 850 ms (800 ms–900 ms) | 1.5 s | 0.57 | 0.5 |" in text
    guard = text[text.index("### The time guard's estimate"):]
    assert guard.index("| 784-10-10 | 7,960 | 1 | 15,922 | 1.5 s | 1.6 s | 1.07 | 1.04 | 0.3 |") < guard.index(
        "| 784-128-10 | 101,770 | 2 | 203,542 | 30 s | 36 s | 1.20 | — | — |")
    assert "### Checks on several cores" not in render.render(FAKE)
