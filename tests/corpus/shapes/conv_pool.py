"""Convolution and max-pooling layer objects in the classic ``forward(x)`` / ``backward(dout)``
style: each layer caches what its backward pass needs, and a layer with parameters keeps them as
``self.W, self.b`` and leaves their gradients in ``self.dW, self.db`` after ``backward``. Arrays
are NCHW; convolution has a stride and zero padding.

``Net`` stacks Conv-ReLU-Conv-ReLU-MaxPool-Linear under a softmax cross-entropy loss::

    net = build(seed=0)
    loss = net.loss(x, y)     # forward
    dx = net.backward()       # fills every layer's dW and db, returns dL/dx

``bug=`` names a mistake written into a layer's backward (see :data:`BUG_NAMES`).
"""

import numpy as np

BUG_NAMES = ("pool_gradient_to_all", "conv_db_wrong_axis", "conv_pad_offset", "conv_dW_kernel_flipped",
             "conv_backward_ignores_stride")


class Conv:
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, pad=1, rng=None,
                 dtype=np.float64, bug=None):
        rng = np.random.default_rng(0) if rng is None else rng
        fan_in = in_channels * kernel_size * kernel_size
        self.W = (rng.standard_normal((out_channels, in_channels, kernel_size, kernel_size))
                  * np.sqrt(2 / fan_in)).astype(dtype)
        self.b = rng.uniform(-0.1, 0.1, out_channels).astype(dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.stride, self.pad, self.k = stride, pad, kernel_size
        self.bug = bug

    def out_hw(self, H, W):
        return 1 + (H + 2 * self.pad - self.k) // self.stride, 1 + (W + 2 * self.pad - self.k) // self.stride

    def forward(self, x):
        N, _, H, W = x.shape
        F = self.W.shape[0]
        s, k, p = self.stride, self.k, self.pad
        Ho, Wo = self.out_hw(H, W)
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        W_rows = self.W.reshape(F, -1)
        out = np.empty((N, F, Ho, Wo), dtype=x.dtype)
        for i in range(Ho):
            for j in range(Wo):
                window = x_pad[:, :, i * s:i * s + k, j * s:j * s + k]
                out[:, :, i, j] = window.reshape(N, -1) @ W_rows.T
        out += self.b[None, :, None, None]
        self.x_pad, self.x_shape = x_pad, x.shape
        return out

    def backward(self, dout):
        N, C, H, W = self.x_shape
        s, k, p = self.stride, self.k, self.pad
        _, _, Ho, Wo = dout.shape
        x_pad = self.x_pad
        F = self.W.shape[0]
        W_rows = self.W.reshape(F, -1)
        dx_pad = np.zeros_like(x_pad)
        dW_rows = np.zeros_like(W_rows)
        if self.bug == "conv_backward_ignores_stride":
            s = 1
        for i in range(Ho):
            for j in range(Wo):
                window = x_pad[:, :, i * s:i * s + k, j * s:j * s + k]
                dW_rows += dout[:, :, i, j].T @ window.reshape(N, -1)
                dx_pad[:, :, i * s:i * s + k, j * s:j * s + k] += (dout[:, :, i, j] @ W_rows).reshape(N, C, k, k)
        self.dW = dW_rows.reshape(self.W.shape)
        if self.bug == "conv_dW_kernel_flipped":
            self.dW = self.dW[:, :, ::-1, ::-1].copy()
        if self.bug == "conv_db_wrong_axis":
            self.db = dout.sum(axis=(1, 2, 3))
        else:
            self.db = dout.sum(axis=(0, 2, 3))
        if self.bug == "conv_pad_offset":
            return dx_pad[:, :, :H, :W]
        return dx_pad[:, :, p:p + H, p:p + W]


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class MaxPool:
    def __init__(self, size=2, stride=2, bug=None):
        self.size, self.stride = size, stride
        self.bug = bug

    def forward(self, x):
        N, C, H, W = x.shape
        s, k = self.stride, self.size
        Ho, Wo = 1 + (H - k) // s, 1 + (W - k) // s
        out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
        for i in range(Ho):
            for j in range(Wo):
                out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
        self.x = x
        return out

    def backward(self, dout):
        x = self.x
        s, k = self.stride, self.size
        dx = np.zeros_like(x)
        _, _, Ho, Wo = dout.shape
        for i in range(Ho):
            for j in range(Wo):
                window = x[:, :, i * s:i * s + k, j * s:j * s + k]
                g = dout[:, :, i, j][:, :, None, None]
                if self.bug == "pool_gradient_to_all":
                    dx[:, :, i * s:i * s + k, j * s:j * s + k] += g
                else:
                    is_max = window == window.max(axis=(2, 3), keepdims=True)
                    dx[:, :, i * s:i * s + k, j * s:j * s + k] += is_max * g
        return dx


class Linear:
    def __init__(self, n_in, n_out, rng, dtype=np.float64):
        self.W = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)


class SoftmaxCrossEntropy:
    def forward(self, scores, y):
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = y
        return -self.logp[np.arange(len(y)), y].mean()

    def backward(self):
        d = np.exp(self.logp)
        d[np.arange(len(self.y)), self.y] -= 1
        return d / len(self.y)


class Net:
    def __init__(self, layers, criterion):
        self.layers = layers
        self.criterion = criterion

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, y):
        return self.criterion.forward(self.forward(x), y)

    def backward(self):
        d = self.criterion.backward()
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d


def build(seed=0, dtype=np.float64, bug=None, *, size=6, channels=1, filters=3, stride=1, pad=1,
          classes=3, batch=2):
    """Conv(channels->filters)-ReLU-Conv(filters->filters, stride)-ReLU-MaxPool(2)-Linear(classes)
    on (batch, channels, size, size) inputs; ``net.input_shape`` and ``net.classes`` say what
    to feed it."""
    if bug is not None and bug not in BUG_NAMES:
        raise ValueError(f"unknown bug {bug!r}; expected one of {BUG_NAMES}")
    dtype = np.dtype(dtype).type
    rng = np.random.default_rng(seed)
    conv1 = Conv(channels, filters, 3, 1, pad, rng, dtype, bug)
    conv2 = Conv(filters, filters, 3, stride, pad, rng, dtype, bug)
    h1, w1 = conv1.out_hw(size, size)
    h2, w2 = conv2.out_hw(h1, w1)
    pooled = filters * (1 + (h2 - 2) // 2) * (1 + (w2 - 2) // 2)
    net = Net([conv1, ReLU(), conv2, ReLU(), MaxPool(2, 2, bug), Linear(pooled, classes, rng, dtype)],
              SoftmaxCrossEntropy())
    net.input_shape = (batch, channels, size, size)
    net.classes = classes
    return net
