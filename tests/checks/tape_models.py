"""A small token model written as functional code with a tape, for the checks that read a
network's outputs: ``forward(params, tokens) -> (ctx, logits)``, ``backward(ctx, dlogits) ->
grads``. Each step's state is the running mean of the embedded tokens so far (causal) or of the
whole sequence (``causal=False``), squashed by tanh and read out by ``W``."""

from __future__ import annotations

import numpy as np

import gradcheck

#: Mistakes written into :func:`backward`.
BUGS = ("leaks_later_steps", "scatters_by_position")


def init(vocab=7, d=4, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    return {"E": rng.normal(0, 0.7, (vocab, d)), "P": rng.normal(0, 0.4, (steps, d)),
            "W": rng.normal(0, 0.7, (d, vocab))}


def _weights(T, causal):
    """(T, T): how much step s's input weighs in step t's state."""
    if causal:
        return np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
    return np.full((T, T), 1.0 / T)


def forward(params, tokens, causal=True):
    tokens = np.asarray(tokens)
    T = tokens.shape[1]
    x = params["E"][tokens] + params["P"][:T]
    h = np.tanh(np.einsum("ts,nsd->ntd", _weights(T, causal), x))
    return {"tokens": tokens, "h": h, "params": params, "causal": causal}, h @ params["W"]


def backward(ctx, dlogits, bug=None):
    p, h, tokens = ctx["params"], ctx["h"], ctx["tokens"]
    T = tokens.shape[1]
    dh = dlogits @ p["W"].T
    dc = dh * (1 - h * h)
    weights = _weights(T, ctx["causal"] and bug != "leaks_later_steps")
    if bug == "leaks_later_steps":
        weights = np.full((T, T), 1.0) / np.arange(1, T + 1)[:, None]
    dx = np.einsum("ts,ntd->nsd", weights, dc)
    dE = np.zeros_like(p["E"])
    if bug == "scatters_by_position":
        np.add.at(dE, np.arange(T), dx.sum(axis=0))
    else:
        np.add.at(dE, tokens, dx)
    dP = np.zeros_like(p["P"])
    dP[:T] = dx.sum(axis=0)
    return {"E": dE, "P": dP, "W": np.einsum("ntd,ntv->dv", h, dlogits)}


def loss(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], axis=-1).mean())


def loss_grad(logits, targets):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    d = e / e.sum(axis=-1, keepdims=True)
    np.put_along_axis(d, np.asarray(targets)[..., None],
                      np.take_along_axis(d, np.asarray(targets)[..., None], axis=-1) - 1, axis=-1)
    return d / np.asarray(targets).size


def target(bug=None, causal=True, vocab=7, steps=5, seed=0):
    """The model glued as a user would: a tape with the loss and its gradient."""
    params = init(vocab=vocab, steps=steps, seed=seed)
    return gradcheck.adapters.tape(params, lambda p, x: forward(p, x, causal),
                                   lambda ctx, d: backward(ctx, d, bug), loss=loss, loss_grad=loss_grad,
                                   vocab=vocab, steps=steps)
