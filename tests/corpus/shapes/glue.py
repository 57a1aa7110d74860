"""The glue a user writes to plug each network of the shapes corpus into gradcheck, and nothing
more: each function takes what the module's own code builds and returns a target.

``docs/networks.md`` shows these bodies; ``test_glue.py`` counts their lines (at most 10 each),
runs the correct builds through every check and probe in every mode, and checks every bug is
flagged on exactly its parameters. Each glue uses only the network's own names and the adapter's
keywords: nothing here is keyed to what the corpus calls things.
"""

from __future__ import annotations

import numpy as np

from gradcheck import adapters


def char_rnn(rnn, steps=6):
    """A vanilla RNN whose parameters are module globals: ``lossFun(inputs, targets, hprev)``
    returns the loss summed over time, the five gradients and the last hidden state."""
    hprev = np.zeros((rnn.hidden_size, 1), dtype=rnn.Wxh.dtype)
    return adapters.module_globals(rnn.lossFun, hprev, vocab=rnn.vocab_size, steps=steps)


def layer_library(net):
    """Layers with ``forward_pass``/``backward_pass`` handing each gradient to an optimizer."""
    return adapters.layer_objects(net.layers, net.loss_function)


def cnn_inplace(net):
    """One image at a time; ``train_step(image, label, lr)`` updates the weights in place."""
    return adapters.in_place(net.train_step, loss=lambda image, label: net.forward(image, label)[1],
                             input_shape=(net.size, net.size), n_classes=net.classes,
                             layers=[net.conv, net.pool, net.softmax])


def transformer(ns):
    """``forward(params, x) -> (ctx, logits)``, ``backward(ctx, dlogits) -> grads``, nested params
    with a tied embedding."""
    return adapters.tape(ns.params, ns.forward, ns.backward, loss=ns.loss, loss_grad=ns.loss_grad,
                         vocab=ns.vocab, steps=ns.seq)


def lstm(model):
    """An LSTM over time, a class (or, with a squared error, k real values) at every step:
    ``model.params`` and ``model.loss(x, y) -> (loss, grads)``."""
    task = "regression" if model.loss_kind == "mse" else "sequence"
    return adapters.cache_model(model, input_shape=(model.steps, model.n_in), task=task,
                                n_classes=model.n_out, sequence_length=model.steps)


def conv_pool(net):
    """Conv, ReLU and max-pool layer objects keeping ``dW``/``db``, a criterion whose
    ``backward()`` takes nothing."""
    return adapters.layer_objects(net.layers, net.criterion, input_shape=net.input_shape[1:])


#: module name -> glue
GLUE = {"char_rnn": char_rnn, "layer_library": layer_library, "cnn_inplace": cnn_inplace,
        "transformer": transformer, "lstm": lstm, "conv_pool": conv_pool}


def build(entry, dtype, bug=None):
    """What a catalogue entry's module builds (in ``dtype``, with ``bug``): a module, a network
    or a namespace of functions."""
    from tests.corpus.shapes import harness

    kwargs = dict(entry.builder_kwargs, dtype=dtype, bug=bug)
    module = harness.module(entry.module)
    if entry.module == "layer_library":
        return module.build(kwargs.pop("kind"), **kwargs)
    return module.load(**kwargs) if entry.module == "char_rnn" else module.build(**kwargs)


def target(entry, dtype, bug=None):
    """The glued target of a catalogue entry."""
    built = build(entry, dtype, bug)
    if entry.module == "char_rnn":
        return char_rnn(built, steps=entry.data.get("seq", 6))
    return GLUE[entry.module](built)
