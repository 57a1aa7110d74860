"""The README's training-speed section (reference_net against a plain NumPy loop), from fake runs."""

import pytest


@pytest.fixture(scope="module")
def speed(load_script):
    return load_script("render_training_speed")


def _train(test, framework, batch, threads, rate):
    return {
        "name": f"{test}[784-10-10-float64-{batch}-{threads}]",
        "stats": {"median": 40_000 / rate},
        "extra_info": {"framework": framework, "network": "784-10-10", "dtype": "float64", "batch_size": batch,
                       "blas_threads": threads, "examples_per_s_median": rate, "examples_per_s_min": rate / 1.25,
                       "examples_per_s_max": rate * 1.1},
    }


DATA = {
    "datetime": "2030-01-02T03:04:05",
    "machine_info": {"bench": {"cpu_model": "Test CPU 9000", "cores": 2, "python": "3.11.7",
                               "numpy": "2.4.6", "blas": "openblas", "torch": None}},
    "benchmarks": [
        _train("test_train_numpy", "numpy", "32", 1, 200_000),
        _train("test_train_plain_loop", "plain", "32", 1, 250_000),
        _train("test_train_numpy", "numpy", "64", 1, 300_000),  # no plain twin: no row
        _train("test_train_numpy", "numpy", "256", 2, 500_000),
        _train("test_train_plain_loop", "plain", "256", 1, 400_000),  # its twin ran on 2 threads: no row
        {"name": "test_time_to_85[sgd-32]", "stats": {"median": 0.09, "min": 0.08, "max": 0.1},
         "extra_info": {"optimizer": "sgd", "batch_size": 32, "lr": 0.1, "epochs": 8, "steps": 1000,
                        "val_accuracy": 0.852}},
    ],
}


def test_rows_pair_reference_net_with_the_plain_loop_on_one_thread(speed):
    text = speed.render(DATA)
    assert "Measured by the training benchmarks on 2030-01-02: Test CPU 9000, 2 cores" in text
    assert "; wall time, medians of 5 rounds" in text
    assert "| 784-10-10 | float64 | 32 | 200,000 (160,000–220,000) | 250,000 (200,000–275,000) | 0.80× |" in text
    assert "| 784-10-10 | float64 | 64 |" not in text and "| 784-10-10 | float64 | 256 |" not in text
    assert "| mini-batch SGD | 0.1 | 32 | 8 | 1,000 | 90 ms (80 ms–100 ms) | 85.2 % |" in text


def test_cpu_timer_is_named(speed):
    benchmarks = [dict(b, options={"timer": "time.process_time"}) for b in DATA["benchmarks"]]
    text = speed.render(dict(DATA, benchmarks=benchmarks))
    assert "CPU time of the process" in text and "| CPU time |" in text and "wall time" not in text


def test_nothing_to_render_is_an_error(speed):
    with pytest.raises(ValueError, match="neither"):
        speed.render(dict(DATA, benchmarks=[]))


def test_only_the_marked_section_changes(speed, tmp_path):
    import json

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- training-speed:start -->\nold\n<!-- training-speed:end -->\nafter\n")
    data = tmp_path / "bench.json"
    data.write_text(json.dumps(DATA))
    assert speed.main([str(data), str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n<!-- training-speed:start -->\n")
    assert text.endswith("<!-- training-speed:end -->\nafter\n")
    assert "old" not in text and "0.80×" in text
