"""Book-style layer objects run by a helper that sets float32 for the whole program.

The book's companion helper makes every array of the program float32: its ``dot`` multiplies in
float64 and hands back float32, and its random and zero arrays are float32. A network built
under it is float32 through and through, and a float64 copy of it is float32 again after the
first product, so it must be judged in float32 alone. Here the helper is :class:`Program`, and the
layers ask it for every product (``program.dot``) instead of patching NumPy for everyone.

Also in the book's style:

- layers that hold their own L2 strengths (``weight_regularizer_l2``) and add ``2 * l2 * W`` in
  their backward, with the loss's ``regularization_loss(layer)`` on the loss object that the
  combined softmax/cross-entropy object wraps (:func:`book_l2`);
- the combined softmax/cross-entropy object of the final chapter, which has only ``backward``
  (:func:`book_backward_only`): the network's loss cannot be computed from it.

``bug=`` names a mistake written into this code (see :data:`BUG_NAMES`).
"""

from __future__ import annotations

import numpy as np

from gradcheck.adapters import layer_objects

BUG_NAMES = (
    "dweights_product_reversed",
    "dinputs_not_divided_by_samples",
    "relu_mask_missing",
    "l2_missing_in_loss",
    "l2_gradient_not_doubled",
    "l1_sign_missing",
)


class Program:
    """The helper: the dtype of every array of the program, and the product that keeps it
    (``casts=False``: a plain product, in its inputs' dtype)."""

    def __init__(self, dtype, casts=True):
        self.dtype = np.dtype(dtype)
        self.casts = casts

    def dot(self, a, b):
        if not self.casts:
            return np.dot(a, b)
        # multiplied in float64 (the book's reproducibility fix), handed back in the program's dtype
        return np.dot(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)).astype(self.dtype)

    def randn(self, rng, *shape):
        return rng.standard_normal(shape).astype(self.dtype)

    def zeros(self, *shape):
        return np.zeros(shape, dtype=self.dtype)


class Layer_Dense:
    def __init__(self, program, n_inputs, n_neurons, rng, bug=None, weight_regularizer_l2=0.0,
                 weight_regularizer_l1=0.0):
        self.program, self.bug = program, bug
        self.weights = 0.1 * program.randn(rng, n_inputs, n_neurons)
        self.biases = program.zeros(1, n_neurons)
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.weight_regularizer_l1 = weight_regularizer_l1

    def forward(self, inputs):
        self.inputs = inputs
        self.output = self.program.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        if self.bug == "dweights_product_reversed":
            self.dweights = self.program.dot(dvalues.T, self.inputs)
        else:
            self.dweights = self.program.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l2 > 0:
            factor = 1 if self.bug == "l2_gradient_not_doubled" else 2
            self.dweights = self.dweights + factor * self.weight_regularizer_l2 * self.weights
        if self.weight_regularizer_l1 > 0:
            sign = np.ones_like(self.weights) if self.bug == "l1_sign_missing" else np.sign(self.weights)
            self.dweights = self.dweights + self.weight_regularizer_l1 * sign
        self.dinputs = self.program.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        if self.bug != "relu_mask_missing":
            self.dinputs[self.inputs <= 0] = 0


class Loss:
    def regularization_loss(self, layer):
        regularization_loss = 0
        if getattr(layer, "weight_regularizer_l2", 0) > 0:
            regularization_loss += layer.weight_regularizer_l2 * np.sum(layer.weights * layer.weights)
        if getattr(layer, "weight_regularizer_l1", 0) > 0:
            regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
        return regularization_loss

    def calculate(self, output, y):
        return np.mean(self.forward(output, y))


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        return -np.log(clipped[range(len(y_pred)), y_true])


class Activation_Softmax:
    def forward(self, inputs):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """Softmax and the cross-entropy it wraps, in one object; ``forward`` returns the mean loss."""

    def __init__(self, bug=None):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()
        self.bug = bug

    def forward(self, inputs, y_true):
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        if self.bug != "dinputs_not_divided_by_samples":
            self.dinputs = self.dinputs / samples


class BackwardOnlySoftmaxCrossEntropy:
    """The final chapter's combined object: backward from the softmax output, no loss value."""

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class L2Softmax:
    """The combined object whose ``forward`` returns the data loss only, as the book's does: its
    ``loss`` attribute (the wrapped loss) holds ``regularization_loss(layer)``. With the bug
    ``l2_missing_in_loss`` the wrapped loss has no regularisation loss at all."""

    def __init__(self, bug=None):
        self.inner = Activation_Softmax_Loss_CategoricalCrossentropy(bug)
        if bug == "l2_missing_in_loss":
            self.inner.loss = _PlainCrossentropy()

    def forward(self, inputs, y_true):
        value = self.inner.forward(inputs, y_true)
        self.output = self.inner.output
        return value

    def backward(self, dvalues, y_true):
        self.inner.backward(dvalues, y_true)
        self.dinputs = self.inner.dinputs

    @property
    def loss(self):
        return self.inner.loss


class _PlainCrossentropy:
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        return -np.log(clipped[range(len(y_pred)), y_true])

    def calculate(self, output, y):
        return np.mean(self.forward(output, y))


class SelfRegularisedLoss(Activation_Softmax_Loss_CategoricalCrossentropy):
    """A loss object that adds the layers' L2 term to its own value (the user's own loss object,
    handed the layers): nothing for gradcheck to add."""

    def __init__(self, layers, bug=None):
        super().__init__(bug)
        self.layers = layers

    def forward(self, inputs, y_true):
        data = super().forward(inputs, y_true)
        return data + sum(self.loss.regularization_loss(layer) for layer in self.layers)


def _dense_stack(program, n_in, hidden, n_out, rng, bug, **reg):
    return [Layer_Dense(program, n_in, hidden, rng, bug, **reg), Activation_ReLU(bug),
            Layer_Dense(program, hidden, n_out, rng, bug, **reg)]


def book_float32_program(seed, dtype, X, y, bug=None, hidden=64):
    """A 5-64-3 ReLU network under the helper: float32 everywhere when ``dtype`` is float32."""
    program = Program(dtype)
    layers = _dense_stack(program, X.shape[1], hidden, 3, np.random.default_rng(seed), bug)
    return layer_objects(layers, Activation_Softmax_Loss_CategoricalCrossentropy(bug))


def book_l2(seed, dtype, X, y, bug=None, hidden=16, l2=5e-4):
    """Layers holding ``weight_regularizer_l2``; the combined object wraps the loss that has
    ``regularization_loss(layer)``, one level down."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 3, np.random.default_rng(seed), bug,
                          weight_regularizer_l2=l2)
    return layer_objects(layers, L2Softmax(bug))


def book_l2_loss_adds_it(seed, dtype, X, y, bug=None, hidden=16, l2=5e-4):
    """Layers holding ``weight_regularizer_l2`` and a loss object that already adds the term."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 3, np.random.default_rng(seed), bug,
                          weight_regularizer_l2=l2)
    return layer_objects(layers, SelfRegularisedLoss([layers[0], layers[2]], bug))


def book_l1(seed, dtype, X, y, bug=None, hidden=16, l1=5e-4):
    """Layers holding ``weight_regularizer_l1``, found like the L2 strength."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 3, np.random.default_rng(seed), bug,
                          weight_regularizer_l1=l1)
    return layer_objects(layers, L2Softmax(bug))


def book_backward_only(seed, dtype, X, y, bug=None, hidden=16):
    """The final chapter's combined object, which has only ``backward``."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 3, np.random.default_rng(seed), bug)
    return layer_objects(layers, BackwardOnlySoftmaxCrossEntropy())


# -- one sigmoid output: binary logistic regression, the book's chapter on it ----------------------
class Activation_Sigmoid:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class Loss_BinaryCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        y_true = np.asarray(y_true).reshape(clipped.shape)
        return np.mean(-(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped)), axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = len(dvalues), len(dvalues[0])
        clipped = np.clip(dvalues, 1e-7, 1 - 1e-7)
        y_true = np.asarray(y_true).reshape(clipped.shape)
        self.dinputs = -(y_true / clipped - (1 - y_true) / (1 - clipped)) / outputs
        self.dinputs = self.dinputs / samples


def book_binary(seed, dtype, X, y, bug=None, hidden=16):
    """One sigmoid output and binary cross-entropy: labels 0/1, forward (n, 1)."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 1, np.random.default_rng(seed), bug) + [Activation_Sigmoid()]
    return layer_objects(layers, Loss_BinaryCrossentropy(), task="binary")


class Loss_MeanSquaredError(Loss):
    def forward(self, y_pred, y_true):
        return np.mean((np.asarray(y_true).reshape(y_pred.shape) - y_pred) ** 2, axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = len(dvalues), len(dvalues[0])
        self.dinputs = -2 * (np.asarray(y_true).reshape(dvalues.shape) - dvalues) / outputs / samples


class Activation_Linear:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()


def book_regression(seed, dtype, X, y, bug=None, hidden=16):
    """One linear output and mean squared error: real-valued targets."""
    program = Program(dtype, casts=False)
    layers = _dense_stack(program, X.shape[1], hidden, 1, np.random.default_rng(seed), bug) + [Activation_Linear()]
    return layer_objects(layers, Loss_MeanSquaredError(), task="regression")
