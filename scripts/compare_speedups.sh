#!/bin/sh
# Before and after the speed-ups: run the same benchmarks on the code at BEFORE (default: the
# commit before them) and on this checkout, one after the other on the same machine, then
# rewrite the speed-up table of docs/benchmarks.md. Usage: scripts/compare_speedups.sh [BEFORE] [PYTHON]
set -e
cd "$(dirname "$0")/.."
before="${1:-8d3fb78^}"
python="${2:-python}"
old="$(mktemp -d)"
trap 'rm -rf "$old"' EXIT
git archive "$before" gradcheck reference_net | tar -x -C "$old"
# this checkout's benchmarks and settings, beside the old packages: pytest puts the old tree
# first on sys.path, so the benchmarks import the old code
cp -R tests pyproject.toml "$old"
mkdir -p reports
here="$(pwd)"

T=tests/benchmarks
set --
for net in 784-10-10 784-128-10; do
    for dtype in float32 float64; do
        for batch in full 64; do
            set -- "$@" "$T/test_training_throughput.py::test_train_numpy[$net-$dtype-$batch-1]"
        done
    done
done
set -- "$@" "$T/test_time_to_accuracy.py::test_time_to_85[gd-full]" \
    "$T/test_time_to_accuracy.py::test_time_to_85[sgd-64]" \
    "$T/test_checker_cost.py::test_check_cost[full-64]" \
    "$T/test_checker_cost.py::test_check_cost[sample-64]"

(cd "$old" && "$python" -c "import reference_net; print('before:', reference_net.__file__)" &&
    "$python" -m pytest -q -p no:cacheprovider --benchmark-only \
        --benchmark-json="$here/reports/speedups_before.json" "$@")
"$python" -c "import reference_net; print('after:', reference_net.__file__)"
"$python" -m pytest -q -p no:cacheprovider --benchmark-only --benchmark-json=reports/speedups_after.json "$@"
"$python" scripts/render_speedups.py reports/speedups_before.json reports/speedups_after.json docs/benchmarks.md \
    "$(git rev-parse --short "$before")"
