"""Shared test configuration: one BLAS thread per test process, and hypothesis profiles.

BLAS: under ``pytest -n 2`` on two cores, two workers each running two OpenBLAS threads
oversubscribe the machine, and OpenBLAS's spinning threads then make the small products of a
784-10-10 network up to a hundred times slower for seconds at a time (measured: 0.08 ms median
per loss call alone, 8 ms beside two busy processes with NumPy 1.26's OpenBLAS; 0.085 ms with one
thread). One thread per process keeps every test's time, and the full-mode time guard's
estimate, what the code costs. Subprocesses (the command line, nested pytest) inherit it through
the environment. The benchmarks set their own thread counts per test.

Hypothesis: ``ci`` (the default) is derandomised and bounded so the suite is fast and
reproducible; ``dev`` explores much more. Select with HYPOTHESIS_PROFILE=dev.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from hypothesis import HealthCheck, settings  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# NumPy is already imported (by the gradcheck plugin), so its BLAS is limited at run time too.
threadpool_limits(limits=1)

settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """300 images of the shipped MNIST subset, pixels scaled to [0, 1], labels 0..9."""
    from reference_net.data import load_mnist

    X, y = load_mnist()
    return X[:300].astype(np.float64), y[:300].astype(np.int64)


@pytest.fixture(scope="session")
def mnist_files(mnist, tmp_path_factory):
    """Those examples as a .npz (X, y), (x, y) and unnamed, a .npy pair in a directory, and a
    Kaggle-style CSV (header, label first): what ``--data`` reads."""
    X, y = mnist
    where = tmp_path_factory.mktemp("mnist")
    np.savez(where / "mnist.npz", X=X, y=y)
    np.savez(where / "lower.npz", x=X, y=y)
    np.savez(where / "unnamed.npz", X, y)
    np.save(where / "X.npy", X)
    np.save(where / "y.npy", y)
    header = "label," + ",".join(f"pixel{i}" for i in range(X.shape[1]))
    np.savetxt(where / "mnist.csv", np.column_stack([y, X]), delimiter=",", header=header,
               comments="", fmt="%.10g")
    return where
