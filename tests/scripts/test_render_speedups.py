"""The README's before/after speed-up table, rendered from two small fake benchmark runs."""

import json

import pytest


@pytest.fixture(scope="module")
def speedups(load_script):
    return load_script("render_speedups")


def _run(medians: dict) -> dict:
    infos = {
        "test_train_numpy[784-128-10-float32-64-1]": {"network": "784-128-10", "dtype": "float32",
                                                      "batch_size": "64", "blas_threads": 1},
        "test_time_to_85[gd-full]": {},
        "test_check_cost[full-64]": {},
    }
    return {
        "datetime": "2030-01-02T03:04:05",
        "machine_info": {"bench": {"cpu_model": "Test CPU 9000", "cores": 2, "python": "3.11.7",
                                   "numpy": "2.4.6", "blas": "openblas", "torch": None}},
        "benchmarks": [{"name": name, "stats": {"median": median}, "extra_info": infos[name]}
                       for name, median in medians.items()],
    }


BEFORE = _run({"test_train_numpy[784-128-10-float32-64-1]": 0.9, "test_time_to_85[gd-full]": 17.1,
               "test_check_cost[full-64]": 2.0})
AFTER = _run({"test_train_numpy[784-128-10-float32-64-1]": 0.36, "test_time_to_85[gd-full]": 9.5,
              "test_check_cost[full-64]": 1.6})


def test_rows_compare_medians_of_the_same_benchmark(speedups):
    text = speedups.render(BEFORE, AFTER, "abc1234")
    assert "Test CPU 9000, 2 cores, Python 3.11.7, NumPy 2.4.6" in text and "(abc1234)" in text
    assert "PyTorch" not in text
    assert "| 10 epochs of SGD, 784-128-10 float32, batch 64 | 900 ms | 360 ms | 2.50× |" in text
    assert "| to 85 % held out: full-batch gradient descent, full batch (4,000) | 17.1 s | 9.5 s | 1.80× |" in text
    assert "| gradient check of 784-10-10, full mode, batch 64 | 2 s | 1.6 s | 1.25× |" in text


def test_a_benchmark_missing_from_one_run_is_left_out(speedups):
    before = json.loads(json.dumps(BEFORE))
    before["benchmarks"] = before["benchmarks"][:1]
    assert [what for what, _, _ in speedups.rows(before, AFTER)] == [
        "10 epochs of SGD, 784-128-10 float32, batch 64"]
    with pytest.raises(ValueError, match="no benchmark in common"):
        speedups.render({"benchmarks": []}, AFTER, "x")


def test_only_the_speedups_section_is_rewritten(speedups, tmp_path):
    paths = [tmp_path / "before.json", tmp_path / "after.json"]
    for path, data in zip(paths, (BEFORE, AFTER)):
        path.write_text(json.dumps(data), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- speedups:start -->\nold\n<!-- speedups:end -->\nafter\n", encoding="utf-8")
    assert speedups.main([*map(str, paths), str(readme), "abc1234"]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- speedups:start -->\nMeasured by `tox -e speedups` on 2030-01-02")
    assert text.endswith("<!-- speedups:end -->\nafter\n") and "old" not in text
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="speedups:start"):
        speedups.main([*map(str, paths), str(readme)])
