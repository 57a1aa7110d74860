"""Layer objects in the style of the book "Neural Networks from Scratch" (rows = examples).

Shared by layer_objects_correct.py and layer_objects_buggy.py; ``MISSING_ONE_OVER_M`` switches
the bug on.
"""

import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons, rng):
        self.weights = 0.1 * rng.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def __init__(self, missing_one_over_m=False):
        self.missing_one_over_m = missing_one_over_m

    def forward(self, inputs, y_true):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        return np.mean(-np.log(clipped[range(len(inputs)), y_true]))

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        if not self.missing_one_over_m:
            self.dinputs = self.dinputs / samples


def build(missing_one_over_m=False, n_inputs=20, seed=0):
    rng = np.random.default_rng(seed)
    dense1, relu, dense2 = Layer_Dense(n_inputs, 16, rng), Activation_ReLU(), Layer_Dense(16, 10, rng)
    return [dense1, relu, dense2], Activation_Softmax_Loss_CategoricalCrossentropy(missing_one_over_m)
