"""What the benchmarks run: training epochs in reference_net, in a plain NumPy loop and in PyTorch,
matrix-multiply FLOP counts.

Rows are examples. A network is named by its widths, e.g. (784, 10, 10).
"""

from __future__ import annotations

import timeit

import numpy as np

from reference_net.network import build_mlp
from reference_net.optimizers import SGD
from reference_net.training import train

NETWORKS = {"784-10-10": (784, 10, 10), "784-128-10": (784, 128, 10)}
DTYPES = {"float32": np.float32, "float64": np.float64}
#: Mini-batch sizes; None is full batch (all 4,000 training rows in one step).
BATCH_SIZES = [None, 32, 64, 128, 256]
EPOCHS_PER_ROUND = 10
LR = 0.1


def batch_id(batch_size) -> str:
    return "full" if batch_size is None else str(batch_size)


def matmul_flops_per_example(sizes) -> int:
    """FLOPs of one training step's matrix multiplies, per example (2 per multiply-add).

    Per Dense layer (n_in, n_out): forward X @ W and dW = X.T @ dZ, 2 n_in n_out each; dX = dZ @ W.T
    (2 n_in n_out) for every layer but the first, whose input gradient is not needed.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    return sum(4 * a * b for a, b in pairs) + sum(2 * a * b for a, b in pairs[1:])


def matmul_peak_flops(dtype, n: int = 1024, repeat: int = 5) -> float:
    """FLOP/s of an (n, n) @ (n, n) np.matmul in ``dtype``, best of ``repeat`` (2 n^3 FLOPs each)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.matmul(A, B, out=out)
    best = min(timeit.repeat(lambda: np.matmul(A, B, out=out), number=1, repeat=repeat))
    return 2.0 * n**3 / best


def numpy_trainer(sizes, dtype, batch_size, X, y, *, epochs: int = EPOCHS_PER_ROUND):
    """A zero-argument callable training a fresh He-initialised network for ``epochs`` epochs (SGD)."""
    net = build_mlp(sizes, seed=0, dtype=dtype)
    X = np.ascontiguousarray(X, dtype=dtype)
    optimizer = SGD(LR)

    def run():
        train(net, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=0)

    return run


def plain_loop_trainer(sizes, dtype, batch_size, X, y, *, epochs: int = EPOCHS_PER_ROUND):
    """The same training as :func:`numpy_trainer` in a plain NumPy loop: no classes, no checks.

    Same initial weights, shuffle (``default_rng(0)``, a permutation per epoch), ReLU hidden layers,
    softmax cross-entropy (its value computed each step, as any loop that reports it does) and SGD.
    The callable returns the weights [W1, b1, W2, b2, ...] after its epochs.
    """
    reference = build_mlp(sizes, seed=0, dtype=dtype)
    Ws = [dense.W.copy() for dense in reference.dense]
    bs = [dense.b.copy() for dense in reference.dense]
    X, y = np.ascontiguousarray(X, dtype=dtype), np.asarray(y)
    n = len(y)
    rng = np.random.default_rng(0)

    def run():
        for _ in range(epochs):
            order = None if batch_size is None else rng.permutation(n)
            for lo in range(0, n, n if batch_size is None else int(batch_size)):
                idx = None if order is None else order[lo : lo + int(batch_size)]
                Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
                rows = np.arange(len(yb))
                As = [Xb]  # each layer's input
                for W, b in zip(Ws[:-1], bs[:-1]):
                    As.append(np.maximum(As[-1] @ W + b, 0))
                Z = As[-1] @ Ws[-1] + bs[-1]
                S = Z - Z.max(axis=1, keepdims=True)
                P = np.exp(S)
                total = P.sum(axis=1, keepdims=True)
                P /= total
                loss = (np.log(total).sum() - S[rows, yb].sum()) / len(yb)  # noqa: F841 (a loop would print it)
                dZ = P
                dZ[rows, yb] -= 1
                dZ /= len(yb)
                for i in reversed(range(len(Ws))):
                    dW, db = As[i].T @ dZ, dZ.sum(axis=0)
                    if i:
                        dZ = (dZ @ Ws[i].T) * (As[i] > 0)
                    Ws[i] -= LR * dW
                    bs[i] -= LR * db
        return [p for pair in zip(Ws, bs) for p in pair]

    return run


def torch_trainer(torch, sizes, dtype, batch_size, X, y, *, epochs: int = EPOCHS_PER_ROUND):
    """The same network and SGD loop in PyTorch on the CPU (fresh shuffle per epoch, seeded)."""
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    reference = build_mlp(sizes, seed=0, dtype=dtype)
    layers = []
    for i, dense in enumerate(reference.dense):
        linear = torch.nn.Linear(dense.n_in, dense.n_out, dtype=torch_dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(dense.W.T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.b))
        layers.append(linear)
        if i < len(reference.dense) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    n = X_t.shape[0]
    step = n if batch_size is None else int(batch_size)
    generator = torch.Generator().manual_seed(0)

    def run():
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for lo in range(0, n, step):
                idx = order[lo : lo + step]
                loss = torch.nn.functional.cross_entropy(model(X_t[idx]), y_t[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

    return run


def steps_per_epoch(n: int, batch_size) -> int:
    return 1 if batch_size is None else -(-n // int(batch_size))
