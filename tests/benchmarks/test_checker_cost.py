"""What a gradient check costs on the 784-10-10 reference network (run with `tox -e bench`).

The floor is 2n loss evaluations (n = 7,960 parameters); the ratio of a full check's time to
2n times one loss evaluation says how much the checker itself adds.
"""

import timeit

import numpy as np
import pytest

from gradcheck import check_gradients
from reference_net.data import load_mnist
from reference_net.network import build_mlp


def _problem(batch_size):
    net = build_mlp((784, 10, 10), seed=0)
    X, y = load_mnist()
    rows = np.random.default_rng(0).choice(len(y), size=batch_size, replace=False)
    return net, X[rows], y[rows]


@pytest.mark.parametrize("batch_size", [64, 256])
@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
def test_check_cost(benchmark, mode, batch_size):
    net, X, y = _problem(batch_size)
    loss = lambda: net.loss(X, y)  # noqa: E731
    grads = net.gradients(X, y)
    n = sum(p.size for p in net.params.values())
    timer = timeit.Timer(loss)
    repeats, _ = timer.autorange()
    one_eval = min(timer.repeat(repeat=5, number=repeats)) / repeats
    result = benchmark.pedantic(
        lambda: check_gradients(loss, net.params, grads, mode=mode, samples=64),
        rounds=3 if mode == "full" else 10, iterations=1,
    )
    assert result.passed
    floor = result.n_loss_evals * one_eval
    benchmark.extra_info.update({
        "parameters": n,
        "loss_evals": result.n_loss_evals,
        "loss_evals_full": 2 * n + 2,
        "evals_fraction_of_full": result.n_loss_evals / (2 * n + 2),
        "one_loss_eval_s": one_eval,
        "ratio_to_eval_floor": benchmark.stats.stats.median / floor,
    })


@pytest.mark.parametrize("batch_size", [64, 256])
@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_torch_gradcheck_cost(benchmark, blas_threads, fast_mode, batch_size):
    """torch.autograd.gradcheck on the same 784-10-10 network, weights and batch (float64).

    ``fast_mode=False`` differences every entry (compare with our full mode); ``fast_mode=True``
    differences along random directions (compare with our directional mode).
    """
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[torch]')")
    torch.set_num_threads(blas_threads)
    net, X, y = _problem(batch_size)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    params = tuple(torch.from_numpy(p.copy()).requires_grad_() for p in net.params.values())
    calls = [0]

    def loss(W1, b1, W2, b2):
        calls[0] += 1
        hidden = torch.relu(X_t @ W1 + b1)
        return torch.nn.functional.cross_entropy(hidden @ W2 + b2, y_t)

    def run():
        calls[0] = 0
        return torch.autograd.gradcheck(loss, params, fast_mode=fast_mode)

    passed = benchmark.pedantic(run, rounds=3 if not fast_mode else 10, iterations=1)
    assert passed
    benchmark.extra_info.update({
        "parameters": sum(p.numel() for p in params),
        "loss_evals": calls[0],
        "compare_to": "directional" if fast_mode else "full",
        "torch": torch.__version__,
    })
