"""Layers with parameters or training-time behaviour. Rows are examples.

``Dense``: Z = X @ W + b with X (n, n_in), W (n_in, n_out), b (n_out,), Z (n, n_out).
``Dropout``: inverted dropout, scaling kept units by 1/(1-p) at training time, so the expected
activation is unchanged and nothing needs scaling at test time.
"""

from __future__ import annotations

import numpy as np

from reference_net.errors import ShapeError
from reference_net.initializers import initialize


class Dense:
    """Fully connected layer.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    init : str
        Initialiser name from :data:`reference_net.initializers.INITIALIZERS`; default "he".
    rng : numpy.random.Generator, optional
        Source of the initial weights; default ``np.random.default_rng(0)``.
    dtype : numpy dtype
        float64 (default) or float32; W, b, and every gradient have this dtype.
    """

    def __init__(self, n_in: int, n_out: int, *, init: str = "he", rng=None, dtype=np.float64):
        if int(n_in) < 1 or int(n_out) < 1:
            raise ShapeError(f"Dense: n_in and n_out must be >= 1, got n_in={n_in}, n_out={n_out}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.W = initialize(init, self.n_in, self.n_out, rng).astype(dtype)
        self.b = np.zeros(self.n_out, dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X (n, n_in) -> Z (n, n_out)."""
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ShapeError(
                f"Dense.forward: X has shape {X.shape}, expected (n_examples, {self.n_in}); "
                "rows are examples (transpose column-per-example data with X.T)"
            )
        self.X = X
        Z = X @ self.W
        Z += self.b
        return Z

    def backward(self, dZ: np.ndarray, *, need_dX: bool = True) -> np.ndarray | None:
        """dZ (n, n_out) -> dX (n, n_in); stores dW = X.T @ dZ and db = sum of dZ over rows.

        With ``need_dX=False`` (the first layer, whose input is the data) dX is not computed and
        None is returned: for 784-10-10 that product is a third of a step's multiply work.
        """
        if dZ.shape != (self.X.shape[0], self.n_out):
            raise ShapeError(
                f"Dense.backward: dZ has shape {dZ.shape}, expected {(self.X.shape[0], self.n_out)}"
            )
        if dZ.dtype == self.X.dtype == self.dW.dtype:  # write straight into dW and db, no temporaries
            np.matmul(self.X.T, dZ, out=self.dW)
            dZ.sum(axis=0, out=self.db)
        else:
            self.dW[...] = self.X.T @ dZ
            self.db[...] = dZ.sum(axis=0)
        return dZ @ self.W.T if need_dX else None


class Dropout:
    """Inverted dropout with drop probability ``p`` (0 <= p < 1).

    Training: A = X * mask / (1 - p), mask ~ Bernoulli(1 - p), so E[A] = X.
    Evaluation: A = X (no scaling: it already happened at training time).
    """

    def __init__(self, p: float, *, rng=None):
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.training = False

    def forward(self, X: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self.scale = None
            return X
        keep = self.rng.random(X.shape) >= self.p
        self.scale = keep.astype(X.dtype) / (1.0 - self.p)
        return X * self.scale

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA if self.scale is None else dA * self.scale
