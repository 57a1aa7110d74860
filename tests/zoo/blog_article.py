"""The first article's network, copied faithfully with its own mistakes (column per example).

Only the data size is smaller. The bias gradients ``(1 / m) * np.sum(dZ)`` sum over units and
examples alike; ``one_hot_encode`` sizes the encoding by ``y.max() + 1``.
"""

import numpy as np


def one_hot_encode(y):
    one_hot_y = np.zeros((y.size, y.max() + 1))
    one_hot_y[np.arange(y.size), y] = 1
    one_hot_y = one_hot_y.T
    return one_hot_y


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    A = np.exp(Z) / sum(np.exp(Z))
    return A


def forward_propagation(W_1, b_1, W_2, b_2, X):
    Z_1 = W_1.dot(X) + b_1
    A_1 = ReLU(Z_1)
    Z_2 = W_2.dot(A_1) + b_2
    A_2 = softmax(Z_2)
    return Z_1, A_1, Z_2, A_2


def derivative_ReLU(Z):
    return Z > 0


def backward_propagation(Z_1, A_1, Z_2, A_2, W_2, X, Y):
    one_hot_y = one_hot_encode(Y)
    m = Y.size
    dZ_2 = A_2 - one_hot_y
    dW_2 = (1 / m) * dZ_2.dot(A_1.T)
    db_2 = (1 / m) * np.sum(dZ_2)
    dZ_1 = W_2.T.dot(dZ_2) * derivative_ReLU(Z_1)
    dW_1 = (1 / m) * dZ_1.dot(X.T)
    db_1 = (1 / m) * np.sum(dZ_1)
    return dW_1, db_1, dW_2, db_2


def make_problem(n_in=30, m=40, seed=0):
    """Parameters in the article's shapes and data in which every digit 0-9 occurs."""
    rng = np.random.default_rng(seed)
    W_1 = rng.uniform(-0.5, 0.5, (10, n_in))
    b_1 = rng.uniform(-0.5, 0.5, (10, 1))
    W_2 = rng.uniform(-0.5, 0.5, (10, 10))
    b_2 = rng.uniform(-0.5, 0.5, (10, 1))
    X = rng.uniform(0, 1, (n_in, m))
    Y = np.arange(m) % 10
    return {"W1": W_1, "b1": b_1, "W2": W_2, "b2": b_2}, X, Y


def cross_entropy(params, X, Y):
    A_2 = forward_propagation(params["W1"], params["b1"], params["W2"], params["b2"], X)[3]
    return float(-np.sum(one_hot_encode(Y) * np.log(A_2)) / Y.size)


def article_gradients(params, X, Y):
    p = params
    Z_1, A_1, Z_2, A_2 = forward_propagation(p["W1"], p["b1"], p["W2"], p["b2"], X)
    dW_1, db_1, dW_2, db_2 = backward_propagation(Z_1, A_1, Z_2, A_2, p["W2"], X, Y)
    return {"W1": dW_1, "b1": db_1, "W2": dW_2, "b2": db_2}
