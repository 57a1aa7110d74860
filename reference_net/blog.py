"""The first article's functional API, column-per-example, written correctly.

Shapes (m examples): X (784, m), W1 (10, 784), b1 (10, 1), W2 (10, 10), b2 (10, 1),
Z1 and A1 (10, m), Z2 and A2 (10, m), Y labels (m,). Compare it line by line with your own;
the two lines the article got wrong are marked ``# article:``.
"""

from __future__ import annotations

import numpy as np


def init_params(n_in: int = 784, n_hidden: int = 10, n_out: int = 10, *, seed: int = 0):
    """W ~ U(-0.5, 0.5) and b ~ U(-0.5, 0.5), the widely copied initialisation of this code."""
    rng = np.random.default_rng(seed)
    W1 = rng.uniform(-0.5, 0.5, size=(n_hidden, n_in))
    b1 = rng.uniform(-0.5, 0.5, size=(n_hidden, 1))
    W2 = rng.uniform(-0.5, 0.5, size=(n_out, n_hidden))
    b2 = rng.uniform(-0.5, 0.5, size=(n_out, 1))
    return W1, b1, W2, b2


def ReLU(Z):
    return np.maximum(Z, 0)


def derivative_ReLU(Z):
    return Z > 0


def softmax(Z):
    """Column softmax: each column (one example) sums to 1.

    Shifting by the column max keeps exp from overflowing; axis=0 normalises per example
    (np.sum without axis would normalise over the whole batch).
    """
    e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def one_hot_encode(y, n_classes: int = 10):
    """Labels (m,) -> one-hot (n_classes, m).

    article: used ``y.max() + 1`` columns, which is too few whenever a batch lacks the top digit.
    """
    y = np.asarray(y)
    one_hot = np.zeros((n_classes, y.size))
    one_hot[y, np.arange(y.size)] = 1
    return one_hot


def forward_propagation(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def cross_entropy(A2, Y, n_classes: int = 10):
    """Mean over examples of -log A2[y]: the loss whose gradient backward_propagation returns."""
    one_hot_y = one_hot_encode(Y, n_classes)
    return float(-np.sum(one_hot_y * np.log(np.clip(A2, 1e-300, None))) / A2.shape[1])


def backward_propagation(Z1, A1, Z2, A2, W2, X, Y):
    one_hot_y = one_hot_encode(Y, A2.shape[0])
    m = Y.size
    dZ2 = A2 - one_hot_y
    dW2 = (1 / m) * dZ2.dot(A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)  # article: np.sum(dZ2), one number for all units
    dZ1 = W2.T.dot(dZ2) * derivative_ReLU(Z1)
    dW1 = (1 / m) * dZ1.dot(X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)  # article: np.sum(dZ1)
    return dW1, db1, dW2, db2


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    W1 = W1 - alpha * dW1
    b1 = b1 - alpha * db1
    W2 = W2 - alpha * dW2
    b2 = b2 - alpha * db2
    return W1, b1, W2, b2


def get_predictions(A2):
    return np.argmax(A2, axis=0)


def get_accuracy(predictions, Y):
    return float(np.sum(predictions == Y) / Y.size)


def gradient_descent(X, Y, num_iterations: int, alpha: float, *, seed: int = 0):
    """Full-batch gradient descent; returns the parameters and the accuracy of every iteration."""
    W1, b1, W2, b2 = init_params(X.shape[0], seed=seed)
    accuracies = []
    for _ in range(num_iterations):
        Z1, A1, Z2, A2 = forward_propagation(W1, b1, W2, b2, X)
        dW1, db1, dW2, db2 = backward_propagation(Z1, A1, Z2, A2, W2, X, Y)
        W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
        accuracies.append(get_accuracy(get_predictions(A2), Y))
    return (W1, b1, W2, b2), accuracies
