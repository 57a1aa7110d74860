"""Signals while parameters are perturbed: the arrays come back, the process still ends."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from gradcheck.numeric import perturbation
from gradcheck.numeric.perturbation import EntryPerturber, Snapshot, Terminated
from tests.system.safety.faults import SCENARIOS, run_campaign

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@pytest.fixture(autouse=True)
def default_handlers():
    """The handlers of a program started from a shell (a test runner's worker may ignore SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler), \
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGINT, previous[0])
    signal.signal(signal.SIGTERM, previous[1])


@pytest.mark.slow
def test_sigterm_and_repeated_sigint_never_leave_a_parameter_file_changed(tmp_path):
    outcomes = run_campaign(tmp_path, runs=20, seed=16)
    for outcome in outcomes:
        assert outcome.changed == [], (outcome.scenario, outcome.returncode, outcome.stderr[-2000:])
        _, statuses = SCENARIOS[outcome.scenario]
        assert outcome.returncode in statuses, (outcome.scenario, outcome.returncode,
                                                outcome.stderr[-2000:])
    assert "FAILED" not in "".join(o.stderr for o in outcomes)


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}


def _perturb(arrays):
    arrays["W"][1, 2] += 0.5
    arrays["b"][0] = 7.0


def test_sigterm_while_perturbed_restores_then_terminates(arrays):
    before = {k: v.copy() for k, v in arrays.items()}
    delivered = []
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        snapshot = Snapshot(arrays)
        # the guard re-delivers SIGTERM through raise_signal; record it instead of dying
        real_raise = signal.raise_signal
        perturbation.signal.raise_signal = delivered.append
        try:
            with pytest.raises(Terminated):
                try:
                    _perturb(arrays)
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(10_000_000):  # the handler runs between bytecodes
                        pass
                finally:
                    snapshot.restore()
        finally:
            perturbation.signal.raise_signal = real_raise
        # raised while the signals are blocked (it waits in the kernel), then by the delivery
        assert delivered and set(delivered) == {signal.SIGTERM}
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
    for name in arrays:
        assert arrays[name].tobytes() == before[name].tobytes()


def test_ctrl_c_during_restore_waits_for_the_restore(arrays, monkeypatch):
    before = {k: v.copy() for k, v in arrays.items()}
    real_copyto = np.copyto
    calls = []

    def interrupted_copyto(dst, src, **kwargs):
        real_copyto(dst, src, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # a Ctrl-C between the first and the second array
            signal.raise_signal(signal.SIGINT)

    snapshot = Snapshot(arrays)
    _perturb(arrays)
    monkeypatch.setattr(perturbation.np, "copyto", interrupted_copyto)
    with pytest.raises(KeyboardInterrupt):
        snapshot.restore()
    assert len(calls) == 2
    for name in arrays:
        assert arrays[name].tobytes() == before[name].tobytes()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_while_unwinding_is_held_until_the_arrays_are_back(arrays):
    before = {k: v.copy() for k, v in arrays.items()}
    snapshot = Snapshot(arrays)
    restored_before_second = []
    with pytest.raises(KeyboardInterrupt):
        try:
            _perturb(arrays)
            signal.raise_signal(signal.SIGINT)
            for _ in range(10_000_000):
                pass
        finally:
            signal.raise_signal(signal.SIGINT)  # the second Ctrl-C, before restore() starts
            for _ in range(1000):
                pass
            restored_before_second.append(arrays["b"][0] == before["b"][0])
            snapshot.restore()
    assert restored_before_second == [False]
    for name in arrays:
        assert arrays[name].tobytes() == before[name].tobytes()


def test_handlers_are_put_back_and_nested_snapshots_share_one_guard(arrays):
    outer = Snapshot(arrays)
    assert signal.getsignal(signal.SIGTERM) is perturbation._on_signal
    inner = Snapshot({"W": arrays["W"]})
    inner.restore()
    assert signal.getsignal(signal.SIGTERM) is perturbation._on_signal
    outer.restore()
    outer.restore()  # a second restore only copies
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_program_handler_is_left_alone(arrays):
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with Snapshot(arrays):
            assert signal.getsignal(signal.SIGTERM) is not perturbation._on_signal
            signal.raise_signal(signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_snapshot_off_the_main_thread_installs_nothing(arrays):
    installed = []

    def work():
        snapshot = Snapshot(arrays)
        installed.append(signal.getsignal(signal.SIGTERM))
        snapshot.restore()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert installed == [signal.SIG_DFL]


def test_a_dropped_snapshot_does_not_keep_the_guard(arrays):
    snapshot = Snapshot(arrays)
    del snapshot
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
        for _ in range(1000):
            pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_memmap_parameters_are_perturbed_and_restored_in_place(tmp_path):
    data = np.random.default_rng(0).standard_normal((5, 4))
    mapped = np.memmap(tmp_path / "W.bin", dtype=np.float64, mode="w+", shape=(5, 4))
    mapped[...] = data
    mapped.flush()
    snapshot = Snapshot({"W": mapped})
    perturber = EntryPerturber(mapped)
    perturber.target[perturber.keys(np.array([7]))[0]] = 99.0
    assert np.fromfile(tmp_path / "W.bin").reshape(5, 4)[1, 3] == 99.0  # the file itself moved
    assert snapshot.restore() == ["W"]
    mapped.flush()
    assert np.fromfile(tmp_path / "W.bin").tobytes() == data.tobytes()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix is what is being tested
def test_matrix_parameters_are_addressed_entry_by_entry():
    matrix = np.matrix(np.arange(6.0).reshape(2, 3))
    perturber = EntryPerturber(matrix)
    assert perturber.read(np.array([4, 5])).tolist() == [4.0, 5.0]
    for key in perturber.keys(np.array([4])):
        perturber.target[key] = -1.0
    assert matrix[1, 1] == -1.0


def test_longdouble_padding_is_not_a_change():
    values = np.empty(4, dtype=np.longdouble)
    values.view(np.uint8)[:] = 0xAB  # garbage in the padding bytes
    values[...] = [1.5, -2.0, 3.25, 0.0]
    snapshot = Snapshot({"x": values})
    for i in range(4):  # writing a value back may rewrite its padding
        values[i] = np.longdouble(float(values[i]))
    assert snapshot.changed() == []
    values[2] = np.nextafter(values[2], np.longdouble(10))
    assert snapshot.changed() == ["x"]
    snapshot.restore()


def _tanh_problem(params, x):
    def loss():
        return float(np.sum(np.tanh(x @ np.asarray(params["W"], dtype=np.float64))))

    def grads():
        a = x @ np.asarray(params["W"], dtype=np.float64)
        return {"W": np.outer(x, 1 - np.tanh(a) ** 2)}
    return loss, grads


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_check_gradients_accepts_matrix_parameters():
    import gradcheck

    rng = np.random.default_rng(0)
    params = {"W": np.matrix(rng.standard_normal((3, 4)))}
    before = params["W"].copy()
    loss, grads = _tanh_problem(params, rng.standard_normal(3))
    result = gradcheck.check_gradients(loss, params, grads, mode="full")
    assert result.passed
    assert params["W"].tobytes() == before.tobytes()


def test_check_gradients_on_longdouble_with_padding_is_not_a_mutation():
    import gradcheck

    rng = np.random.default_rng(0)
    W = np.empty((3, 4), dtype=np.longdouble)
    W.view(np.uint8)[:] = 0xAB  # as memory from np.empty or a file may hold
    W[...] = rng.standard_normal((3, 4))
    params = {"W": W}
    loss, grads = _tanh_problem(params, rng.standard_normal(3))
    result = gradcheck.check_gradients(loss, params, grads, mode="full")
    assert [f.kind for p in result.params for f in p.findings] == []
    assert result.passed


def test_perturbing_again_from_original_is_guarded_again(arrays):
    """As the descent test does: restore, then write x + step from the saved copy, call, restore."""
    before = {k: v.copy() for k, v in arrays.items()}
    snapshot = Snapshot(arrays)
    snapshot.restore()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    np.copyto(arrays["W"], snapshot.original("W") + 1.0)
    assert signal.getsignal(signal.SIGTERM) is perturbation._on_signal
    with pytest.raises(KeyboardInterrupt):
        try:
            signal.raise_signal(signal.SIGINT)
            for _ in range(10_000_000):
                pass
        finally:
            snapshot.restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert arrays["W"].tobytes() == before["W"].tobytes()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_acts_on_sigterm_as_by_default(arrays):
    snapshot = Snapshot(arrays)
    try:
        pid = os.fork()
        if pid == 0:  # the child inherits the handler, not the parent's arrays to restore
            try:
                signal.raise_signal(signal.SIGTERM)
                for _ in range(1000):
                    pass
            finally:
                os._exit(7)  # reached only if SIGTERM did not end the child
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    finally:
        snapshot.restore()


def test_a_swallowed_interrupt_does_not_hold_later_ones_for_ever(arrays, monkeypatch):
    snapshot = Snapshot(arrays)
    try:
        try:
            signal.raise_signal(signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt:
            pass  # user code that swallows Ctrl-C while the snapshot is still open
        monkeypatch.setattr(perturbation, "UNWIND_SECONDS", 0.0)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
            for _ in range(1000):
                pass
    finally:
        snapshot.restore()


def test_a_ctrl_c_after_a_slow_sigterm_unwinding_still_ends_by_sigterm(arrays, monkeypatch):
    """SIGTERM, then a Ctrl-C once the unwinding window has passed (a busy machine): the Ctrl-C
    interrupts, the arrays come back, and the process is still ended by SIGTERM, not SIGINT."""
    before = {k: v.copy() for k, v in arrays.items()}
    delivered = []
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    monkeypatch.setattr(perturbation.signal, "raise_signal", delivered.append)
    try:
        snapshot = Snapshot(arrays)
        with pytest.raises(KeyboardInterrupt):
            try:
                _perturb(arrays)
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10_000_000):
                    pass
            finally:
                monkeypatch.setattr(perturbation, "UNWIND_SECONDS", 0.0)
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    for _ in range(10_000_000):
                        pass
                finally:
                    snapshot.restore()
        # raised while the signals are blocked (it waits in the kernel), then by the delivery
        assert delivered and set(delivered) == {signal.SIGTERM}
    finally:
        signal.signal(signal.SIGTERM, previous)
    for name in arrays:
        assert arrays[name].tobytes() == before[name].tobytes()


def _snapshot_installs_guard(_):
    snapshot = Snapshot({"x": np.zeros(3)})
    try:
        return signal.getsignal(signal.SIGTERM) is perturbation._on_signal
    finally:
        snapshot.restore()


def test_pool_workers_leave_sigterm_alone():
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.map(_snapshot_installs_guard, [0]) == [False]


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_handlers_are_put_back_with_the_signals_blocked(arrays, monkeypatch):
    """A signal arriving mid-swap waits in the kernel for the restored handler instead of being
    dropped by CPython ("ignored due to race condition")."""
    masks = []
    real_signal = signal.signal

    def recording(signum, handler):
        masks.append((signum, signal.pthread_sigmask(signal.SIG_BLOCK, set())))
        return real_signal(signum, handler)

    snapshot = Snapshot(arrays)
    monkeypatch.setattr(perturbation.signal, "signal", recording)
    snapshot.restore()
    monkeypatch.setattr(perturbation.signal, "signal", real_signal)
    assert masks and all({signal.SIGINT, signal.SIGTERM} <= set(mask) for _, mask in masks)
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(signal.SIGTERM) is not perturbation._on_signal
