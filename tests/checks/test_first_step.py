"""The first step's outputs alone, and tokens equal to their positions: two more looks at a
sequence network of tokens whose error needs several steps (a tape, whose outputs and backward
from a given upstream gradient can be asked for)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.checks.first_step import first_step_upstream, leaking_names
from gradcheck.targets.protocol import target_params
from tests.checks import tape_models
from tests.checks.test_through_time import _failures


def _batch(n=6, steps=5, vocab=7, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, (n, steps))


def test_the_upstream_gradient_reads_the_first_step_only():
    C = first_step_upstream(np.ones((3, 4, 2)), np.zeros((3, 4), int))
    assert C.shape == (3, 4, 2) and np.all(C[:, 1:] == 0) and np.all(C[:, 0] != 0)
    assert first_step_upstream(np.ones((3, 2)), np.zeros((3, 4), int)) is None  # no step axis


def test_a_backward_leaking_later_steps_into_the_first_is_found_on_what_only_later_steps_read():
    target = tape_models.target("leaks_later_steps")
    found = leaking_names(target, _batch(), ["E", "P", "W"], target_params(target))
    assert "P" in found and "W" not in found


@pytest.mark.parametrize("causal", [True, False])
def test_correct_networks_leak_nothing(causal):
    """Causal or not: a correct backward sends no gradient where the loss does not reach."""
    target = tape_models.target(causal=causal)
    assert leaking_names(target, _batch(), ["E", "P", "W"], target_params(target)) == {}


def test_a_target_without_outputs_is_not_asked():
    from tests.checks.test_through_time import TinyRNN

    rnn = TinyRNN()
    assert leaking_names(rnn, _batch(vocab=5), ["Whh"], rnn.params) == {}


def test_the_leak_is_named_routing_in_a_check():
    findings = _failures(tape_models.target("leaks_later_steps"))
    told = [f for f in findings["P"] if f.data.get("how") == "later_leak"]
    assert told and all(f.kind == "routing" for f in told)


def test_scattering_a_lookup_by_position_is_named_by_tokens_equal_to_their_positions():
    findings = _failures(tape_models.target("scatters_by_position"))
    told = [f for f in findings["E"] if f.data.get("how") == "position_for_token"]
    assert told and all(f.kind == "orientation" for f in told)


def test_correct_tape_networks_pass():
    for causal in (True, False):
        assert _failures(tape_models.target(causal=causal)) == {}
