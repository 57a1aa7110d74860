"""Per-example backprop with a cost object on the network (examples are column vectors).

Our own network in the style of the book's second network: ``Network(sizes, cost=...)`` with
``CrossEntropyCost`` / ``QuadraticCost`` objects offering ``fn(a, y)`` and ``delta(z, a, y)``;
``feedforward`` works on one column or on a whole batch of columns. Bugs, one keyword each:

- ``quadratic_delta``: the output error of the cross-entropy cost keeps the sigmoid's
  derivative, ``(a - y) * sigmoid'(z)``, as the quadratic cost's does;
- ``transposed_nabla_w``: ``nabla_w`` is ``a_prev @ delta.T``, the transpose of ``W``'s shape;
- ``scalar_nabla_b``: ``nabla_b`` is ``np.sum(delta)``, one number per layer.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


class QuadraticCost:
    @staticmethod
    def fn(a, y):
        return 0.5 * np.sum((a - y) ** 2)

    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


class Network:
    def __init__(self, sizes, cost=CrossEntropyCost, seed=0, quadratic_delta=False, transposed_nabla_w=False,
                 scalar_nabla_b=False):
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.cost = cost
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.quadratic_delta = quadratic_delta
        self.transposed_nabla_w = transposed_nabla_w
        self.scalar_nabla_b = scalar_nabla_b

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activation + b)
            activation = sigmoid(zs[-1])
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y)
        if self.quadratic_delta:
            delta = delta * sigmoid_prime(zs[-1])
        nabla_b, nabla_w = [None] * len(self.weights), [None] * len(self.weights)
        for layer in range(len(self.weights) - 1, -1, -1):
            if layer < len(self.weights) - 1:
                delta = (self.weights[layer + 1].T @ delta) * sigmoid_prime(zs[layer])
            nabla_b[layer] = np.sum(delta) if self.scalar_nabla_b else delta
            a_prev = activations[layer]
            nabla_w[layer] = a_prev @ delta.T if self.transposed_nabla_w else delta @ a_prev.T
        return nabla_b, nabla_w
