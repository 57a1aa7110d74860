"""An image-captioning model written from layers, as a course's last assignment builds it.

Image features ``(N, D)`` are projected to the RNN's first hidden state; the caption's words
``(N, T)`` (integers, a ``null`` word padding each caption's end) are embedded, run through a
vanilla RNN, and scored over the vocabulary at every step; the loss is the softmax cross-entropy
of each next word, summed over the steps that are not padding and divided by N.

The parameters start with the word embedding ``W_embed`` (V, W), so the input width cannot be
taken from the first 2-D parameter: the model declares its inputs (``input_spec``) and its
labels (``task = "sequence"``, ``sequence_length``, ``null_token``). ``bug`` switches on one
mistake: "embedding_assigned" (the embedding's gradient assigned with ``dW[x] = dx``, so a word
used twice keeps only one of its gradients).
"""

import numpy as np

V, WORD, FEATURES, HIDDEN, T = 12, 6, 10, 8, 7


class CaptioningRNN:
    task = "sequence"
    layout = "rows"
    sequence_length = T
    null_token = 0
    input_spec = {"shape": (FEATURES,)}

    def __init__(self, *, bug=None, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        shapes = {"W_embed": (V, WORD), "W_proj": (FEATURES, HIDDEN), "b_proj": (HIDDEN,),
                  "Wx": (WORD, HIDDEN), "Wh": (HIDDEN, HIDDEN), "b": (HIDDEN,),
                  "W_vocab": (HIDDEN, V), "b_vocab": (V,)}
        self.params = {name: (0.3 * rng.standard_normal(shape)).astype(dtype)
                       for name, shape in shapes.items()}
        self.bug = bug

    def _forward(self, features, captions):
        p = self.params
        words_in, words_out = captions[:, :-1], captions[:, 1:]
        h0 = features @ p["W_proj"] + p["b_proj"]
        x = p["W_embed"][words_in]                                    # (N, T-1, W)
        h = np.zeros((*words_in.shape, h0.shape[1]), dtype=h0.dtype)
        prev = h0
        for t in range(words_in.shape[1]):
            prev = np.tanh(x[:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"])
            h[:, t] = prev
        scores = h @ p["W_vocab"] + p["b_vocab"]                      # (N, T-1, V)
        shifted = scores - scores.max(axis=2, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        mask = words_out != self.null_token
        return words_in, words_out, mask, h0, x, h, log_p

    def loss(self, features, captions):
        _, words_out, mask, _, _, _, log_p = self._forward(features, captions)
        picked = np.take_along_axis(log_p, words_out[..., None], axis=2)[..., 0]
        return -np.sum(picked * mask) / features.shape[0]

    def gradients(self, features, captions):
        p = self.params
        words_in, words_out, mask, h0, x, h, log_p = self._forward(features, captions)
        N, steps = words_in.shape
        dscores = np.exp(log_p)
        np.put_along_axis(dscores, words_out[..., None],
                          np.take_along_axis(dscores, words_out[..., None], axis=2) - 1, axis=2)
        dscores *= mask[..., None] / N
        grads = {"W_vocab": np.einsum("nth,ntv->hv", h, dscores), "b_vocab": dscores.sum(axis=(0, 1))}
        dh = dscores @ p["W_vocab"].T
        dx = np.zeros_like(x)
        dWx, dWh, db = np.zeros_like(p["Wx"]), np.zeros_like(p["Wh"]), np.zeros_like(p["b"])
        dprev = np.zeros_like(h0)
        for t in reversed(range(steps)):
            prev = h[:, t - 1] if t > 0 else h0
            da = (dh[:, t] + dprev) * (1 - h[:, t] ** 2)
            dx[:, t] = da @ p["Wx"].T
            dWx += x[:, t].T @ da
            dWh += prev.T @ da
            db += da.sum(axis=0)
            dprev = da @ p["Wh"].T
        dW_embed = np.zeros_like(p["W_embed"])
        if self.bug == "embedding_assigned":
            dW_embed[words_in] = dx                                    # the bug: repeats overwrite
        else:
            np.add.at(dW_embed, words_in, dx)
        grads.update(W_embed=dW_embed, Wx=dWx, Wh=dWh, b=db,
                     W_proj=features.T @ dprev, b_proj=dprev.sum(axis=0))
        return grads
