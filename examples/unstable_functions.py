"""The textbook numerically unstable functions, on a network whose gradients are right.

    gradcheck probe examples/unstable_functions.py:target

Each function below is what from-scratch code often writes first; each is correct on small
inputs and breaks on large ones. The gradient check passes (the network trains with its own
stable versions); the probes name each function and the input magnitude at which it breaks.
"""

import numpy as np

from reference_net.network import build_mlp


def softmax(Z):
    E = np.exp(Z)  # overflows once a logit passes ~709.8 (float64)
    return E / E.sum(axis=-1, keepdims=True)


def log_softmax(Z):
    return np.log(softmax_shifted(Z))  # a stable softmax underflows to 0, and log(0) = -inf


def softmax_shifted(Z):
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))  # exp(1000) overflows (the result is right, with a warning)


def cross_entropy(P, y):
    return -np.mean(np.log(P[np.arange(len(y)), y]))  # log(0) when a probability is exactly 0


def cross_entropy_gradient(P, y):
    G = np.zeros_like(P)
    G[np.arange(len(y)), y] = -1 / (len(y) * P[np.arange(len(y)), y])  # 1/0
    return G


def binary_cross_entropy(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


target = build_mlp((784, 10, 10), seed=0)
for function in (softmax, log_softmax, sigmoid, cross_entropy, cross_entropy_gradient,
                 binary_cross_entropy):
    setattr(target, function.__name__, function)

if __name__ == "__main__":
    from gradcheck.probes import function_probes_for

    for result in function_probes_for(target):
        print(f"{result.subject}: breaks at {result.breaking_magnitude}")
