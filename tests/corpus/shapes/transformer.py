"""A functional transformer language model: parameters in a nested dict, pure functions over it.

``init_params`` returns the tree::

    {"embed": (vocab, d), "pos": (max_seq, d),
     "blocks": [{"ln1": {"g", "b"}, "attn": {"Wqkv": (3, d, d), "Wo": (d, d)},
                 "ln2": {"g", "b"}, "mlp": {"W1", "b1", "W2", "b2"}}, ...],
     "ln_f": {"g", "b"}}

``forward(params, tokens) -> (ctx, logits)`` runs pre-norm blocks (residual connections around
causal multi-head attention and a GELU MLP) and projects with the *tied* embedding (the output
layer reuses ``params["embed"]``); ``loss(logits, targets)`` is the mean cross-entropy and
``loss_grad`` its gradient; ``backward(ctx, dlogits)`` returns a tree shaped like ``params``,
where the embedding's gradient is the sum of its two uses. Attention is written with
``np.einsum``; the backward pass recomputes the attention weights from the cached raw scores.

float32 by default. ``bug=`` (to :func:`backward` or :func:`build`) names a mistake written into
the backward pass (see :data:`BUG_NAMES`).
"""

from functools import partial
from types import SimpleNamespace

import numpy as np

BUG_NAMES = (
    "residual_branch_missing",
    "attention_softmax_jacobian_diagonal",
    "layernorm_variance_term_missing",
    "tied_embedding_only_output_use",
    "embedding_wrong_index",
    "causal_mask_not_applied_in_backward",
)

_GELU_C = float(np.sqrt(2 / np.pi))


def init_params(rng, vocab, d_model, n_heads, d_ff, dtype=np.float32, *, n_layers=1, max_seq=16):
    if d_model % n_heads:
        raise ValueError(f"d_model {d_model} is not a multiple of n_heads {n_heads}")

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def norm():
        return {"g": np.ones(d_model, dtype=dtype), "b": np.zeros(d_model, dtype=dtype)}

    blocks = []
    for _ in range(n_layers):
        blocks.append({
            "ln1": norm(),
            "attn": {"Wqkv": normal((3, d_model, d_model), d_model ** -0.5),
                     "Wo": normal((d_model, d_model), d_model ** -0.5)},
            "ln2": norm(),
            "mlp": {"W1": normal((d_model, d_ff), d_model ** -0.5), "b1": normal(d_ff, 0.1),
                    "W2": normal((d_ff, d_model), d_ff ** -0.5), "b2": normal(d_model, 0.1)},
        })
    return {"embed": normal((vocab, d_model), 0.5), "pos": normal((max_seq, d_model), 0.2),
            "blocks": blocks, "ln_f": norm()}


# -- pieces ---------------------------------------------------------------------------------------
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    rstd = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)
    xhat = xc * rstd
    return xhat * g + b, (xhat, rstd, g)


def layer_norm_backward(dy, cache, bug=None):
    xhat, rstd, g = cache
    lead = tuple(range(dy.ndim - 1))
    dg = np.sum(dy * xhat, axis=lead)
    db = np.sum(dy, axis=lead)
    dxhat = dy * g
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True)
    if bug != "layernorm_variance_term_missing":
        dx = dx - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    return dx * rstd, {"g": dg, "b": db}


def gelu(x):
    return 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x ** 3)))


def gelu_grad(x):
    t = np.tanh(_GELU_C * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x * x)


def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool))


def _scale(dh, dtype, upcast):
    """sqrt(d_head) in the activations' dtype, or as NumPy gives it (a float64 scalar, which
    makes every later product float64: the code that forgets the cast)."""
    return np.sqrt(dh) if upcast else np.sqrt(dh).astype(dtype)


def attention(h, p, n_heads, upcast=False):
    B, T, d = h.shape
    dh = d // n_heads
    q, k, v = np.einsum("btd,kde->kbte", h, p["Wqkv"])
    qh, kh, vh = (a.reshape(B, T, n_heads, dh) for a in (q, k, v))
    scores = np.einsum("bqhe,bkhe->bhqk", qh, kh) / _scale(dh, h.dtype, upcast)
    mask = causal_mask(T)
    att = softmax(np.where(mask, scores, -np.inf))
    o = np.einsum("bhqk,bkhe->bqhe", att, vh).reshape(B, T, d)
    y = np.einsum("btd,de->bte", o, p["Wo"])
    return y, {"h": h, "qh": qh, "kh": kh, "vh": vh, "scores": scores, "mask": mask, "o": o}


def attention_backward(dy, cache, p, n_heads, bug=None, upcast=False):
    h, qh, kh, vh, o = cache["h"], cache["qh"], cache["kh"], cache["vh"], cache["o"]
    B, T, d = h.shape
    dh = d // n_heads
    dWo = np.einsum("btd,bte->de", o, dy)
    do = np.einsum("bte,de->btd", dy, p["Wo"]).reshape(B, T, n_heads, dh)
    # recompute the attention weights from the raw scores instead of keeping them
    if bug == "causal_mask_not_applied_in_backward":
        att = softmax(cache["scores"])
    else:
        att = softmax(np.where(cache["mask"], cache["scores"], -np.inf))
    datt = np.einsum("bqhe,bkhe->bhqk", do, vh)
    dvh = np.einsum("bhqk,bqhe->bkhe", att, do)
    if bug == "attention_softmax_jacobian_diagonal":
        dscores = datt * att * (1 - att)
    else:
        dscores = att * (datt - np.sum(datt * att, axis=-1, keepdims=True))
    dscores = dscores / _scale(dh, h.dtype, upcast)
    dqh = np.einsum("bhqk,bkhe->bqhe", dscores, kh)
    dkh = np.einsum("bhqk,bqhe->bkhe", dscores, qh)
    dqkv = np.stack([dqh.reshape(B, T, d), dkh.reshape(B, T, d), dvh.reshape(B, T, d)])
    dWqkv = np.einsum("btd,kbte->kde", h, dqkv)
    dh_in = np.einsum("kbte,kde->btd", dqkv, p["Wqkv"])
    return dh_in, {"Wqkv": dWqkv, "Wo": dWo}


def mlp(h, p):
    pre = h @ p["W1"] + p["b1"]
    act = gelu(pre)
    return act @ p["W2"] + p["b2"], (h, pre, act)


def mlp_backward(dy, cache, p):
    h, pre, act = cache
    dW2 = np.einsum("btf,btd->fd", act, dy)
    db2 = dy.sum(axis=(0, 1))
    dpre = (dy @ p["W2"].T) * gelu_grad(pre)
    dW1 = np.einsum("btd,btf->df", h, dpre)
    db1 = dpre.sum(axis=(0, 1))
    return dpre @ p["W1"].T, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def block_forward(x, p, n_heads, upcast=False):
    h1, ln1 = layer_norm(x, p["ln1"]["g"], p["ln1"]["b"])
    a, attn = attention(h1, p["attn"], n_heads, upcast)
    x1 = x + a
    h2, ln2 = layer_norm(x1, p["ln2"]["g"], p["ln2"]["b"])
    m, mlp_cache = mlp(h2, p["mlp"])
    return x1 + m, {"ln1": ln1, "attn": attn, "ln2": ln2, "mlp": mlp_cache}


def block_backward(dx2, cache, p, n_heads, bug=None, upcast=False):
    grads = {}
    dh2, grads["mlp"] = mlp_backward(dx2, cache["mlp"], p["mlp"])
    dx1_branch, grads["ln2"] = layer_norm_backward(dh2, cache["ln2"], bug)
    dx1 = dx2 + dx1_branch
    dh1, grads["attn"] = attention_backward(dx1, cache["attn"], p["attn"], n_heads, bug, upcast)
    dx_branch, grads["ln1"] = layer_norm_backward(dh1, cache["ln1"], bug)
    if bug == "residual_branch_missing":
        dx = dx_branch
    else:
        dx = dx1 + dx_branch  # x1 = x + attn(ln1(x)): the identity path and the branch
    return dx, grads


# -- the model ------------------------------------------------------------------------------------
def forward(params, tokens, n_heads=2, upcast=False):
    tokens = np.asarray(tokens)
    if tokens.ndim == 1:
        tokens = tokens[None, :]
    T = tokens.shape[1]
    positions = np.arange(T)
    x = params["embed"][tokens] + params["pos"][positions]
    caches = []
    for p in params["blocks"]:
        x, cache = block_forward(x, p, n_heads, upcast)
        caches.append(cache)
    hf, ln_f = layer_norm(x, params["ln_f"]["g"], params["ln_f"]["b"])
    logits = np.einsum("btd,vd->btv", hf, params["embed"])  # tied: the embedding again
    ctx = {"params": params, "tokens": tokens, "positions": positions, "blocks": caches,
           "ln_f": ln_f, "hf": hf, "n_heads": n_heads, "upcast": upcast}
    return ctx, logits


def loss(logits, targets):
    targets = np.asarray(targets).reshape(logits.shape[:-1])
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)
    return -picked.mean()


def loss_grad(logits, targets):
    targets = np.asarray(targets).reshape(logits.shape[:-1])
    dlogits = softmax(logits)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1, axis=-1)
    return dlogits / targets.size


def backward(ctx, dlogits, bug=None):
    params = ctx["params"]
    n_heads = ctx["n_heads"]
    grads = {}
    dembed_out = np.einsum("btv,btd->vd", dlogits, ctx["hf"])
    dhf = np.einsum("btv,vd->btd", dlogits, params["embed"])
    dx, grads["ln_f"] = layer_norm_backward(dhf, ctx["ln_f"], bug)
    block_grads = [None] * len(params["blocks"])
    for i in reversed(range(len(params["blocks"]))):
        dx, block_grads[i] = block_backward(dx, ctx["blocks"][i], params["blocks"][i], n_heads, bug,
                                            ctx.get("upcast", False))
    grads["blocks"] = block_grads
    dpos = np.zeros_like(params["pos"])
    np.add.at(dpos, ctx["positions"], dx.sum(axis=0))
    grads["pos"] = dpos
    dembed_in = np.zeros_like(params["embed"])
    if bug == "embedding_wrong_index":
        np.add.at(dembed_in, ctx["positions"], dx.sum(axis=0))
    else:
        np.add.at(dembed_in, ctx["tokens"], dx)
    if bug == "tied_embedding_only_output_use":
        grads["embed"] = dembed_out
    else:
        grads["embed"] = dembed_out + dembed_in  # used at the input and at the output
    return grads


def build(seed=0, dtype=np.float32, vocab=7, d_model=8, n_heads=2, seq=5, bug=None, *, n_layers=1,
          d_ff=None, batch=2, upcast=False):
    """A namespace with ``params``, ``forward``, ``backward``, ``loss``, ``loss_grad`` and the sizes.

    ``upcast``: attention divides by ``np.sqrt(d_head)`` as NumPy returns it, a float64 scalar, so
    a float32 model computes in float64 from the attention scores on."""
    if bug is not None and bug not in BUG_NAMES:
        raise ValueError(f"unknown bug {bug!r}; expected one of {BUG_NAMES}")
    d_ff = 2 * d_model if d_ff is None else d_ff
    params = init_params(np.random.default_rng(seed), vocab, d_model, n_heads, d_ff, dtype,
                         n_layers=n_layers, max_seq=seq)
    return SimpleNamespace(params=params, forward=partial(forward, n_heads=n_heads, upcast=upcast),
                           backward=partial(backward, bug=bug), loss=loss, loss_grad=loss_grad,
                           vocab=vocab, seq=seq, batch=batch, dtype=np.dtype(dtype).type)
