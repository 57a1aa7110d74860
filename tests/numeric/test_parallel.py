"""Finite differences over worker processes: a serial run's numbers, bit for bit, or a serial run."""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.checks.evaluation import LossEvaluator
from gradcheck.errors import CheckTooSlowError, InvalidArgumentError
from gradcheck.numeric.differences import entry_differences
from gradcheck.numeric.parallel import MIN_CHUNK, ParallelDifferences, can_fork, usable_cores
from reference_net.network import build_mlp

needs_fork = pytest.mark.skipif(not can_fork(), reason="worker processes are forked only where fork is safe")


def _network(dtype=np.float64):
    """12-16-6 MLP on 20 rows: W1 (192 entries) and W2 (96) go to workers, the biases stay here."""
    net = build_mlp((12, 16, 6), seed=1, dtype=dtype)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 12)).astype(dtype)
    y = rng.integers(0, 6, size=20)
    return net, X, y


def _bits(params) -> dict[str, bytes]:
    return {name: array.tobytes() for name, array in params.items()}


def _without(result, *keys) -> dict:
    data = result.to_dict()
    for key in keys:
        data.pop(key)
    return data


class ParentCalls:
    """A loss that counts the calls made in this very process (a worker counts in its own copy)."""

    def __init__(self, net, X, y):
        self.net, self.X, self.y, self.here = net, X, y, 0
        self.pid = os.getpid()

    def __call__(self):
        self.here += os.getpid() == self.pid
        return self.net.loss(self.X, self.y)


@needs_fork
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_jobs_give_the_serial_check_bit_for_bit(dtype):
    net, X, y = _network(dtype)
    loss = ParentCalls(net, X, y)
    grads = net.gradients(X, y)
    serial = check_gradients(loss, net.params, grads)
    calls_here = loss.here
    parallel = check_gradients(loss, net.params, grads, jobs=2)
    assert parallel.to_dict() == serial.to_dict()
    # The weights' 2 x 288 calls ran in the workers; this process made the rest.
    assert calls_here - (loss.here - calls_here) == 2 * (192 + 96)


@needs_fork
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_worker_loss_values_equal_the_serial_loop_to_the_bit(dtype):
    net, X, y = _network(dtype)
    loss = ParentCalls(net, X, y)
    W1 = net.params["W1"]
    indices = np.arange(W1.size)
    evaluate = LossEvaluator(loss)
    f0 = evaluate()
    serial = entry_differences(evaluate, W1, indices, 1e-3, f0)
    before, calls_here = _bits(net.params), loss.here
    runner = ParallelDifferences(evaluate, net.params, jobs=2)
    try:
        parallel = entry_differences(evaluate, W1, indices, 1e-3, f0, parallel=runner)
    finally:
        runner.close()
    assert parallel.f_plus.tobytes() == serial.f_plus.tobytes()
    assert parallel.f_minus.tobytes() == serial.f_minus.tobytes()
    assert parallel.central.tobytes() == serial.central.tobytes()
    assert loss.here == calls_here  # no loss call here: the parent's arrays never moved
    assert _bits(net.params) == before
    assert evaluate.calls == 1 + 2 * 2 * W1.size  # the workers' calls are counted as if made here
    assert runner.notes == []


@needs_fork
def test_progress_is_reported_for_every_entry_the_workers_did():
    net, X, y = _network()
    done = []
    check_gradients(lambda: net.loss(X, y), net.params, net.gradients(X, y), jobs=2,
                    progress=lambda k, total: done.append((k, total)))
    total = sum(p.size for p in net.params.values())
    assert done[-1] == (total, total)
    assert [k for k, _ in done] == sorted(k for k, _ in done)


@needs_fork
def test_a_nan_met_in_a_worker_is_reported_as_the_serial_check_reports_it():
    net, X, y = _network()
    W1 = net.params["W1"]
    start = float(W1.flat[100])
    h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, abs(start))

    def loss():  # NaN a full step above W1[6, 4], finite a tenth of a step away
        return float("nan") if W1.flat[100] - start > h / 2 else net.loss(X, y)

    grads = net.gradients(X, y)
    serial = check_gradients(loss, net.params, grads)
    parallel = check_gradients(loss, net.params, grads, jobs=2)
    assert "call 203, while perturbing W1[6, 4]" in serial.check_findings[0].message
    assert parallel.to_dict() == serial.to_dict()


def test_a_loss_that_cannot_be_sent_to_workers_runs_serially_with_a_note():
    net, X, y = _network()
    lock = threading.Lock()  # neither pickle nor cloudpickle can send a lock

    def loss():
        with lock:
            return net.loss(X, y)

    grads = net.gradients(X, y)
    serial = check_gradients(loss, net.params, grads)
    with ThreadPoolExecutor(2) as executor:
        parallel = check_gradients(loss, net.params, grads, jobs=executor)
    assert _without(parallel, "notes") == _without(serial, "notes")
    assert len(parallel.notes) == len(serial.notes) + 1
    assert "could not be sent to the workers" in parallel.notes[-1]
    assert "ran serially" in parallel.notes[-1]


class ReadsOneBuffer:
    """The network's loss, reading both weight matrices out of one flat buffer (picklable)."""

    def __init__(self, buffer, net, X, y):
        self.buffer, self.net, self.X, self.y = buffer, net, X, y

    def __call__(self):
        W1, W2 = self.buffer[:192].reshape(12, 16), self.buffer[192:].reshape(16, 6)
        hidden = np.maximum(self.X @ W1 + self.net.params["b1"], 0)
        Z = hidden @ W2 + self.net.params["b2"]
        Z = Z - Z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(self.y)), self.y]))


def test_a_loss_reading_arrays_that_do_not_travel_with_params_runs_serially_with_a_note():
    # params hold views of the buffer the loss reads; pickled, each view becomes an array of its own.
    net, X, y = _network()
    buffer = np.concatenate([net.params["W1"].ravel(), net.params["W2"].ravel()])
    params = {"W1": buffer[:192].reshape(12, 16), "b1": net.params["b1"],
              "W2": buffer[192:].reshape(16, 6), "b2": net.params["b2"]}
    loss = ReadsOneBuffer(buffer, net, X, y)
    grads = net.gradients(X, y)
    serial = check_gradients(loss, params, grads)
    with ThreadPoolExecutor(2) as executor:
        parallel = check_gradients(loss, params, grads, jobs=executor)
    assert "did not travel with params" in parallel.notes[-1]
    assert _without(parallel, "notes") == _without(serial, "notes")
    assert parallel.passed


def test_an_executor_gets_its_own_copies_and_gives_the_serial_numbers():
    # Threads share memory: only the pickled copies keep two workers from moving each other's entries.
    net, X, y = _network()
    loss = ParentCalls(net, X, y)
    grads = net.gradients(X, y)
    before = _bits(net.params)
    serial = check_gradients(loss, net.params, grads)
    with ThreadPoolExecutor(2) as executor:
        parallel = check_gradients(loss, net.params, grads, jobs=executor)
    assert parallel.to_dict() == serial.to_dict()
    assert _bits(net.params) == before


@needs_fork
def test_a_worker_that_dies_leaves_a_note_and_the_serial_numbers():
    net, X, y = _network()
    parent = os.getpid()

    def loss():
        if os.getpid() != parent:
            os._exit(3)
        return net.loss(X, y)

    grads = net.gradients(X, y)
    serial = check_gradients(loss, net.params, grads)
    parallel = check_gradients(loss, net.params, grads, jobs=2)
    assert _without(parallel, "notes") == _without(serial, "notes")
    assert "a worker failed" in parallel.notes[-1]
    assert "from W1 on" in parallel.notes[-1]


@needs_fork
def test_a_loss_that_writes_into_its_parameters_is_caught_as_in_a_serial_run():
    net, X, y = _network()
    calls = [0]

    def loss():
        calls[0] += 1
        if calls[0] == 50:
            net.params["b2"][0] += 0.5
        return net.loss(X, y)

    grads = net.gradients(X, y)
    originals = {name: array.copy() for name, array in net.params.items()}
    serial = check_gradients(loss, net.params, grads)
    for name, array in net.params.items():
        array[...] = originals[name]
    calls[0] = 0
    parallel = check_gradients(loss, net.params, grads, jobs=2)
    assert not serial.passed
    assert _without(parallel, "notes") == _without(serial, "notes")
    assert "wrote into b2" in parallel.notes[-1]


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True, "2", [2]])
def test_bad_jobs_are_refused_before_the_loss_runs(jobs):
    net, X, y = _network()
    calls = []
    with pytest.raises(InvalidArgumentError) as caught:
        check_gradients(lambda: calls.append(1) or net.loss(X, y), net.params, net.gradients(X, y), jobs=jobs)
    assert caught.value.argument == "jobs"
    assert str(caught.value).startswith(f"jobs: got {jobs!r}")
    assert "jobs=-1" in str(caught.value)
    assert calls == []


@pytest.mark.parametrize("jobs", [None, 1, np.int64(1)])
def test_no_workers_is_the_serial_loop(jobs):
    net, X, y = _network()
    loss = ParentCalls(net, X, y)
    result = check_gradients(loss, net.params, net.gradients(X, y), jobs=jobs)
    assert loss.here == result.n_loss_evals
    assert result.notes == []


def test_small_parameters_stay_in_this_process():
    params = {"b": np.arange(2 * MIN_CHUNK - 1, dtype=np.float64)}
    evaluate = LossEvaluator(lambda: float(np.sum(params["b"] ** 2)))
    runner = ParallelDifferences(evaluate, params, jobs=2)
    assert runner.loss_values(params["b"], np.arange(params["b"].size), 1e-6, evaluate()) is None
    runner.close()
    assert runner.notes == []


@pytest.mark.skipif(usable_cores() < 2, reason="needs 2 cores for 2 workers to halve the estimate")
def test_the_time_guard_counts_the_workers():
    net, X, y = _network()
    grads = net.gradients(X, y)
    evals = 2 * sum(p.size for p in net.params.values())
    # At 10 ms a call the serial estimate is evals * 10 ms; half of it fits under the limit.
    limit = 0.75 * evals * 0.01
    # Every timed call appears to take 10 ms (the clock moves 10 ms per reading).
    with mock.patch("gradcheck.checks.evaluation.perf_counter", itertools.count(0.0, 0.01).__next__):
        with pytest.raises(CheckTooSlowError):
            check_gradients(lambda: net.loss(X, y), net.params, grads, max_seconds=limit)
        assert check_gradients(lambda: net.loss(X, y), net.params, grads, max_seconds=limit, jobs=2).passed


def test_a_dask_cluster_runs_the_check():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    net, X, y = _network()
    grads = net.gradients(X, y)
    serial = check_gradients(lambda: net.loss(X, y), net.params, grads)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            parallel = check_gradients(lambda: net.loss(X, y), net.params, grads, jobs=client.get_executor(),
                                       max_seconds=None)
    assert parallel.to_dict() == serial.to_dict()


class MappedLoss:
    """The network's loss on memory-mapped weights (picklable, so its copies can travel)."""

    def __init__(self, params, net, X, y):
        self.params, self.net, self.X, self.y = params, net, X, y

    def __call__(self):
        hidden = np.maximum(self.X @ self.params["W1"] + self.params["b1"], 0)
        Z = hidden @ self.params["W2"] + self.params["b2"]
        Z = Z - Z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(self.y)), self.y]))


@needs_fork
def test_memory_mapped_parameters_are_not_shared_with_forked_workers(tmp_path):
    # Forked workers would share the file's pages: one worker's perturbation would show in another's.
    net, X, y = _network()
    params = {}
    for name, array in net.params.items():
        mapped = np.memmap(tmp_path / f"{name}.bin", dtype=array.dtype, mode="w+", shape=array.shape)
        mapped[...] = array
        params[name] = mapped
    loss = MappedLoss(params, net, X, y)
    grads = net.gradients(X, y)
    serial = check_gradients(loss, params, grads)
    before = _bits(params)
    parallel = check_gradients(loss, params, grads, jobs=2)
    assert parallel.notes == serial.notes  # no fallback: the copies travelled pickled
    assert parallel.to_dict() == serial.to_dict()
    assert _bits(params) == before
    assert {name: (tmp_path / f"{name}.bin").read_bytes() for name in params} == before
