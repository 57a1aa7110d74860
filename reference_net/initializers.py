"""Weight initialisers. Each returns W of shape (n_in, n_out); biases start at zero.

He (Kaiming) keeps the variance of ReLU activations constant across layers: std sqrt(2/n_in).
Xavier/Glorot keeps it for tanh/sigmoid: limit sqrt(6/(n_in+n_out)) (uniform) or
std sqrt(2/(n_in+n_out)) (normal).
"""

from __future__ import annotations

import numpy as np


def he_normal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """N(0, 2/n_in)."""
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


def he_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """U(-sqrt(6/n_in), sqrt(6/n_in)): same variance as he_normal."""
    limit = np.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def xavier_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """U(-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out)))."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def xavier_normal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """N(0, 2/(n_in+n_out))."""
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def uniform_half(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """U(-0.5, 0.5), the initialisation of the widely copied version of the first article's code."""
    return rng.uniform(-0.5, 0.5, size=(n_in, n_out))


INITIALIZERS = {
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot": xavier_uniform,
    "uniform_half": uniform_half,
}


def initialize(name: str, n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Look up an initialiser by name and draw W (n_in, n_out)."""
    try:
        init = INITIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"init: unknown initialiser {name!r}; use one of {sorted(INITIALIZERS)}"
        ) from None
    return init(n_in, n_out, rng)
