"""Training throughput (examples/second) of reference_net, of the same arithmetic in a plain NumPy
loop, and of the same loop in PyTorch on the CPU.

One round is 10 epochs over the 4,000 training rows with SGD (lr 0.1), full batch or mini-batches.
``extra_info`` holds the examples per round and the matrix multiplies' FLOP rate as a fraction of
a large np.matmul in the same dtype and thread count (the matmul limit).
"""

import numpy as np
import pytest

from .workloads import (
    BATCH_SIZES,
    DTYPES,
    EPOCHS_PER_ROUND,
    NETWORKS,
    batch_id,
    matmul_flops_per_example,
    matmul_peak_flops,
    numpy_trainer,
    plain_loop_trainer,
    steps_per_epoch,
    torch_trainer,
)

ROUNDS = 5

_peaks: dict = {}


def _peak(dtype, threads) -> float:
    key = (np.dtype(dtype).name, threads)
    if key not in _peaks:
        _peaks[key] = matmul_peak_flops(dtype)
    return _peaks[key]


def _record(benchmark, sizes, dtype, batch_size, n, threads, framework):
    examples = EPOCHS_PER_ROUND * n
    median = benchmark.stats.stats.median
    flops = examples * matmul_flops_per_example(sizes)
    peak = _peak(dtype, threads)
    benchmark.extra_info.update({
        "framework": framework,
        "network": "-".join(map(str, sizes)),
        "dtype": np.dtype(dtype).name,
        "batch_size": batch_id(batch_size),
        "epochs": EPOCHS_PER_ROUND,
        "steps": EPOCHS_PER_ROUND * steps_per_epoch(n, batch_size),
        "examples": examples,
        "examples_per_s_median": examples / median,
        "examples_per_s_min": examples / benchmark.stats.stats.max,
        "examples_per_s_max": examples / benchmark.stats.stats.min,
        "matmul_flops": flops,
        "matmul_flops_per_s": flops / median,
        "matmul_peak_flops_per_s": peak,
        "matmul_fraction": flops / median / peak,
    })


_grid = pytest.mark.parametrize("threads", [1, 2])
_nets = pytest.mark.parametrize("network", list(NETWORKS))
_dtypes = pytest.mark.parametrize("dtype", list(DTYPES))
_batches = pytest.mark.parametrize("batch_size", BATCH_SIZES, ids=batch_id)


@_grid
@_batches
@_dtypes
@_nets
def test_train_numpy(benchmark, mnist_split, network, dtype, batch_size, threads):
    X, y = mnist_split[0], mnist_split[1]
    sizes, np_dtype = NETWORKS[network], DTYPES[dtype]
    run = numpy_trainer(sizes, np_dtype, batch_size, X, y)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _record(benchmark, sizes, np_dtype, batch_size, len(y), threads, "numpy")


@_batches
@_dtypes
@_nets
def test_train_plain_loop(benchmark, mnist_split, network, dtype, batch_size):
    """The same arithmetic as test_train_numpy in a plain NumPy loop (workloads.plain_loop_trainer),
    on 1 thread; the benchmarks' conftest runs each right after its test_train_numpy twin."""
    X, y = mnist_split[0], mnist_split[1]
    sizes, np_dtype = NETWORKS[network], DTYPES[dtype]
    run = plain_loop_trainer(sizes, np_dtype, batch_size, X, y)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _record(benchmark, sizes, np_dtype, batch_size, len(y), 1, "plain")


@_grid
@_batches
@_dtypes
@_nets
def test_train_torch(benchmark, blas_threads, mnist_split, network, dtype, batch_size, threads):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[torch]')")
    torch.set_num_threads(blas_threads)
    torch.manual_seed(0)
    X, y = mnist_split[0], mnist_split[1]
    sizes, np_dtype = NETWORKS[network], DTYPES[dtype]
    run = torch_trainer(torch, sizes, np_dtype, batch_size, X, y)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _record(benchmark, sizes, np_dtype, batch_size, len(y), threads, "torch")


#: (m, k, n): the matmul limit, and the largest product of a 784-10-10 step (full batch, layer 1).
MATMUL_SHAPES = {"1024x1024x1024": (1024, 1024, 1024), "4000x784x10": (4000, 784, 10)}


@_grid
@pytest.mark.parametrize("shape", list(MATMUL_SHAPES))
@_dtypes
def test_matmul_peak(benchmark, dtype, shape, threads):
    """One (m, k) @ (k, n) np.matmul into a preallocated output: 2 m k n FLOPs."""
    np_dtype = DTYPES[dtype]
    m, k, n = MATMUL_SHAPES[shape]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, k)).astype(np_dtype)
    B = rng.standard_normal((k, n)).astype(np_dtype)
    out = np.empty((m, n), dtype=np_dtype)
    benchmark.pedantic(lambda: np.matmul(A, B, out=out), rounds=10, iterations=5, warmup_rounds=1)
    flops = 2 * m * k * n
    benchmark.extra_info.update({
        "dtype": dtype,
        "shape": shape,
        "flops": flops,
        "flops_per_s_median": flops / benchmark.stats.stats.median,
        "flops_per_s_max": flops / benchmark.stats.stats.min,
    })
