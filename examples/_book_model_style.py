"""A model object owning layers, loss, accuracy and optimizer (rows = examples).

Our own network in the final form of the layer-object books: ``forward(inputs, training)``,
L2 held on the dense layers and added by ``Model.regularization_loss()``, a combined
softmax/cross-entropy object that has a backward and no forward, and a ``train`` loop.
``half_l2_gradient=True`` switches on the bug: the dense layer's backward adds ``l2 * W``
instead of ``2 * l2 * W`` for the L2 term.
"""

import numpy as np


class Dense:
    def __init__(self, n_inputs, n_neurons, rng, weight_regularizer_l2=0.0, bias_regularizer_l2=0.0,
                 half_l2_gradient=False):
        self.weights = rng.standard_normal((n_inputs, n_neurons)) / np.sqrt(n_inputs)
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l2 = bias_regularizer_l2
        self.half_l2_gradient = half_l2_gradient

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        factor = 1.0 if self.half_l2_gradient else 2.0
        self.dweights += factor * self.weight_regularizer_l2 * self.weights
        self.dbiases += 2.0 * self.bias_regularizer_l2 * self.biases
        self.dinputs = dvalues @ self.weights.T


class Tanh:
    def forward(self, inputs, training):
        self.output = np.tanh(inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues * (1.0 - self.output ** 2)


class Softmax:
    def forward(self, inputs, training):
        shifted = np.exp(inputs - inputs.max(axis=1, keepdims=True))
        self.output = shifted / shifted.sum(axis=1, keepdims=True)

    def backward(self, dvalues):  # the full Jacobian, one example at a time
        self.dinputs = np.empty_like(dvalues)
        for i, (p, d) in enumerate(zip(self.output, dvalues)):
            self.dinputs[i] = p * (d - p @ d)


class CrossEntropy:
    def forward(self, probabilities, y_true):
        picked = np.clip(probabilities[np.arange(len(probabilities)), y_true], 1e-12, 1.0)
        return -np.log(picked)

    def calculate(self, output, y):
        return float(np.mean(self.forward(output, y)))

    def backward(self, dvalues, y_true):
        picked = np.zeros_like(dvalues)
        picked[np.arange(len(dvalues)), y_true] = 1.0
        self.dinputs = -picked / np.clip(dvalues, 1e-12, None) / len(dvalues)


class SoftmaxCrossEntropyBackward:
    """Backward only: from the softmax output straight to the logits."""

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues.copy()
        self.dinputs[np.arange(len(dvalues)), y_true] -= 1.0
        self.dinputs /= len(dvalues)


class Accuracy:
    def calculate(self, output, y):
        return float(np.mean(output.argmax(axis=1) == y))


class SGD:
    def __init__(self, learning_rate=0.5):
        self.learning_rate = learning_rate

    def update(self, layer):
        layer.weights -= self.learning_rate * layer.dweights
        layer.biases -= self.learning_rate * layer.dbiases


class Model:
    def __init__(self):
        self.layers = []
        self.softmax_output = None

    def add(self, layer):
        self.layers.append(layer)

    def set(self, *, loss, accuracy, optimizer):
        self.loss, self.accuracy, self.optimizer = loss, accuracy, optimizer

    def finalize(self):
        self.trainable = [layer for layer in self.layers if hasattr(layer, "weights")]
        if isinstance(self.layers[-1], Softmax) and isinstance(self.loss, CrossEntropy):
            self.softmax_output = SoftmaxCrossEntropyBackward()

    def regularization_loss(self):
        return sum(layer.weight_regularizer_l2 * np.sum(layer.weights ** 2)
                   + layer.bias_regularizer_l2 * np.sum(layer.biases ** 2) for layer in self.trainable)

    def forward(self, X, training):
        for layer in self.layers:
            layer.forward(X, training)
            X = layer.output
        return X

    def backward(self, output, y):
        if self.softmax_output is not None:
            self.softmax_output.backward(output, y)
            dvalues, layers = self.softmax_output.dinputs, self.layers[:-1]
        else:
            self.loss.backward(output, y)
            dvalues, layers = self.loss.dinputs, self.layers
        for layer in reversed(layers):
            layer.backward(dvalues)
            dvalues = layer.dinputs

    def train(self, X, y, *, epochs=10):
        for _ in range(epochs):
            output = self.forward(X, training=True)
            loss = self.loss.calculate(output, y) + self.regularization_loss()
            self.backward(output, y)
            for layer in self.trainable:
                self.optimizer.update(layer)
        return loss, self.accuracy.calculate(output, y)


def build(half_l2_gradient=False, n_inputs=20, seed=0):
    rng = np.random.default_rng(seed)
    model = Model()
    model.add(Dense(n_inputs, 16, rng, weight_regularizer_l2=1e-2, bias_regularizer_l2=1e-2,
                    half_l2_gradient=half_l2_gradient))
    model.add(Tanh())
    model.add(Dense(16, 10, rng, weight_regularizer_l2=1e-2, half_l2_gradient=half_l2_gradient))
    model.add(Softmax())
    model.set(loss=CrossEntropy(), accuracy=Accuracy(), optimizer=SGD())
    model.finalize()
    return model
