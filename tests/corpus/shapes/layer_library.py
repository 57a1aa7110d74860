"""A layer library in the style of the "ML from scratch" repositories.

Layers have ``forward_pass(X, training=True)`` and ``backward_pass(accum_grad)``; the backward
pass returns the gradient for the layer below and hands every parameter gradient straight to an
optimizer object (``self.W = self.W_opt.update(self.W, grad_w)``) without keeping it. A
``NeuralNetwork`` container chains the layers under a loss object and an optimizer::

    net = build("mlp", seed=0)
    loss, acc = net.train_on_batch(X, y_onehot)

Parameters and their optimizers are paired by name: ``W``/``W_opt``, ``w0``/``w0_opt`` (Dense and
Conv2D), ``gamma``/``gamma_opt``, ``beta``/``beta_opt`` (BatchNormalization).

``bug=`` names a mistake written into a layer's own backward (see :data:`BUG_NAMES`).
"""

import copy

import numpy as np

BUG_NAMES = (
    "batchnorm_missing_variance_term",
    "softmax_jacobian_diagonal_only",
    "dense_grad_w_not_transposed",
    "conv_kernel_not_flipped",
    "conv_window_off_by_one",
    "dropout_mask_not_applied_in_backward",
)


# -- optimizers ---------------------------------------------------------------------------------
class SGD:
    """Plain gradient descent: w <- w - lr * grad."""

    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    def update(self, w, grad_w):
        return w - self.learning_rate * grad_w


class Momentum:
    """Gradient descent with momentum; one copy per parameter holds that parameter's velocity."""

    def __init__(self, learning_rate=0.01, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity = None

    def update(self, w, grad_w):
        if self.velocity is None:
            self.velocity = np.zeros_like(w)
        self.velocity = self.momentum * self.velocity + (1 - self.momentum) * grad_w
        return w - self.learning_rate * self.velocity


# -- loss -----------------------------------------------------------------------------------------
class CrossEntropy:
    """Categorical cross-entropy of probabilities ``p`` against one-hot labels ``y``, averaged
    over the batch."""

    def loss(self, y, p):
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return -np.sum(y * np.log(p)) / y.shape[0]

    def gradient(self, y, p):
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return -(y / p) / y.shape[0]

    def acc(self, y, p):
        return float(np.mean(np.argmax(y, axis=1) == np.argmax(p, axis=1)))


# -- activation functions ------------------------------------------------------------------------
class ActivationFunction:
    def __init__(self, bug=None):
        self.bug = bug


class ReLU(ActivationFunction):
    def __call__(self, x):
        return np.where(x >= 0, x, 0)

    def gradient(self, x):
        return np.where(x >= 0, 1, 0).astype(x.dtype)


class TanH(ActivationFunction):
    def __call__(self, x):
        return np.tanh(x)

    def gradient(self, x):
        return 1 - np.tanh(x) ** 2


class Sigmoid(ActivationFunction):
    def __call__(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def gradient(self, x):
        s = self(x)
        return s * (1 - s)


class Softmax(ActivationFunction):
    def __call__(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def gradient(self, x):
        """The diagonal of the Jacobian, dp_i/dx_i."""
        p = self(x)
        return p * (1 - p)

    def backward(self, x, accum_grad):
        """accum_grad times the full Jacobian: dp_j/dx_i = p_j (delta_ij - p_i)."""
        if self.bug == "softmax_jacobian_diagonal_only":
            return accum_grad * self.gradient(x)
        p = self(x)
        return p * (accum_grad - np.sum(accum_grad * p, axis=-1, keepdims=True))


activation_functions = {"relu": ReLU, "tanh": TanH, "sigmoid": Sigmoid, "softmax": Softmax}


# -- layers ---------------------------------------------------------------------------------------
class Layer:
    input_shape = None
    trainable = True

    def set_input_shape(self, shape):
        self.input_shape = shape

    def layer_name(self):
        return type(self).__name__

    def parameters(self):
        return 0

    def initialize(self, optimizer, rng, dtype):
        pass

    def forward_pass(self, X, training=True):
        raise NotImplementedError

    def backward_pass(self, accum_grad):
        raise NotImplementedError

    def output_shape(self):
        return self.input_shape


class Dense(Layer):
    def __init__(self, n_units, input_shape=None, bug=None):
        self.n_units = n_units
        self.input_shape = input_shape
        self.bug = bug
        self.layer_input = None
        self.W = None
        self.w0 = None

    def initialize(self, optimizer, rng, dtype):
        limit = 1 / np.sqrt(self.input_shape[0])
        self.W = rng.uniform(-limit, limit, (self.input_shape[0], self.n_units)).astype(dtype)
        self.w0 = rng.uniform(-0.1, 0.1, (1, self.n_units)).astype(dtype)
        self.W_opt = copy.copy(optimizer)
        self.w0_opt = copy.copy(optimizer)

    def parameters(self):
        return self.W.size + self.w0.size

    def forward_pass(self, X, training=True):
        self.layer_input = X
        return X @ self.W + self.w0

    def backward_pass(self, accum_grad):
        W = self.W  # the weights the forward pass used
        if self.trainable:
            if self.bug == "dense_grad_w_not_transposed":
                grad_w = accum_grad.T @ self.layer_input
            else:
                grad_w = self.layer_input.T @ accum_grad
            grad_w0 = np.sum(accum_grad, axis=0, keepdims=True)
            self.W = self.W_opt.update(self.W, grad_w)
            self.w0 = self.w0_opt.update(self.w0, grad_w0)
        return accum_grad @ W.T

    def output_shape(self):
        return (self.n_units,)


class Activation(Layer):
    def __init__(self, name, bug=None):
        self.activation_name = name
        self.activation_func = activation_functions[name](bug=bug)
        self.trainable = True

    def layer_name(self):
        return f"Activation ({type(self.activation_func).__name__})"

    def forward_pass(self, X, training=True):
        self.layer_input = X
        return self.activation_func(X)

    def backward_pass(self, accum_grad):
        # softmax mixes its outputs, so it gets the whole Jacobian; the others are elementwise
        if hasattr(self.activation_func, "backward"):
            return self.activation_func.backward(self.layer_input, accum_grad)
        return accum_grad * self.activation_func.gradient(self.layer_input)


class BatchNormalization(Layer):
    """Batch normalization over axis 0; training mode uses the batch's statistics and updates
    the running ones."""

    def __init__(self, momentum=0.99, bug=None):
        self.momentum = momentum
        self.eps = 0.01
        self.bug = bug
        self.running_mean = None
        self.running_var = None

    def initialize(self, optimizer, rng, dtype):
        self.gamma = np.ones(self.input_shape, dtype=dtype)
        self.beta = np.zeros(self.input_shape, dtype=dtype)
        self.gamma_opt = copy.copy(optimizer)
        self.beta_opt = copy.copy(optimizer)

    def parameters(self):
        return self.gamma.size + self.beta.size

    def forward_pass(self, X, training=True):
        if self.running_mean is None:
            self.running_mean = np.mean(X, axis=0)
            self.running_var = np.var(X, axis=0)
        if training and self.trainable:
            mean = np.mean(X, axis=0)
            var = np.var(X, axis=0)
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
        self.X_centered = X - mean
        self.stddev_inv = 1 / np.sqrt(var + self.eps)
        X_norm = self.X_centered * self.stddev_inv
        return self.gamma * X_norm + self.beta

    def backward_pass(self, accum_grad):
        gamma = self.gamma
        if self.trainable:
            X_norm = self.X_centered * self.stddev_inv
            grad_gamma = np.sum(accum_grad * X_norm, axis=0)
            grad_beta = np.sum(accum_grad, axis=0)
            self.gamma = self.gamma_opt.update(self.gamma, grad_gamma)
            self.beta = self.beta_opt.update(self.beta, grad_beta)
        n = accum_grad.shape[0]
        through_mean = np.sum(accum_grad, axis=0)
        through_var = self.X_centered * self.stddev_inv ** 2 * np.sum(accum_grad * self.X_centered, axis=0)
        if self.bug == "batchnorm_missing_variance_term":
            return gamma * self.stddev_inv * (n * accum_grad - through_mean) / n
        return gamma * self.stddev_inv * (n * accum_grad - through_mean - through_var) / n


class Dropout(Layer):
    """Inverted dropout. The mask comes from the layer's own seeded generator and is kept for as
    long as the batch shape stays the same, so repeated forward passes see the same mask;
    :meth:`reseed` draws a new one."""

    def __init__(self, p=0.2, seed=0, bug=None):
        self.p = p
        self.bug = bug
        self.reseed(seed)

    def reseed(self, seed):
        self.rng = np.random.default_rng(seed)
        self._mask = None

    def forward_pass(self, X, training=True):
        if not training:
            return X
        if self._mask is None or self._mask.shape != X.shape:
            self._mask = self.rng.uniform(size=X.shape) > self.p
        return X * self._mask / (1 - self.p)

    def backward_pass(self, accum_grad):
        if self.bug == "dropout_mask_not_applied_in_backward":
            return accum_grad / (1 - self.p)
        return accum_grad * self._mask / (1 - self.p)


def out_size(size, filter_size, stride, padding):
    return (size + 2 * padding - filter_size) // stride + 1


def image_to_column(images, filter_shape, stride, padding):
    """(N, C, H, W) images -> (C*fh*fw, N*out_h*out_w) columns, one column per window."""
    n, c, h, w = images.shape
    fh, fw = filter_shape
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = out_size(h, fh, stride, padding), out_size(w, fw, stride, padding)
    cols = np.empty((c * fh * fw, n, oh, ow), dtype=images.dtype)
    for r in range(oh):
        for s in range(ow):
            window = padded[:, :, r * stride:r * stride + fh, s * stride:s * stride + fw]
            cols[:, :, r, s] = window.reshape(n, -1).T
    return cols.reshape(c * fh * fw, -1)


def column_to_image(cols, images_shape, filter_shape, stride, padding, bug=None):
    """The adjoint of :func:`image_to_column`: adds every column back onto its window."""
    n, c, h, w = images_shape
    fh, fw = filter_shape
    oh, ow = out_size(h, fh, stride, padding), out_size(w, fw, stride, padding)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    cols = cols.reshape(c * fh * fw, n, oh, ow)
    last_row = oh - 1 if bug == "conv_window_off_by_one" else oh
    for r in range(last_row):
        for s in range(ow):
            padded[:, :, r * stride:r * stride + fh, s * stride:s * stride + fw] += \
                cols[:, :, r, s].T.reshape(n, c, fh, fw)
    return padded[:, :, padding:padding + h, padding:padding + w]


class Conv2D(Layer):
    """A true 2-D convolution (the kernel is flipped, as in signal processing) over NCHW batches,
    computed as one matrix product over im2col columns."""

    def __init__(self, n_filters, filter_shape, input_shape=None, padding=0, stride=1, bug=None):
        self.n_filters = n_filters
        self.filter_shape = filter_shape
        self.input_shape = input_shape
        self.padding = padding
        self.stride = stride
        self.bug = bug

    def initialize(self, optimizer, rng, dtype):
        fh, fw = self.filter_shape
        channels = self.input_shape[0]
        limit = 1 / np.sqrt(channels * fh * fw)
        self.W = rng.uniform(-limit, limit, (self.n_filters, channels, fh, fw)).astype(dtype)
        self.w0 = rng.uniform(-0.1, 0.1, (self.n_filters, 1)).astype(dtype)
        self.W_opt = copy.copy(optimizer)
        self.w0_opt = copy.copy(optimizer)

    def parameters(self):
        return self.W.size + self.w0.size

    def forward_pass(self, X, training=True):
        n = X.shape[0]
        self.layer_input = X
        self.X_col = image_to_column(X, self.filter_shape, self.stride, self.padding)
        self.W_col = self.W[:, :, ::-1, ::-1].reshape(self.n_filters, -1)
        out = self.W_col @ self.X_col + self.w0
        _, oh, ow = self.output_shape()
        return out.reshape(self.n_filters, n, oh, ow).transpose(1, 0, 2, 3)

    def backward_pass(self, accum_grad):
        accum_grad = accum_grad.transpose(1, 0, 2, 3).reshape(self.n_filters, -1)
        W_col = self.W_col
        if self.trainable:
            grad_flipped = (accum_grad @ self.X_col.T).reshape(self.W.shape)
            if self.bug == "conv_kernel_not_flipped":
                grad_w = grad_flipped
            else:
                grad_w = grad_flipped[:, :, ::-1, ::-1]  # the forward pass used the flipped kernel
            grad_w0 = np.sum(accum_grad, axis=1, keepdims=True)
            self.W = self.W_opt.update(self.W, grad_w)
            self.w0 = self.w0_opt.update(self.w0, grad_w0)
        cols = W_col.T @ accum_grad
        return column_to_image(cols, self.layer_input.shape, self.filter_shape, self.stride,
                               self.padding, bug=self.bug)

    def output_shape(self):
        _, h, w = self.input_shape
        fh, fw = self.filter_shape
        return (self.n_filters, out_size(h, fh, self.stride, self.padding),
                out_size(w, fw, self.stride, self.padding))


class Flatten(Layer):
    def forward_pass(self, X, training=True):
        self.prev_shape = X.shape
        return X.reshape((X.shape[0], -1))

    def backward_pass(self, accum_grad):
        return accum_grad.reshape(self.prev_shape)

    def output_shape(self):
        return (int(np.prod(self.input_shape)),)


# -- the container --------------------------------------------------------------------------------
class NeuralNetwork:
    def __init__(self, optimizer, loss, seed=0, dtype=np.float64):
        self.optimizer = optimizer
        self.layers = []
        self.loss_function = loss()
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype

    def add(self, layer):
        if self.layers:
            layer.set_input_shape(shape=self.layers[-1].output_shape())
        layer.initialize(optimizer=self.optimizer, rng=self.rng, dtype=self.dtype)
        self.layers.append(layer)

    def _forward_pass(self, X, training=True):
        layer_output = X
        for layer in self.layers:
            layer_output = layer.forward_pass(layer_output, training)
        return layer_output

    def _backward_pass(self, loss_grad):
        for layer in reversed(self.layers):
            loss_grad = layer.backward_pass(loss_grad)
        return loss_grad

    def test_on_batch(self, X, y):
        y_pred = self._forward_pass(X, training=False)
        return self.loss_function.loss(y, y_pred), self.loss_function.acc(y, y_pred)

    def train_on_batch(self, X, y):
        y_pred = self._forward_pass(X)
        loss = self.loss_function.loss(y, y_pred)
        acc = self.loss_function.acc(y, y_pred)
        self._backward_pass(loss_grad=self.loss_function.gradient(y, y_pred))
        return loss, acc

    def predict(self, X):
        return self._forward_pass(X, training=False)

    def summary(self):
        return [(layer.layer_name(), layer.parameters(), layer.output_shape()) for layer in self.layers]


KINDS = ("mlp", "batchnorm", "dropout", "conv")


def build(kind, seed=0, dtype=np.float64, bug=None, *, n_in=4, hidden=5, classes=3, activation="relu",
          optimizer="sgd", p=0.3, image=6, filters=2, stride=1, padding=1):
    """A fresh network of one of :data:`KINDS`; parameters drawn from ``seed``.

    ``mlp``: Dense-act-Dense-softmax. ``batchnorm``: Dense-BatchNorm-ReLU-Dense-softmax.
    ``dropout``: Dense-ReLU-Dropout-Dense-softmax. ``conv``: Conv2D(3x3)-ReLU-Flatten-Dense-softmax
    on 1 x image x image inputs. The input shape is ``net.layers[0].input_shape``, the number of
    classes ``net.n_classes``.
    """
    if bug is not None and bug not in BUG_NAMES:
        raise ValueError(f"unknown bug {bug!r}; expected one of {BUG_NAMES}")
    opt = SGD(0.01) if optimizer == "sgd" else Momentum(0.01, 0.9)
    net = NeuralNetwork(optimizer=opt, loss=CrossEntropy, seed=seed, dtype=np.dtype(dtype).type)
    if kind == "mlp":
        net.add(Dense(hidden, input_shape=(n_in,), bug=bug))
        net.add(Activation(activation, bug=bug))
        net.add(Dense(classes, bug=bug))
    elif kind == "batchnorm":
        net.add(Dense(hidden, input_shape=(n_in,), bug=bug))
        net.add(BatchNormalization(bug=bug))
        net.add(Activation("relu", bug=bug))
        net.add(Dense(classes, bug=bug))
    elif kind == "dropout":
        net.add(Dense(hidden, input_shape=(n_in,), bug=bug))
        net.add(Activation("relu", bug=bug))
        net.add(Dropout(p, seed=seed + 1000, bug=bug))
        net.add(Dense(classes, bug=bug))
    elif kind == "conv":
        net.add(Conv2D(filters, (3, 3), input_shape=(1, image, image), padding=padding, stride=stride, bug=bug))
        net.add(Activation("relu", bug=bug))
        net.add(Flatten())
        net.add(Dense(classes, bug=bug))
    else:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    net.add(Activation("softmax", bug=bug))
    net.n_classes = classes
    return net
