"""The first article's network with its own mistakes, from examples/blog_buggy.py (columns).

The bias gradients ``(1 / m) * np.sum(dZ)`` sum over units and examples alike; ``one_hot_encode``
sizes the encoding by ``y.max() + 1``. This module only adds small problems to check it on.
"""

import importlib.util
from pathlib import Path

import numpy as np

_PATH = Path(__file__).resolve().parents[2] / "examples" / "blog_buggy.py"
_spec = importlib.util.spec_from_file_location("blog_buggy_example", _PATH)
article = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(article)


def make_problem(n_in=30, m=40, seed=0):
    """Parameters in the article's shapes and data in which every digit 0-9 occurs."""
    rng = np.random.default_rng(seed)
    W_1, b_1, W_2, b_2 = article.init_params(n_in, seed=seed)
    X = rng.uniform(0, 1, (n_in, m))
    Y = np.arange(m) % 10
    return {"W1": W_1, "b1": b_1, "W2": W_2, "b2": b_2}, X, Y


def cross_entropy(params, X, Y):
    A_2 = article.forward_propagation(params["W1"], params["b1"], params["W2"], params["b2"], X)[3]
    return float(-np.sum(article.one_hot_encode(Y) * np.log(A_2)) / Y.size)


def article_gradients(params, X, Y):
    p = params
    Z_1, A_1, Z_2, A_2 = article.forward_propagation(p["W1"], p["b1"], p["W2"], p["b2"], X)
    dW_1, db_1, dW_2, db_2 = article.backward_propagation(Z_1, A_1, Z_2, A_2, p["W2"], X, Y)
    return {"W1": dW_1, "b1": db_1, "W2": dW_2, "b2": db_2}
