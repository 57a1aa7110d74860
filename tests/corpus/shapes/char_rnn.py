"""A character-level vanilla RNN whose parameters are module-level globals.

Written the way a first RNN usually is: five global arrays (``Wxh, Whh, Why, bh, by``), column
vectors everywhere, one-hot inputs built inside ``lossFun``, and a loss summed over the time
steps (not averaged). Because the state lives in the module, :func:`load` executes this file's
source into a fresh module object, with the settings injected before the globals are made, so two
instances never share arrays::

    rnn = load(seed=0, hidden=8, vocab=6)
    loss, dWxh, dWhh, dWhy, dbh, dby, h = rnn.lossFun([0, 3, 2], [3, 2, 5], np.zeros((8, 1)))

``BUG`` names a mistake written into the backward pass (see :data:`BUG_NAMES`); ``None`` is the
correct network.
"""

import types
from pathlib import Path

import numpy as np

# Settings. load() puts these into the new module's namespace before running this source; a plain
# import of the file uses the defaults.
SEED = globals().get("SEED", 0)
DTYPE = globals().get("DTYPE", np.float64)
HIDDEN = globals().get("HIDDEN", 8)
VOCAB = globals().get("VOCAB", 6)
BUG = globals().get("BUG", None)
# The one-hot inputs' dtype: float64 (np.zeros' default) upcasts a float32 network's whole forward,
# so its loss computes in float64 while its parameters stay float32.
INPUT_DTYPE = globals().get("INPUT_DTYPE", DTYPE)

BUG_NAMES = (
    "missing_dhnext",
    "tanh_derivative_of_input",
    "whh_untransposed",
    "dby_not_accumulated",
    "dWxh_wrong_time_index",
)
if BUG is not None and BUG not in BUG_NAMES:
    raise ValueError(f"unknown bug {BUG!r}; expected one of {BUG_NAMES}")

hidden_size = HIDDEN
vocab_size = VOCAB

_rng = np.random.RandomState(SEED)
Wxh = (_rng.randn(hidden_size, vocab_size) * 0.4).astype(DTYPE)   # input to hidden
Whh = (_rng.randn(hidden_size, hidden_size) * 0.3).astype(DTYPE)  # hidden to hidden
Why = (_rng.randn(vocab_size, hidden_size) * 0.4).astype(DTYPE)   # hidden to output
bh = np.zeros((hidden_size, 1), dtype=DTYPE)
by = np.zeros((vocab_size, 1), dtype=DTYPE)


def lossFun(inputs, targets, hprev):
    """inputs, targets: sequences of token ids; hprev: (hidden_size, 1) state before the first step.

    Returns the loss summed over the steps, the five gradients and the last hidden state.
    """
    xs = []          # one-hot inputs, a list indexed by time step
    pre = {}         # hidden pre-activations
    hs = {-1: np.copy(hprev)}
    probs = {}
    loss = 0.0
    for t in range(len(inputs)):
        x = np.zeros((vocab_size, 1), dtype=INPUT_DTYPE)
        x[inputs[t]] = 1
        xs.append(x)
        pre[t] = Wxh @ x + Whh @ hs[t - 1] + bh
        hs[t] = np.tanh(pre[t])
        scores = Why @ hs[t] + by
        e = np.exp(scores - np.max(scores))
        probs[t] = e / np.sum(e)
        loss += -np.log(probs[t][targets[t], 0])

    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dh_from_later = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dscores = np.copy(probs[t])
        dscores[targets[t]] -= 1  # softmax followed by cross-entropy
        dWhy += dscores @ hs[t].T
        if BUG == "dby_not_accumulated":
            dby = dscores
        else:
            dby += dscores
        dh = Why.T @ dscores
        if BUG != "missing_dhnext":
            dh = dh + dh_from_later
        if BUG == "tanh_derivative_of_input":
            dpre = (1 - pre[t] * pre[t]) * dh
        else:
            dpre = (1 - hs[t] * hs[t]) * dh
        dbh += dpre
        if BUG == "dWxh_wrong_time_index":
            dWxh += dpre @ xs[t - 1].T
        else:
            dWxh += dpre @ xs[t].T
        dWhh += dpre @ hs[t - 1].T
        if BUG == "whh_untransposed":
            dh_from_later = Whh @ dpre
        else:
            dh_from_later = Whh.T @ dpre
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def sample(h, seed_ix, n, rng=None):
    """n token ids drawn from the model, starting from token seed_ix and state h."""
    rng = np.random.default_rng(0) if rng is None else rng
    x = np.zeros((vocab_size, 1), dtype=DTYPE)
    x[seed_ix] = 1
    out = []
    for _ in range(n):
        h = np.tanh(Wxh @ x + Whh @ h + bh)
        scores = Why @ h + by
        p = np.exp(scores - np.max(scores))
        p = (p / np.sum(p)).ravel()
        ix = int(rng.choice(vocab_size, p=p / p.sum()))
        x = np.zeros((vocab_size, 1), dtype=DTYPE)
        x[ix] = 1
        out.append(ix)
    return out


def load(seed=0, dtype=np.float64, hidden=8, vocab=6, bug=None, inputs=None):
    """A fresh module object running this file's source with its own globals; ``inputs`` is the
    one-hot inputs' dtype (default ``dtype``)."""
    path = Path(__file__)
    module = types.ModuleType(f"char_rnn_instance_{seed}_{hidden}_{vocab}")
    module.__file__ = str(path)
    module.__dict__.update(SEED=seed, DTYPE=np.dtype(dtype).type, HIDDEN=hidden, VOCAB=vocab, BUG=bug,
                           INPUT_DTYPE=np.dtype(inputs or dtype).type)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module
