"""The first article's network written correctly: reference_net.blog, plugged into gradcheck.

    gradcheck check examples/blog_fixed.py:target
"""

import gradcheck
from reference_net import blog

W1, b1, W2, b2 = blog.init_params()
target = gradcheck.adapters.functional(
    {"W1": W1, "b1": b1, "W2": W2, "b2": b2},
    output=lambda p, X: blog.forward_propagation(*p.values(), X)[3],
    gradients=lambda p, X, y: blog.backward_propagation(*blog.forward_propagation(*p.values(), X), p["W2"], X, y),
    layout="columns",
    softmax=blog.softmax,
    activations=lambda p, X: dict(zip(["Z1", "A1", "Z2", "A2"], blog.forward_propagation(*p.values(), X))),
)

if __name__ == "__main__":
    from reference_net.data import load_mnist, train_test_split

    X, y = load_mnist()
    X_train, y_train, X_test, y_test = train_test_split(X, y, n_test=1000, seed=0)
    _, accuracies = blog.gradient_descent(X_train.T, y_train, 200, 0.1)
    print(f"training accuracy after 200 iterations: {accuracies[-1]:.3f}")
