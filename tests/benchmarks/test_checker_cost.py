"""What a gradient check costs on the 784-10-10 reference network (run with `tox -e bench`).

The floor is 2n loss evaluations (n = 7,960 parameters); the ratio of a full check's time to
2n times one loss evaluation says how much the checker itself adds. With ``jobs`` workers a
full check can go below that serial floor; the time guard's estimate is set against the real
time of the check it was made for, on 784-10-10, 784-30-10 and 784-128-10.
"""

import os
import time
import timeit
from unittest import mock

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.checks import budget
from gradcheck.numeric.parallel import usable_cores
from reference_net.data import load_mnist
from reference_net.network import build_mlp


def _problem(batch_size, hidden=10):
    net = build_mlp((784, hidden, 10), seed=0)
    X, y = load_mnist()
    rows = np.random.default_rng(0).choice(len(y), size=batch_size, replace=False)
    return net, X[rows], y[rows]


def _one_eval(loss) -> float:
    """Seconds per loss call: the best of 5 timeit rounds of as many calls as fill 0.2 s."""
    timer = timeit.Timer(loss)
    repeats, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=repeats)) / repeats


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers): what load does not inflate."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                resource.getrusage(resource.RUSAGE_CHILDREN)))


def _load(benchmark, when: str) -> None:
    """The 1-minute load average, so a reader can tell a quiet machine's numbers from a busy one's."""
    if hasattr(os, "getloadavg"):
        benchmark.extra_info[f"load_{when}"] = os.getloadavg()[0]


@pytest.mark.parametrize("batch_size", [64, 256])
@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
def test_check_cost(benchmark, mode, batch_size):
    net, X, y = _problem(batch_size)
    loss = lambda: net.loss(X, y)  # noqa: E731
    grads = net.gradients(X, y)
    n = sum(p.size for p in net.params.values())
    one_eval = _one_eval(loss)
    result = benchmark.pedantic(
        lambda: check_gradients(loss, net.params, grads, mode=mode, samples=64),
        rounds=3 if mode == "full" else 10, iterations=1,
    )
    assert result.passed
    floor = result.n_loss_evals * one_eval
    benchmark.extra_info.update({
        "parameters": n,
        "loss_evals": result.n_loss_evals,
        "loss_evals_full": 2 * n + 2,
        "evals_fraction_of_full": result.n_loss_evals / (2 * n + 2),
        "one_loss_eval_s": one_eval,
        "ratio_to_eval_floor": benchmark.stats.stats.median / floor,
    })


@pytest.mark.parametrize("batch_size", [64, 256])
@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_torch_gradcheck_cost(benchmark, blas_threads, fast_mode, batch_size):
    """torch.autograd.gradcheck on the same 784-10-10 network, weights and batch (float64).

    ``fast_mode=False`` differences every entry (compare with our full mode); ``fast_mode=True``
    differences along random directions (compare with our directional mode).
    """
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[torch]')")
    torch.set_num_threads(blas_threads)
    net, X, y = _problem(batch_size)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    params = tuple(torch.from_numpy(p.copy()).requires_grad_() for p in net.params.values())
    calls = [0]

    def loss(W1, b1, W2, b2):
        calls[0] += 1
        hidden = torch.relu(X_t @ W1 + b1)
        return torch.nn.functional.cross_entropy(hidden @ W2 + b2, y_t)

    def run():
        calls[0] = 0
        return torch.autograd.gradcheck(loss, params, fast_mode=fast_mode)

    passed = benchmark.pedantic(run, rounds=3 if not fast_mode else 10, iterations=1)
    assert passed
    benchmark.extra_info.update({
        "parameters": sum(p.numel() for p in params),
        "loss_evals": calls[0],
        "compare_to": "directional" if fast_mode else "full",
        "torch": torch.__version__,
    })


@pytest.mark.parametrize("jobs", [1, 2])
def test_parallel_check_cost(benchmark, jobs):
    """A full check of 784-10-10 at batch 64 on ``jobs`` worker processes, against the serial floor.

    The serial floor is 2n + 2 loss calls at one call's time; below it only with workers.
    """
    net, X, y = _problem(64)
    loss = lambda: net.loss(X, y)  # noqa: E731
    grads = net.gradients(X, y)
    n = sum(p.size for p in net.params.values())
    one_eval = _one_eval(loss)
    _load(benchmark, "before")
    cpu = _cpu_seconds()
    result = benchmark.pedantic(lambda: check_gradients(loss, net.params, grads, jobs=jobs), rounds=5, iterations=1)
    cpu = (_cpu_seconds() - cpu) / 5
    _load(benchmark, "after")
    assert result.passed
    assert result.notes == []
    benchmark.extra_info.update({
        "jobs": jobs,
        "cores": usable_cores(),
        "parameters": n,
        "loss_evals": result.n_loss_evals,
        "one_loss_eval_s": one_eval,
        "serial_floor_s": (2 * n + 2) * one_eval,
        "ratio_to_serial_floor": benchmark.stats.stats.median / ((2 * n + 2) * one_eval),
        "cpu_s_per_round": cpu,
    })


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("hidden", [10, 30, 128])
def test_time_guard_estimate(benchmark, hidden, jobs):
    """The time guard's estimate of a full check (batch 64) against the time the check then takes.

    Serial checks run with a limit they cannot reach, so the big ones run too; with 2 jobs the
    check runs under the default limit (60 s), which it must pass.
    """
    net, X, y = _problem(64, hidden)
    loss = lambda: net.loss(X, y)  # noqa: E731
    grads = net.gradients(X, y)
    estimates = []
    planned = budget.planned_seconds

    def recorded(*args, **kwargs):
        estimates.append(planned(*args, **kwargs))
        return estimates[-1]

    options = {"jobs": jobs} if jobs > 1 else {"max_seconds": 1e9}
    _load(benchmark, "before")
    cpu = _cpu_seconds()
    with mock.patch.object(budget, "planned_seconds", recorded):
        result = benchmark.pedantic(lambda: check_gradients(loss, net.params, grads, **options),
                                    rounds=1, iterations=1)
    cpu = _cpu_seconds() - cpu
    _load(benchmark, "after")
    assert result.passed
    assert result.notes == []
    benchmark.extra_info.update({
        "network": f"784-{hidden}-10",
        "jobs": jobs,
        "cores": usable_cores(),
        "parameters": sum(p.size for p in net.params.values()),
        "loss_evals": result.n_loss_evals,
        "estimate_s": estimates[-1],
        "time_over_estimate": benchmark.stats.stats.median / estimates[-1],
        # On a busy machine the wall time grows with the load; the CPU time shared by the workers does not.
        "cpu_s": cpu,
        "cpu_per_worker_over_estimate": cpu / max(1, jobs) / estimates[-1],
    })
