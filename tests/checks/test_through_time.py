"""Fewer time steps: a whole network that declares a sequence and fails with no cause named is
checked again with one time step and with every step the same, and where the error vanishes
names the cause only when that decides it. A vanilla RNN and a causal attention layer written
here, correct and with bugs."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.checks import through_time
from gradcheck.checks.pipeline import check_target_gradients
from gradcheck.checks.through_time import shrink_steps, time_story
from gradcheck.config import CheckConfig
from gradcheck.engine import Context
from gradcheck.targets import batches
from gradcheck.targets.batches import step_batches
from gradcheck.targets.inputs import InputSpec, input_spec
from gradcheck.targets.tasks import Task


class TinyRNN:
    """A vanilla RNN over tokens (n, T) of ``vocab``, a class at every step: ``Wxh`` (V, H),
    ``Whh`` (H, H), ``bh`` (H,), ``Why`` (H, V), ``by`` (V,); the loss is the mean over examples
    of the cross-entropy summed over steps. ``bug`` is one of :data:`RNN_BUGS` or None."""

    layout, task = "rows", "sequence"

    def __init__(self, bug=None, *, vocab=5, hidden=6, steps=5, seed=0, fixed_length=False):
        rng = np.random.default_rng(seed)
        self.params = {"Wxh": rng.normal(0, 0.8, (vocab, hidden)), "Whh": rng.normal(0, 0.5, (hidden, hidden)),
                       "bh": rng.normal(0, 0.1, hidden), "Why": rng.normal(0, 0.8, (hidden, vocab)),
                       "by": rng.normal(0, 0.1, vocab)}
        self.bug, self.steps, self.fixed_length = bug, steps, fixed_length
        self.n_classes = self.vocab = vocab
        self.sequence_length = steps
        self.input_spec = {"shape": (steps,), "dtype": "int", "vocab": vocab, "sequence": True}

    def _forward(self, X):
        X = np.asarray(X)
        if self.fixed_length and X.shape[1] != self.steps:
            raise ValueError(f"expected {self.steps} steps")
        p = self.params
        hs, probs = [np.zeros((X.shape[0], p["Whh"].shape[0]))], []
        for t in range(X.shape[1]):
            hs.append(np.tanh(p["Wxh"][X[:, t]] + hs[-1] @ p["Whh"] + p["bh"]))
            z = hs[-1] @ p["Why"] + p["by"]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            probs.append(e / e.sum(axis=1, keepdims=True))
        return hs, probs

    def loss(self, X, y):
        _, probs = self._forward(X)
        n = len(y)
        return float(-sum(np.log(pt[np.arange(n), y[:, t]]).sum() for t, pt in enumerate(probs)) / n)

    def gradients(self, X, y):
        X, p, n = np.asarray(X), self.params, len(y)
        hs, probs = self._forward(X)
        g = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(X.shape[1])):
            dz = probs[t].copy()
            dz[np.arange(n), y[:, t]] -= 1
            dz /= n
            g["Why"] += hs[t + 1].T @ dz
            if self.bug == "dby_assigned":
                g["by"] = dz.sum(axis=0)
            else:
                g["by"] += dz.sum(axis=0)
            dh = dz @ p["Why"].T + (0 if self.bug == "missing_dhnext" else dh_next)
            da = dh * (1 - (hs[t + 1] if self.bug == "dtanh_not_squared" else hs[t + 1] ** 2))
            read = X[:, max(t - 1, 0)] if self.bug == "dWxh_previous_step" else X[:, t]
            np.add.at(g["Wxh"], read, da)
            g["Whh"] += (hs[t + 1] if self.bug == "dWhh_from_current_step" else hs[t]).T @ da
            g["bh"] += da.sum(axis=0)
            dh_next = da @ (p["Whh"] if self.bug == "whh_untransposed" else p["Whh"].T)
        if self.bug == "whh_decay_in_gradient_only":  # an L2 term the loss does not have
            g["Whh"] += 0.1 * p["Whh"]
        return g


class CausalAttention:
    """One causal self-attention head over float inputs (n, T, d) and a regression at every
    step (n, T, k): ``Wq``, ``Wk``, ``Wv`` (d, d), ``Wo`` (d, k); the loss is half the squared
    error summed over steps and outputs, averaged over examples. ``bug``: ``"jacobian_diagonal"``
    (the softmax's Jacobian taken as its diagonal) or ``"mask_forgotten"`` (the backward
    recomputes the attention without the causal mask)."""

    layout, task = "rows", "regression"

    def __init__(self, bug=None, *, d=4, k=3, steps=4, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {name: rng.normal(0, 0.6, (d, d)) for name in ("Wq", "Wk", "Wv")}
        self.params["Wo"] = rng.normal(0, 0.6, (d, k))
        self.bug, self.n_classes, self.sequence_length = bug, k, steps
        self.input_spec = {"shape": (steps, d), "sequence": True}

    def _attention(self, X, masked=True):
        p = self.params
        q, key, v = X @ p["Wq"], X @ p["Wk"], X @ p["Wv"]
        s = q @ key.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        if masked:
            T = X.shape[1]
            s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return q, key, v, e / e.sum(axis=-1, keepdims=True)

    def loss(self, X, y):
        _, _, v, a = self._attention(X)
        return float(0.5 * np.sum((a @ v @ self.params["Wo"] - y) ** 2) / len(X))

    def gradients(self, X, y):
        p = self.params
        q, key, v, a = self._attention(X)
        o = a @ v
        dout = (o @ p["Wo"] - y) / len(X)
        g = {"Wo": np.einsum("ntd,ntk->dk", o, dout)}
        do = dout @ p["Wo"].T
        if self.bug == "mask_forgotten":
            a = self._attention(X, masked=False)[3]
        da = do @ v.transpose(0, 2, 1)
        dv = a.transpose(0, 2, 1) @ do
        if self.bug == "jacobian_diagonal":
            ds = a * (1 - a) * da
        else:
            ds = a * (da - np.sum(a * da, axis=-1, keepdims=True))
        ds /= np.sqrt(q.shape[-1])
        dq, dk = ds @ key, ds.transpose(0, 2, 1) @ q
        for name, d in (("Wq", dq), ("Wk", dk), ("Wv", dv)):
            g[name] = np.einsum("ntd,nte->de", X, d)
        return g


def _failures(target) -> dict:
    """Parameter -> its failing findings, over the network's gradient checks."""
    suite = gradcheck.run_suite(target, groups=("gradients",))
    out: dict = {}
    for outcome in suite.outcomes:
        for finding in getattr(outcome.result, "findings", ()):
            if finding.is_failure:
                out.setdefault(finding.subject.split("[")[0], []).append(finding)
    return out


def _hows(findings) -> set:
    return {f.data.get("how") for f in findings}


# ---- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("vanished, alone, kind, how", [
    ({"variety": True, "steps": True}, False, "orientation", "time_index"),
    ({"variety": True, "steps": False}, True, "orientation", "time_index"),
    ({"variety": False, "steps": True}, True, "missing_term", "through_time"),
    # other parameters wrong too: a recurrent term, a recurrent weight, a gate or attention alike
    ({"variety": False, "steps": True}, False, "mismatch", "several_steps"),
    # the equal steps not checked (refused, or the network cannot tell them apart): a time index
    # is not ruled out
    ({"steps": True}, True, "mismatch", "several_steps"),
])
def test_what_an_error_vanishing_with_fewer_steps_names(vanished, alone, kind, how):
    story = time_story("W", vanished, alone=alone)
    assert story.kind == kind and story.data["how"] == how


@pytest.mark.parametrize("vanished", [{}, {"variety": False, "steps": False}, {"steps": False}])
def test_an_error_that_stays_names_nothing(vanished):
    assert time_story("W", vanished, alone=True) is None


# ---- the smaller batches -------------------------------------------------------------------

def test_one_step_and_equal_steps_cut_or_repeat_per_step_labels_and_keep_a_sequence_label():
    X = np.arange(12).reshape(3, 4)
    per_step = Task("sequence", 20, False, True, 4)
    (r1, _, X1, y1), (r2, _, X2, y2) = step_batches(X, X + 1, per_step, InputSpec((4,), "int", 20, True), "rows")
    assert (r1, r2) == ("steps", "variety")
    assert X1.shape == y1.shape == (3, 1) and np.array_equal(y1[:, 0], X[:, 0] + 1)
    assert np.all(X2 == X[:, :1]) and np.all(y2 == X[:, :1] + 1) and X2.shape == (3, 4)
    vectors = np.random.default_rng(0).random((2, 4, 3))
    one_label = Task("multiclass", 3, True)
    (_, _, V1, l1), (_, _, V2, l2) = step_batches(vectors, np.array([0, 2]), one_label,
                                                  InputSpec((4, 3), sequence=True), "rows")
    assert V1.shape == (2, 1, 3) and np.array_equal(l1, [0, 2]) and np.array_equal(l2, [0, 2])
    assert np.all(V2 == vectors[:, :1])


@pytest.mark.parametrize("spec, layout", [
    (InputSpec((4,), "int", 20), "rows"),                 # not declared a sequence
    (InputSpec((1,), "int", 20, True), "rows"),           # one step already
    (InputSpec((4,), "int", 20, True), "columns"),        # examples are not rows
    (None, "rows"),
])
def test_no_smaller_batch_without_a_declared_sequence_of_several_steps(spec, layout):
    X = np.zeros((3, 4), dtype=np.int64)
    assert step_batches(X, X, Task("sequence", 20, False, True, 4), spec, layout) == []


# ---- whole networks ------------------------------------------------------------------------

@pytest.mark.parametrize("target", [TinyRNN(), CausalAttention()], ids=["rnn", "attention"])
def test_correct_sequence_networks_pass(target):
    assert _failures(target) == {}


def test_a_passing_check_costs_no_smaller_check(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a passing check was checked again")
    monkeypatch.setattr(through_time, "_small_check", refuse)
    assert gradcheck.run_suite(TinyRNN(), groups=("gradients",)).passed


def test_a_bias_assigned_at_each_step_is_a_term_lost_across_steps():
    failures = _failures(TinyRNN("dby_assigned"))
    assert set(failures) == {"by"}
    # the batch of one example stays unnamed (it is not shrunk), the main batch names it
    assert {f.kind for f in failures["by"]} == {"missing_term", "mismatch"}
    assert _hows(failures["by"]) == {"through_time", None}
    assert all("one time step" in f.text for f in failures["by"] if f.kind == "missing_term")


def test_a_step_reading_the_previous_steps_input_is_a_time_index():
    failures = _failures(TinyRNN("dWxh_previous_step"))
    assert set(failures) == {"Wxh"}
    assert {f.kind for f in failures["Wxh"]} == {"orientation", "mismatch"}
    assert _hows(failures["Wxh"]) == {"time_index", None}


@pytest.mark.parametrize("target", [TinyRNN("missing_dhnext"), CausalAttention("mask_forgotten")],
                         ids=["missing_dhnext", "mask_forgotten"])
def test_an_error_needing_several_steps_in_several_parameters_names_no_cause(target):
    """A recurrent term missing and attention's mask both vanish with one step and stay with
    symmetric square weights: where nothing else tells (no token rows), the finding says the
    error needs several steps and names nothing."""
    failures = _failures(target)
    findings = [f for fs in failures.values() for f in fs]
    assert len(failures) >= 2
    assert not _hows(findings) & {"through_time", "time_index", "untransposed"}
    assert "several_steps" in _hows(findings)
    assert all(f.kind == "mismatch" for f in findings if f.data.get("how") == "several_steps")


def test_a_missing_recurrent_term_is_right_on_the_rows_of_tokens_read_only_at_the_last_step():
    """dh_next left out: on two steps whose last reads tokens the first never does, Wxh's rows of
    the last step's tokens are right and the first step's wrong: named on Wxh, the one parameter
    with a row per token; Whh and bh still say the error needs several steps."""
    failures = _failures(TinyRNN("missing_dhnext"))
    assert _hows(failures["Wxh"]) == {"later_steps", None}
    assert all(f.kind == "missing_term" for f in failures["Wxh"] if f.data.get("how") == "later_steps")
    assert "later_steps" not in _hows(failures["Whh"] + failures["bh"])


def test_a_derivative_wrong_at_every_step_is_no_missing_recurrent_term():
    """tanh' written 1 - h (not squared) is wrong at the last step too: its token rows are wrong
    as well, so nothing is said of what later steps send back."""
    findings = [f for fs in _failures(TinyRNN("dtanh_not_squared")).values() for f in fs]
    assert findings and "later_steps" not in _hows(findings)


def test_attention_over_tokens_forgetting_its_mask_is_no_missing_recurrent_term():
    """The corpus's transformer (tokens, positions, a causal mask the backward forgets): the last
    step's own rows are wrong too, so no term from later steps is named."""
    from tests.corpus.shapes import glue
    from tests.corpus.shapes.catalogue import BUGS

    bug = next(b for b in BUGS if b.id == "transformer.causal_mask_not_applied_in_backward")
    findings = [f for fs in _failures(glue.target(bug, np.float64, bug.name)).values() for f in fs]
    assert findings and not _hows(findings) & {"later_steps", "through_time", "untransposed"}


def test_two_steps_whose_last_reads_tokens_the_first_never_does():
    X = np.random.default_rng(0).integers(0, 7, (6, 5))
    y = X + 1
    fresh = batches.fresh_last_step(X, y, Task("sequence", 8, False, True, 5),
                                    InputSpec((5,), "int", 7, True), "rows")
    assert fresh.X.shape == (6, 2) and fresh.y.tolist() == y[:, :2].tolist() and fresh.size == 7
    assert not set(fresh.early) & set(fresh.last)
    assert set(fresh.X[:, 0]) == set(fresh.early) and set(fresh.X[:, 1]) == set(fresh.last)
    assert fresh.X.min() >= 0 and fresh.X.max() < 7


def test_two_steps_whose_last_reads_features_the_first_never_does():
    X = np.random.default_rng(0).normal(size=(4, 3, 5))
    y = np.random.default_rng(1).normal(size=(4, 3, 2))
    fresh = batches.fresh_last_step(X, y, Task("regression", 2, False, False, 3),
                                    InputSpec((3, 5), "float", None, True), "rows")
    assert fresh.X.shape == (4, 2, 5) and fresh.y.shape == (4, 2, 2) and fresh.size == 5
    assert fresh.early.tolist() == [0, 1] and fresh.last.tolist() == [2, 3, 4]
    assert np.all(fresh.X[:, 0, 2:] == 0) and np.all(fresh.X[:, 1, :2] == 0)
    assert np.array_equal(fresh.X[:, 0, :2], X[:, 0, :2]) and np.array_equal(fresh.X[:, 1, 2:], X[:, 1, 2:])
    assert X[:, 0, 2:].any()  # the caller's batch is left as it was


def test_no_fresh_last_step_without_a_declared_sequence():
    X = np.zeros((4, 3), dtype=int)
    assert batches.fresh_last_step(X, X, Task("sequence", 8, False, True, 3),
                                   InputSpec((3,), "int", 7, False), "rows") is None
    assert batches.fresh_last_step(X, X, Task("sequence", 8, False, True, 3),
                                   InputSpec((3,), "int", 3, True), "rows") is None  # vocab < 4


def test_a_recurrent_weight_not_transposed_vanishes_with_symmetric_square_weights():
    """dh_prev = dh @ Whh for dh @ Whh.T: right with one step and with Whh symmetric, so it is
    named an untransposed square weight, on every parameter it reaches."""
    target = TinyRNN("whh_untransposed")
    before = {name: a.copy() for name, a in target.params.items()}
    failures = _failures(target)
    findings = [f for fs in failures.values() for f in fs]
    assert {"Wxh", "Whh", "bh"} <= set(failures)
    untransposed = [f for f in findings if f.data.get("how") == "untransposed"]
    assert untransposed and all(f.kind == "orientation" and "Whh" in f.text for f in untransposed)
    assert not _hows(findings) & {"through_time", "time_index", "several_steps"}
    for name, array in target.params.items():  # the symmetric weights were put back bit for bit
        assert array.tobytes() == before[name].tobytes()


@pytest.mark.parametrize("bug", ["mask_forgotten", "jacobian_diagonal"])
def test_attention_without_positions_vanishing_with_equal_steps_is_no_time_index(bug):
    """With every step the same, a network with no sense of position gives every step one
    output, and a mistake in how attention mixes the steps vanishes: no time index is named."""
    failures = _failures(CausalAttention(bug))
    assert failures
    assert all(f.kind == "mismatch" for fs in failures.values() for f in fs)
    assert not _hows([f for fs in failures.values() for f in fs]) & {"through_time", "time_index"}


def test_equal_steps_tell_nothing_when_the_network_treats_them_as_one():
    target = CausalAttention()
    X = np.random.default_rng(0).random((3, 4, 4))
    y = np.random.default_rng(1).random((3, 4, 3))
    batches = step_batches(X, y, Task("regression", 3, False, True, 4),
                           InputSpec((4, 4), sequence=True), "rows")
    assert through_time._steps_alike(target, batches)
    rnn = TinyRNN()
    tokens = np.random.default_rng(0).integers(0, 5, (3, 5))
    assert not through_time._steps_alike(rnn, step_batches(
        tokens, tokens, Task("sequence", 5, False, True, 5), InputSpec((5,), "int", 5, True), "rows"))


def test_a_network_refusing_fewer_steps_says_nothing_more():
    failures = _failures(TinyRNN("dby_assigned", fixed_length=True))
    assert set(failures) == {"by"}
    assert all(f.kind == "mismatch" and "how" not in f.data for f in failures["by"])


def test_shrink_steps_leaves_a_network_without_a_sequence_alone():
    target = TinyRNN("dby_assigned")
    ctx = Context(target, CheckConfig())
    X, y = ctx.main_batch()
    target.input_spec = {**target.input_spec, "sequence": False}
    result = check_target_gradients(target, X, y, layout="rows")
    assert not result.passed
    before = [f.text for f in result.findings]
    after = shrink_steps(result, target, X, y, task=ctx.task, spec=None, layout="rows")
    assert [f.text for f in after.findings] == before


def test_a_batch_of_one_example_is_not_shrunk():
    """With one example, chance can make a smaller batch agree (its first token equal to its
    position): only batches of several examples are checked again."""
    target = TinyRNN("dby_assigned")
    ctx = Context(target, CheckConfig())
    X, y = ctx.batch(1)
    result = check_target_gradients(target, X, y, layout="rows")
    assert not result.passed
    before = [f.text for f in result.findings]
    after = shrink_steps(result, target, X, y, task=ctx.task, spec=input_spec(target),
                         layout="rows")
    assert [f.text for f in after.findings] == before
    X4, y4 = ctx.batch(through_time.MIN_EXAMPLES)
    result = check_target_gradients(target, X4, y4, layout="rows")
    shrunk = shrink_steps(result, target, X4, y4, task=ctx.task, spec=input_spec(target), layout="rows")
    assert {f.data.get("how") for f in shrunk.findings if f.is_failure} == {"through_time"}


def test_a_recurrent_weight_given_a_gradient_where_one_step_ignores_it_reads_the_wrong_step():
    """dWhh from h[t] instead of h[t-1]: with one step the zero initial state makes the loss
    ignore Whh, yet the backward gives it a gradient: named a step reading another's state."""
    target = TinyRNN("dWhh_from_current_step")
    before = {name: a.copy() for name, a in target.params.items()}
    failures = _failures(target)
    assert set(failures) == {"Whh"}
    assert "wrong_step" in _hows(failures["Whh"])
    assert all(f.kind == "orientation" for f in failures["Whh"] if f.data.get("how") == "wrong_step")
    for name, array in target.params.items():  # the moved weights were put back bit for bit
        assert array.tobytes() == before[name].tobytes()


def test_a_penalty_the_loss_lacks_is_no_wrong_step():
    """0.1 * Whh added to dWhh only: the loss ignores Whh at one step too, but a gradient that is
    a multiple of the weights is a penalty's, not a step's: no wrong step is named."""
    findings = [f for fs in _failures(TinyRNN("whh_decay_in_gradient_only")).values() for f in fs]
    assert findings and "wrong_step" not in _hows(findings)
