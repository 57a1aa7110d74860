"""reference_net.blog (column-per-example) agrees with the rows-layout Network."""

import numpy as np

from gradcheck import check_gradients
from reference_net import blog
from reference_net.network import build_mlp


def _data(m=9, n_in=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=(n_in, m)), rng.integers(0, 10, m)


def test_blog_matches_network():
    X, Y = _data()
    W1, b1, W2, b2 = blog.init_params(12, seed=3)
    net = build_mlp((12, 10, 10), seed=0)
    net.params["W1"][...] = W1.T
    net.params["b1"][...] = b1[:, 0]
    net.params["W2"][...] = W2.T
    net.params["b2"][...] = b2[:, 0]
    Z1, A1, Z2, A2 = blog.forward_propagation(W1, b1, W2, b2, X)
    np.testing.assert_allclose(A2.T, net.forward(X.T))
    dW1, db1, dW2, db2 = blog.backward_propagation(Z1, A1, Z2, A2, W2, X, Y)
    grads = net.gradients(X.T, Y)
    np.testing.assert_allclose(dW1.T, grads["W1"])
    np.testing.assert_allclose(db1[:, 0], grads["b1"])
    np.testing.assert_allclose(dW2.T, grads["W2"])
    np.testing.assert_allclose(db2[:, 0], grads["b2"])


def test_blog_gradients_match_finite_differences():
    X, Y = _data(seed=1)
    W1, b1, W2, b2 = blog.init_params(12, seed=4)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    loss = lambda: blog.cross_entropy(blog.forward_propagation(W1, b1, W2, b2, X)[3], Y)  # noqa: E731

    def grads():
        cache = blog.forward_propagation(W1, b1, W2, b2, X)
        return dict(zip(params, blog.backward_propagation(*cache, W2, X, Y)))

    result = check_gradients(loss, params, grads)
    assert result.passed, str(result)
    assert all(p.tier == "excellent" for p in result.params)


def test_one_hot_handles_batches_missing_the_top_class():
    one_hot = blog.one_hot_encode(np.array([0, 2, 1]), 10)
    assert one_hot.shape == (10, 3)
    np.testing.assert_array_equal(one_hot.argmax(axis=0), [0, 2, 1])
