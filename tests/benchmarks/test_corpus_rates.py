"""False alarms and detections over the corpus's quick slice, as a benchmark (`tox -e bench`).

The slice is ``scripts/false_alarm_table.py --quick``: every check on every correct network
of ``tests/corpus`` at batch sizes 1 and 8, seeds 0-1, float64 and float32, and every injected
bug's gradient check in every mode at seeds 0-1. The counts go into ``extra_info``; a false alarm fails the
benchmark, since a failing verdict on a correct network is the worst bug gradcheck can have.
"""

from tests.corpus.sweep import BUGS, QUICK, bug_grid, correct_grid, run_bug, run_check


def _sweep():
    seeds, batches = QUICK
    alarms, runs = [], 0
    for cell in correct_grid(seeds, batches):
        status, message = run_check(*cell)
        runs += 1
        if status == "failed":
            alarms.append((cell, message))
    detected = named = bug_runs = 0
    silent = []
    for bug_index, *cell in bug_grid(seeds):
        status, right, _ = run_bug(BUGS[bug_index], *cell)
        bug_runs += 1
        detected += status == "failed"
        named += right
        if status == "passed":
            silent.append((BUGS[bug_index].name, *cell))
    return runs, alarms, bug_runs, detected, named, silent


def test_corpus_false_alarms_and_detections(benchmark):
    runs, alarms, bug_runs, detected, named, silent = benchmark.pedantic(_sweep, rounds=1, iterations=1)
    benchmark.extra_info.update(
        correct_runs=runs, false_alarms=len(alarms), false_alarm_rate=len(alarms) / runs,
        bug_runs=bug_runs, detected=detected, detection_rate=detected / bug_runs,
        right_parameter_named=named, silent_passes=len(silent))
    assert runs > 0 and bug_runs > 0
    assert alarms == [], f"false alarms on correct networks: {alarms[:5]}"
    assert silent == [], f"bugs that passed: {silent[:5]}"
