"""The first article's network, faithfully copied with its mistakes (column per example).

    gradcheck check examples/blog_buggy.py:target

The bias gradients ``(1 / m) * np.sum(dZ)`` sum over units as well as examples, and
``one_hot_encode`` sizes the encoding by ``y.max() + 1``. Run this file to train it anyway.
"""

import numpy as np

import gradcheck


def init_params(n_in=784, seed=0):
    rng = np.random.default_rng(seed)
    W_1 = rng.uniform(-0.5, 0.5, (10, n_in))
    b_1 = rng.uniform(-0.5, 0.5, (10, 1))
    W_2 = rng.uniform(-0.5, 0.5, (10, 10))
    b_2 = rng.uniform(-0.5, 0.5, (10, 1))
    return W_1, b_1, W_2, b_2


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


# The glue that hands this code to gradcheck (softmax and activations are optional extras).
W_1, b_1, W_2, b_2 = init_params()
target = gradcheck.adapters.functional(
    {"W1": W_1, "b1": b_1, "W2": W_2, "b2": b_2},
    output=lambda p, X: forward_propagation(*p.values(), X)[3],
    gradients=lambda p, X, y: backward_propagation(*forward_propagation(*p.values(), X), p["W2"], X, y),
    layout="columns",
    softmax=softmax,
    activations=lambda p, X: dict(zip(["Z1", "A1", "Z2", "A2"], forward_propagation(*p.values(), X))),
)

if __name__ == "__main__":
    from reference_net.data import load_mnist, train_test_split

    X, y = load_mnist()
    X_train, y_train, _, _ = train_test_split(X, y, n_test=1000, seed=0)
    params = list(init_params())
    for i in range(100):
        cache = forward_propagation(*params, X_train.T)
        grads = backward_propagation(*cache, params[2], X_train.T, y_train)
        params = [p - 0.1 * g for p, g in zip(params, grads)]
        if i % 20 == 0:
            print(f"iteration {i}: accuracy {np.mean(cache[3].argmax(axis=0) == y_train):.3f}")
