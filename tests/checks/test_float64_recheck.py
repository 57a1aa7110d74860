"""Entries below float32's resolution: said, and judged again on a float64 copy of the network.

A float32 network with tiny weights has gradients (about 1e-4) below what the loss's rounding
lets a float32 finite difference resolve (about 1e-3): a sign error passes there. The check says
so, and when the target can be copied into float64 it judges those parameters on the copy.
"""

import textwrap

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.engine import check_target_gradients
from tests.system.frontends.helpers import gradcheck
from tests.targets.test_widening import _batch, _tanh_net


def _buggy(target, name, change):
    inner = target._gradients
    names = list(target.params)

    def gradients(p, X, y):
        grads = list(inner(p, X, y))
        k = names.index(name)
        grads[k] = change(np.array(grads[k]))
        return tuple(grads)

    target._gradients = gradients
    return target


def _tinier_net():
    """The tanh network with weights around 1e-5: its gradients (about 1e-6) sit below what even
    the measured rounding of its float32 loss lets a difference resolve."""
    target, params = _tanh_net()
    for name in ("W1", "W2"):
        params[name] *= np.float32(1e-2)
    return target, params


def _precision(result, severity):
    return [f for f in result.findings if f.kind == "precision" and f.severity == severity]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [2, 8, 32])
def test_a_correct_tiny_float32_network_passes_and_says_where_it_was_judged(n, seed):
    target, _ = _tanh_net(seed=seed)
    X, y = _batch(n)
    result = check_target_gradients(target, X, y, seed=seed)
    assert result.passed, str(result)
    assert not _precision(result, "warning")
    assert any("float64 copy" in f.message for f in _precision(result, "info"))
    assert any("float64 copy" in note for note in result.notes)


@pytest.mark.parametrize("change, kind", [(lambda g: -g, "sign"), (lambda g: 2 * g, "scale"),
                                          (lambda g: np.where(np.arange(g.shape[0])[:, None] == 0, 0, g),
                                           "zero")], ids=["sign", "doubled", "row_never_written"])
@pytest.mark.parametrize("name", ["W1", "W2"])
def test_a_bug_float32_cannot_see_is_found_on_the_float64_copy(name, change, kind):
    target, params = _tanh_net()
    before = {k: v.tobytes() for k, v in params.items()}
    X, y = _batch(32)
    result = check_target_gradients(_buggy(target, name, change), X, y)
    assert result.failed == [name]
    assert kind in {f.kind for f in result[name].findings if f.is_failure}
    # the user's float32 arrays are untouched, bit for bit
    assert {k: v.tobytes() for k, v in params.items()} == before
    assert all(v.dtype == np.float32 for v in params.values())


def test_without_a_target_to_copy_the_check_says_what_it_could_not_judge():
    target, params = _tinier_net()
    X, y = _batch(32)
    result = check_gradients(lambda: target.loss(X, y), params,
                             lambda: {k: -g for k, g in target.gradients(X, y).items()})
    # a sign error everywhere, invisible in float32: not a false pass, an inconclusive result
    warned = {f.subject for f in _precision(result, "warning")}
    assert {"W1", "W2"} <= warned
    message = next(f.message for f in _precision(result, "warning") if f.subject == "W1")
    assert "none of its 80 entries could be judged in float32" in message
    assert result["W1"].inconclusive and result["W2"].inconclusive
    assert result["W1"].verdict == "not judged"
    remedy = next(f.remedy for f in result["W1"].findings if f.inconclusive)
    assert "float64 would judge them" in remedy


def test_a_sign_error_of_gradients_above_the_measured_rounding_fails_in_float32_alone():
    """Weights around 1e-3 give gradients around 1e-4: below the float32 model's rounding bound,
    above the loss's measured rounding, so float32 judges them without a copy."""
    target, params = _tanh_net()
    X, y = _batch(32)
    result = check_gradients(lambda: target.loss(X, y), params,
                             lambda: {k: -g for k, g in target.gradients(X, y).items()})
    assert sorted(result.failed) == ["W1", "W2", "b1", "b2"]
    assert {f.kind for f in result.findings if f.is_failure} == {"sign"}


def test_a_tolerance_given_by_the_caller_is_respected():
    target, _ = _tanh_net()
    X, y = _batch(32)
    result = check_target_gradients(target, X, y, atol=1e-3)
    assert result.passed
    assert not [f for f in result.findings if f.kind == "precision" and f.data.get("hidden")]
    assert not any("float64 copy" in note for note in result.notes)


def test_a_float64_network_has_nothing_hidden():
    target, _ = _tanh_net(dtype=np.float64)
    X, y = _batch(32, dtype=np.float64)
    result = check_target_gradients(target, X, y)
    assert result.passed
    assert not [f for f in result.findings if f.kind == "precision"]


class _Sealed:
    """Arrays held where no copy reaches: an object without a ``__dict__``."""

    __slots__ = ("params",)

    def __init__(self, params):
        self.params = params


def test_a_copy_whose_loss_reads_other_arrays_is_not_used():
    target, params = _tinier_net()
    outer = _Sealed(dict(params))  # the loss reads these, which neither a copy nor a swap reaches
    inner_output = target._output
    target._output = lambda p, X: inner_output(outer.params, X)
    X, y = _batch(32)
    result = check_target_gradients(target, X, y)
    assert result.passed  # nothing judged is not a failure...
    assert {"W1", "W2"} <= {f.subject for f in _precision(result, "warning")}  # ...but it is said
    assert any("not used" in note and "does not read" in note for note in result.notes), result.notes


def test_the_command_line_finds_the_bug_in_a_float32_file(tmp_path):
    (tmp_path / "tiny.py").write_text(textwrap.dedent('''
        import numpy as np
        from gradcheck.adapters import functional

        rng = np.random.default_rng(0)
        params = {"W1": (1e-3 * rng.standard_normal((5, 16))).astype(np.float32),
                  "b1": np.zeros(16, dtype=np.float32),
                  "W2": (1e-3 * rng.standard_normal((16, 3))).astype(np.float32),
                  "b2": np.zeros(3, dtype=np.float32)}

        def forward(p, X):
            H = np.tanh(X @ p["W1"] + p["b1"])
            Z = H @ p["W2"] + p["b2"]
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            return H, E / E.sum(axis=1, keepdims=True)

        def gradients(p, X, y):
            H, P = forward(p, X)
            dZ = P.copy()
            dZ[np.arange(len(y)), y] -= 1
            dZ /= len(y)
            dH = dZ @ p["W2"].T * (1 - H ** 2)
            return X.T @ dH, dH.sum(axis=0), -(H.T @ dZ), dZ.sum(axis=0)  # dW2's sign is wrong

        target = functional(params, output=lambda p, X: forward(p, X)[1], gradients=gradients)
    '''))
    run = gradcheck("check", "tiny.py:target", "--dtype", "float32", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "W2" in run.stdout and "sign" in run.stdout
    assert "float64 copy" in run.stdout


def test_entries_limit_the_check_to_the_given_indices():
    target, params = _tanh_net(dtype=np.float64)
    X, y = _batch(8, dtype=np.float64)
    result = check_gradients(lambda: target.loss(X, y), params, lambda: target.gradients(X, y),
                             entries={"W1": np.array([0, 17, 79])})
    assert result["W1"].n_checked == 3
    assert result["W2"].n_checked == params["W2"].size


@pytest.mark.parametrize("entries, says", [
    ({"W9": [0]}, "not a parameter"),
    ({"W1": [80]}, "outside 0..79"),
    ({"W1": [[0, 1]]}, "1-D array of integers"),
    ([0, 1], "expected a dict"),
])
def test_bad_entries_are_refused_with_the_argument_named(entries, says):
    from gradcheck.errors import InvalidArgumentError

    target, params = _tanh_net(dtype=np.float64)
    X, y = _batch(8, dtype=np.float64)
    with pytest.raises(InvalidArgumentError) as caught:
        check_gradients(lambda: target.loss(X, y), params, lambda: target.gradients(X, y), entries=entries)
    assert caught.value.argument == "entries" and says in str(caught.value)


def test_the_recheck_runs_with_worker_processes_too():
    target, _ = _tanh_net()
    X, y = _batch(32)
    result = check_target_gradients(_buggy(target, "W2", lambda g: -g), X, y, jobs=2)
    assert result.failed == ["W2"]
    assert "sign" in {f.kind for f in result["W2"].findings if f.is_failure}


def test_a_recheck_the_time_guard_refuses_leaves_the_float32_result_and_says_why(monkeypatch):
    from gradcheck.checks import recheck
    from gradcheck.errors import CheckTooSlowError

    def too_slow(*args, **kwargs):
        raise CheckTooSlowError("mode", "'full' would take about 3 min, over max_seconds=60.")

    monkeypatch.setattr(recheck, "check_gradients", too_slow)
    target, _ = _tinier_net()
    X, y = _batch(32)
    result = check_target_gradients(target, X, y)
    assert result.passed
    assert {"W1", "W2"} <= {f.subject for f in _precision(result, "warning")}
    assert any("stopped" in note and "3 min" in note for note in result.notes), result.notes


def test_an_error_inside_float32s_tolerance_is_found_on_the_float64_copy():
    """A gradient 0.5 % too large passes float32's rtol of 2e-2; in float64 it is a scale error."""
    target, _ = _tanh_net(seed=1)
    target.params["W1"][...] *= 300  # hidden units around 0.3: dW2 well above float32's rounding
    X, y = _batch(8)
    result = check_target_gradients(_buggy(target, "W2", lambda g: 1.005 * g), X, y)
    assert result.failed == ["W2"]
    info = [f.message for f in result["W2"].findings if f.kind == "precision"]
    assert any("tolerance" in m and "float64 copy" in m for m in info), info


class _CoarseLossInNarrowDtypes:
    """A right gradient, and a loss that adds and removes a large offset in the parameters' own
    dtype: float32 rounds the loss to steps of about 1e-3, float64 does not."""

    layout = "rows"

    def __init__(self, dtype):
        self.params = {"W": np.linspace(-1, 1, 12).reshape(3, 4).astype(dtype)}

    def loss(self, X, y):
        W = self.params["W"]
        exact = np.sum((X @ W) ** 2) / len(X)
        offset = np.asarray(1e4, dtype=W.dtype)
        return float((np.asarray(exact, dtype=W.dtype) + offset) - offset)

    def gradients(self, X, y):
        W = self.params["W"]
        return {"W": 2 * X.T @ (X @ W) / len(X)}


def test_a_float32_disagreement_the_float64_copy_does_not_share_is_a_warning():
    X = np.random.default_rng(0).uniform(0, 1, (8, 3)).astype(np.float32)
    y = np.zeros(8, dtype=int)
    narrow = check_gradients(lambda: target.loss(X, y), (target := _CoarseLossInNarrowDtypes(np.float32)).params,
                             lambda: target.gradients(X, y))
    assert not narrow.passed  # float32 alone: the rounded loss makes the differences wrong
    result = check_target_gradients(_CoarseLossInNarrowDtypes(np.float32), X, y)
    assert result.passed
    warned = [f for f in result["W"].findings if f.severity == "warning"]
    info = [f.message for f in result["W"].findings if f.kind == "precision"]
    assert warned and any("float64 copy" in m and "not the formula" in m for m in info), info


def test_a_parameter_the_loss_never_reads_does_not_discard_the_copy():
    """The bug's own symptom (the forward forgets b2, its gradient does not) is the network's in
    both precisions: the copy still judges the rest."""
    target, params = _tinier_net()
    inner = target._output

    def forgets_b2(p, X):
        return inner({**p, "b2": np.zeros_like(p["b2"])}, X)

    target._output = forgets_b2
    X, y = _batch(32)
    result = check_target_gradients(target, X, y)
    assert result.failed == ["b2"], str(result)
    assert any("checked again on a float64 copy" in note for note in result.notes), result.notes
    assert not result["W1"].inconclusive  # judged on the copy


def test_without_a_copy_the_note_says_why_even_when_everything_was_judged():
    from tests.corpus.book_program import book_float32_program
    from tests.corpus.networks import batch

    X, y = batch(8, 3, np.float32)
    result = check_target_gradients(book_float32_program(3, np.float32, X, y), X, y)
    assert result.passed
    why = next(note for note in result.notes if "no float64 copy" in note)
    assert "the code casts them" in why
