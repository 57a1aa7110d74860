"""A small MNIST-style CNN that learns from one image at a time and updates its weights in place.

Three layer classes, each with ``forward(input)`` and ``backprop(d_L_d_out, learn_rate)``:
``Conv3x3`` (valid 3x3 convolution of an ``(h, w)`` image into ``(h-2, w-2, num_filters)``),
``MaxPool2`` (2x2 windows, stride 2) and ``Softmax`` (a dense layer followed by softmax). Each
``backprop`` works out its gradients, subtracts ``learn_rate`` times them from its own arrays
(``self.filters -= learn_rate * d_L_d_filters``) and returns the gradient for the layer below;
the first layer returns None. ``forward(image, label)`` gives (probabilities, loss, correct) for
one image with the cross-entropy loss; ``train_step(image, label, lr)`` does one update::

    net = build(seed=0, size=8, filters=2)
    out, loss, acc = net.forward(image, label)
    loss, acc = net.train_step(image, label, lr=0.005)

``bug=`` names a mistake written into a layer's backprop (see :data:`BUG_NAMES`).
"""

import numpy as np

BUG_NAMES = (
    "maxpool_routes_to_every_entry",
    "conv_window_off_by_one",
    "softmax_gradient_wrong_sign",
    "dense_bias_gradient_missing",
    "conv_filters_transposed",
)


class Conv3x3:
    def __init__(self, num_filters, rng, dtype=np.float64, bug=None):
        self.num_filters = num_filters
        self.filters = (rng.standard_normal((num_filters, 3, 3)) / 3).astype(dtype)
        self.bug = bug

    def windows(self, image, last=None):
        """Every 3x3 patch of the image with its top-left corner."""
        h, w = image.shape
        rows = h - 2 if last is None else last
        for i in range(rows):
            for j in range(w - 2):
                yield image[i:i + 3, j:j + 3], i, j

    def forward(self, input):
        self.last_input = input
        h, w = input.shape
        output = np.zeros((h - 2, w - 2, self.num_filters), dtype=self.filters.dtype)
        for patch, i, j in self.windows(input):
            output[i, j] = np.sum(patch * self.filters, axis=(1, 2))
        return output

    def backprop(self, d_L_d_out, learn_rate):
        d_L_d_filters = np.zeros(self.filters.shape, dtype=self.filters.dtype)
        # the last row of windows is h - 3; the buggy loop stops one short of it
        last = self.last_input.shape[0] - 3 if self.bug == "conv_window_off_by_one" else None
        for patch, i, j in self.windows(self.last_input, last):
            if self.bug == "conv_filters_transposed":
                patch = patch.T
            for f in range(self.num_filters):
                d_L_d_filters[f] += d_L_d_out[i, j, f] * patch
        self.filters -= learn_rate * d_L_d_filters
        return None  # the first layer: nobody needs the image's gradient


class MaxPool2:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, input):
        self.last_input = input
        h, w, nf = input.shape
        output = np.zeros((h // 2, w // 2, nf), dtype=input.dtype)
        for i in range(h // 2):
            for j in range(w // 2):
                output[i, j] = np.amax(input[2 * i:2 * i + 2, 2 * j:2 * j + 2], axis=(0, 1))
        return output

    def backprop(self, d_L_d_out, learn_rate=None):
        d_L_d_input = np.zeros(self.last_input.shape, dtype=d_L_d_out.dtype)
        h, w, nf = self.last_input.shape
        for i in range(h // 2):
            for j in range(w // 2):
                block = self.last_input[2 * i:2 * i + 2, 2 * j:2 * j + 2]
                if self.bug == "maxpool_routes_to_every_entry":
                    d_L_d_input[2 * i:2 * i + 2, 2 * j:2 * j + 2] = d_L_d_out[i, j]
                    continue
                biggest = np.amax(block, axis=(0, 1))
                for di in range(2):
                    for dj in range(2):
                        for f in range(nf):
                            if block[di, dj, f] == biggest[f]:
                                d_L_d_input[2 * i + di, 2 * j + dj, f] = d_L_d_out[i, j, f]
        return d_L_d_input


class Softmax:
    """A fully connected layer from the flattened input to ``nodes`` outputs, then softmax."""

    def __init__(self, input_len, nodes, rng, dtype=np.float64, bug=None):
        self.weights = (rng.standard_normal((input_len, nodes)) / np.sqrt(input_len)).astype(dtype)
        self.biases = np.zeros(nodes, dtype=dtype)
        self.bug = bug

    def forward(self, input):
        self.last_input_shape = input.shape
        flat = input.flatten()
        self.last_input = flat
        totals = flat @ self.weights + self.biases
        self.last_totals = totals
        e = np.exp(totals - np.max(totals))
        self.last_probs = e / np.sum(e)
        return self.last_probs

    def backprop(self, d_L_d_out, learn_rate):
        p = self.last_probs
        # d out_k / d total_j = p_k (delta_kj - p_j), applied to d_L_d_out
        if self.bug == "softmax_gradient_wrong_sign":
            d_L_d_totals = p * (d_L_d_out @ p - d_L_d_out)
        else:
            d_L_d_totals = p * (d_L_d_out - d_L_d_out @ p)
        d_L_d_weights = np.outer(self.last_input, d_L_d_totals)
        d_L_d_biases = d_L_d_totals
        d_L_d_input = self.weights @ d_L_d_totals
        self.weights -= learn_rate * d_L_d_weights
        if self.bug != "dense_bias_gradient_missing":
            self.biases -= learn_rate * d_L_d_biases
        return d_L_d_input.reshape(self.last_input_shape)


class CNN:
    def __init__(self, size, filters, classes, rng, dtype, bug=None):
        if (size - 2) % 2:
            raise ValueError(f"size - 2 must be even for 2x2 pooling, got size {size}")
        self.size = size
        self.classes = classes
        self.dtype = dtype
        self.conv = Conv3x3(filters, rng, dtype, bug)
        self.pool = MaxPool2(bug)
        pooled = (size - 2) // 2
        self.softmax = Softmax(pooled * pooled * filters, classes, rng, dtype, bug)

    def forward(self, image, label):
        """image: (size, size) pixel values in [0, 255]. Returns (probabilities, loss, correct)."""
        out = self.conv.forward((image / 255) - 0.5)
        out = self.pool.forward(out)
        out = self.softmax.forward(out)
        loss = -np.log(out[label])
        acc = 1 if np.argmax(out) == label else 0
        return out, loss, acc

    def train_step(self, image, label, lr=0.005):
        out, loss, acc = self.forward(image, label)
        gradient = np.zeros(self.classes, dtype=out.dtype)
        gradient[label] = -1 / out[label]
        gradient = self.softmax.backprop(gradient, lr)
        gradient = self.pool.backprop(gradient)
        self.conv.backprop(gradient, lr)
        return loss, acc


def build(seed=0, dtype=np.float64, size=8, filters=2, bug=None, classes=10):
    if bug is not None and bug not in BUG_NAMES:
        raise ValueError(f"unknown bug {bug!r}; expected one of {BUG_NAMES}")
    return CNN(size, filters, classes, np.random.default_rng(seed), np.dtype(dtype).type, bug)
