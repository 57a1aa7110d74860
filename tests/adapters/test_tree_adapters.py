"""The adapters for the published shapes, each against the shapes corpus's reference harness (which
does by hand what the adapter must do): the same parameters under the same names, the same
gradients on the same examples, and every array left as it was."""

import numpy as np
import pytest

from gradcheck import InvalidArgumentError, ProtocolError, adapters, run_suite
from tests.corpus.shapes import char_rnn, cnn_inplace, conv_pool, harness, layer_library, transformer


def _same(got: dict, expected: dict, rtol=1e-10):
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=rtol, atol=1e-12, err_msg=name)


def _kept(params):
    return {name: array.copy() for name, array in params.items()}


def _unchanged(params, before):
    for name, array in params.items():
        assert array.tobytes() == before[name].tobytes(), name


# -- module globals --------------------------------------------------------------------------------
def rnn_target(**build):
    rnn = char_rnn.load(**build)
    hprev = np.zeros((rnn.HIDDEN, 1))
    return rnn, adapters.module_globals(rnn.lossFun, hprev, vocab=rnn.VOCAB, steps=6)


def test_module_globals_are_the_parameters_and_the_gradients_their_mean_over_sequences():
    rnn, target = rnn_target(seed=0)
    assert list(target.params) == ["Wxh", "Whh", "bh", "Why", "by"]
    assert target.params["Whh"] is rnn.Whh
    X = np.array([[0, 3, 2, 5, 1, 1], [4, 4, 0, 2, 3, 5]])
    y = np.array([[3, 2, 5, 1, 1, 0], [4, 0, 2, 3, 5, 5]])
    h0 = np.zeros((rnn.HIDDEN, 1))
    each = [rnn.lossFun(list(X[i]), list(y[i]), h0) for i in range(2)]
    names = ("Wxh", "Whh", "Why", "bh", "by")
    expected = {name: (each[0][k + 1] + each[1][k + 1]) / 2 for k, name in enumerate(names)}
    before = _kept(target.params)
    assert target.loss(X, y) == pytest.approx((each[0][0] + each[1][0]) / 2)
    _same(target.gradients(X, y), {name: expected[name] for name in target.params})
    _unchanged(target.params, before)
    assert target.task == "sequence" and target.sequence_length == 6 and target.n_classes == rnn.VOCAB


def test_gradients_returned_without_names_are_matched_by_position_and_shape():
    rnn = char_rnn.load(seed=1, hidden=5, vocab=4)

    def loss_and_grads(inputs, targets):
        out = rnn.lossFun(inputs, targets, np.zeros((5, 1)))
        return out[:6]

    with pytest.raises(ProtocolError, match="reads no float arrays"):  # this module's globals: none
        adapters.module_globals(loss_and_grads, vocab=4, steps=3)
    # the network's own function, its returned names hidden by a wrapper in its module
    exec("def wrapped(inputs, targets, h):\n    return tuple(lossFun(inputs, targets, h)[:6])\n", rnn.__dict__)
    target = adapters.module_globals(rnn.wrapped, np.zeros((5, 1)), vocab=4, steps=3)
    assert list(target.params) == ["Wxh", "Whh", "bh", "Why", "by"]
    X, y = np.array([[1, 2, 3]]), np.array([[2, 3, 0]])
    grads = rnn.lossFun([1, 2, 3], [2, 3, 0], np.zeros((5, 1)))
    assert np.array_equal(target.gradients(X, y)["Why"], grads[3])


def test_a_global_the_function_reads_without_gradient_is_left_fixed_and_said():
    rnn = char_rnn.load(seed=0)
    exec("scale = np.ones(1)\ndef scaled(inputs, targets, h):\n"
         "    loss, dWxh, dWhh, dWhy, dbh, dby, h = lossFun(inputs, targets, h)\n"
         "    return loss * scale[0], dWxh, dWhh, dWhy, dbh, dby\n", rnn.__dict__)
    target = adapters.module_globals(rnn.scaled, np.zeros((8, 1)), vocab=6, steps=4)
    assert "scale" not in target.params
    assert target.adapter_notes == ["left fixed, no gradient returned: scale"]


def test_module_globals_needs_the_inputs_declared():
    rnn = char_rnn.load(seed=0)
    with pytest.raises(InvalidArgumentError, match="vocab= and steps="):
        adapters.module_globals(rnn.lossFun, np.zeros((8, 1)))


# -- a functional tape -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_nested_parameter_tree_with_a_tied_embedding_matches_the_harness(dtype):
    ns = transformer.build(seed=1, dtype=dtype, n_layers=2)
    target = adapters.tape(ns.params, ns.forward, ns.backward, loss=ns.loss, loss_grad=ns.loss_grad,
                           vocab=ns.vocab, steps=ns.seq)
    reference = harness.flatten(ns.params)
    assert list(target.params) == list(reference)
    assert all(target.params[name] is reference[name] for name in reference)
    tokens = np.random.default_rng(0).integers(0, ns.vocab, (3, ns.seq + 1))
    X, y = tokens[:, :-1], tokens[:, 1:]
    ctx, logits = ns.forward(ns.params, X)
    _same(target.gradients(X, y), harness.flatten(ns.backward(ctx, ns.loss_grad(logits, y))))
    assert target.loss(X, y) == ns.loss(logits, y)


def test_an_array_kept_under_two_names_is_checked_once_with_both_gradients():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((5, 3))
    params = {"embed": E, "head": E}  # the output layer reuses the embedding: one array

    def forward(p, tokens):
        h = p["embed"][tokens].sum(axis=1)
        return {"h": h, "tokens": tokens}, h @ p["head"].T

    def backward(ctx, dlogits):
        dembed = np.zeros_like(E)
        np.add.at(dembed, ctx["tokens"], (dlogits @ params["head"])[:, None, :])
        return {"embed": dembed, "head": dlogits.T @ ctx["h"]}

    def loss(out, y):
        return float(np.sum(out * y)), y.astype(float)

    target = adapters.tape(params, forward, backward, loss=loss, input_spec={"shape": (2,), "dtype": "int", "vocab": 5},
                           task="regression", n_classes=5)
    assert list(target.params) == ["embed"] and "head is embed" in target.adapter_notes[0]
    result = run_suite(target, groups=("gradients",))
    assert result.verdict.status == "passed", [o.error for o in result.outcomes]


def test_without_a_loss_a_block_is_checked_as_a_layer_with_its_input_gradient_left_aside():
    ns = transformer.build(seed=0, dtype=np.float64)
    block = ns.params["blocks"][0]

    def forward(p, x):
        y, cache = transformer.block_forward(x, p, 2)
        return cache, y

    def backward(cache, dy):
        return transformer.block_backward(dy, cache, block, 2)  # (dx, grads)

    target = adapters.tape(block, forward, backward, input_shape=(4, 8))
    result = run_suite(target, groups=("gradients",))
    assert result.verdict.status == "passed"
    buggy = adapters.tape(block, forward, lambda c, dy: transformer.block_backward(
        dy, c, block, 2, bug="attention_softmax_jacobian_diagonal"), input_shape=(4, 8))
    failed = run_suite(buggy, groups=("gradients",)).verdict
    assert set(failed.wrong_gradients) == {"attn.Wqkv", "ln1.g", "ln1.b"}


# -- a step applied in place -----------------------------------------------------------------------
def cnn_target(**build):
    net = cnn_inplace.build(**build)
    size = build.get("size", 8)
    return net, adapters.in_place(net.train_step, loss=lambda x, y: net.forward(x, y)[1],
                                  input_shape=(size, size))


def test_the_gradient_a_step_applies_is_read_and_every_array_written_back():
    net, target = cnn_target(seed=0, size=8, filters=2)
    assert list(target.params) == ["conv.filters", "softmax.weights", "softmax.biases"]
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8)).astype(float)
    labels = np.array([3, 7])
    before = _kept(target.params)
    expected = {}
    for image, label in zip(images, labels):
        for name, grad in harness.in_place_gradients(
                target.params, lambda lr, image=image, label=label: net.train_step(image, int(label), lr)).items():
            expected[name] = expected.get(name, 0) + grad / 2
    _same(target.gradients(images, labels), expected)
    _unchanged(target.params, before)
    assert target.loss(images, labels) == pytest.approx(
        np.mean([net.forward(i, int(t))[1] for i, t in zip(images, labels)]))


def test_a_bias_the_step_forgets_is_still_a_parameter_and_said_so():
    _, target = cnn_target(seed=0, bug="dense_bias_gradient_missing")
    assert "softmax.biases" in target.params
    assert target.adapter_notes == ["softmax.biases: not changed by one step of train_step, checked "
                                    "as a parameter of softmax, which holds softmax.weights"]
    images, labels = np.random.default_rng(1).uniform(0, 255, (2, 8, 8)), np.array([1, 2])
    assert not np.any(target.gradients(images, labels)["softmax.biases"])


def test_a_step_that_is_not_plain_gradient_descent_is_refused():
    net = cnn_inplace.build(seed=0)
    velocity = {}

    def momentum_step(image, label, lr):
        filters = net.conv.filters.copy()
        net.train_step(image, label, lr)
        change = filters - net.conv.filters
        velocity["v"] = 0.9 * velocity.get("v", 0) + change
        net.conv.filters[...] = filters - velocity["v"] * (1 + lr)

    with pytest.raises(ProtocolError, match="not proportional to its learning rate"):
        adapters.in_place(momentum_step, loss=lambda x, y: net.forward(x, y)[1], input_shape=(8, 8),
                          params={"conv": net.conv})


def _layered(**build):
    net = cnn_inplace.build(**build)
    size = build.get("size", 8)
    return net, adapters.in_place(net.train_step, loss=lambda x, y: net.forward(x, y)[1],
                                  input_shape=(size, size), layers=[net.conv, net.pool, net.softmax])


def test_layers_applying_their_gradients_are_seen_one_at_a_time_with_examples_as_rows():
    """Each face runs its layer on each example alone and reads the gradient its backprop
    applied; the gradients are sums over the examples, every array is written back."""
    net, target = _layered(seed=0, size=8, filters=2)
    conv, pool, dense = target.layers
    assert type(conv).__name__ == "Conv3x3" and list(conv.params) == ["filters"] and pool.params == {}
    assert list(dense.params) == ["weights", "biases"]
    X = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 8, 8))
    before = _kept(target.params)
    Y = conv.forward(X)
    assert Y.shape == (3, 6, 6, 2)
    np.testing.assert_array_equal(Y[1], net.conv.forward(X[1]))
    dY = np.random.default_rng(1).normal(size=Y.shape)
    assert conv.backward(dY) is None  # the first layer computes no input gradient
    expected = sum(np.einsum("ijf,ijab->fab", dY[k], np.lib.stride_tricks.sliding_window_view(X[k], (3, 3)))
                   for k in range(3))
    np.testing.assert_allclose(conv.grads()["filters"], expected, rtol=1e-10)
    _unchanged(target.params, before)
    pooled = pool.forward(Y)
    assert pool.backward(np.ones_like(pooled)).shape == Y.shape


def test_each_layer_of_a_correct_in_place_cnn_passes_its_own_check_and_a_pool_bug_is_found_in_the_pool():
    _, target = _layered(seed=1, size=10, filters=3, classes=4)
    suite = run_suite(target, groups=("gradients",))
    layer_checks = [o for o in suite.outcomes if o.name.startswith("check_layer")]
    assert [o.name for o in layer_checks] == ["check_layer1_conv3x3", "check_layer2_maxpool2",
                                              "check_layer3_softmax"]
    assert all(o.passed for o in layer_checks)
    assert any("its input 'input' is not" in note for note in layer_checks[0].result.notes)
    _, buggy = _layered(seed=0, bug="maxpool_routes_to_every_entry")
    failed = {o.name: o for o in run_suite(buggy, groups=("gradients",)).outcomes if not o.passed}
    assert "check_layer2_maxpool2" in failed and "check_layer3_softmax" not in failed
    assert {f.kind for f in failed["check_layer2_maxpool2"].result.findings if f.is_failure} == {"routing"}


def test_a_layer_backward_that_raises_leaves_its_arrays_as_they_were():
    net, target = _layered(seed=0)
    conv = target.layers[0]
    before = _kept(target.params)
    original = net.conv.backprop

    def half_then_boom(d, learn_rate):
        net.conv.filters -= learn_rate  # changed before it raises
        raise RuntimeError("boom")

    net.conv.backprop = half_then_boom
    Y = conv.forward(np.ones((2, 8, 8)))
    with pytest.raises(RuntimeError, match="boom"):
        conv.backward(np.ones_like(Y))
    net.conv.backprop = original
    _unchanged(target.params, before)


def test_layers_must_be_a_list_of_layer_objects():
    net = cnn_inplace.build(seed=0)
    with pytest.raises(InvalidArgumentError, match="layers"):
        adapters.in_place(net.train_step, loss=lambda x, y: net.forward(x, y)[1], input_shape=(8, 8),
                          layers=net.conv)
    with pytest.raises(InvalidArgumentError, match="no forward or no backward"):
        adapters.in_place(net.train_step, loss=lambda x, y: net.forward(x, y)[1], input_shape=(8, 8),
                          layers=[net.conv, object()])


def test_a_step_that_raises_leaves_the_arrays_as_they_were():
    net, target = cnn_target(seed=0)
    before = _kept(target.params)
    original = net.pool.backprop
    net.pool.backprop = lambda *a: (_ for _ in ()).throw(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        target.gradients(np.ones((1, 8, 8)), np.array([0]))
    net.pool.backprop = original
    _unchanged(target.params, before)


# -- layers handing their gradients to an optimizer --------------------------------------------------
@pytest.mark.parametrize("kind", layer_library.KINDS)
def test_gradients_handed_to_optimizers_are_recorded_under_the_layers_names(kind):
    reference = harness.make("layer_library", {"kind": kind, "seed": 0, "optimizer": "momentum"})
    net = reference.model
    target = adapters.layer_objects(net.layers, net.loss_function)
    assert list(target.params) == [name for name in reference.params if name != "input"]
    X = reference.params["input"]
    labels = np.random.default_rng(0).integers(0, net.n_classes, len(X))
    Y = np.eye(net.n_classes)[labels]
    for layer in net.layers:
        if hasattr(layer, "reseed"):  # a dropout mask drawn afresh, the same in both networks
            layer.reseed(7)
    store = {}
    for i, layer in enumerate(net.layers):  # the harness's own recorders, on these labels
        for attr in [a for a in vars(layer) if a.endswith("_opt")]:
            setattr(layer, attr, harness.Recorder(f"layers.{i}.{attr[:-4]}", store))
    net._backward_pass(net.loss_function.gradient(Y, net._forward_pass(X, training=True)))
    expected = {name: store[name] for name in target.params}
    net2 = harness.make("layer_library", {"kind": kind, "seed": 0, "optimizer": "momentum"}).model
    target = adapters.layer_objects(net2.layers, net2.loss_function)
    opts = {(i, k): v for i, layer in enumerate(net2.layers) for k, v in vars(layer).items() if k.endswith("_opt")}
    target.loss(X, labels)  # its first call learns the loss's reduction on batches of other sizes
    for layer in net2.layers:
        if hasattr(layer, "reseed"):
            layer.reseed(7)
    _same(target.gradients(X, labels), expected, rtol=1e-9)
    assert {(i, k): v for i, layer in enumerate(net2.layers) for k, v in vars(layer).items()
            if k.endswith("_opt")} == opts
    assert all(o.velocity is None for o in opts.values())  # the optimizers never updated anything


def test_layer_methods_are_found_by_name_or_named_and_the_input_read_from_the_first_layer():
    net = layer_library.build("conv", seed=0)
    target = adapters.layer_objects(net.layers, net.loss_function, forward="forward_pass",
                                    backward="backward_pass")
    assert target.input_spec.shape == (1, 6, 6)
    assert [a.method_names for a in target.layers][0] == ("forward_pass", "backward_pass")
    with pytest.raises(InvalidArgumentError, match=r"has no step/backward_pass.*forward='forward_pass'"):
        adapters.layer_objects(net.layers, net.loss_function, forward="step", backward="backward_pass")


def test_batch_norm_runs_in_training_mode_and_a_fresh_random_mask_in_evaluation_mode():
    net = layer_library.build("batchnorm", seed=0)
    target = adapters.layer_objects(net.layers, net.loss_function)
    assert [a.training for a in target.layers] == [True] * 5

    class FreshDropout(layer_library.Dropout):
        def forward_pass(self, X, training=True):  # a new mask at every call, as most code draws one
            self._mask = self.rng.uniform(size=X.shape) > self.p if training else np.full(X.shape, 1 - self.p)
            return X * self._mask / (1 - self.p)

    net = layer_library.build("dropout", seed=0)
    net.layers[2].__class__ = FreshDropout
    target = adapters.layer_objects(net.layers, net.loss_function)
    assert [a.training for a in target.layers] == [True, True, False, True, True]


def test_a_criterion_whose_backward_takes_nothing_starts_the_backward():
    net = conv_pool.build(seed=0)
    target = adapters.layer_objects(net.layers, net.criterion, input_shape=(1, 6, 6))
    ref = harness.make("conv_pool", {"seed": 0})
    X = ref.params["input"]
    labels = np.random.default_rng(50_000).integers(0, net.classes, net.input_shape[0])
    grads = target.gradients(X, labels)
    net.loss(X, labels)
    net.backward()
    assert np.allclose(grads["W1"], net.layers[0].dW) and np.allclose(grads["b3"], net.layers[5].db)
