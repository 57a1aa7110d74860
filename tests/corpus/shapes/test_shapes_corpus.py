"""The shapes corpus against gradcheck's stable API: every correct configuration passes, every
bug fails on exactly the parameters it makes wrong, and the harness leaves every array as it
found it.

What the checker calls each bug, and whether that names its cause, is docs/diagnosis.md's table
(``scripts/diagnosis_table.py --corpus shapes-flat --show unnamed`` prints every finding).
"""

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.engine import check_target_gradients
from gradcheck.results.findings import GRADIENT_KINDS
from tests.corpus.shapes import char_rnn, harness, layer_library
from tests.corpus.shapes.catalogue import BUGS, CAUSES, CORRECT, UPCAST

#: float32 false alarms of the current checker on correct configurations, recorded rather than
#: hidden: (config id, mode, failing parameters, the failure's message). Each was traced by hand.
#: (The last one, a ReLU pre-activation of conv_pool[seed=0] within float32's step of 0, is judged
#: since the loss's rounding is measured and kinks get a second opinion.)
KNOWN_FLOAT32_ISSUES: list = []

CASES = [(c, d) for c in CORRECT for d in c.dtypes]


def _check(target, mode="full"):
    return check_gradients(target.loss, target.params, target.grads, mode=mode)


def _failures(result):
    return [f.message for f in result.findings if f.is_failure]


def _passes_or_is_known(config, dtype, mode):
    result = _check(harness.target(config, dtype), mode)
    known = [k for k in KNOWN_FLOAT32_ISSUES if (k[0], k[1]) == (config.id, mode)]
    if known and dtype == np.float32 and not result.passed:
        assert sorted(result.failed) == sorted(known[0][2]), _failures(result)
        pytest.xfail(f"known float32 false alarm: {known[0][3]}")
    assert result.passed, _failures(result)


@pytest.mark.parametrize("config, dtype", CASES, ids=[f"{c.id}-{np.dtype(d).name}" for c, d in CASES])
def test_a_correct_configuration_passes_the_full_check(config, dtype):
    _passes_or_is_known(config, dtype, "full")


@pytest.mark.parametrize("mode", ["sample", "directional"])
@pytest.mark.parametrize("config, dtype", CASES, ids=[f"{c.id}-{np.dtype(d).name}" for c, d in CASES])
def test_a_correct_configuration_passes_the_cheaper_modes(config, dtype, mode):
    _passes_or_is_known(config, dtype, mode)


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_a_bug_fails_on_exactly_its_parameters(bug, record_property):
    target = harness.target(bug, np.float64)
    assert bug.wrong <= set(target.params), "declared names the harness does not have"
    result = _check(target)
    kinds = sorted({f.kind for f in result.findings if f.is_failure})
    record_property("finding_kinds", ",".join(kinds))
    assert set(result.failed) == set(bug.wrong), _failures(result)
    assert set(kinds) <= set(GRADIENT_KINDS)


UPCAST_BUGS = [b for b in BUGS if b.module in UPCAST]


@pytest.mark.parametrize("bug", UPCAST_BUGS, ids=[b.id for b in UPCAST_BUGS])
def test_a_bug_in_float32_weights_whose_loss_runs_in_float64_fails_on_exactly_its_parameters(bug):
    kwargs = {**bug.builder_kwargs, **UPCAST[bug.module], "dtype": np.float32, "bug": bug.name}
    target = harness.make(bug.module, kwargs, bug.data)
    result = _check(target)
    assert set(result.failed) == set(bug.wrong), _failures(result)
    assert "float64" in " ".join(result.notes)  # judged by the precision the loss has


MODULE_LEVEL = [b for b in BUGS if b.module == "char_rnn"]


@pytest.mark.parametrize("bug", MODULE_LEVEL, ids=[b.id for b in MODULE_LEVEL])
def test_a_bug_in_a_float32_network_whose_weights_are_module_globals_fails_as_a_target(bug):
    """Checked as a target, the float32 RNN is judged again on a float64 copy of itself: its module
    globals are widened for the copy and put back."""
    target = harness.ProtocolTarget(harness.target(bug, np.float32))
    result = check_target_gradients(target, *harness.PLACEHOLDER_BATCH)
    assert set(result.failed) == set(bug.wrong), _failures(result)
    assert any("float64 copy" in note for note in result.notes), result.notes


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_a_bug_changes_exactly_the_gradients_it_declares(bug):
    """The declaration checked without gradcheck: the buggy build's gradients against the correct
    build's, same seed and data."""
    good = harness.target(bug, np.float64, bug=None).grads()
    buggy = harness.target(bug, np.float64).grads()
    differ = {name for name in good
              if good[name].shape != buggy[name].shape
              or not np.allclose(good[name], buggy[name], rtol=1e-7, atol=1e-10)}
    assert differ == set(bug.wrong)


# -- the catalogue itself --------------------------------------------------------------------------
def test_every_bug_a_module_knows_is_catalogued_once():
    for name in harness.MODULES:
        declared = {b.name for b in BUGS if b.module == name}
        assert set(harness.module(name).BUG_NAMES) == declared, name
    assert len({b.id for b in BUGS}) == len(BUGS)
    assert all(b.cause in CAUSES and b.words and b.wrong for b in BUGS)


def test_every_module_has_two_correct_sizes_and_seeds_in_both_dtypes():
    for name in harness.MODULES:
        configs = [c for c in CORRECT if c.module == name]
        assert len({c.builder_kwargs.get("seed", 0) for c in configs}) >= 2, name
        assert len(configs) >= 2, name
        assert {np.float64, np.float32} <= {d for c in configs for d in c.dtypes}, name


# -- determinism and the harness -------------------------------------------------------------------
@pytest.mark.parametrize("config", CORRECT, ids=[c.id for c in CORRECT])
def test_a_build_is_determined_by_its_seed(config):
    first, second = harness.target(config, np.float64), harness.target(config, np.float64)
    assert first.params.keys() == second.params.keys()
    for name in first.params:
        assert np.array_equal(first.params[name], second.params[name]), name
        assert first.params[name] is not second.params[name], name
    assert first.loss() == first.loss() == second.loss()


@pytest.mark.parametrize("config", CORRECT, ids=[c.id for c in CORRECT])
def test_the_gradients_function_leaves_every_array_bit_for_bit(config):
    target = harness.target(config, np.float32 if np.float32 in config.dtypes else np.float64)
    before = {name: array.copy() for name, array in target.params.items()}
    loss = target.loss()
    grads = target.grads()
    target.grads()
    assert grads.keys() == target.params.keys()
    for name, array in target.params.items():
        assert array.tobytes() == before[name].tobytes(), name
        assert grads[name].shape == array.shape, name
    assert target.loss() == loss


@pytest.mark.parametrize("config", CORRECT, ids=[c.id for c in CORRECT])
def test_the_arrays_handed_over_are_the_ones_the_loss_reads(config):
    target = harness.target(config, np.float64)
    grads = target.grads()
    loss = target.loss()
    for name, array in target.params.items():
        norm = np.linalg.norm(grads[name])
        if norm < 1e-8:  # e.g. a bias just before batch norm
            continue
        saved = array.copy()
        array -= 1e-3 * grads[name] / norm
        assert target.loss() < loss, name
        array[...] = saved
    assert target.loss() == loss


def test_the_in_place_step_is_undone_even_when_it_raises():
    params = {"w": np.arange(4.0)}

    def step(lr):
        params["w"] -= lr * np.ones(4)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        harness.in_place_gradients(params, step)
    assert np.array_equal(params["w"], np.arange(4.0))


def test_the_layer_library_gets_its_optimizers_back():
    target = harness.make("layer_library", {"kind": "batchnorm", "optimizer": "momentum"})
    net = target.model
    opts = {(i, k): v for i, layer in enumerate(net.layers) for k, v in vars(layer).items() if k.endswith("_opt")}
    target.grads()
    after = {(i, k): v for i, layer in enumerate(net.layers) for k, v in vars(layer).items() if k.endswith("_opt")}
    assert after == opts
    assert all(isinstance(o, layer_library.Momentum) and o.velocity is None for o in after.values())
    # the parameters are still the very arrays the layers hold
    assert target.params["layers.1.gamma"] is net.layers[1].gamma


def test_char_rnn_instances_do_not_share_globals():
    a, b = char_rnn.load(seed=0), char_rnn.load(seed=0)
    assert a is not b and a.Whh is not b.Whh and np.array_equal(a.Whh, b.Whh)
    a.Whh += 1
    assert not np.array_equal(a.Whh, b.Whh)
    c = char_rnn.load(seed=3, hidden=5, vocab=4, bug="missing_dhnext")
    assert c.Whh.shape == (5, 5) and c.BUG == "missing_dhnext" and b.BUG is None
    assert char_rnn.load(dtype=np.float32).Wxh.dtype == np.float32
    loss, *grads, h = a.lossFun([0, 1, 2], [1, 2, 3], np.zeros((8, 1)))
    assert [g.shape for g in grads] == [a.Wxh.shape, a.Whh.shape, a.Why.shape, a.bh.shape, a.by.shape]
    assert h.shape == (8, 1) and loss > 0


def test_dropout_keeps_its_mask_until_reseeded():
    net = layer_library.build("dropout", seed=0)
    X = np.ones((4, 4))
    first, again = net._forward_pass(X), net._forward_pass(X)
    assert np.array_equal(first, again)
    net.layers[2].reseed(7)
    assert not np.array_equal(net._forward_pass(X), first)
    assert np.array_equal(net._forward_pass(X, training=False), net._forward_pass(X, training=False))
